"""The command line: parse options, make one library call, print its result.

Every command hands its options to kzquiz.pipeline (which owns loading, the seed policy,
selection, rendering and writing) and prints what it returns. Only this module speaks of
command-line flags: library errors name a field (`topic`), shown here as its flag (`--topic`).
Heavy modules are imported inside the commands, so `kzquiz --version` costs little more than
importing Typer; the bank starts being read as soon as the command line names it
(kzquiz.speed).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from typer.core import TyperGroup

from kzquiz import __version__, formats
from kzquiz.errors import KzquizError

if TYPE_CHECKING:  # imported where used: `kzquiz --version` stays as light as Typer
    from kzquiz.select import Selection

# The option that sets each field the library names in its errors.
FLAGS: dict[str, str] = {
    "topic": "--topic",
    "tag": "--tag",
    "type": "--type",
    "difficulty": "--difficulty",
    "count": "--count",
    "pick": "--pick",
    "seed": "--seed",
    "versions": "--versions",
    "paper": "--paper",
    "output": "-o",
    "force": "--force",
    "pdf": "--pdf",
    "language": "--language",
    "format": "FORMAT",
    "scans": "SCANS",
    "responses": "--responses",
}


def message(exc: KzquizError) -> str:
    """The error's text as the command line shows it: its field named by its flag."""
    text = str(exc)
    flag = FLAGS.get(exc.field or "")
    if flag and exc.field and text.startswith(exc.field):
        text = flag + text[len(exc.field) :]
    # Other settings a message mentions are written `field`.
    for name, option in FLAGS.items():
        text = text.replace(f"`{name}`", option)
    return text


class _Group(TyperGroup):
    """Turns the library's errors into a message on stderr and an exit code, never a traceback,
    and starts reading the command's bank as soon as the command line is split."""

    # Typer's own Context subclasses its vendored click's; the runtime object is the same.
    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except KzquizError as exc:
            for line in message(exc).splitlines() or [type(exc).__name__]:
                typer.echo(line, err=True)
            ctx.exit(exc.exit_code)
        finally:
            from kzquiz import speed

            # A command that stopped before loading its bank (bad usage, say) leaves neither
            # the collector off nor a reading behind for the next command of this process.
            speed.reset()

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        _read_ahead(self, ctx, args)
        return super().parse_args(ctx, args)


def _read_ahead(group: TyperGroup, ctx: typer.Context, args: list[str]) -> None:
    """Start reading the command's bank before Typer converts any option.

    Typer converts option values with pydantic, and importing that is slow enough for the
    background parse of a big bank to overlap it. Here the group's and the command's own
    parsers only split the words (no conversion, no callbacks). Anything unusual is left
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
    from kzquiz import pipeline

    pipeline.read_ahead(Path(values["bank"]) if values.get("bank") else None)


def _err(text: str) -> None:
    typer.echo(text, err=True)


def _echo_lines(lines: list[str], err: bool = False) -> None:
    """Print lines in one write: a big bank's build has tens of thousands of notes, and
    echo costs several microseconds a call (the same bytes either way)."""
    if lines:
        typer.echo("\n".join(lines), err=err)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 question', '3 questions'."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


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
        metavar="BANK",
        help="The bank file. Default: ./questions.yaml, else the bank bundled with kzquiz"
        " (which says so on stderr).",
        show_default=False,
    ),
]
OutDir = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FOLDER",
        help="Folder to write into (created if missing). Default: decks/ beside the bank"
        " (./decks for the bundled bank).",
        show_default=False,
    ),
]
TopicOpt = Annotated[
    list[str] | None,
    typer.Option("--topic", metavar="TOPIC", help="Only this topic id (repeatable)."),
]
TagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="TAG", help="Only questions with this tag (repeatable)."),
]
TypeOpt = Annotated[
    list[str] | None,
    typer.Option("--type", metavar="TYPE", help="Only this question type (repeatable)."),
]
DifficultyOpt = Annotated[
    str | None,
    typer.Option("--difficulty", metavar="LEVEL", help="A level 1-3 or a range like 1-2."),
]
CountOpt = Annotated[
    int | None,
    typer.Option(
        "--count", "-n", metavar="N", help="How many questions (a sample drawn from the seed)."
    ),
]
PickOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--pick",
        metavar="TOPIC=N",
        help="A pool: N questions of this topic for each student (repeatable). LMS exports "
        "keep the pool for the LMS to draw; worksheets draw per version.",
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(
        "--seed",
        metavar="SEED",
        help="Seed for sampling and shuffling; without it one is drawn and printed on stderr.",
    ),
]
PdfOpt = Annotated[
    bool,
    typer.Option(
        "--pdf",
        help="Also write each worksheet and key as PDF, and every version in one PDF"
        " (needs kzquiz[pdf]).",
    ),
]

LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language",
        metavar="LANG",
        help="Language of the text around the questions: en, ru or kk (default: the bank's"
        " language; English where kzquiz has no translation for it).",
    ),
]


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


def selection(
    topic: list[str] | None,
    tag: list[str] | None,
    type_: list[str] | None,
    difficulty: str | None,
    count: int | None = None,
    pick: list[str] | None = None,
) -> Selection:
    """Build a Selection from the shared options."""
    from kzquiz.select import Selection, parse_difficulty, parse_pick

    return Selection(
        topics=tuple(topic or ()),
        tags=tuple(tag or ()),
        types=tuple(type_ or ()),
        difficulty=parse_difficulty(difficulty),
        count=count,
        picks=tuple(parse_pick(p) for p in pick or ()),
    )


@app.command(short_help="Validate the bank; a summary by topic, type and difficulty.")
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
    from kzquiz import pipeline
    from kzquiz.report import summary_table

    loaded = pipeline.load(bank, _err)
    typer.echo(summary_table(loaded), nl=False)
    if strict and loaded.warnings:
        _err(f"{plural(len(loaded.warnings), 'warning')} with --strict")
        raise typer.Exit(1)


@app.command(short_help="Print the bank's JSON Schema (for editors).")
def schema() -> None:
    """Print the bank's JSON Schema (for editors: yaml-language-server).

    Example:

        kzquiz schema > schema/questions.schema.json
    """
    from kzquiz.schema import schema_json

    typer.echo(schema_json(), nl=False)


@app.command(short_help="Build every output format into one folder.")
def build(
    bank: BankArg = None, output: OutDir = None, pdf: PdfOpt = False, language: LanguageOpt = None
) -> None:
    """Build every output format into one folder (default: decks/).

    Everything is rendered first and then written atomically: a failed build leaves the
    earlier files untouched.

    Examples:

        kzquiz build

        kzquiz build my-bank.yaml -o out/ --pdf
    """
    from kzquiz import pipeline

    result = pipeline.build(bank, output, _err, pdf=pdf, language=language)
    _echo_lines(result.notes)
    typer.echo(f"built {', '.join(result.formats)} from {plural(result.questions, 'question')}:")
    _print_files(result)


@app.command(short_help="Printable worksheets (one per version) and an answer key.")
def worksheet(
    bank: BankArg = None,
    output: OutDir = None,
    count: CountOpt = None,
    pick: PickOpt = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    difficulty: DifficultyOpt = None,
    type_: TypeOpt = None,
    versions: Annotated[
        int,
        typer.Option(
            "--versions", min=1, max=26, metavar="K", help="How many versions (A, B, ...): 1-26."
        ),
    ] = 1,
    seed: SeedOpt = None,
    paper: Annotated[
        Literal["a4", "letter"], typer.Option("--paper", help="Paper size: a4 or letter.")
    ] = "a4",
    reading: Annotated[
        bool,
        typer.Option("--reading/--no-reading", help="Print the article before the questions."),
    ] = True,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Replace a worksheet set of other questions, or kzquiz build's, in the folder.",
        ),
    ] = False,
    title: Annotated[
        str | None,
        typer.Option(
            "--title", metavar="TEXT", help="Title on the sheet (default: the bank title)."
        ),
    ] = None,
    pdf: PdfOpt = False,
    large_print: Annotated[
        bool,
        typer.Option("--large-print", help="Larger type and more room to write."),
    ] = False,
    language: LanguageOpt = None,
    answer_sheet: Annotated[
        bool,
        typer.Option(
            "--answer-sheet",
            help="Also write a bubble answer sheet per version, for `kzquiz grade`.",
        ),
    ] = False,
) -> None:
    """Make printable worksheets (one per version) and one answer key, as HTML to print.

    Versions have the same questions in a different order, with shuffled choices. The same
    --seed always gives the same files; without it a seed is chosen and printed. Open the
    files in a browser and print them (no other tools needed).

    Examples:

        kzquiz worksheet

        kzquiz worksheet -n 20 --topic sovereignty --versions 3 --paper letter

        kzquiz worksheet --difficulty 1-2 --no-reading --seed 42 --title "Quiz 3" -o out/

        kzquiz worksheet --versions 4 --pick trade=3 --pick climate=2
    """
    from kzquiz import pipeline
    from kzquiz.render.worksheet import WorksheetOptions

    options = WorksheetOptions(
        title=title,
        versions=versions,
        paper=paper,
        reading=reading,
        large_print=large_print,
        pdf=pdf,
        answer_sheet=answer_sheet,
    )
    request = pipeline.Request(
        ("worksheet",),
        bank=bank,
        selection=selection(topic, tag, type_, difficulty, count, pick),
        seed=seed,
        options={"worksheet": options},
        out_dir=output,
        force=force,
        language=language,
    )
    result = pipeline.run(request, _err)
    _echo_lines([f"note: {note}" for note in result.notes], err=True)
    held = plural(result.questions, "question")
    if result.per_version is not None:
        # With pools each version holds a draw: the count true of every sheet.
        held = (
            f"{plural(result.per_version, 'question')} per version, drawn from {result.questions}"
        )
    typer.echo(f"{held}, {plural(versions, 'version')}, {paper}:")
    _print_files(result)


@app.command(short_help="Grade scanned answer sheets or typed responses; item statistics.")
def grade(
    scans: Annotated[
        list[Path] | None,
        typer.Argument(metavar="SCANS...", help="Scans of answer sheets: PNG/JPEG or PDF pages."),
    ] = None,
    bank: Annotated[
        Path | None, typer.Option("--bank", metavar="BANK", help="The question bank.")
    ] = None,
    responses: Annotated[
        list[Path] | None,
        typer.Option(
            "--responses",
            metavar="CSV",
            help="Typed responses (student,version,1,2,...) or a self-check hand-in; repeatable.",
        ),
    ] = None,
    corrections: Annotated[
        Path | None,
        typer.Option("--corrections", metavar="CSV", help="Your decisions on doubtful marks."),
    ] = None,
    review: Annotated[
        Path | None,
        typer.Option("--review", metavar="FILE.html", help="Write doubtful marks' crops here."),
    ] = None,
    output: OutDir = None,
    count: CountOpt = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    difficulty: DifficultyOpt = None,
    type_: TypeOpt = None,
    seed: Annotated[
        int | None,
        typer.Option("--seed", metavar="SEED", help="The worksheet's seed (typed responses only)."),
    ] = None,
    language: LanguageOpt = None,
) -> None:
    """Grade answer sheets: a gradebook CSV and an HTML report of every question.

    Give the same selection options (-n, --topic ...) as the worksheet; each scan's QR code
    names its version and seed. Unreadable pages and unclear marks are listed, never guessed.

    Examples:

        kzquiz grade scans.pdf --review review.html -o results/

        kzquiz grade --responses typed.csv --seed 42 -n 20

        kzquiz grade --responses ann-handin.csv --responses ben-handin.csv
    """
    from kzquiz import pipeline

    request = pipeline.GradeRequest(
        scans=tuple(scans or ()),
        responses=tuple(responses or ()),
        corrections=corrections,
        review=review,
        bank=bank,
        selection=selection(topic, tag, type_, difficulty, count),
        seed=seed,
        out_dir=output,
        language=language,
    )
    result = pipeline.grade(request, _err)
    for problem in result.problems:
        _err(f"problem: {problem}")
    typer.echo(
        f"graded {plural(result.students, 'student')} from {plural(result.pages, 'page')}"
        f" ({plural(result.unclear, 'unclear mark')}):"
    )
    _print_files(result)


@app.command(short_help="An Anki deck with a subdeck per topic, and its state file.")
def anki(
    bank: BankArg = None,
    output: OutDir = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    pick: Annotated[
        list[str] | None,
        typer.Option(
            "--pick",
            metavar="TOPIC=N",
            help="Not for decks: a deck is for learning every question; use --topic or -n.",
            hidden=True,
        ),
    ] = None,
    seed: SeedOpt = None,
    language: LanguageOpt = None,
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
    if pick:
        # A pool gives each student some of its questions for a test; a study deck that
        # left some out would leave them unlearnt (and a re-import would drop their notes).
        raise typer.BadParameter(
            "a deck is for learning every question it holds, not a draw from a pool; "
            "choose what to learn with --topic, --tag or -n",
            param_hint="--pick",
        )
    from kzquiz import pipeline

    request = pipeline.Request(
        ("anki",),
        bank=bank,
        selection=selection(topic, tag, type_, difficulty, count),
        seed=seed,
        out_dir=output,
        language=language,
    )
    result = pipeline.run(request, _err)
    _echo_lines(result.notes)
    _print_files(result)


@app.command(short_help="An offline self-check page that checks and explains answers.")
def selfcheck(
    bank: BankArg = None,
    output: OutDir = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    pick: PickOpt = None,
    seed: SeedOpt = None,
    language: LanguageOpt = None,
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
    from kzquiz import pipeline

    request = pipeline.Request(
        ("selfcheck",),
        bank=bank,
        selection=selection(topic, tag, type_, difficulty, count, pick),
        seed=seed,
        out_dir=output,
        language=language,
    )
    result = pipeline.run(request, _err)
    _echo_lines([f"note: {note}" for note in result.notes], err=True)
    held = plural(result.questions, "question")
    if result.per_version is not None:
        # The page holds one draw from the pools, the same for every student.
        held = f"{plural(result.per_version, 'question')}, drawn from {result.questions}"
    typer.echo(f"{held}: {result.written[0]}")


@app.command(short_help="Practise in the terminal, question by question.")
def practice(
    bank: BankArg = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    pick: PickOpt = None,
    seed: SeedOpt = None,
    missed: Annotated[
        bool, typer.Option("--missed", help="Only the questions you got wrong last time.")
    ] = False,
    language: LanguageOpt = None,
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
    from kzquiz import pipeline

    request = pipeline.Request(
        (),
        bank=bank,
        selection=selection(topic, tag, type_, difficulty, count, pick),
        seed=seed,
        language=language,
    )
    done = pipeline.practise(request, missed_only=missed, report=_err)
    if not done.asked:
        typer.echo(done.nothing_left())
        return
    if done.problem:
        _err(f"warning: {done.problem}")
    if done.saved and done.missed:
        again = "kzquiz practice --missed" + (f" {bank}" if bank is not None else "")
        if language is not None:
            again += f" --language {language}"
        typer.echo(done.missed_line(again))


def _export_help() -> str:
    """`kzquiz export --help`, made from the format registry."""
    lines = [
        "Export questions for an LMS or another tool, one file per format.",
        "",
        "\b",  # click: keep this paragraph's lines as they are
    ]
    for fmt in formats.FORMATS:
        if fmt.export:
            names = ", ".join(name.format(id="<bank-id>") for name in fmt.files)
            lines.append(f"  {fmt.name:8} {names}: {fmt.summary}")
    lines += [
        "",
        "-o takes a file name or a folder (the default name inside it). Anything a format cannot hold is reported as a note (on stderr),",
        "one per question; nothing is dropped silently.",
        "Exit 0: written; 1: invalid bank or no question matches; 2: bad usage.",
        "",
        "Examples:",
        "",
        "    kzquiz export gift",
        "",
        "    kzquiz export qti my-bank.yaml -o quiz.qti.zip --topic sovereignty",
        "",
        "    kzquiz export quizlet -o - > cards.txt",
        "",
        "    kzquiz export csv --difficulty 1-2 -n 20 --seed 7 -o sample.csv",
        "",
        "    kzquiz export --list",
    ]
    return "\n".join(lines)


@app.command(
    help=_export_help(),
    short_help=f"Export for an LMS or another tool: {', '.join(formats.export_names())}.",
)
def export(
    format_name: Annotated[
        str | None,
        typer.Argument(
            metavar="FORMAT",
            help=f"One of: {', '.join(formats.export_names())} (any case).",
            show_default=False,
        ),
    ] = None,
    bank: BankArg = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="File or folder to write (default: <bank-id>.<ext> in this folder); "
            "- for stdout (text formats).",
            show_default=False,
        ),
    ] = None,
    topic: TopicOpt = None,
    tag: TagOpt = None,
    type_: TypeOpt = None,
    difficulty: DifficultyOpt = None,
    count: CountOpt = None,
    pick: PickOpt = None,
    seed: SeedOpt = None,
    list_formats: Annotated[
        bool,
        typer.Option(
            "--list",
            help="List every export format, its file and the question types it holds, and exit.",
        ),
    ] = False,
    language: LanguageOpt = None,
) -> None:
    """Export questions for an LMS (the help text is made from the format registry)."""
    if list_formats:
        typer.echo(formats.export_list(), nl=False)
        return
    if format_name is None:
        raise typer.BadParameter(
            f"none given; use one of {', '.join(formats.export_names())}, "
            "or --list to see what each holds",
            param_hint="FORMAT",
        )
    from kzquiz import pipeline

    to_stdout = output is not None and str(output) == "-"
    request = pipeline.Request(
        (),
        bank=bank,
        selection=selection(topic, tag, type_, difficulty, count, pick),
        seed=seed,
        out_dir=Path("."),
        out_file=None if to_stdout else output,
        to_stdout=to_stdout,
        language=language,
    )
    result = pipeline.export(format_name, request, _err)
    _echo_lines([f"note: {note}" for note in result.notes], err=True)
    if result.stdout is not None:
        typer.echo(result.stdout, nl=False)
        return
    typer.echo(f"{plural(result.questions, 'question')}: {result.written[0]}")


def _print_files(result: Any) -> None:  # a pipeline.Result (cli imports only the call)
    """The files a run wrote, and the stale ones of an earlier set it removed."""
    for path in result.written:
        typer.echo(f"  {path}")
    for path in result.removed:
        typer.echo(f"  removed {path} (a version the new set does not have)")


def main() -> None:
    """Console-script entry point."""
    app(prog_name="kzquiz")


if __name__ == "__main__":  # pragma: no cover
    main()
