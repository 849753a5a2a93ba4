"""Moodle GIFT: one text file that Moodle's question bank imports (Question bank > Import > GIFT).

Layout, per question, in the style of Moodle's own GIFT export:

    // [id:un-two-principles] [tag:un-charter] [tag:difficulty-2]
    ::un-two-principles::[plain]Which two UN principles ...? {
    \t=Territorial integrity and self-determination
    \t~Non-interference and collective security
    \t####Explanation ...\\n\\nEvidence (paragraph 3)\\: “...”
    }

- `$CATEGORY: $course$/top/<bank title>/<topic name>` before each topic's questions. Moodle
  does not unescape this line (only a doubled backslash), so names are written as they are,
  with '/' doubled as Moodle's own export does; everywhere else text is escaped.
- `[plain]`: bank text is plain text, so Moodle shows `<b>` as written, never as HTML.
- The comment line carries the id number and tags (Moodle 3.6+ reads `[id:]` and `[tag:]`);
  difficulty becomes the tag `difficulty-N`.
- Every `~ = # { } :` and backslash in bank text is escaped with a backslash; a newline is
  written `\\n`, GIFT's way, so each answer stays on one line.
- Multiple answer: each correct option weighs 100/k %, each wrong one -100/w %, so ticking
  everything scores 0. Moodle accepts only its listed grades, so k or w of 11-19 or above 20
  is reported.
- Cloze: one blank is a short-answer question with the blank in place ("missing word"); more
  blanks become one question per blank, the other blanks filled in.
- Ordering becomes matching (Position 1 -> first item, ...), which loses nothing.
- GIFT has no points: an explicit `points:` is reported (Moodle gives each question mark 1).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kzquiz import i18n
from kzquiz.bank import LoadedBank
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
    format_number,
)
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.export_common import (
    PICTURES_IN_MOODLE,
    Notes,
    bank_order,
    cloze_with_one_blank,
    feedback_text,
    multiple_weights,
    numeric_prompt,
    ordering_pairs,
    picture_note,
)

FORMAT = "GIFT"
_NEWLINE = re.compile(r"\r\n|\r|\n|\u2028|\u2029")
# Each special character escaped, each line break written \n. The backslash goes first, so
# the backslashes the other replacements add are not escaped again.
_ESCAPES = (
    *((c, "\\" + c) for c in "\\~=#{}:"),
    *((c, "\\n") for c in "\r\n\u2028\u2029"),
)
# Most texts hold none of them: one scan finds that, and only the characters present are
# replaced (str.translate with multi-character replacements is several times slower).
_SPECIAL = re.compile("[\\\\~=#{}:\r\n\u2028\u2029]")
# Moodle reads a leading [moodle], [html], [plain] or [markdown] as the text's format.
_FORMAT_TAG = re.compile(r"\[(?:moodle|html|plain|markdown)\]")


def escape(text: str) -> str:
    """Escape GIFT's special characters and write newlines as `\\n`."""
    if not _SPECIAL.search(text):
        return text
    text = text.replace("\r\n", "\n")
    for char, escaped in _ESCAPES:
        if char in text:
            text = text.replace(char, escaped)
    return text


def _text(text: str) -> str:
    """Escaped text for a place where Moodle would read a leading [format] tag."""
    # A text that itself starts with [html] would switch Moodle's format; pin it to plain.
    return ("[plain]" if _FORMAT_TAG.match(text) else "") + escape(text)


def _answer(sign: str, text: str, weight: str | None = None, guard: str | None = None) -> str:
    """One answer line: `sign`, an optional `%weight%`, then the escaped text.

    `guard` is the weight to write when the text itself starts with '%': Moodle would read
    "%50%..." there as a weight (only after '=' in a multiple choice does it not).
    """
    if weight is None and guard is not None and text.startswith("%"):
        weight = guard
    mark = f"{sign}%{weight}%" if weight is not None else sign
    return f"\t{mark}{_text(text)}"


def _category(loaded: LoadedBank, topic: str) -> str:
    """`$CATEGORY:` path; Moodle does not unescape GIFT escapes here, it uses '//' for '/'."""
    names = [loaded.title, loaded.bank.topics.get(topic, topic)]
    parts = []
    for name in names:
        # As Moodle's assemble_category_path: '/' doubled, a leading/trailing '/' padded.
        part = _NEWLINE.sub(" ", name).replace("\\", "\\\\").replace("/", "//")
        if part.startswith("/"):
            part = " " + part
        if part.endswith("/"):
            part += " "
        parts.append(part)
    return "$CATEGORY: $course$/top/" + "/".join(parts)


def _comment(q: Question, id_suffix: str = "") -> str:
    tags = [*q.tags, f"difficulty-{q.difficulty}"]
    return f"// [id:{q.id}{id_suffix}] " + " ".join(f"[tag:{t}]" for t in tags)


def _no_arrow(text: str, q: Question, what: str, notes: Notes) -> str:
    """Replace '->' (GIFT's matching separator) where Moodle would misread it."""
    if "->" not in text:
        return text
    notes.add(q, f"'->' in {what} {text!r} written as '→' (GIFT reads '->' as a matching pair)")
    return text.replace("->", "→")


def _question(
    loaded: LoadedBank,
    q: Question,
    head: str,
    answers: list[str],
    *,
    title: str | None = None,
    opener: str = "",
    id_suffix: str = "",
) -> str:
    """One question block; `head` is already escaped, `answers` are ready lines."""
    lines = [_comment(q, id_suffix), f"::{escape(title or q.id)}::[plain]{head}{{{opener}"]
    lines += answers
    lines.append(f"\t####{escape(feedback_text(loaded, q))}")
    lines.append("}")
    return "\n".join(lines)


def _blocks(loaded: LoadedBank, q: Question, notes: Notes) -> list[str]:
    """The GIFT question(s) for one bank question."""
    head = f"{escape(q.stem)} "
    if isinstance(q, Single):
        answers = [
            _answer("=", c.text) if c.correct else _answer("~", c.text, guard="0")
            for c in q.choices
        ]
        return [_question(loaded, q, head, answers)]
    if isinstance(q, Multiple):
        plus, minus = multiple_weights(q, notes)
        answers = [_answer("~", c.text, plus if c.correct else minus) for c in q.choices]
        return [_question(loaded, q, head, answers)]
    if isinstance(q, TrueFalse):
        return [_question(loaded, q, head, ["\tTRUE" if q.answer else "\tFALSE"])]
    if isinstance(q, Short):
        answers = [
            _answer("=", _no_arrow(a, q, "the answer", notes), guard="100") for a in q.answers
        ]
        return [_question(loaded, q, head, answers)]
    if isinstance(q, Numeric):
        value = format_number(q.answer)
        if q.range is not None:
            # Two answers, both full marks: the model answer itself, then the accepted range,
            # so Moodle shows the bank's answer (a range alone would show its midpoint).
            lo, hi = (format_number(x) for x in q.range)
            answers = [f"\t=%100%{value}:0", f"\t=%100%{lo}..{hi}"]
        else:
            answers = [f"\t={value}:{format_number(q.tolerance or 0)}"]
        return [
            _question(
                loaded, q, f"{escape(numeric_prompt(q, i18n.of(loaded)))} ", answers, opener="#"
            )
        ]
    if isinstance(q, (Matching, Ordering)):
        pairs = (
            ordering_pairs(q, i18n.of(loaded))
            if isinstance(q, Ordering)
            else [(p.left, p.right) for p in q.pairs]
        )
        answers = [
            f"\t={_text(_no_arrow(left, q, 'the left item', notes))} -> {escape(right)}"
            for left, right in pairs
        ]
        return [_question(loaded, q, head, answers)]
    if isinstance(q, Cloze):
        blocks = []
        total = len(q.blanks)
        for k, alternatives in enumerate(q.blanks):
            before, after = cloze_with_one_blank(q, k)
            answers = [
                _answer("=", _no_arrow(a, q, "the answer", notes), guard="100")
                for a in alternatives
            ]
            if total == 1:
                block = _question(loaded, q, escape(before), answers)
            else:
                block = _question(
                    loaded,
                    q,
                    escape(before),
                    answers,
                    title=f"{q.id} "
                    + i18n.translator(i18n.of(loaded)).gettext("(blank %(n)s of %(count)s)")
                    % {"n": k + 1, "count": total},
                    id_suffix=f".blank{k + 1}",
                )
            # Text after the closing brace makes Moodle put the blank in place.
            blocks.append(block + escape(after))
        return blocks
    raise TypeError(f"unknown question type {type(q).__name__}")  # pragma: no cover


def render_gift(loaded: LoadedBank, questions: Sequence[Question]) -> tuple[bytes, list[str]]:
    """The questions as a Moodle GIFT file (UTF-8) and notes on anything GIFT cannot hold."""
    notes = Notes(loaded, FORMAT)
    title = _NEWLINE.sub(" ", loaded.title)
    out = [f"// {title} ({loaded.id}): {len(questions)} questions, exported by kzquiz", ""]
    topic = None
    for q in bank_order(loaded, questions):
        if q.topic != topic:
            topic = q.topic
            out += [_category(loaded, topic), ""]
        if q.points is not None:
            notes.add(q, f"GIFT has no points; set the mark ({q.points}) in Moodle")
        picture_note(notes, q, PICTURES_IN_MOODLE)
        for block in _blocks(loaded, q, notes):
            out += [block, ""]
    return "\n".join(out).encode("utf-8"), notes.items


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.gift.txt` of `job.questions`, with a note on anything GIFT cannot hold."""
    data, notes = render_gift(job.loaded, job.questions)
    return Outputs(files={job.loaded.id + ".gift.txt": data}, notes=notes)
