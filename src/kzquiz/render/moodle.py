"""Moodle XML: one file that Moodle's question bank imports (Question bank > Import > Moodle XML).

Every type becomes Moodle's own question type, so nothing is reshaped:

    single -> multichoice (single)        multiple -> multichoice (multiple answers)
    truefalse -> truefalse                short -> shortanswer
    numeric -> numerical (tolerance, unit) matching -> matching
    ordering -> ordering (core in Moodle 4.4, all or nothing)
    cloze -> cloze, Moodle's embedded answers (multianswer): {1:SHORTANSWER:=a~=b} per blank

- A category question `$course$/top/<bank title>/<topic name>` before each topic's questions
  ('/' inside a name doubled, as Moodle's own export does); import with "Get category from
  file" ticked to keep them.
- Each question's name and id number are the bank id; its tags are the bank's tags plus
  `difficulty-N`; its mark is the question's points; its general feedback is the
  explanation and the evidence quote.
- Bank text is plain, so it is HTML-escaped into `format="html"` texts (blank lines become
  paragraphs, line breaks <br>) and then XML-escaped: no CDATA, so a `]]>` in the bank is
  just text. Braces are written as character references, so bank text never forms a live
  embedded answer such as `{1:SHORTANSWER:=x}`.
- Inside an embedded answer `}` and `#` are backslash-escaped, which Moodle's parser undoes;
  `~`, `\\`, `{` and `&` are written as character references, which it decodes (it has no
  backslash escape for them); `*` is `\\*`, a literal asterisk in a short answer.
- Multiple answer: each correct option weighs 100/k %, each wrong one -100/w %; Moodle
  accepts only its listed grades, so k or w of 11-19 or above 20 is reported (as for GIFT).
- A picture (`image:`, `explanation_image:`) travels inside its text as Moodle's own export
  writes it: `<file name="kzquiz-<hash>.<ext>" path="/" encoding="base64">` in the
  `questiontext` (or `generalfeedback`), the HTML referring to `@@PLUGINFILE@@/<name>`.
- A question pool (the bank's `pools:`, or `--pick`) is a category of its own, named and
  described with its draw; Moodle XML cannot hold random questions (see `_pool`), so a
  note tells the teacher to add the draw as random questions from that category.
- The output depends only on the bank: no dates, no random order.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from typing_extensions import assert_never

from kzquiz.bank import LoadedBank
from kzquiz.images import ImageFile, image_of
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
    format_number,
)
from kzquiz.pools import Pool, job_pools
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.export_common import (
    Notes,
    bank_order,
    feedback_text,
    multiple_weights,
)

FORMAT = "Moodle XML"
SUFFIX = ".moodle.xml"
# Characters XML 1.0 cannot hold (the loader already refuses control characters).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NEWLINE = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
_PARAGRAPHS = re.compile(r"(?:\r\n|\r|\n|\u2028|\u2029)[ \t]*(?:\r\n|\r|\n|\u2028|\u2029)")
_PENALTY = "0.3333333"


def _xml(text: str) -> str:
    """Character data: & < > escaped (quotes need no escaping outside attributes)."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text


def _html_inline(text: str) -> str:
    """Plain text as inline HTML: escaped, braces as references, line breaks as <br>."""
    escaped = html.escape(text, quote=False).replace("{", "&#123;").replace("}", "&#125;")
    return "<br>".join(_NEWLINE.split(escaped))


# What makes a text more than one paragraph of itself: markup to escape or a line break.
_NOT_PLAIN = re.compile("[&<>{}\r\n\u2028\u2029]")


def _html(text: str) -> str:
    """Plain text as HTML paragraphs: blank lines part paragraphs, line breaks are <br>."""
    if _NOT_PLAIN.search(text) is None:
        # Most bank text is one line with nothing to escape: one scan instead of two splits
        # and an escape, the same paragraph.
        return f"<p>{text.strip()}</p>"
    return "".join(f"<p>{_html_inline(p.strip())}</p>" for p in _PARAGRAPHS.split(text))


# Inside an embedded answer Moodle's parser ends an answer at a ~ # or } that follows no
# backslash, "&" or "&amp;", then decodes HTML references and undoes only \} and \#. One
# pass, so no replacement is escaped again; "&" is "&#38;", as "&amp;" before a "~" would
# hide that separator; "*" is "\*", a literal asterisk in a short answer.
_CLOZE_ANSWER = str.maketrans(
    {
        "&": "&#38;",
        "<": "&lt;",
        ">": "&gt;",
        "\\": "&#92;",
        "}": "\\}",
        "#": "\\#",
        "~": "&#126;",
        "{": "&#123;",
        "*": "\\*",
    }
)


def cloze_answer(text: str) -> str:
    """One alternative of an embedded SHORTANSWER, escaped for Moodle's cloze parser."""
    # One line: a line break cannot be typed into a blank.
    return " ".join(_NEWLINE.split(text)).translate(_CLOZE_ANSWER)


def _short_answer(text: str) -> str:
    """A shortanswer answer: '*' is Moodle's wildcard, '\\*' a literal asterisk."""
    return text.replace("*", "\\*")


class _Writer:
    """The lines of the file; every text passes through `clean`, which notes what it drops."""

    def __init__(self, loaded: LoadedBank, notes: Notes) -> None:
        self.loaded, self.notes = loaded, notes
        self.lines: list[str] = []
        self.q: Question | None = None

    def clean(self, text: str) -> str:
        """The text without characters XML cannot hold, noting any it removed."""
        if not _NOT_XML.search(text):
            return text
        bad = _NOT_XML.findall(text)
        codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in bad}))
        message = f"removed {len(bad)} character(s) XML cannot hold ({codes})"
        if self.q is None:
            self.notes.add_bank(message)
        else:
            self.notes.add(self.q, message)
        return _NOT_XML.sub("", text)

    def line(self, depth: int, text: str) -> None:
        """One line, already escaped, indented two spaces per depth."""
        self.lines.append("  " * depth + text)

    def text(
        self,
        depth: int,
        tag: str,
        value: str,
        fmt: str | None = None,
        file: ImageFile | None = None,
    ) -> None:
        """`<tag format="fmt"><text>value</text></tag>`; `value` is ready markup or plain.

        A picture the text refers to goes inside the tag as a base64 `<file>`.
        """
        attribute = f' format="{fmt}"' if fmt else ""
        embedded = (
            f'<file name="{file.name}" path="/" encoding="base64">{file.base64}</file>'
            if file is not None
            else ""
        )
        self.line(
            depth, f"<{tag}{attribute}><text>{_xml(self.clean(value))}</text>{embedded}</{tag}>"
        )

    def html(self, depth: int, tag: str, plain: str) -> None:
        """A format="html" text holding the plain bank text."""
        self.text(depth, tag, _html(plain), "html")

    def leaf(self, depth: int, tag: str, value: str) -> None:
        """`<tag>value</tag>`, value plain."""
        self.line(depth, f"<{tag}>{_xml(self.clean(value))}</{tag}>")


def category_path(loaded: LoadedBank, topic: str, name: str | None = None) -> str:
    """`$course$/top/<bank title>/<topic name>` (or `name`), '/' in a name doubled as Moodle
    splits it."""
    names = [loaded.title, name if name is not None else loaded.bank.topics.get(topic, topic)]
    parts = []
    for name in names:
        part = _NEWLINE.sub(" ", name).replace("/", "//")
        # As Moodle's assemble_category_path: a leading or trailing '/' is padded.
        if part.startswith("/"):
            part = " " + part
        if part.endswith("/"):
            part += " "
        parts.append(part)
    return "$course$/top/" + "/".join(parts)


def _category(w: _Writer, topic: str) -> None:
    w.line(1, '<question type="category">')
    w.line(2, f"<category><text>{_xml(w.clean(category_path(w.loaded, topic)))}</text></category>")
    w.line(1, "</question>")


def _picture(image: Image, file: ImageFile) -> str:
    """A picture's HTML, referring to the `<file>` beside it through @@PLUGINFILE@@."""
    alt = html.escape(image.alt).replace("{", "&#123;").replace("}", "&#125;")
    out = f'<p><img src="@@PLUGINFILE@@/{file.name}" alt="{alt}"></p>'
    note = " \u2014 ".join(t for t in (image.caption, image.credit) if t)
    return out + (f"<p><small>{_html_inline(note)}</small></p>" if note else "")


def _head(w: _Writer, q: Question, qtype: str, prompt_html: str | None = None) -> None:
    """The parts every question has, in Moodle's order, up to the type's own fields."""
    w.line(1, f'<question type="{qtype}">')
    w.text(2, "name", q.id)
    text = _html(q.stem) if prompt_html is None else prompt_html
    picture = image_of(w.loaded, q.image)
    if q.image is not None and picture is not None:
        text += _picture(q.image, picture)
    w.text(2, "questiontext", text, "html", picture)
    feedback = _html(feedback_text(w.loaded, q))
    shown = image_of(w.loaded, q.explanation_image)
    if q.explanation_image is not None and shown is not None:
        feedback += _picture(q.explanation_image, shown)
    w.text(2, "generalfeedback", feedback, "html", shown)
    if qtype != "cloze":  # an embedded-answers question's mark is the sum of its blanks'
        w.leaf(2, "defaultgrade", format_number(q.score))
    w.leaf(2, "penalty", _PENALTY)
    w.leaf(2, "hidden", "0")
    w.leaf(2, "idnumber", q.id)


_COMBINED_FEEDBACK = [
    *(
        f'    <{tag} format="html"><text></text></{tag}>'
        for tag in ("correctfeedback", "partiallycorrectfeedback", "incorrectfeedback")
    ),
    "    <shownumcorrect/>",
]


def _combined_feedback(w: _Writer) -> None:
    w.lines += _COMBINED_FEEDBACK


def _tail(w: _Writer, q: Question) -> None:
    w.line(2, "<tags>")
    for tag in [*q.tags, f"difficulty-{q.difficulty}"]:
        w.line(3, f"<tag><text>{_xml(tag)}</text></tag>")
    w.line(2, "</tags>")
    w.line(1, "</question>")


def _answer(w: _Writer, fraction: str, value: str, fmt: str, extra: Sequence[str] = ()) -> None:
    w.lines += [
        f'    <answer fraction="{fraction}" format="{fmt}">',
        f"      <text>{_xml(w.clean(value))}</text>",
        '      <feedback format="html"><text></text></feedback>',
        *(f"      {line}" for line in extra),
        "    </answer>",
    ]


def _choice(w: _Writer, q: Single | Multiple) -> None:
    _head(w, q, "multichoice")
    single = isinstance(q, Single)
    w.leaf(2, "single", "true" if single else "false")
    w.leaf(2, "shuffleanswers", "true")
    w.leaf(2, "answernumbering", "abc")
    w.leaf(2, "showstandardinstruction", "0")
    _combined_feedback(w)
    if isinstance(q, Multiple):
        plus, minus = multiple_weights(q, w.notes)
    else:
        plus, minus = "100", "0"
    for c in q.choices:
        _answer(w, plus if c.correct else minus, _html(c.text), "html")


def _truefalse(w: _Writer, q: TrueFalse) -> None:
    _head(w, q, "truefalse")
    _answer(w, "100" if q.answer else "0", "true", "moodle_auto_format")
    _answer(w, "0" if q.answer else "100", "false", "moodle_auto_format")


def _short(w: _Writer, q: Short) -> None:
    _head(w, q, "shortanswer")
    w.leaf(2, "usecase", "0")
    for answer in q.answers:
        _answer(w, "100", _short_answer(answer), "moodle_auto_format")


def _numerical(w: _Writer, q: Numeric) -> None:
    _head(w, q, "numerical")
    value = format_number(q.answer)
    if q.range is None:
        _answer(w, "100", value, "moodle_auto_format", [_tolerance(q.tolerance or 0)])
    else:
        # The model answer first (Moodle shows it as the right answer), then the range as
        # its midpoint with half its width as tolerance: both full marks.
        lo, hi = q.range
        _answer(w, "100", value, "moodle_auto_format", [_tolerance(0)])
        mid, half = (lo + hi) / 2, (hi - lo) / 2
        _answer(w, "100", format_number(mid), "moodle_auto_format", [_tolerance(half)])
    if q.unit:
        w.line(2, "<units>")
        w.line(3, "<unit>")
        w.leaf(4, "multiplier", "1")
        w.leaf(4, "unit_name", q.unit)
        w.line(3, "</unit>")
        w.line(2, "</units>")
    # Units optional and not graded: a student may type "22" or "22 billion USD".
    w.leaf(2, "unitgradingtype", "0")
    w.leaf(2, "unitpenalty", "0.1000000")
    w.leaf(2, "showunits", "0" if q.unit else "3")
    w.leaf(2, "unitsleft", "0")


def _tolerance(value: float) -> str:
    return f"<tolerance>{format_number(value)}</tolerance>"


def _matching(w: _Writer, q: Matching) -> None:
    _head(w, q, "matching")
    w.leaf(2, "shuffleanswers", "true")
    _combined_feedback(w)
    for pair in q.pairs:
        w.line(2, '<subquestion format="html">')
        w.line(3, f"<text>{_xml(w.clean(_html(pair.left)))}</text>")
        # The choices of a matching question are plain text in Moodle.
        right = " ".join(_NEWLINE.split(pair.right))
        w.line(3, f"<answer><text>{_xml(w.clean(right))}</text></answer>")
        w.line(2, "</subquestion>")


def _ordering(w: _Writer, q: Ordering) -> None:
    _head(w, q, "ordering")
    w.leaf(2, "layouttype", "VERTICAL")
    w.leaf(2, "selecttype", "ALL")
    w.leaf(2, "selectcount", "0")
    w.leaf(2, "gradingtype", "ALL_OR_NOTHING")  # as the bank grades ordering
    w.leaf(2, "showgrading", "SHOW")
    w.leaf(2, "numberingstyle", "none")
    _combined_feedback(w)
    # The items in their correct order; the fraction is each item's position.
    for position, item in enumerate(q.items, start=1):
        w.line(2, f'<answer fraction="{position}.0000000" format="html">')
        w.line(3, f"<text>{_xml(w.clean(_html_inline(item)))}</text>")
        w.line(2, "</answer>")


def _blank_weight(q: Cloze, notes: Notes) -> int:
    """Each blank's mark: the question's points shared evenly (Moodle takes whole numbers)."""
    blanks = len(q.blanks)
    if q.points is None or q.points % blanks == 0:
        return (q.points or blanks) // blanks
    notes.add(q, f"{q.points} points cannot be shared evenly by {blanks} blanks; each blank is 1")
    return 1


def cloze_text(q: Cloze, weight: int = 1) -> str:
    """The cloze as Moodle embedded-answers HTML: text escaped, each blank a SHORTANSWER."""
    parts = []
    for seg in q.segments:
        if isinstance(seg, int):
            alternatives = "~".join("=" + cloze_answer(a) for a in q.blanks[seg])
            parts.append(f"{{{weight}:SHORTANSWER:{alternatives}}}")
        else:
            parts.append(_html_inline(seg))
    return "<p>" + "".join(parts).strip() + "</p>"


def _cloze(w: _Writer, q: Cloze) -> None:
    _head(w, q, "cloze", cloze_text(q, _blank_weight(q, w.notes)))


def _question(w: _Writer, q: Question) -> None:
    w.q = q
    if isinstance(q, (Single, Multiple)):
        _choice(w, q)
    elif isinstance(q, TrueFalse):
        _truefalse(w, q)
    elif isinstance(q, Short):
        _short(w, q)
    elif isinstance(q, Numeric):
        _numerical(w, q)
    elif isinstance(q, Matching):
        _matching(w, q)
    elif isinstance(q, Ordering):
        _ordering(w, q)
    elif isinstance(q, Cloze):
        _cloze(w, q)
    else:
        assert_never(q)
    _tail(w, q)
    w.q = None


def _pool(w: _Writer, pool: Pool, members: Sequence[Question]) -> None:
    """A pool as its own category, the draw in its name and description, then its questions.

    Moodle XML cannot hold the draw itself: its importer (qformat_xml::import_question) has
    no `random` type and qtype_random imports nothing, so a `<question type="random">` is
    refused; since Moodle 4.3 random questions are not questions in the bank at all but a
    quiz slot's filter. The teacher adds the random questions to the quiz from this category.
    """
    path = category_path(w.loaded, "", f"{pool.title} (draw {pool.draw})")
    info = (
        f"Question pool '{pool.id}': each student gets {pool.draw} of these "
        f"{len(members)} questions. In the quiz: Add > a random question, from this "
        f"category, {pool.draw} of them."
    )
    w.line(1, '<question type="category">')
    w.line(2, f"<category><text>{_xml(w.clean(path))}</text></category>")
    w.html(2, "info", info)
    w.leaf(2, "idnumber", f"{w.loaded.id}-pool-{pool.id}")
    w.line(1, "</question>")
    w.notes.add_bank(
        f"pool '{pool.id}' is the category '{path}': add {pool.draw} random questions from "
        "it to the quiz (Moodle XML cannot hold random questions)"
    )
    for q in members:
        _question(w, q)


def render_moodle(
    loaded: LoadedBank, questions: Sequence[Question], pools: Sequence[Pool] = ()
) -> tuple[bytes, list[str]]:
    """The questions as a Moodle XML file (UTF-8) and notes on anything it cannot hold."""
    notes = Notes(loaded, FORMAT)
    w = _Writer(loaded, notes)
    w.lines += ['<?xml version="1.0" encoding="UTF-8"?>', "<quiz>"]
    topic = None
    pooled = {i for pool in pools for i in pool.question_ids}
    for q in bank_order(loaded, questions):
        if q.id in pooled:
            continue
        if q.topic != topic:
            topic = q.topic
            _category(w, topic)
        _question(w, q)
    by_id = {q.id: q for q in questions}
    for pool in pools:
        _pool(w, pool, [by_id[i] for i in pool.question_ids if i in by_id])
    w.lines.append("</quiz>")
    return ("\n".join(w.lines) + "\n").encode("utf-8"), notes.items


def render(job: RenderJob) -> Outputs:
    """The selection as `<bank-id>.moodle.xml`, with notes."""
    data, notes = render_moodle(job.loaded, job.questions, job_pools(job))
    return Outputs(files={job.loaded.id + SUFFIX: data}, notes=notes)
