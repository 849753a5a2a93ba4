"""CSV: one row per question with every field, for spreadsheets and other tools.

RFC 4180: comma-separated, fields quoted only when needed (a quote is doubled), CRLF line
ends. UTF-8 with a byte-order mark, because Excel reads UTF-8 only with one (Python reads it
with encoding="utf-8-sig"; LibreOffice and Google Sheets accept either).

Columns (empty where a type has no such field):

    id, type, topic, topic_name, difficulty, tags, points, prompt, choices, correct,
    answers, number, tolerance, range_min, range_max, unit, pairs, items, answer,
    explanation, evidence, evidence_paragraph, image, explanation_image

- `prompt`: the question as asked; a cloze shows each blank as _____.
- List cells are JSON, so any text (commas, "|", quotes) survives a round trip:
  `tags` ["un-charter"], `choices` ["Astana", "Almaty"], `correct` ["A"] (the correct
  choices' letters; for truefalse `true` or `false`), `answers` ["Keosayan"] (short) or
  [["25th", "twenty-fifth"], ...] (cloze: accepted answers per blank), `pairs`
  [["left", "right"], ...], `items` in the correct order.
- `answer`: the correct answer in words, for every type.
- `points`: what the question is worth (the bank's `points`, else the type's default).
- `image`, `explanation_image`: the picture's file as the bank names it (relative to the
  bank's folder), empty without one; a CSV carries no files.

A text cell starting with = + - @ (or a tab or carriage return) is a formula to a
spreadsheet; such a cell gets a leading apostrophe, as OWASP advises, and a note says so.
"""

from __future__ import annotations

import csv
import io
import json
import string
from collections.abc import Sequence
from typing import Any

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
from kzquiz.render.export_common import Notes

FORMAT = "CSV"
COLUMNS = (
    "id",
    "type",
    "topic",
    "topic_name",
    "difficulty",
    "tags",
    "points",
    "prompt",
    "choices",
    "correct",
    "answers",
    "number",
    "tolerance",
    "range_min",
    "range_max",
    "unit",
    "pairs",
    "items",
    "answer",
    "explanation",
    "evidence",
    "evidence_paragraph",
    "image",
    "explanation_image",
)
# Cells that only ever hold a number written by kzquiz: a leading '-' there is a sign.
_NUMBER_COLUMNS = frozenset(
    {"difficulty", "points", "number", "tolerance", "range_min", "range_max", "evidence_paragraph"}
)
# What a spreadsheet (Excel, LibreOffice, Google Sheets) runs as a formula at a cell's start.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def defuse(value: str) -> str | None:
    """`value` with a leading apostrophe when a spreadsheet would run it; None when it is safe."""
    return "'" + value if value.startswith(FORMULA_START) else None


# json.dumps(value, ensure_ascii=False) builds this encoder on every call; one does.
_JSON = json.JSONEncoder(ensure_ascii=False)


def _json(value: Any) -> str:
    return _JSON.encode(value)


def row(loaded: LoadedBank, q: Question) -> dict[str, str]:
    """Every field of one question as CSV cells (before the formula guard)."""
    para = loaded.paragraph_of.get(q.id)
    cells = dict.fromkeys(COLUMNS, "")
    cells.update(
        id=q.id,
        type=q.type,
        topic=q.topic,
        topic_name=loaded.bank.topics.get(q.topic, ""),
        difficulty=str(q.difficulty),
        tags=_json(list(q.tags)),
        points=str(q.score),
        prompt=q.stem,
        answer=q.answer_text(),
        explanation=q.explanation,
        evidence=q.evidence,
        evidence_paragraph=str(para) if para is not None else "",
        image=q.image.file if q.image is not None else "",
        explanation_image=q.explanation_image.file if q.explanation_image is not None else "",
    )
    if isinstance(q, (Single, Multiple)):
        cells["choices"] = _json([c.text for c in q.choices])
        letters = string.ascii_uppercase
        cells["correct"] = _json([letters[j] for j, c in enumerate(q.choices) if c.correct])
    elif isinstance(q, TrueFalse):
        cells["correct"] = _json(q.answer)
    elif isinstance(q, Short):
        cells["answers"] = _json(list(q.answers))
    elif isinstance(q, Cloze):
        cells["answers"] = _json(q.blanks)
    elif isinstance(q, Numeric):
        cells["number"] = format_number(q.answer)
        if q.tolerance is not None:
            cells["tolerance"] = format_number(q.tolerance)
        if q.range is not None:
            cells["range_min"], cells["range_max"] = (format_number(x) for x in q.range)
        cells["unit"] = q.unit or ""
    elif isinstance(q, Matching):
        cells["pairs"] = _json([[p.left, p.right] for p in q.pairs])
    elif isinstance(q, Ordering):
        cells["items"] = _json(list(q.items))
    return cells


def formula_note(column: str, value: str) -> str:
    """The note for a cell that `defuse` changed."""
    return (
        f"{column} starts with {value[0]!r}; written with a leading apostrophe so "
        "spreadsheets do not run it as a formula"
    )


# Positions of the columns a formula guard looks at (what defuse() does, inlined: it runs
# for every cell of every question).
_GUARDED = tuple(column not in _NUMBER_COLUMNS for column in COLUMNS)


def _guard(cells: dict[str, str], q: Question, notes: Notes) -> list[str]:
    out = [cells[column] for column in COLUMNS]
    for i, value in enumerate(out):
        if value.startswith(FORMULA_START) and _GUARDED[i]:
            notes.add(q, formula_note(COLUMNS[i], value))
            out[i] = "'" + value
    return out


def render_csv(loaded: LoadedBank, questions: Sequence[Question]) -> tuple[bytes, list[str]]:
    """The questions as a CSV file (UTF-8 with BOM) and notes on any cell it had to change."""
    notes = Notes(loaded, FORMAT)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(COLUMNS)
    for q in questions:
        writer.writerow(_guard(row(loaded, q), q, notes))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8"), notes.items


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.csv` of `job.questions`, with a note on anything CSV cannot hold."""
    data, notes = render_csv(job.loaded, job.questions)
    return Outputs(files={job.loaded.id + ".csv": data}, notes=notes)
