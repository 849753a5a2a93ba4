"""Field HTML: every bank value escaped for HTML and for Anki's own syntax, in kzquiz's markup.

Beyond HTML, braces (cloze deletions, template fields), square brackets (`[sound:...]`,
`[latex]`) and, inside a cloze answer, colons (the `::` hint separator) become character
references, so bank text always shows as text.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape
from typing_extensions import assert_never

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.i18n import N_
from kzquiz.images import image_of
from kzquiz.model import (
    Cloze,
    Image,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
)
from kzquiz.render.anki.models import ID_FIELD, NoteType, note_type_of
from kzquiz.select import scrambled, shuffled

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_EN = i18n.translator("en")

# Characters that make bank text need escaping in a field: HTML's, and those Anki gives a
# meaning (braces, brackets; colons inside a cloze answer). Most bank text contains none of
# them, and one scan for them is far cheaper than escaping: a big deck escapes a great many
# strings.
_NEEDS_ESCAPE = re.compile(r"[&<>\"'{}\[\]\n]")
_CLOZE_NEEDS_ESCAPE = re.compile(r"[&<>\"'{}\[\]\n:]")


def anki_text(value: str) -> str:
    """Bank text as an Anki field: HTML-escaped, Anki's syntax characters neutralised."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    # markupsafe's escape for HTML; then braces and brackets, which Anki reads as
    # cloze/field/sound syntax, become character references too. (Chained replaces: each is
    # one C scan, several times faster than str.translate with multi-character values.)
    return _anki_syntax(str(escape(value))).replace("\n", "<br>")


def _anki_syntax(html: str) -> str:
    return (
        html.replace("{", "&#123;")
        .replace("}", "&#125;")
        .replace("[", "&#91;")
        .replace("]", "&#93;")
    )


# HTML fragments for the fields. Every bank value goes through anki_text (`_t`); the rest is
# kzquiz's own markup. Plain f-strings, because this is the hot path of a big build.
_t = anki_text


def _badged(tag: str, key: str, text: str) -> str:
    badge = f'<span class="kz-letter">{key}</span><span class="kz-text">{_t(text)}</span>'
    return f"<li>{badge}</li>" if tag == "li" else f'<span class="kz-cell">{badge}</span>'


def options_html(items: Sequence[tuple[str, str]]) -> str:
    """Lettered options, which the Choice card's script makes tappable."""
    rows = "".join(
        f'<li data-letter="{k}"><span class="kz-letter">{k}</span>'
        f'<span class="kz-text">{_t(text)}</span></li>'
        for k, text in items
    )
    return f"<ol>{rows}</ol>"


def lettered_html(items: Sequence[tuple[str, str]]) -> str:
    """A list of items, each with its letter (or number) badge."""
    return f'<ul class="kz-list">{"".join(_badged("li", k, text) for k, text in items)}</ul>'


def short_html(answers: Sequence[str], tr: i18n.Translator | None = None) -> str:
    """The model answer, then any other accepted answers."""
    out = f'<p class="kz-answer-main">{_t(answers[0])}</p>'
    if len(answers) > 1:
        label = (tr or _EN).gettext("Also accepted:")
        out += f'<p class="kz-also">{label} {"; ".join(_t(a) for a in answers[1:])}</p>'
    return out


def numeric_html(value: str, accepted: str, tr: i18n.Translator | None = None) -> str:
    """The number with its unit, then the accepted interval if there is one."""
    out = f'<p class="kz-answer-main">{_t(value)}</p>'
    if accepted:
        out += f'<p class="kz-also">{(tr or _EN).gettext("Accepted:")} {_t(accepted)}</p>'
    return out


def ordering_back_html(items: Sequence[tuple[str, str]]) -> str:
    """The items in their correct order, as a numbered list with their letters."""
    rows = "".join(f"<li>{_badged('span', k, text)}</li>" for k, text in items)
    return f'<ol class="kz-steps">{rows}</ol>'


def source_html(title: str, date: str, paragraph: int, tr: i18n.Translator | None = None) -> str:
    """Where the evidence quote comes from: article title, date and paragraph."""
    out = _source_head(title, date)
    if paragraph:
        out += ", " + (tr or _EN).gettext("paragraph %(n)s") % {"n": paragraph}
    return out


@lru_cache(maxsize=64)
def _source_head(title: str, date: str) -> str:
    # The same for every note of a bank: escaped once, not once per question.
    out = _t(title)
    if date:
        out += f" ({_t(date)})"
    return out


def deck_description_html(
    title: str, source_title: str, date: str, url: str, tr: i18n.Translator | None = None
) -> str:
    """The top deck's description: the bank and its source (linked only over http/https)."""
    _ = (tr or _EN).gettext
    source = _t(source_title)
    if url.startswith(("https://", "http://")):
        source = f'<a href="{_t(url)}">{source}</a>'
    if date:
        source += f" ({_t(date)})"
    made = _("%(title)s: questions made with kzquiz.") % {"title": _t(title)}
    label = _("Source:")
    return f"<p>{made}</p><p>{label} {source}</p>"


# json.dumps(s, ensure_ascii=False) for a str, without the encoder set-up of every call.
_json_str: Callable[[str], str] = json.encoder.encode_basestring


@dataclass(frozen=True)
class NoteSpec:
    """Everything one note shows: note type, field values, tags and deck."""

    question: Question
    note_type: NoteType
    fields: dict[str, str]
    tags: tuple[str, ...]
    deck: str

    def content_hash(self) -> str:
        """sha256 of a canonical JSON of everything the note shows.

        The JSON is json.dumps({"model", "fields", "tags", "deck"}, sort_keys=True,
        ensure_ascii=False, separators=(",", ":")), written out with json's own string
        encoder: the same text (tests compare the two) at half the cost, which counts when a
        deck has 10,000 notes of a kilobyte each.
        """
        fields = ",".join([_json_str(self.fields[f]) for f in self.note_type.fields])
        tags = ",".join([_json_str(t) for t in self.tags])
        canonical = (
            f'{{"deck":{_json_str(self.deck)},"fields":[{fields}],'
            f'"model":{_json_str(self.note_type.name)},"tags":[{tags}]}}'
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def deck_part(name: str) -> str:
    """A deck name component: '::' would start a subdeck, so it is folded to ':'."""
    while "::" in name:
        name = name.replace("::", ":")
    return " ".join(name.split()) or "-"


def _rng(bank_id: str, question_id: str) -> random.Random:
    # Seeded per question (str seeds are hashed with sha512, not Python's randomised hash),
    # so the option order never changes between builds or when other questions change.
    return random.Random(f"kzquiz-anki/{bank_id}/{question_id}")


def note_spec(loaded: LoadedBank, q: Question) -> NoteSpec:
    """Render one question into its note type, fields, tags and deck."""
    info = loaded.bank.bank
    lang = i18n.of(loaded)
    tr = i18n.translator(lang)
    nt = note_type_of(q, lang)
    fields: dict[str, str] = {
        "Explanation": anki_text(q.explanation),
        "Evidence": anki_text(q.evidence),
        "Source": source_html(
            info.source.title, info.source.date or "", loaded.paragraph_of.get(q.id, 0), tr
        ),
        ID_FIELD: anki_text(q.id),
    }
    # The seeded generator is made only for the types that shuffle: seeding costs more than
    # the rest of a short question's note.
    if isinstance(q, (Single, Multiple, TrueFalse)):
        if isinstance(q, TrueFalse):
            options = [(tr.gettext("True"), q.answer), (tr.gettext("False"), not q.answer)]
            instruction = tr.gettext("True or false?")
        else:
            options = [(c.text, c.correct) for c in shuffled(q.choices, _rng(loaded.id, q.id))]
            instruction = tr.gettext(choice_instruction(q)) if choice_instruction(q) else ""
        lettered = [(LETTERS[i], text) for i, (text, _) in enumerate(options)]
        right = [(LETTERS[i], text) for i, (text, ok) in enumerate(options) if ok]
        fields |= {
            "Prompt": anki_text(q.prompt),
            "Instruction": instruction,
            "Options": options_html(lettered),
            "Correct": " ".join(letter for letter, _ in right),
            "Answer": lettered_html(right),
            "Kind": q.type,
        }
    elif isinstance(q, Cloze):
        fields["Text"] = cloze_text(q)
    elif isinstance(q, Matching):
        fields |= {"Prompt": anki_text(q.prompt), "Pairs": pairs_cloze(q)}
    elif isinstance(q, (Short, Numeric, Ordering)):
        fields |= {"Prompt": anki_text(q.prompt), **_answer_fields(q, loaded.id, tr)}
    else:
        assert_never(q)
    if q.image is not None:
        shown = "Text" if isinstance(q, Cloze) else "Prompt"
        fields[shown] += picture_html(loaded, q.image)
    if q.explanation_image is not None:
        fields["Explanation"] += picture_html(loaded, q.explanation_image)
    tags = (
        *q.tags,
        f"topic::{q.topic}",
        f"difficulty::{q.difficulty}",
        f"type::{q.type}",
    )
    deck = deck_name(info.title, loaded.bank.topics[q.topic])
    return NoteSpec(q, nt, {f: fields[f] for f in nt.fields}, tags, deck)


def picture_html(loaded: LoadedBank, image: Image) -> str:
    """A picture in a field: the media file named from its content hash, alt text, caption.

    The name changes exactly when the picture's bytes do, so an edited picture changes its
    note's field (and only that note's) and Anki takes the new file.
    """
    found = image_of(loaded, image)
    assert found is not None  # the loader read every picture the bank names
    out = f'<div class="kz-figure"><img src="{found.name}" alt="{anki_text(image.alt)}">'
    note = " \u2014 ".join(t for t in (image.caption, image.credit) if t)
    if note:
        out += f'<div class="kz-caption">{anki_text(note)}</div>'
    return out + "</div>"


# A prompt that already tells how many to pick ("Select all that apply.", "Choose one.")
# needs no instruction line saying it again.
_SAYS_ALL = re.compile(
    r"\ball that apply\b|\b(?:choose|select|pick|tick|mark) (?:all|every)\b", re.I
)
_SAYS_ONE = re.compile(r"\b(?:choose|select|pick|tick|mark) (?:one|the best|the correct)\b", re.I)


def choice_instruction(q: Single | Multiple) -> str:
    """How many options to pick, unless the prompt already says so (then empty)."""
    if isinstance(q, Multiple):
        return "" if _SAYS_ALL.search(q.prompt) else N_("Choose all that apply.")
    return "" if _SAYS_ONE.search(q.prompt) else N_("Choose one answer.")


@lru_cache(maxsize=256)
def deck_name(title: str, topic_name: str) -> str:
    # One per topic; cached so a big bank does not fold the same names for every question.
    return f"{deck_part(title)}::{deck_part(topic_name)}"


def _answer_fields(
    q: Short | Numeric | Ordering, bank_id: str, tr: i18n.Translator = _EN
) -> dict[str, str]:
    _ = tr.gettext
    if isinstance(q, Short):
        return {
            "Instruction": _("Answer in a word or a few words."),
            "Details": "",
            "Answer": short_html(q.answers, tr),
        }
    if isinstance(q, Numeric):
        value = tr.number(q.answer) + (f" {q.unit}" if q.unit else "")
        lo, hi = q.bounds
        accepted = (
            ""
            if lo == hi
            else _("%(low)s to %(high)s") % {"low": tr.number(lo), "high": tr.number(hi)}
        )
        instruction = (
            _("Give a number (unit: %(unit)s).") % {"unit": q.unit}
            if q.unit
            else _("Give a number.")
        )
        return {
            "Instruction": anki_text(instruction),
            "Details": "",
            "Answer": numeric_html(value, accepted, tr),
        }
    if isinstance(q, Ordering):
        order = scrambled(range(len(q.items)), _rng(bank_id, q.id))
        letter_of = {item_index: LETTERS[pos] for pos, item_index in enumerate(order)}
        shown = [(LETTERS[pos], q.items[i]) for pos, i in enumerate(order)]
        correct = [(letter_of[i], item) for i, item in enumerate(q.items)]
        return {
            "Instruction": _("Put the lettered items in order."),
            "Details": lettered_html(shown),
            "Answer": ordering_back_html(correct),
        }
    assert_never(q)


def pairs_cloze(q: Matching) -> str:
    """The matching note's Pairs field: each pair a row, its right side the cloze of its card.

    Cloze N is pair N in bank order, so a pair keeps its card (and review history) while its
    text changes; adding pairs at the end adds cards.
    """
    rows = "".join(
        f'<li class="kz-pair"><span class="kz-left">{anki_text(pair.left)}</span>'
        '<span class="kz-arrow">→</span>'
        f'<span class="kz-right">{{{{c{n}::{_cloze_answer(pair.right)}}}}}</span></li>'
        for n, pair in enumerate(q.pairs, start=1)
    )
    return f'<ul class="kz-pairs-list">{rows}</ul>'


def cloze_text(q: Cloze) -> str:
    """The cloze field: one `{{cN::...}}` per blank, accepted alternatives shown on its back."""
    out: list[str] = []
    for segment in q.segments:
        if isinstance(segment, str):
            out.append(anki_text(segment))
            continue
        answers = q.blanks[segment] or ["…"]
        answer = _cloze_answer(answers[0])
        if len(answers) > 1:
            alts = " or ".join(_cloze_answer(a) for a in answers[1:])
            answer += f'<span class="kz-alt"> (also: {alts})</span>'
        out.append(f"{{{{c{segment + 1}::{answer}}}}}")
    return "".join(out)


def _cloze_answer(text: str) -> str:
    if _CLOZE_NEEDS_ESCAPE.search(text) is None:
        return text
    # A colon would start a cloze hint (`{{c1::answer::hint}}`).
    return _anki_syntax(str(escape(text))).replace(":", "&#58;").replace("\n", " ")
