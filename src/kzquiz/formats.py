"""The format registry: every output format kzquiz makes, in one typed list.

`kzquiz build`, `kzquiz export`, the CLI's help, the README's format list, the benchmarks
and the contract test (tests/test_contract.py) all read FORMATS. A renderer is imported only
when its format renders (the small functions below), so `kzquiz --version` and `kzquiz check`
stay light, while mypy still sees every renderer's signature.

To add a format, see docs/architecture.md ("How to add an output format").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from kzquiz.errors import UsageError

if TYPE_CHECKING:
    from kzquiz.render import Outputs, RenderJob

# model.QUESTION_TYPES, written out so that the registry (read by every command's --help)
# loads without pydantic; tests/test_shipped_exports.py checks that the two agree.
QUESTION_ORDER: tuple[str, ...] = (
    "single",
    "multiple",
    "truefalse",
    "cloze",
    "short",
    "numeric",
    "matching",
    "ordering",
)
ALL_TYPES: frozenset[str] = frozenset(QUESTION_ORDER)


def _no_state(bank_id: str) -> tuple[str, ...]:
    del bank_id
    return ()


@dataclass(frozen=True)
class Format:
    """One output format: what it is called, writes and holds, and its renderer."""

    name: str
    summary: str  # one line, for `--help` and the README
    files: tuple[str, ...]  # the file names it writes with default options; {id} = bank id
    render: Callable[[RenderJob], Outputs]
    native: frozenset[str] = ALL_TYPES  # question types it holds as they are
    converted: frozenset[str] = frozenset()  # types it holds in another form, losing nothing
    noted: frozenset[str] = frozenset()  # types it cannot fully hold: a note per question
    text: bool = False  # a single text file, so `export -o -` may print it
    in_build: bool = True  # `kzquiz build` makes it
    export: bool = False  # `kzquiz export NAME` makes it
    shuffles: bool = False  # draws from the run's seed even without a sample
    one_sheet: bool = False  # puts every chosen question in front of the student at once
    build_seed: int | None = None  # the fixed seed `kzquiz build` gives it
    # Question pools (kzquiz.pools): "lms" exports each pool for the platform to draw per
    # student, "draw" draws per version from the seed itself, "once" is given one draw from
    # the seed (by the pipeline: one page for every student), "whole" holds every pool
    # question (the pipeline adds a note per pool).
    pools: Literal["lms", "draw", "once", "whole"] = "whole"
    state_files: Callable[[str], tuple[str, ...]] = _no_state  # bank id -> files it reads back
    # Glob patterns ({id} = bank id) of the files one set of outputs consists of, where the
    # number of files varies (worksheet versions): files of an earlier set that a new set does
    # not write are stale and removed.
    family: tuple[str, ...] = ()
    # The questions of a set, read from its first file: a set of other questions is not
    # overwritten unless forced.
    question_set: Callable[[bytes], frozenset[str]] | None = None

    def file_names(self, bank_id: str) -> tuple[str, ...]:
        """The file names it writes for this bank with default options."""
        return tuple(name.format(id=bank_id) for name in self.files)


# Each renderer is imported by a function of its own: a name mypy can follow, loaded on use.


def _anki(job: RenderJob) -> Outputs:
    from kzquiz.render import anki

    return anki.render(job)


def _anki_state(bank_id: str) -> tuple[str, ...]:
    # The state file's name is the package's to say; this avoids importing genanki to ask.
    return (f"{bank_id}.lock.json",)


def _worksheet(job: RenderJob) -> Outputs:
    from kzquiz.render import worksheet

    return worksheet.render(job)


def _worksheet_questions(sheet: bytes) -> frozenset[str]:
    from kzquiz.render import worksheet

    return worksheet.question_set(sheet)


def _selfcheck(job: RenderJob) -> Outputs:
    from kzquiz.render import selfcheck

    return selfcheck.render(job)


def _gift(job: RenderJob) -> Outputs:
    from kzquiz.render import gift

    return gift.render(job)


def _qti(job: RenderJob) -> Outputs:
    from kzquiz.render import qti

    return qti.render(job)


def _qti21(job: RenderJob) -> Outputs:
    from kzquiz.render import qti21

    return qti21.render(job)


def _cc(job: RenderJob) -> Outputs:
    from kzquiz.render import cc

    return cc.render(job)


def _moodle(job: RenderJob) -> Outputs:
    from kzquiz.render import moodle

    return moodle.render(job)


def _quizlet(job: RenderJob) -> Outputs:
    from kzquiz.render import quizlet

    return quizlet.render(job)


def _csv(job: RenderJob) -> Outputs:
    from kzquiz.render import csv

    return csv.render(job)


def _kahoot(job: RenderJob) -> Outputs:
    from kzquiz.render import kahoot

    return kahoot.render(job)


def _blooket(job: RenderJob) -> Outputs:
    from kzquiz.render import blooket

    return blooket.render(job)


def _quizizz(job: RenderJob) -> Outputs:
    from kzquiz.render import quizizz

    return quizizz.render(job)


def _gimkit(job: RenderJob) -> Outputs:
    from kzquiz.render import gimkit

    return gimkit.render(job)


_CHOICE = frozenset({"single", "multiple", "truefalse"})

FORMATS: tuple[Format, ...] = (
    Format(
        name="anki",
        summary="Anki deck with a subdeck per topic, plus its state file for re-imports",
        files=("{id}.apkg", "{id}.lock.json"),
        render=_anki,
        state_files=_anki_state,
    ),
    Format(
        name="worksheet",
        one_sheet=True,
        summary="printable HTML worksheets (one per version) and one answer key",
        files=("{id}-worksheet-A.html", "{id}-key.html"),
        render=_worksheet,
        pools="draw",
        shuffles=True,
        build_seed=1,
        family=(
            "{id}-worksheet-?.html",
            "{id}-key.html",
            "{id}-worksheet-?.pdf",
            "{id}-key.pdf",
            "{id}-worksheets.pdf",
            "{id}-answersheet-?.html",
            "{id}-answersheet-?.pdf",
        ),
        question_set=_worksheet_questions,
    ),
    Format(
        name="selfcheck",
        one_sheet=True,
        summary="one offline HTML page that checks and explains every answer",
        files=("{id}-selfcheck.html",),
        render=_selfcheck,
        pools="once",
        shuffles=True,
        build_seed=0,
    ),
    Format(
        name="gift",
        summary="Moodle GIFT text file (Question bank > Import)",
        files=("{id}.gift.txt",),
        render=_gift,
        native=ALL_TYPES - {"cloze", "ordering"},
        converted=frozenset({"cloze", "ordering"}),
        text=True,
        export=True,
    ),
    Format(
        name="qti",
        summary="Canvas QTI 1.2 package (.zip)",
        files=("{id}.qti.zip",),
        render=_qti,
        pools="lms",
        native=ALL_TYPES - {"ordering"},
        converted=frozenset({"ordering"}),
        export=True,
    ),
    # Export only, like the Canvas package: an LMS import, not something to study from.
    Format(
        name="qti21",
        summary="IMS QTI 2.1 content package (.zip): Blackboard, Brightspace, OpenOlat, ILIAS, TAO",
        files=("{id}.qti21.zip",),
        render=_qti21,
        pools="lms",
        in_build=False,
        export=True,
    ),
    Format(
        name="cc",
        summary="IMS Common Cartridge 1.3 (.imscc): a QTI question bank for Canvas, "
        "Schoology, Brightspace",
        files=("{id}.imscc",),
        render=_cc,
        native=frozenset({"single", "multiple", "truefalse", "short"}),
        # One fill-in-the-blank item per blank, the other blanks filled in.
        converted=frozenset({"cloze"}),
        noted=frozenset({"numeric", "matching", "ordering"}),
        in_build=False,
        export=True,
    ),
    Format(
        name="moodle",
        summary="Moodle XML (Question bank > Import > Moodle XML format)",
        files=("{id}.moodle.xml",),
        render=_moodle,
        pools="lms",
        text=True,
        export=True,
    ),
    Format(
        name="quizlet",
        summary="Quizlet import text: one term and definition a line",
        files=("{id}.quizlet.txt",),
        render=_quizlet,
        native=frozenset({"truefalse", "short", "numeric", "ordering"}),
        # A card is the question and its answer: choices are listed, lettered, on the term side.
        converted=frozenset({"single", "multiple", "cloze", "matching"}),
        text=True,
        export=True,
    ),
    Format(
        name="csv",
        summary="CSV, one row per question with every field (UTF-8 with BOM)",
        files=("{id}.csv",),
        render=_csv,
        text=True,
        export=True,
    ),
    # The game platforms import choice questions from their own spreadsheets; true/false is
    # their two-answer question. Every other type gets a note and is left out.
    Format(
        name="kahoot",
        summary="Kahoot! quiz spreadsheet (Create > Import spreadsheet)",
        files=("{id}.kahoot.xlsx",),
        render=_kahoot,
        native=_CHOICE,
        noted=ALL_TYPES - _CHOICE,
        in_build=False,
        export=True,
    ),
    Format(
        name="blooket",
        summary="Blooket CSV import template (Create a set > Import > CSV)",
        files=("{id}.blooket.csv",),
        render=_blooket,
        native=_CHOICE,
        noted=ALL_TYPES - _CHOICE,
        text=True,
        in_build=False,
        export=True,
    ),
    Format(
        name="quizizz",
        summary="Quizizz (Wayground) question spreadsheet (Import from spreadsheet)",
        files=("{id}.quizizz.xlsx",),
        render=_quizizz,
        native=_CHOICE | {"short"},
        # One fill-in-the-blank question per blank, the other blanks filled in.
        converted=frozenset({"cloze"}),
        noted=frozenset({"numeric", "matching", "ordering"}),
        in_build=False,
        export=True,
    ),
    Format(
        name="gimkit",
        summary="Gimkit spreadsheet import CSV (New kit > Import > Spreadsheet)",
        files=("{id}.gimkit.csv",),
        render=_gimkit,
        native=frozenset({"single", "truefalse"}),
        noted=ALL_TYPES - {"single", "truefalse"},
        text=True,
        in_build=False,
        export=True,
    ),
)

BY_NAME: dict[str, Format] = {f.name: f for f in FORMATS}


def get(name: str, *, export: bool = False) -> Format:
    """The format called `name` (any case); a UsageError naming the choices otherwise."""
    fmt = BY_NAME.get(name.strip().lower())
    choices = export_names() if export else [f.name for f in FORMATS]
    if fmt is None or fmt.name not in choices:
        what = "export format" if export else "format"
        raise UsageError(f"unknown {what} {name!r}; use one of: {', '.join(choices)}")
    return fmt


def export_names() -> list[str]:
    """The names `kzquiz export` accepts, in registry order."""
    return [f.name for f in FORMATS if f.export]


def build_formats() -> list[Format]:
    """The formats `kzquiz build` makes, in registry order."""
    return [f for f in FORMATS if f.in_build]


def export_list() -> str:
    """`kzquiz export --list`: every export format, its file and what it holds."""

    def kinds(types: frozenset[str]) -> str:
        return ", ".join(t for t in QUESTION_ORDER if t in types) or "-"

    width = max(len(f.name) for f in FORMATS if f.export)
    lines = []
    for f in FORMATS:
        if not f.export:
            continue
        names = ", ".join(n.format(id="<bank-id>") for n in f.files)
        pad = " " * (width + 2)
        lines += [
            f"{f.name:{width}}  {names}: {f.summary}",
            f"{pad}native: {kinds(f.native)}",
            f"{pad}converted: {kinds(f.converted)}",
            f"{pad}noted (a note each): {kinds(f.noted)}",
        ]
    return "\n".join(lines) + "\n"


def markdown_list() -> str:
    """The README's list of formats (between its `formats` markers), made from FORMATS."""
    lines = [
        "| format | files | what it is | in `kzquiz build` | command |",
        "|---|---|---|---|---|",
    ]
    for f in FORMATS:
        names = ", ".join(f"`{n.format(id='<bank-id>')}`" for n in f.files)
        build = "yes" if f.in_build else "no"
        export = f"`kzquiz export {f.name}`" if f.export else f"`kzquiz {f.name}`"
        lines.append(f"| {f.name} | {names} | {f.summary} | {build} | {export} |")
    return "\n".join(lines) + "\n"


def type_table() -> str:
    """Every format by question type: native, converted or noted (a markdown table)."""
    lines = [
        "| format | " + " | ".join(QUESTION_ORDER) + " |",
        "|---|" + "---|" * len(QUESTION_ORDER),
    ]
    for f in FORMATS:
        cells = [
            "note" if t in f.noted else "converted" if t in f.converted else "native"
            for t in QUESTION_ORDER
        ]
        lines.append(f"| {f.name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
