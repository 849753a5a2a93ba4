"""Quizlet: term/definition pairs for Quizlet's import box (Create > Import).

One card a line, a tab between term and definition: choose "Tab" between term and
definition and "New line" between cards. Quizlet cannot tell a tab or a line break inside
a text from a separator, so in bank text a tab becomes a space and a line break " / ".

A card is the question and its answer:

- single / multiple: prompt and the lettered choices, one line each ("A. Astana") -> the
  correct choice(s) with their letters, joined with "; " ("B. Almaty")
- truefalse: "True or false: statement" -> "True" / "False"
- short: prompt -> model answer, then "(also accepted: ...)"
- numeric: prompt (with unit) -> the answer with its tolerance or range and unit
- cloze: one card per blank, the other blanks filled in -> that blank's answer(s)
- matching: one card per pair: "left (prompt)" -> right
- ordering: prompt -> the items in order, joined with " → "

A flashcard has no room for distractors, explanations, evidence, topics, tags, difficulty
or points; the CSV export carries every field.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence

from typing_extensions import assert_never

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.i18n import Translator, translator
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
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.export_common import (
    PICTURES_BY_EDITOR,
    Notes,
    cloze_with_one_blank,
    numeric_prompt,
    picture_note,
)

FORMAT = "Quizlet"
_LINE_BREAK = re.compile(r"\s*(?:\r\n|\r|\n|\u2028|\u2029|\x85)+\s*")


def clean(text: str) -> str:
    """One line with no tab: line breaks become ' / ', tabs become spaces."""
    return _LINE_BREAK.sub(" / ", text).replace("\t", " ").strip()


def _accepted(answers: Sequence[str], tr: Translator) -> str:
    first, rest = answers[0], answers[1:]
    if not rest:
        return first
    return f"{first} " + tr.gettext("(also accepted: %(answers)s)") % {"answers": "; ".join(rest)}


def cards(q: Question, lang: str = "en") -> list[tuple[str, str]]:
    """The (term, definition) cards for one question, before cleaning."""
    tr = translator(lang)
    if isinstance(q, (Single, Multiple)):
        # The choices go on the term side: "Select all that apply" needs something to select.
        lettered = [
            f"{letter}. {c.text}"
            for letter, c in zip(string.ascii_uppercase, q.choices, strict=False)
        ]
        term = "\n".join([q.stem, *lettered])
        right = [text for text, c in zip(lettered, q.choices, strict=True) if c.correct]
        return [(term, "; ".join(right))]
    if isinstance(q, TrueFalse):
        return [
            (tr.gettext("True or false: %(statement)s") % {"statement": q.stem}, tr.answer_text(q))
        ]
    if isinstance(q, Short):
        return [(q.stem, _accepted(q.answers, tr))]
    if isinstance(q, Numeric):
        return [(numeric_prompt(q, lang), tr.answer_text(q))]
    if isinstance(q, Cloze):
        out = []
        for k, alternatives in enumerate(q.blanks):
            before, after = cloze_with_one_blank(q, k)
            out.append((f"{before}_____{after}", _accepted(alternatives, tr)))
        return out
    if isinstance(q, Matching):
        return [(f"{p.left} ({q.stem})", p.right) for p in q.pairs]
    if isinstance(q, Ordering):
        return [(q.stem, " → ".join(q.items))]
    assert_never(q)


def render_quizlet(loaded: LoadedBank, questions: Sequence[Question]) -> tuple[bytes, list[str]]:
    """The questions as Quizlet import text (UTF-8) and notes on anything a card cannot hold."""
    notes = Notes(loaded, FORMAT)
    lines = []
    for q in questions:
        picture_note(notes, q, PICTURES_BY_EDITOR.format(platform=FORMAT))
        for term, definition in cards(q, i18n.of(loaded)):
            lines.append(f"{clean(term)}\t{clean(definition)}")
    return "".join(line + "\n" for line in lines).encode("utf-8"), notes.items


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.quizlet.txt` of `job.questions`, with a note on anything Quizlet cannot hold."""
    data, notes = render_quizlet(job.loaded, job.questions)
    return Outputs(files={job.loaded.id + ".quizlet.txt": data}, notes=notes)
