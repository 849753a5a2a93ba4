"""Gimkit: the CSV of Gimkit's spreadsheet import (New kit > Import > Spreadsheet).

The layout is that of Gimkit's published "Gimkit Spreadsheet Import Template" (the
multiple-choice one, as copied by converters since 2020): a title in row 1, the column
headings in row 2, one question a row from row 3. It was not checked against the live
platform.

Columns (row 2):

    Question
    Correct Answer
    Incorrect Answer 1
    Incorrect Answer 2 (Optional)
    Incorrect Answer 3 (Optional)

- single choice: the right choice, then the others in bank order (Gimkit shuffles them);
  true/false: the right one of True and False, then the other.
- One right answer and at most 3 wrong ones: a question with more choices is left out, with
  a note; multiple choice (several right answers) has no column and is left out too.
- The template has no type-answer column, no time limit and no explanation: cloze, short,
  numeric, matching and ordering questions are left out, one note each. It states no
  length limit for text, so none is enforced here.
- A text cell starting with = + - @ gets a leading apostrophe, as in the CSV export.

RFC 4180 CSV with CRLF line ends, UTF-8 with a byte-order mark (the mark falls in the
template's title cell, which the import skips).
"""

from __future__ import annotations

from kzquiz import i18n
from kzquiz.model import Multiple
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.export_common import PICTURES_BY_EDITOR, Notes, picture_note
from kzquiz.render.game_common import cell, choice_row, not_held, skipped, template_csv

FORMAT = "Gimkit"
MAX_WRONG = 3
HEADINGS = (
    "Question",
    "Correct Answer",
    "Incorrect Answer 1",
    "Incorrect Answer 2 (Optional)",
    "Incorrect Answer 3 (Optional)",
)
TITLE = "Gimkit Spreadsheet Import Template"


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.gimkit.csv` of `job.questions`, with a note on anything Gimkit cannot hold."""
    notes = Notes(job.loaded, FORMAT)
    buffer, writer = template_csv(TITLE, HEADINGS)
    lang = i18n.of(job.loaded)
    for q in job.questions:
        row = choice_row(q, lang)
        if row is None:
            not_held(q, notes, FORMAT, "questions with one right answer only")
            continue
        if isinstance(q, Multiple):
            skipped(q, notes, "Gimkit holds one right answer per question, not several")
            continue
        wrong = [text for i, text in enumerate(row.answers, start=1) if i not in row.correct]
        if len(wrong) > MAX_WRONG:
            skipped(q, notes, f"{len(row.answers)} choices; Gimkit holds at most {MAX_WRONG + 1}")
            continue
        picture_note(notes, q, PICTURES_BY_EDITOR.format(platform=FORMAT))
        right = row.answers[row.correct[0] - 1]
        cells = [
            cell(row.prompt, "question", q, notes),
            cell(right, "correct answer", q, notes),
            *[cell(text, f"incorrect answer {i}", q, notes) for i, text in enumerate(wrong, 1)],
        ]
        writer.writerow(cells + [""] * (len(HEADINGS) - len(cells)))
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return Outputs(files={job.loaded.id + ".gimkit.csv": data}, notes=notes.items)
