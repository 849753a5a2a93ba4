"""The self-check page: one self-contained HTML file a student answers in any browser.

All CSS and JavaScript are inline and the page loads nothing, so it works from file:// and
on a phone. The questions, answers and explanations travel as one JSON document, XOR'd
with a keystream derived from the bank id and base64-encoded: light obfuscation so the
answers are not readable in the page source, not security (the key is in the page).
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.errors import OutputError
from kzquiz.images import Figure, figure
from kzquiz.model import (
    Cloze,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
)
from kzquiz.render import Outputs, RenderJob, env
from kzquiz.render.answersheet import question_hash
from kzquiz.render.worksheet import passage
from kzquiz.select import scrambled, shuffled

# The seed `kzquiz build` uses, and `kzquiz selfcheck` without --seed: the same bank always
# gives the same bytes.
DEFAULT_SEED = 0
_TEMPLATES = "selfcheck"
# A prime length, so the repeating key does not line up with any structure in the JSON.
KEY_LENGTH = 1021
# Characters that must not appear literally inside an inline <script>: `</script>` or
# `<!--` would end or confuse the element, and U+2028/9 end a line in older JavaScript.
_SCRIPT_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def file_name(bank_id: str) -> str:
    """The page's file name for a bank."""
    return f"{bank_id}-selfcheck.html"


def state_key(bank_id: str, questions: Sequence[Question], seed: int) -> str:
    """The page's localStorage key: its bank, its questions in their order, and its seed.

    Every file:// page is one origin, so two pages of one bank (say one topic each) would
    share a key named after the bank alone and overwrite each other's answers.
    """
    ident = json.dumps([[q.id for q in questions], seed], separators=(",", ":"))
    return f"kzquiz:{bank_id}:{hashlib.sha256(ident.encode()).hexdigest()[:12]}"


def render(job: RenderJob) -> Outputs:
    """The self-check page of `job.questions` in their order, choices shuffled from `job.seed`."""
    page = render_page(job.loaded, job.questions, seed=job.seed)
    return Outputs(files={file_name(job.loaded.id): page})


def render_page(
    loaded: LoadedBank, questions: Sequence[Question], *, seed: int | None = None
) -> bytes:
    """The self-check page for these questions (in this order) as UTF-8 bytes."""
    seed = DEFAULT_SEED if seed is None else seed
    rng = random.Random(seed)
    lang = i18n.of(loaded)
    tr = i18n.translator(lang)
    reading = passage(loaded)
    data: dict[str, Any] = {
        "topics": [
            {"id": t, "name": name}
            for t, name in loaded.bank.topics.items()
            if any(q.topic == t for q in questions)
        ],
        "questions": [
            _with_pictures(loaded, q, page_question(q, loaded.paragraph_of.get(q.id), rng, tr))
            for q in questions
        ],
        # The worksheet's passage, numbered as the feedback cites it. It quotes the evidence,
        # so it travels with the other hidden data rather than as page text.
        "passage": {
            "title": reading.title,
            "date": reading.date or "",
            "paragraphs": [list(p) for p in reading.paragraphs],
        }
        if reading.paragraphs
        else None,
    }
    # The question set as `kzquiz grade` checks a hand-in against it (grade/handin.py).
    position = {q.id: i for i, q in enumerate(loaded.bank.questions)}
    asked = sorted((q.id for q in questions), key=lambda qid: position.get(qid, 0))
    meta = {
        "bank": loaded.id,
        "store": state_key(loaded.id, questions, seed),
        "set": question_hash(asked),
    }
    css = _asset("selfcheck.css")
    js = _asset("selfcheck.js")
    html = (
        env(lang)
        .get_template(f"{_TEMPLATES}/page.html.j2")
        .render(
            language=loaded.bank.bank.language,
            ui=lang,
            decimal=i18n.decimal_style(lang),
            text_json=_markup(script_json(page_text(lang))),
            title=loaded.title,
            source_title=loaded.source.title or loaded.bank.bank.source.title,
            source_date=loaded.bank.bank.source.date or "",
            count=len(questions),
            has_passage=data["passage"] is not None,
            css=_markup(css),
            js=_markup(js),
            csp=(
                "default-src 'none'; "
                f"script-src '{_sha256(js)}'; style-src '{_sha256(css)}'; "
                "img-src data:; base-uri 'none'; form-action 'none'"
            ),
            meta_json=_markup(script_json(meta)),
            data=encode_data(data, loaded.id),
        )
    )
    return html.encode("utf-8")


def page_question(
    question: Question,
    paragraph: int | None,
    rng: random.Random,
    tr: i18n.Translator | None = None,
) -> dict[str, Any]:
    """One question as the page's script reads it; display orders drawn from `rng`.

    Answers keep bank order (responses are graded in bank order, as in kzquiz.grading);
    `order` / `start` say how to show them.
    """
    q: dict[str, Any] = {
        "id": question.id,
        "type": question.type,
        "topic": question.topic,
        "prompt": question.stem,
        "answerText": (tr or i18n.translator("en")).answer_text(question),
        "explanation": question.explanation,
        "evidence": question.evidence,
        "paragraph": paragraph,
    }
    if isinstance(question, (Single, Multiple)):
        n = len(question.choices)
        q["choices"] = [c.text for c in question.choices]
        q["correct"] = [i for i, c in enumerate(question.choices) if c.correct]
        q["order"] = shuffled(range(n), rng)
    elif isinstance(question, TrueFalse):
        q["answer"] = question.answer
    elif isinstance(question, Cloze):
        q["segments"] = list(question.segments)
        q["blanks"] = question.blanks
    elif isinstance(question, Short):
        q["answers"] = list(question.answers)
    elif isinstance(question, Numeric):
        lo, hi = question.bounds
        q["lo"], q["hi"] = _number(lo), _number(hi)
        q["unit"] = question.unit or ""
    elif isinstance(question, Matching):
        n = len(question.pairs)
        q["left"] = [p.left for p in question.pairs]
        q["right"] = [p.right for p in question.pairs]
        q["order"] = shuffled(range(n), rng)
    elif isinstance(question, Ordering):
        q["items"] = list(question.items)
        q["start"] = scrambled(range(len(question.items)), rng)
    return q


def _with_pictures(loaded: LoadedBank, q: Question, data: dict[str, Any]) -> dict[str, Any]:
    """The question's pictures as `data:` URIs (the page's policy allows images from data: only)."""
    for key, image in (("image", q.image), ("explanationImage", q.explanation_image)):
        shown = figure(loaded, image)
        if shown is not None:
            data[key] = _picture(shown)
    return data


def _picture(shown: Figure) -> dict[str, str]:
    return {
        "src": shown.src,
        "alt": shown.alt,
        "caption": shown.caption or "",
        "credit": shown.credit or "",
    }


def page_text(lang: str) -> dict[str, Any]:
    """The script's own words in a language: messages (plural ones as every form) and rules."""
    tr = i18n.translator(lang)
    _ = tr.gettext

    def forms(singular: str, plural: str) -> list[str]:
        return i18n.plural_forms(lang, singular, plural)

    messages: dict[str, Any] = {
        "storageLost": _(
            "This browser does not let the page keep your answers; they will be lost on reload."
        ),
        "true": _("True"),
        "false": _("False"),
        "selectAll": _("(select all that apply)"),
        "numberHint": _("Give the number in digits, with a point or a comma for decimals."),
        "numberHintUnit": _(
            "Give the number (unit: %(unit)s) in digits, with a point or a comma for decimals."
        ),
        "blankOf": _("Blank %(n)s of %(count)s"),
        "fillBlanks": _("Fill in the blanks."),
        "choose": _("Choose…"),
        "orderHint": _("Use the ↑ and ↓ buttons (or Tab and Enter) to put the items in order."),
        "moveUp": _("Move “%(item)s” up"),
        "moveDown": _("Move “%(item)s” down"),
        "moved": _("“%(item)s” moved to position %(n)s of %(count)s."),
        "quote": _("“%(quote)s”"),
        "tagPickedRight": _("✓ your answer, right"),
        "tagPickedWrong": _("✗ your answer, wrong"),
        "tagCorrect": _("correct answer"),
        "rightPlace": _("✓ right place"),
        "belongsAt": _("✗ belongs at %(n)s"),
        "blankAnswer": _("(answer: %(answer)s)"),
        "matchRight": _("✓ right"),
        "matchAnswer": _("answer: %(answer)s"),
        "right": _("✓ Right"),
        "notAnswered": _("– Not answered (not counted)"),
        "notNumber": _("(“%(text)s” is not a number)"),
        "partsBlanks": _("(%(right)s of %(n)s blanks right)"),
        "partsMatches": _("(%(right)s of %(n)s matches right)"),
        "wrong": _("✗ Wrong"),
        "answer": _("Answer:"),
        "fromArticle": _("From the article"),
        "backToScore": _("↑ Back to the score"),
        "article": _("The article: “%(title)s”"),
        "paragraphs": forms("%(num)s numbered paragraph", "%(num)s numbered paragraphs"),
        "paragraph": _("Paragraph"),
        "backToQuestion": _("↩ Back to question %(n)s"),
        "citeParagraph": _("paragraph %(n)s"),
        "questionOf": _("Question %(n)s of %(count)s"),
        "nothingAnswered": forms(
            "Nothing answered: %(num)s question left blank",
            "Nothing answered: %(num)s questions left blank",
        ),
        "answeredRight": forms(
            "%(right)s of %(num)s answered right (%(percent)s)",
            "%(right)s of %(num)s answered right (%(percent)s)",
        ),
        "leftBlank": forms("%(num)s left blank", "%(num)s left blank"),
        "checked": _("Checked: %(summary)s."),
        "retrying": forms(
            "Retrying %(num)s question answered wrong", "Retrying %(num)s questions answered wrong"
        ),
        "answeredOf": _("Answered %(done)s of %(count)s."),
        "thisRound": _("This round:"),
        "questionN": _("Question %(n)s"),
        "overall": forms(
            "Over all rounds: %(best)s of %(num)s question answered right at least once.",
            "Over all rounds: %(best)s of %(num)s questions answered right at least once.",
        ),
        "confirmReset": _("Start over? This clears every answer on this page."),
        "cleared": _("Cleared. Starting over."),
        "handinName": _("Write your name or student number first."),
        "handedIn": _("Saved as %(file)s: give this file to your teacher."),
    }
    return {"messages": messages, "plural": "ru" if lang == "ru" else "one"}


def _number(x: float) -> float | str:
    # JSON has no infinity; the script reads these strings back with Number().
    if math.isfinite(x):
        return x
    return "NaN" if math.isnan(x) else ("Infinity" if x > 0 else "-Infinity")


def _key_seed(bank_id: str) -> int:
    """FNV-1a (32-bit) of 'kzquiz:' + bank id; the script computes the same."""
    h = 0x811C9DC5
    for byte in f"kzquiz:{bank_id}".encode():
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return h or 1


def key(bank_id: str) -> bytes:
    """The XOR key: KEY_LENGTH xorshift32 bytes seeded from the bank id (as selfcheck.js)."""
    x = _key_seed(bank_id)
    out = bytearray(KEY_LENGTH)
    for i in range(KEY_LENGTH):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i] = x & 0xFF
    return bytes(out)


def _xor(data: bytes, bank_id: str) -> bytes:
    # The key repeats; one big-integer XOR keeps a large bank's page fast to build.
    n = len(data)
    stream = (key(bank_id) * (n // KEY_LENGTH + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(n, "big")


def encode_data(data: Any, bank_id: str) -> str:
    """JSON -> UTF-8 -> XOR with the bank's key -> base64: unreadable in the source."""
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    return base64.b64encode(_xor(raw, bank_id)).decode("ascii")


def decode_data(text: str, bank_id: str) -> Any:
    """The inverse of encode_data."""
    return json.loads(_xor(base64.b64decode(text), bank_id).decode())


def script_json(value: Any) -> str:
    """JSON safe to place inside an inline <script> element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return "".join(_SCRIPT_ESCAPES.get(ch, ch) for ch in text)


def _asset(name: str) -> str:
    loader = env().loader
    assert loader is not None  # env() always has its PackageLoader
    text, _, _ = loader.get_source(env(), f"{_TEMPLATES}/{name}")
    low = text.lower()
    if "</script" in low or "</style" in low:
        raise OutputError(f"{name} must not contain a closing </script> or </style> tag")
    return text


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode("ascii")


def _markup(text: str) -> Markup:
    # Our own assets and escaped JSON go in as they are; every bank string that reaches the
    # template as a variable is autoescaped.
    return Markup(text)
