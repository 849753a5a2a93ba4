"""What the game-platform exports (Kahoot, Blooket, Quizizz/Wayground, Gimkit) share.

These platforms import a spreadsheet of choice questions: a prompt, a few answers and the
numbers of the right ones. This module turns a choice question into that shape, cuts text to
a platform's limit (with a note), keeps spreadsheet cells from being run as formulas (the
CSV export's rule), and writes .xlsx files whose bytes depend only on their content.
"""

from __future__ import annotations

import csv
import datetime
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kzquiz import i18n
from kzquiz.i18n import translator
from kzquiz.model import Multiple, Question, Single, TrueFalse
from kzquiz.render import RenderJob, archive_time
from kzquiz.render.archive import zip_bytes
from kzquiz.render.csv import defuse, formula_note
from kzquiz.render.export_common import PICTURES_BY_EDITOR, Notes, picture_note

if TYPE_CHECKING:
    from openpyxl import Workbook

ELLIPSIS = "…"
# Seconds to answer, by difficulty: a value every platform here accepts.
TIME_BY_DIFFICULTY = {1: 20, 2: 30, 3: 60}


@dataclass(frozen=True)
class ChoiceRow:
    """A question as a game holds it: prompt, answers in bank order, 1-based correct numbers."""

    prompt: str
    answers: list[str]
    correct: list[int]


def choice_row(q: Question, lang: str = "en") -> ChoiceRow | None:
    """Single and multiple choice as they are, true/false as the answers True and False."""
    if isinstance(q, (Single, Multiple)):
        return ChoiceRow(
            q.prompt,
            [c.text for c in q.choices],
            [i for i, c in enumerate(q.choices, start=1) if c.correct],
        )
    if isinstance(q, TrueFalse):
        _ = translator(lang).gettext
        return ChoiceRow(q.prompt, [_("True"), _("False")], [1 if q.answer else 2])
    return None


def time_limit(q: Question) -> int:
    """Seconds to answer `q`: harder questions get longer."""
    return TIME_BY_DIFFICULTY.get(q.difficulty, 30)


def fit(text: str, limit: int, what: str, q: Question, notes: Notes) -> str:
    """`text` cut to `limit` characters, ending in '…', with a note when it was cut."""
    if len(text) <= limit:
        return text
    notes.add(
        q,
        f"{what} has {len(text)} characters, more than the {limit} allowed; "
        f"cut to {limit} ending in '{ELLIPSIS}': shorten it in the bank",
    )
    return text[: limit - 1].rstrip() + ELLIPSIS


def cell(text: str, column: str, q: Question, notes: Notes) -> str:
    """A text cell that no spreadsheet runs as a formula (a leading apostrophe, with a note)."""
    safe = defuse(text)
    if safe is None:
        return text
    notes.add(q, formula_note(column, text))
    return safe


def not_held(q: Question, notes: Notes, platform: str, holds: str) -> None:
    """Note that `q`'s type has no place in the platform's template, so it is left out."""
    notes.add(q, f"{q.type} questions cannot be imported ({platform} imports {holds}); left out")


def skipped(q: Question, notes: Notes, why: str) -> None:
    """Note that `q` is left out, and why."""
    notes.add(q, f"{why}; left out")


def held_rows(
    job: RenderJob, notes: Notes, platform: str, holds: str, max_answers: int
) -> Iterator[tuple[Question, ChoiceRow]]:
    """The job's questions a template of at most `max_answers` answers holds, as rows.

    The rest are noted and left out; a held question with pictures gets the note that the
    platform takes them only in its editor.
    """
    lang = i18n.of(job.loaded)
    for q in job.questions:
        row = choice_row(q, lang)
        if row is None:
            not_held(q, notes, platform, holds)
            continue
        if len(row.answers) > max_answers:
            skipped(q, notes, f"{len(row.answers)} choices; {platform} holds at most {max_answers}")
            continue
        picture_note(notes, q, PICTURES_BY_EDITOR.format(platform=platform))
        yield q, row


def template_csv(title: str, headings: Sequence[str]) -> tuple[io.StringIO, Any]:
    """A CSV template as the platforms' own files start: the title row, then the headings."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow([title, *[""] * (len(headings) - 1)])
    writer.writerow(headings)
    return buffer, writer


def workbook(title: str) -> Workbook:
    """A new workbook whose properties (author, dates) depend on nothing but `title`."""
    from openpyxl import Workbook

    wb = Workbook()
    stamp = datetime.datetime.fromtimestamp(archive_time(), tz=datetime.timezone.utc)
    wb.properties.creator = "kzquiz"
    wb.properties.lastModifiedBy = None
    wb.properties.title = title
    wb.properties.created = stamp.replace(tzinfo=None)
    wb.properties.modified = stamp.replace(tzinfo=None)
    return wb


def xlsx_bytes(wb: Workbook) -> bytes:
    """The workbook as .xlsx bytes, the same for the same content on any day.

    openpyxl's own `save` stamps the current time into the document properties and every
    zip entry, and writes each sheet through a temporary file on disk. Its writer is used on
    an in-memory zip instead, each sheet written to memory, then the entries are zipped again
    with the project's deterministic zip writer.
    """
    from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter

    class InMemory(ExcelWriter):
        # ExcelWriter.write_worksheet, with the sheet's XML kept in memory (openpyxl 3.1).
        def write_worksheet(self, ws: Any) -> None:
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            writer = WorksheetWriter(ws, out=io.BytesIO())
            writer.write()
            ws._rels = writer._rels  # type: ignore[attr-defined]
            self._archive.writestr(ws.path[1:], writer.read())  # type: ignore[attr-defined]
            self.manifest.append(ws)

    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as archive:
        InMemory(wb, archive).save()
    with zipfile.ZipFile(io.BytesIO(raw.getvalue())) as written:
        entries = {name: written.read(name) for name in written.namelist()}
    return zip_bytes(entries)


def rows(sheet_rows: Sequence[Sequence[object]], wb: Workbook, sheet_title: str) -> None:
    """Write `sheet_rows` into the workbook's only sheet, named `sheet_title`."""
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title
    for values in sheet_rows:
        ws.append(list(values))
