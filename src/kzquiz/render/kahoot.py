"""Kahoot!: the quiz spreadsheet (.xlsx) that Kahoot's "Import spreadsheet" reads.

The layout is that of Kahoot's published quiz template (KahootQuizTemplate.xlsx, as offered
on kahoot.com's "Import spreadsheet" page and copied by many converters since 2019): a title
and instructions in B2:B5, the column headings in row 8, one question a row from row 9.
It was not checked against the live platform.

Columns (row 8):

    A  (the question's number, 1, 2, ...)
    B  Question - max 120 characters
    C  Answer 1 - max 75 characters
    D  Answer 2 - max 75 characters
    E  Answer 3 - max 75 characters
    F  Answer 4 - max 75 characters
    G  Time limit (sec) – 5, 10, 20, 30, 60, 90, 120, or 240 secs
    H  Correct answer(s) - choose at least one   ("2", or "1,3" for several)

- single and multiple choice: the choices in bank order, the right ones' numbers in H;
  true/false: the answers True and False.
- At most 4 answers: a question with more is left out, with a note.
- Over-long text is cut (to 119 characters and "…") with a note, rather than left out,
  so the question still reaches the quiz; the note says which text to shorten.
- Time limit: 20 s for difficulty 1, 30 s for 2, 60 s for 3.
- Kahoot's spreadsheet holds nothing else: cloze, short, numeric, matching and ordering
  questions are left out, one note each. Explanations, evidence, topics and tags are not
  carried.
"""

from __future__ import annotations

from kzquiz.render import Outputs, RenderJob
from kzquiz.render.export_common import Notes
from kzquiz.render.game_common import (
    cell,
    fit,
    held_rows,
    rows,
    time_limit,
    workbook,
    xlsx_bytes,
)

FORMAT = "Kahoot"
MAX_QUESTION = 120
MAX_ANSWER = 75
MAX_ANSWERS = 4
TIME_LIMITS = (5, 10, 20, 30, 60, 90, 120, 240)
HEADER_ROW = 8
HEADINGS = (
    "",
    "Question - max 120 characters",
    "Answer 1 - max 75 characters",
    "Answer 2 - max 75 characters",
    "Answer 3 - max 75 characters",
    "Answer 4 - max 75 characters",
    "Time limit (sec) – 5, 10, 20, 30, 60, 90, 120, or 240 secs",
    "Correct answer(s) - choose at least one",
)
_INSTRUCTIONS = (
    "Add questions, at least two answer alternatives, time limit and choose correct "
    "answers (at least one).",
    "Remember: questions have a limit of 120 characters and answers can have 75 characters "
    "max. If several answers are correct, separate them with a comma.",
    "Made by kzquiz from the bank; see its notes for anything left out or shortened.",
)


def correct_cell(correct: list[int]) -> int | str:
    """The correct answers' numbers: a number for one, "1,3" for several (as Kahoot's sample)."""
    return correct[0] if len(correct) == 1 else ",".join(str(n) for n in correct)


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.kahoot.xlsx` of `job.questions`, with a note on anything Kahoot cannot hold."""
    notes = Notes(job.loaded, FORMAT)
    sheet: list[list[object]] = [[], ["", "Quiz template"]]
    sheet += [["", line] for line in _INSTRUCTIONS]
    sheet += [[] for _ in range(HEADER_ROW - 1 - len(sheet))]
    sheet.append(list(HEADINGS))
    holds = "multiple-choice and true/false questions only"
    for number, (q, row) in enumerate(held_rows(job, notes, FORMAT, holds, MAX_ANSWERS), start=1):
        prompt = cell(fit(row.prompt, MAX_QUESTION, "the question", q, notes), "question", q, notes)
        answers = [
            cell(fit(text, MAX_ANSWER, f"answer {i}", q, notes), f"answer {i}", q, notes)
            for i, text in enumerate(row.answers, start=1)
        ]
        seconds = time_limit(q)
        assert seconds in TIME_LIMITS
        sheet.append(
            [
                number,
                prompt,
                *answers,
                *[None] * (MAX_ANSWERS - len(answers)),
                seconds,
                correct_cell(row.correct),
            ]
        )
    wb = workbook(job.loaded.title)
    rows(sheet, wb, "Sheet1")
    return Outputs(files={job.loaded.id + ".kahoot.xlsx": xlsx_bytes(wb)}, notes=notes.items)
