"""Blooket: the CSV of Blooket's "Spreadsheet Import" (Create a set > Import > CSV).

The layout is that of Blooket's published CSV import template (the "Blooket Import
Template" file offered in the set editor, as copied by converters since 2021): a title cell
in row 1, the column headings in row 2, one question a row from row 3. It was not checked
against the live platform.

Columns (row 2; the line breaks are part of Blooket's headings):

    Question #                                     1, 2, ...
    Question Text
    Answer 1
    Answer 2
    Answer 3\\n(Optional)
    Answer 4\\n(Optional)
    Time Limit (sec)\\n(Max: 300 seconds)
    Correct Answer(s)\\n(Only include Answer #)     "2", or "1,3" for several

- single and multiple choice: the choices in bank order, the right ones' numbers;
  true/false: the answers True and False.
- At most 4 answers: a question with more is left out, with a note.
- Time limit: 20 s for difficulty 1, 30 s for 2, 60 s for 3 (Blooket allows up to 300).
- The template has multiple-choice questions only: cloze, short, numeric, matching and
  ordering questions are left out, one note each (Blooket's typing questions are made in its
  editor). The template states no length limit for text, so none is enforced here.
- A text cell starting with = + - @ gets a leading apostrophe, as in the CSV export.

RFC 4180 CSV with CRLF line ends, UTF-8 with a byte-order mark (so Excel reads it too; the
mark falls in the template's title cell, which the import skips).
"""

from __future__ import annotations

from kzquiz.render import Outputs, RenderJob
from kzquiz.render.export_common import Notes
from kzquiz.render.game_common import cell, held_rows, template_csv, time_limit

FORMAT = "Blooket"
MAX_ANSWERS = 4
MAX_TIME = 300
HEADINGS = (
    "Question #",
    "Question Text",
    "Answer 1",
    "Answer 2",
    "Answer 3\n(Optional)",
    "Answer 4\n(Optional)",
    "Time Limit (sec)\n(Max: 300 seconds)",
    "Correct Answer(s)\n(Only include Answer #)",
)
TITLE = "Blooket\nImport Template"


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.blooket.csv` of `job.questions`, with a note on anything Blooket cannot hold."""
    notes = Notes(job.loaded, FORMAT)
    buffer, writer = template_csv(TITLE, HEADINGS)
    for number, (q, row) in enumerate(
        held_rows(job, notes, FORMAT, "multiple-choice questions only", MAX_ANSWERS), start=1
    ):
        answers = [
            cell(text, f"answer {i}", q, notes) for i, text in enumerate(row.answers, start=1)
        ]
        seconds = min(time_limit(q), MAX_TIME)
        writer.writerow(
            [
                str(number),
                cell(row.prompt, "question", q, notes),
                *answers,
                *[""] * (MAX_ANSWERS - len(answers)),
                str(seconds),
                ",".join(str(n) for n in row.correct),
            ]
        )
    data = ("\ufeff" + buffer.getvalue()).encode("utf-8")
    return Outputs(files={job.loaded.id + ".blooket.csv": data}, notes=notes.items)
