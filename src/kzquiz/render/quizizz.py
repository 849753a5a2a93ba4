"""Quizizz (now Wayground): the spreadsheet (.xlsx) of its "Import from spreadsheet".

The layout is that of Quizizz's published question template (Quizizz_Question_Template.xlsx,
offered in the quiz editor's spreadsheet import, as copied by converters up to the Wayground
rename of 2025): the column headings in row 1, a row of instructions in row 2, one question
a row from row 3. It was not checked against the live platform.

Columns:

    A  Question Text
    B  Question Type       Multiple Choice, Checkbox or Fill-in-the-Blank (as used here)
    C  Option 1
    D  Option 2
    E  Option 3
    F  Option 4
    G  Option 5
    H  Correct Answer      the right option's number (1-5), "1,3" for Checkbox; empty for
                           Fill-in-the-Blank, whose options are the accepted answers
    I  Time in seconds     one of 5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900
    J  Image Link          (empty)
    K  Answer explanation  the explanation and the evidence quote

- single choice: Multiple Choice; multiple choice: Checkbox; true/false: Multiple Choice
  with the options True and False. At most 5 options: a question with more is left out,
  with a note.
- short: Fill-in-the-Blank with the accepted answers as options (at most 5: more are noted
  and left off).
- cloze: Fill-in-the-Blank, one question per blank with the other blanks filled in (as the
  GIFT and Quizlet exports split them), its alternatives as the accepted answers.
- numeric: Fill-in-the-Blank with the number as typed text; Quizizz compares text, so a
  tolerance or range is lost and "22.0" is not "22": always noted.
- matching and ordering: the template has no such types; left out, one note each.
- Time in seconds: 20 for difficulty 1, 30 for 2, 60 for 3. The template states no length
  limit for text, so none is enforced here.
- A text cell starting with = + - @ gets a leading apostrophe, as in the CSV export.
"""

from __future__ import annotations

from collections.abc import Sequence

from typing_extensions import assert_never

from kzquiz import i18n
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
from kzquiz.render.export_common import Notes, cloze_with_one_blank, feedback_text, picture_note
from kzquiz.render.game_common import (
    cell,
    choice_row,
    not_held,
    rows,
    skipped,
    time_limit,
    workbook,
    xlsx_bytes,
)

FORMAT = "Quizizz"
MAX_OPTIONS = 5
TIME_LIMITS = (5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900)
HEADINGS = (
    "Question Text",
    "Question Type",
    "Option 1",
    "Option 2",
    "Option 3",
    "Option 4",
    "Option 5",
    "Correct Answer",
    "Time in seconds",
    "Image Link",
    "Answer explanation",
)
INSTRUCTIONS = (
    "Text of the question (required)",
    "Question Type (default is Multiple Choice)",
    "Text for option 1 (required in all cases except open-ended & draw questions)",
    "Text for option 2 (required in all cases except open-ended & draw questions)",
    "Text for option 3 (optional)",
    "Text for option 4 (optional)",
    "Text for option 5 (optional)",
    'The correct option choice (between 1-5). Leave blank for "Open-Ended", "Poll", '
    '"Draw" and "Fill-in-the-Blank".',
    "Time in seconds (optional, default value is 30 seconds)",
    "Link of the image (optional)",
    "Explanation for the answer (optional)",
)

# (question text, question type, options, correct answer cell)
Item = tuple[str, str, list[str], str]


def _blank(prompt: str, accepted: Sequence[str], q: Question, notes: Notes) -> Item:
    if len(accepted) > MAX_OPTIONS:
        notes.add(
            q,
            f"{len(accepted)} accepted answers; Quizizz holds {MAX_OPTIONS}, so "
            f"{'; '.join(accepted[MAX_OPTIONS:])} are left off",
        )
    return (prompt, "Fill-in-the-Blank", list(accepted[:MAX_OPTIONS]), "")


def items(q: Question, notes: Notes, lang: str = "en") -> list[Item]:
    """The Quizizz rows for one question (none when the template cannot hold it)."""
    if isinstance(q, (Single, Multiple, TrueFalse)):
        row = choice_row(q, lang)
        assert row is not None
        if len(row.answers) > MAX_OPTIONS:
            skipped(q, notes, f"{len(row.answers)} choices; Quizizz holds at most {MAX_OPTIONS}")
            return []
        kind = "Checkbox" if isinstance(q, Multiple) else "Multiple Choice"
        return [(row.prompt, kind, row.answers, ",".join(str(n) for n in row.correct))]
    if isinstance(q, Short):
        return [_blank(q.prompt, q.answers, q, notes)]
    if isinstance(q, Cloze):
        out = []
        for k, alternatives in enumerate(q.blanks):
            before, after = cloze_with_one_blank(q, k)
            out.append(_blank(f"{before}_____{after}", alternatives, q, notes))
        return out
    if isinstance(q, Numeric):
        typed = format_number(q.answer)
        lost = (
            f"the accepted range {format_number(q.range[0])}–{format_number(q.range[1])} is lost"
            if q.range is not None
            else f"the tolerance ± {format_number(q.tolerance)} is lost"
            if q.tolerance
            else "an answer written another way (22.0 for 22) is marked wrong"
        )
        notes.add(
            q,
            f"numeric answer written as the fill-in-the-blank text {typed!r}; Quizizz "
            f"compares typed text, so {lost}",
        )
        prompt = f"{q.prompt} (unit: {q.unit})" if q.unit else q.prompt
        return [(prompt, "Fill-in-the-Blank", [typed], "")]
    if isinstance(q, (Matching, Ordering)):
        not_held(q, notes, FORMAT, "choice, checkbox and fill-in-the-blank questions")
        return []
    assert_never(q)


PICTURES_LINK = (
    "Quizizz's Image Link column takes a web address, not a file; add the picture in its "
    "editor after the import"
)


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.quizizz.xlsx` of `job.questions`, with a note on anything Quizizz cannot hold."""
    notes = Notes(job.loaded, FORMAT)
    sheet: list[list[object]] = [list(HEADINGS), list(INSTRUCTIONS)]
    for q in job.questions:
        explanation = cell(feedback_text(job.loaded, q), "answer explanation", q, notes)
        seconds = time_limit(q)
        assert seconds in TIME_LIMITS
        held = items(q, notes, i18n.of(job.loaded))
        if held:
            # Its Image Link column takes a web address, and a bank's pictures are files.
            picture_note(notes, q, PICTURES_LINK)
        for prompt, kind, options, correct in held:
            sheet.append(
                [
                    cell(prompt, "question text", q, notes),
                    kind,
                    *[cell(o, f"option {i}", q, notes) for i, o in enumerate(options, 1)],
                    *[None] * (MAX_OPTIONS - len(options)),
                    correct or None,
                    seconds,
                    None,
                    explanation,
                ]
            )
    wb = workbook(job.loaded.title)
    rows(sheet, wb, "Sheet1")
    return Outputs(files={job.loaded.id + ".quizizz.xlsx": xlsx_bytes(wb)}, notes=notes.items)
