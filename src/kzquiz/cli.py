"""The command line: parse options, call the library, map KzquizError to exit codes.

Heavy modules (pydantic, genanki, jinja2, the renderers) are imported inside the commands
that need them, so `kzquiz --version` costs little more than importing Typer. A command's
bank is read and parsed in a background thread from the moment the command line names it
(see _read_ahead and kzquiz.read), while those imports run.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from typer.core import TyperGroup

from kzquiz import __version__
from kzquiz.errors import KzquizError

if TYPE_CHECKING:  # imported where used: `kzquiz --version` stays as light as Typer
    from kzquiz.bank import LoadedBank
    from kzquiz.read import BankReading


class _Group(TyperGroup):
    """Turns the library's errors into a message on stderr and an exit code, never a traceback,
    and starts reading the command's bank as soon as the command line is split."""

    # Typer's own Context subclasses its vendored click's; the runtime object is the same.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KzquizError as exc:
            for line in str(exc).splitlines() or [type(exc).__name__]:
                typer.echo(line, err=True)
            ctx.exit(exc.exit_code)
        finally:
            # A command that stopped between start_reading() and load() (bad usage, say)
            # leaves neither the collector off nor a reading behind for the next command
            # run in this process.
            _READ_AHEAD.clear()
            gc.enable()

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        _read_ahead(self, ctx, args)
        return super().parse_args(ctx, args)


# Banks whose reading started before their command ran: bank argument -> BankReading.
_READ_AHEAD: dict[Path | None, BankReading] = {}


def _read_ahead(group: TyperGroup, ctx: typer.Context, args: list[str]) -> None:
    """Start reading the command's bank before Typer converts any option.

    Typer converts option values with pydantic, and importing that takes a tenth of a second
    which the background parse of a big bank can overlap. Here the group's and the command's
    own parsers only split the words (no conversion, no callbacks); start_reading() hands
    the reading to the command when it asks for the same bank. Anything unusual is left
    alone for Typer to handle as always.
    """
    try:
        options, words, _ = group.make_parser(ctx).parse_args(list(args))
        command = group.get_command(ctx, words[0]) if words else None
        if command is None or options.get("version") or options.get("help"):
            return
        if not any(param.name == "bank" for param in command.params):
            return
        sub = typer.Context(command, parent=ctx, info_name=words[0])
        values, _, _ = command.make_parser(sub).parse_args(words[1:])
    except Exception:  # bad usage: Typer's own parse reports it in a moment
        return
    if values.get("help"):
        return
    bank = Path(values["bank"]) if values.get("bank") else None
    _READ_AHEAD[bank] = _begin_reading(bank)


app = typer.Typer(
    cls=_Group,
    help="Turn a YAML question bank into Anki decks, printable worksheets, self-tests and LMS exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Options shared by several commands.
BankArg = Annotated[
    Path | None,
    typer.Argument(
        help="The bank file. Default: ./questions.yaml, else the bank bundled with kzquiz.",
        show_default=False,
    ),
]
OutDir = Annotated[
    Path, typer.Option("--output", "-o", help="Folder to write into (created if missing).")
]
TopicOpt = Annotated[
    list[str] | None, typer.Option("--topic", help="Only this topic id (repeatable).")
]
TagOpt = Annotated[
    list[str] | None, typer.Option("--tag", help="Only questions with this tag (repeatable).")
]
TypeOpt = Annotated[
    list[str] | None, typer.Option("--type", help="Only this question type (repeatable).")
]
DifficultyOpt = Annotated[
    str | None, typer.Option("--difficulty", help="A level 1-3 or a range like 1-2.")
]
CountOpt = Annotated[
    int | None, typer.Option("--count", "-n", help="How many questions (a seeded sample).")
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Seed for sampling and shuffling.")]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kzquiz {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Turn a YAML question bank into Anki decks, printable worksheets, self-tests and LMS exports.

    Start with `kzquiz check` (validate the bank) and `kzquiz build` (make everything in decks/).
    """


def start_reading(bank: Path | None) -> BankReading:
    """Find the bank and start reading and parsing it in the background.

    Call it before importing the heavy modules a command needs: the parse runs meanwhile
    (see kzquiz.read), and load() collects it. Usually the reading began even earlier,
    before Typer converted the options (see _read_ahead).
    """
    return _READ_AHEAD.pop(bank, None) or _begin_reading(bank)


def _begin_reading(bank: Path | None) -> BankReading:
    from kzquiz.read import BankReading, find_bank

    # The bank's objects live until the command ends: keep the cyclic collector from
    # rescanning them while they are built (see speed.paused_gc); load() turns it back on.
    gc.disable()
    return BankReading.start(find_bank(bank))


def load(reading: BankReading) -> LoadedBank:
    """Validate the bank being read, printing its warnings."""
    from kzquiz.loader import load_bank

    try:
        loaded = load_bank(reading.path, reading=reading)
    finally:
        gc.enable()
    # Move the bank out of the cyclic collector's sight for good, so later collections don't
    # rescan hundreds of thousands of objects for nothing.
    gc.freeze()
    for warning in loaded.warnings:
        typer.echo(f"warning: {warning}", err=True)
    return loaded


def selection(
    topic: list[str] | None,
    tag: list[str] | None,
    type_: list[str] | None,
    difficulty: str | None,
    count: int | None = None,
) -> Any:
    """Build a Selection from the shared options."""
    from kzquiz.select import Selection, parse_difficulty

    return Selection(
        topics=tuple(topic or ()),
        tags=tuple(tag or ()),
        types=tuple(type_ or ()),
        difficulty=parse_difficulty(difficulty),
        count=count,
    )


@app.command()
def check(
    bank: BankArg = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Treat warnings as errors (exit 1).")
    ] = False,
) -> None:
    """Validate the bank and print a summary by topic, type and difficulty.

    Every problem is reported at once as FILE:LINE:COL: questions[N] (id: ID): what is wrong.
    Exit 0: valid; 1: invalid bank; 2: bad usage.

    Examples:

        kzquiz check

        kzquiz check my-bank.yaml --strict
    """
    # The bank is parsed in the background while the imports below run.
    bank_reading = start_reading(bank)
    from kzquiz.report import summary_table

    loaded = load(bank_reading)
    typer.echo(summary_table(loaded), nl=False)
    if strict and loaded.warnings:
        typer.echo(f"{len(loaded.warnings)} warning(s) with --strict", err=True)
        raise typer.Exit(1)


@app.command()
def schema() -> None:
    """Print the bank's JSON Schema (for editors: yaml-language-server).

    Example:

        kzquiz schema > schema/questions.schema.json
    """
    from kzquiz.schema import schema_json

    typer.echo(schema_json(), nl=False)


@app.command()
def build(bank: BankArg = None, output: OutDir = Path("decks")) -> None:
    """Build every output format into one folder (default: decks/).

    Everything is rendered first and then written atomically: a failed build leaves the
    earlier files untouched.

    Examples:

        kzquiz build

        kzquiz build my-bank.yaml -o out/
    """
    # The bank is parsed in the background while the imports below run.
    bank_reading = start_reading(bank)
    from kzquiz.build import build_all, formats

    loaded = load(bank_reading)
    outputs, written = build_all(loaded, output)
    for note in outputs.notes:
        typer.echo(note)
    n = len(loaded.bank.questions)
    if written:
        typer.echo(f"built {', '.join(formats())} from {n} questions:")
        for path in written:
            typer.echo(f"  {path}")
    else:
        typer.echo(f"{loaded.display}: {n} questions valid; no output formats are available yet")


@app.command()
def worksheet(
    bank: BankArg = None,
    output: OutDir = Path("decks"),
    count: CountOpt = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    difficulty: DifficultyOpt = None,
    type_: TypeOpt = None,
    versions: Annotated[
        int, typer.Option("--versions", min=1, max=26, help="How many versions (A, B, ...): 1-26.")
    ] = 1,
    seed: SeedOpt = None,
    paper: Annotated[
        Literal["a4", "letter"], typer.Option("--paper", help="Paper size: a4 or letter.")
    ] = "a4",
    reading: Annotated[
        bool,
        typer.Option("--reading/--no-reading", help="Print the article before the questions."),
    ] = True,
    title: Annotated[
        str | None, typer.Option("--title", help="Title on the sheet (default: the bank title).")
    ] = None,
) -> None:
    """Make printable worksheets (one per version) and one answer key, as HTML to print.

    Versions have the same questions in a different order, with shuffled choices. The same
    --seed always gives the same files; without it a seed is chosen and printed. Open the
    files in a browser and print them (no other tools needed).

    Examples:

        kzquiz worksheet

        kzquiz worksheet -n 20 --topic sovereignty --versions 3 --paper letter

        kzquiz worksheet --difficulty 1-2 --no-reading --seed 42 --title "Quiz 3" -o out/
    """
    # The bank is parsed in the background while the imports below run.
    bank_reading = start_reading(bank)
    import random

    from kzquiz.output import write_files
    from kzquiz.render.worksheet import WorksheetOptions, render_worksheets
    from kzquiz.select import select

    loaded = load(bank_reading)
    if seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
        typer.echo(f"seed: {seed} (use --seed {seed} to reproduce)")
    rng = random.Random(seed)
    questions = select(loaded, selection(topic, tag, type_, difficulty, count), rng)
    options = WorksheetOptions(
        title=title, versions=versions, paper=paper, reading=reading, seed=seed
    )
    files = render_worksheets(loaded, questions, options, rng)
    typer.echo(f"{len(questions)} questions, {versions} version(s), {paper}:")
    for path in write_files(output, files):
        typer.echo(f"  {path}")


@app.command()
def anki(
    bank: BankArg = None,
    output: OutDir = Path("decks"),
    topic: TopicOpt = None,
    tag: TagOpt = None,
    difficulty: DifficultyOpt = None,
) -> None:
    """Make an Anki deck, decks/<bank-id>.apkg, with a subdeck per topic.

    Import it in Anki (desktop, AnkiDroid, AnkiMobile). Import it again after editing the bank:
    edited questions update their notes, review history is kept, nothing is duplicated. The
    state file decks/<bank-id>.lock.json next to the deck remembers what each note showed and
    when it changed; commit it with the deck. Questions removed from the bank are listed with
    the Anki search that finds their notes.

    Examples:

        kzquiz anki

        kzquiz anki --topic sovereignty --topic trade -o out/

        kzquiz anki my-bank.yaml --tag un-charter --difficulty 1-2
    """
    # The bank is parsed in the background while the imports below run.
    bank_reading = start_reading(bank)
    from kzquiz.build import anki_outputs
    from kzquiz.output import write_files
    from kzquiz.select import select

    loaded = load(bank_reading)
    questions = select(loaded, selection(topic, tag, None, difficulty))
    outputs = anki_outputs(loaded, output, questions)
    for note in outputs.notes:
        typer.echo(note)
    for path in write_files(output, outputs.files):
        typer.echo(f"  {path}")


@app.command()
def selfcheck(
    bank: BankArg = None,
    output: OutDir = Path("decks"),
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Make the self-check page: one HTML file a student answers in any browser, offline.

    The page checks every answer, explains it with the article's evidence and keeps progress
    in the browser. Answers are lightly obfuscated in the file, not hidden: it is for
    self-study, not exams. The same options and --seed always give the same file.

    Examples:

        kzquiz selfcheck

        kzquiz selfcheck --topic sovereignty -o out/

        kzquiz selfcheck my-bank.yaml --difficulty 1-2 -n 20 --seed 7
    """
    # The bank is parsed in the background while the imports below run.
    bank_reading = start_reading(bank)
    import random

    from kzquiz.output import write_file
    from kzquiz.render.selfcheck import DEFAULT_SEED, file_name, render_page
    from kzquiz.select import select

    loaded = load(bank_reading)
    rng = random.Random(DEFAULT_SEED if seed is None else seed)
    questions = select(loaded, selection(topic, tag, type_, difficulty, count), rng)
    page = render_page(loaded, questions, seed=seed)
    path = write_file(output / file_name(loaded.id), page)
    typer.echo(f"{len(questions)} questions: {path}")


@app.command()
def practice(
    bank: BankArg = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    seed: SeedOpt = None,
    missed: Annotated[
        bool, typer.Option("--missed", help="Only the questions you got wrong last time.")
    ] = False,
) -> None:
    """Practise in the terminal: questions one by one, right or wrong with the evidence.

    Answer with a letter (A), letters (AC), T or F, text, a number, or numbers and letters
    for ordering (3 1 2 4) and matching (1b 2a 3c); ? shows the answer. Ctrl-C or Ctrl-D
    stops with the score so far. Questions you miss are remembered for --missed. Without
    --seed the order is new every time.

    Examples:

        kzquiz practice

        kzquiz practice --topic sovereignty -n 10

        kzquiz practice --missed
    """
    # The bank is parsed in the background while the imports below run.
    bank_reading = start_reading(bank)
    import random

    from kzquiz.practice import choose, console_for, prepare, run, safe_save, stdin_reader

    loaded = load(bank_reading)
    rng = random.Random(seed)
    questions = choose(
        loaded, selection(topic, tag, type_, difficulty, count), rng, missed_only=missed
    )
    if not questions:
        typer.echo("You got every question right last time: nothing to re-practise.")
        return
    console = console_for()
    session = run(loaded, prepare(questions, rng), console=console, read_line=stdin_reader())
    saved, problem = safe_save(loaded, session)
    if problem:
        typer.echo(f"warning: {problem}", err=True)
    if saved and session.to_practise:
        again = "kzquiz practice --missed" + (f" {bank}" if bank is not None else "")
        typer.echo(f"{len(session.to_practise)} missed; practise them again with: {again}")


@app.command()
def export(
    format_name: Annotated[
        str,
        typer.Argument(
            metavar="FORMAT",
            help="gift (Moodle), qti (Canvas), quizlet or csv.",
            show_default=False,
        ),
    ],
    bank: BankArg = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File to write (default: <bank-id>.<ext> in this folder); - for stdout "
            "(text formats).",
            show_default=False,
        ),
    ] = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    seed: SeedOpt = None,
) -> None:
    """Export questions for an LMS: Moodle GIFT, Canvas QTI (.zip), Quizlet or CSV.

    Files: <bank-id>.gift.txt, .qti.zip, .quizlet.txt or .csv. Anything the format cannot
    hold is reported as a note (on stderr), one per question; nothing is dropped silently.
    Exit 0: written; 1: invalid bank or no question matches; 2: bad usage.

    Examples:

        kzquiz export gift

        kzquiz export qti my-bank.yaml -o quiz.qti.zip --topic sovereignty

        kzquiz export quizlet -o - > cards.txt

        kzquiz export csv --difficulty 1-2 -n 20 --seed 7 -o sample.csv
    """
    import random

    from kzquiz.errors import UsageError
    from kzquiz.output import write_file
    from kzquiz.render.exports import FORMATS, file_name, renderer
    from kzquiz.select import select

    if format_name not in FORMATS:
        raise UsageError(f"unknown export format {format_name!r}; use one of: {', '.join(FORMATS)}")
    to_stdout = output is not None and str(output) == "-"
    if to_stdout and not FORMATS[format_name][2]:
        raise UsageError(f"{format_name} is a zip file; give -o a file name, not -")
    if output is not None and not to_stdout and output.is_dir():
        raise UsageError(f"{output}: is a folder; give -o a file name")
    bank_reading = start_reading(bank)
    loaded = load(bank_reading)
    if count is not None and seed is None:
        seed = random.SystemRandom().randrange(1_000_000)
        typer.echo(f"seed: {seed} (use --seed {seed} to reproduce)", err=True)
    rng = random.Random(seed) if seed is not None else None
    questions = select(loaded, selection(topic, tag, type_, difficulty, count), rng)
    data, notes = renderer(format_name)(loaded, questions)
    for note in notes:
        typer.echo(f"note: {note}", err=True)
    if to_stdout:
        typer.echo(data, nl=False)
        return
    path = output if output is not None else Path(file_name(loaded, format_name))
    write_file(path, data)
    typer.echo(f"{len(questions)} questions: {path}")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kzquiz")


if __name__ == "__main__":  # pragma: no cover
    main()
