"""The one pipeline every command runs: find → load → seed → select → render → write.

    bank path ──find──▶ read (background, kzquiz.speed) ──▶ load + validate (LoadedBank)
        ──▶ seed policy ──▶ select (kzquiz.select) ──▶ previous state files (output folder)
        ──▶ Format.render(RenderJob) for each format (kzquiz.formats) ──▶ Outputs
        ──▶ write all files atomically (kzquiz.output) ──▶ Result

The seed policy, the same for worksheet, selfcheck, export, anki and practice:

- `--seed N` given: N drives the sample and every shuffle; it is not printed.
- no seed, and the run draws something (a sample of `count` questions, or a format that
  shuffles: worksheet, selfcheck, practice): a seed is drawn from the operating system and
  reported as `seed: N (use --seed N to reproduce)` once the outputs are rendered, so a
  usage error never comes after a seed. The worksheet prints it on the sheet and the key.
- no seed and nothing to draw (an export or Anki deck of a whole selection): no seed.
- `kzquiz build`: every question, and each format's fixed `build_seed`, so the committed
  decks/ is the same on every machine and every day; nothing is drawn or printed.

The sample is drawn from `random.Random(seed)`; each renderer starts its own
`random.Random(seed)` for its shuffles, so a format's shuffles do not depend on whether a
sample was drawn before them.

Messages go through `report` as they happen (bank warnings, the drawn seed); the CLI prints
them on stderr. Errors are kzquiz.errors exceptions naming fields, never flags.
"""

from __future__ import annotations

import dataclasses
import glob
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kzquiz import formats, speed
from kzquiz.errors import OutputError, SelectionError, UsageError
from kzquiz.grade.run import GradeRequest as GradeRequest
from kzquiz.grade.run import GradeResult

if TYPE_CHECKING:
    from rich.console import Console

    from kzquiz.bank import LoadedBank
    from kzquiz.formats import Format
    from kzquiz.model import Question
    from kzquiz.pools import Pool
    from kzquiz.render import Outputs
    from kzquiz.select import Selection

Report = Callable[[str], None]

# A state file is a few hundred bytes per question; anything far bigger is not one.
MAX_STATE_BYTES = 64 * 1024 * 1024
SEED_RANGE = 1_000_000


def _quiet(message: str) -> None:
    del message


def find(bank: Path | None) -> Path:
    """The bank file to use: the argument, else ./questions.yaml, else the bundled bank."""
    from kzquiz.read import find_bank

    return find_bank(bank)


def read_ahead(bank: Path | None) -> None:
    """Start reading the bank in the background (called as soon as the command line names it)."""
    speed.read_ahead(find(bank))


def bundled(bank: Path | None, path: Path) -> bool:
    """Whether `path`, found for the argument `bank`, is the bank bundled with kzquiz."""
    from kzquiz.read import bundled_bank

    return bank is None and path == bundled_bank()


def load(bank: Path | None, report: Report = _quiet, language: str | None = None) -> LoadedBank:
    """The validated bank, its warnings reported (and the fallback to the bundled bank).

    `language` (--language) overrides the bank's language for the text around the questions.
    """
    from kzquiz import i18n

    if language is not None:
        i18n.requested(language)  # a usage error before any work
    path = find(bank)
    if bundled(bank, path):
        report(
            f"note: no questions.yaml in this folder; using the bank bundled with kzquiz ({path})"
        )
    loaded = speed.load(path)
    for warning in loaded.warnings:
        report(f"warning: {warning}")
    ui, note = i18n.choose(language, loaded.bank.bank.language)
    if note is not None:
        report(note)
    return dataclasses.replace(loaded, ui_language=ui)


@dataclass(frozen=True)
class Request:
    """What to make: which formats, from which bank and selection, into which place."""

    formats: tuple[str, ...]
    bank: Path | None = None
    selection: Selection | None = None  # None: every question
    seed: int | None = None
    options: Mapping[str, object] = field(default_factory=dict)  # format name -> its options
    out_dir: Path | None = None  # None: decks/ beside the bank (./decks for the bundled one)
    out_file: Path | None = None  # one format only: this file, or a folder to put it in
    to_stdout: bool = False  # one text format only: return the bytes instead of writing
    whole_bank: bool = False  # kzquiz build: every question, each format's build seed
    force: bool = False  # replace a set of outputs of other questions
    language: str | None = None  # --language: the catalog for the text around the questions


@dataclass
class Result:
    """What a run did, for the CLI to print."""

    loaded: LoadedBank
    formats: list[str]
    questions: int  # how many questions the outputs hold
    seed: int | None
    seed_drawn: bool
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # stale files of an earlier set
    stdout: bytes | None = None
    # With pools that a format draws (a worksheet per version, selfcheck once): how many
    # questions one draw holds.
    per_version: int | None = None


def draws(fmts: Sequence[Format], selection: Selection | None) -> bool:
    """Whether a run of these formats draws anything random (see the seed policy)."""
    sampling = selection is not None and selection.count is not None
    return sampling or any(f.shuffles for f in fmts)


def settle_seed(seed: int | None, needed: bool) -> tuple[int | None, bool]:
    """The run's seed and whether it was drawn now: the given one, a new one, or None."""
    if seed is not None or not needed:
        return seed, False
    return random.SystemRandom().randrange(SEED_RANGE), True


def choose(
    loaded: LoadedBank,
    selection: Selection | None,
    seed: int | None,
    notes: list[str] | None = None,
) -> list[Question]:
    """The selected questions in bank order; a sample is drawn from `random.Random(seed)`.

    A sample never holds two questions of which one gives the other away; where fewer fit
    than asked, a note is added to `notes`.
    """
    from kzquiz.select import Selection, select

    rng = random.Random(seed) if seed is not None else None
    return select(loaded, selection or Selection(), rng, notes)


def sheet_leaks(
    fmts: Sequence[Format],
    loaded: LoadedBank,
    questions: Sequence[Question],
    sampled: bool,
    pools: Sequence[Pool] = (),
) -> list[str]:
    """Notes on the giveaways left where every chosen question shares one sheet or quiz.

    A sample is drawn free of them; a selection of every matching question cannot be, so the
    teacher is told which pairs stand together.
    """
    # A format that draws its pools per version notes each version's own leaks (its
    # renderer knows the draws); the whole pool is on no one sheet.
    drawing = ("draw", "once") if pools else ()
    if sampled or not any(f.one_sheet and f.pools not in drawing for f in fmts):
        return []
    from kzquiz.quality import leak_notes

    return leak_notes(loaded, questions)


def read_state_file(path: Path, what: str = "state") -> bytes | None:
    """A state file's bytes, None if there is none; only a regular file of sane size is read."""
    from kzquiz.read import UnreadableFile, read_optional_file

    try:
        return read_optional_file(path, limit=MAX_STATE_BYTES, what=f"{what} file")
    except UnreadableFile as exc:
        advice = "restore it from version control or delete it" if exc.too_large else "remove it"
        raise OutputError(f"{exc}; {advice}") from None


def previous_state(fmt: Format, bank_id: str, folder: Path) -> dict[str, bytes]:
    """The state files `fmt` reads back, as found in the output folder."""
    found: dict[str, bytes] = {}
    for name in fmt.state_files(bank_id):
        data = read_state_file(folder / name)
        if data is not None:
            found[name] = data
    return found


def render(
    fmt: Format,
    loaded: LoadedBank,
    questions: Sequence[Question],
    *,
    seed: int | None,
    options: object = None,
    folder: Path,
    whole_bank: bool = False,
    pools: Sequence[Pool] = (),
) -> Outputs:
    """One format's outputs, given the state files it keeps from `folder`."""
    from kzquiz.pools import draw, whole_pool_notes
    from kzquiz.render import RenderJob

    drawn_notes: list[str] = []
    if fmt.pools == "once" and pools:
        # One draw from the seed, the format then holds no pool: what a worksheet version is.
        from kzquiz.quality import leak_notes

        questions = draw(questions, pools, random.Random(seed))
        pools = ()
        drawn_notes = leak_notes(loaded, questions) if fmt.one_sheet else []
    job = RenderJob(
        loaded,
        questions,
        seed=seed,
        options=options,
        previous=previous_state(fmt, loaded.id, folder),
        whole_bank=whole_bank,
        pools=pools,
    )
    outputs = fmt.render(job)
    outputs.notes[:0] = drawn_notes
    if fmt.pools == "whole":
        outputs.notes.extend(whole_pool_notes(pools, fmt.name, questions))
    return outputs


def run(request: Request, report: Report = _quiet) -> Result:
    """Load, select, render every requested format and write (or return) the files."""
    from kzquiz.output import write_files
    from kzquiz.render import Outputs

    fmts = [formats.get(name) for name in request.formats]
    if (request.out_file is not None or request.to_stdout) and len(fmts) != 1:
        raise UsageError("one output file holds one format", field="output")
    if request.to_stdout and not fmts[0].text:
        raise UsageError(
            f"output: {fmts[0].name} is not a text file, so it cannot go to standard output;"
            " give a file name",
            field="output",
        )
    loaded = load(request.bank, report, request.language)
    folder, single = _destination(request, fmts, loaded)
    if _is_dir(folder):
        from kzquiz.output import settle

        # A build killed while renaming left a journal: finish that set before reading the
        # state files in it, so this build starts from one whole earlier build.
        for name in settle(folder):
            report(f"note: completed the interrupted write of {folder / name}")
    with speed.paused_gc():
        selection_notes: list[str] = []
        count = None
        if request.whole_bank:
            questions: Sequence[Question] = loaded.bank.questions
            seed, drawn = None, False
        else:
            seed, drawn = settle_seed(request.seed, draws(fmts, request.selection))
            questions = choose(loaded, request.selection, seed, selection_notes)
            count = request.selection.count if request.selection else None
            if count is not None and count > len(questions):
                report(
                    f"note: only {len(questions)} questions match"
                    f" {request.selection.describe() if request.selection else ''}, not {count};"
                    " all of them are used"
                )
        if not questions:
            raise SelectionError(f"{loaded.display}: the bank has no questions")
        from kzquiz.pools import run_pools

        pools = run_pools(loaded, None if request.whole_bank else request.selection, questions)
        outputs = Outputs()
        for fmt in fmts:
            outputs.update(
                render(
                    fmt,
                    loaded,
                    questions,
                    seed=fmt.build_seed if request.whole_bank else seed,
                    options=request.options.get(fmt.name),
                    folder=folder,
                    whole_bank=request.whole_bank,
                    pools=pools,
                )
            )
    sampled = count is not None and count < len(loaded.bank.questions)
    leaks = sheet_leaks(fmts, loaded, questions, sampled, pools)
    notes = [*selection_notes, *leaks, *outputs.notes]
    result = Result(loaded, [f.name for f in fmts], len(questions), seed, drawn, notes=notes)
    if pools and any(f.pools in ("draw", "once") for f in fmts):
        from kzquiz.pools import drawn_size

        result.per_version = drawn_size(questions, pools)
    if request.to_stdout:
        if drawn:
            report(f"seed: {seed} (use --seed {seed} to reproduce)")
        result.stdout = b"".join(outputs.files.values())
        return result
    files = outputs.files
    if single is not None:
        # One file under the name asked for (only single-file formats get here).
        (data,) = files.values()
        files = {single: data}
    stale = [
        path
        for fmt in fmts
        for path in _stale(
            fmt, loaded.id, folder, files, replace=request.whole_bank or request.force
        )
    ]
    if drawn:
        # Only now: a run that stops with an error made nothing to reproduce.
        report(f"seed: {seed} (use --seed {seed} to reproduce)")
    result.written = write_files(folder, files)
    for path in stale:
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            report(f"warning: {path}: could not remove this stale file: {exc.strerror or exc}")
            continue
        result.removed.append(path)
    return result


def _stale(
    fmt: Format, bank_id: str, folder: Path, files: Mapping[str, bytes], *, replace: bool
) -> list[Path]:
    """The files of an earlier set of `fmt` in `folder` that the new set does not write.

    Unless `replace`, a set of other questions is not overwritten, nor the set a
    `kzquiz build` left in the folder (its other files are there too): that is a UsageError.
    """
    if not fmt.family or not folder.is_dir():
        return []
    quoted = glob.escape(bank_id)
    existing = sorted(
        {p for pattern in fmt.family for p in folder.glob(pattern.format(id=quoted)) if p.is_file()}
    )
    if not existing:
        return []
    if not replace:
        first = fmt.file_names(bank_id)[0]
        old = read_state_file(folder / first, "output") if (folder / first) in existing else None
        if old is not None and files.get(first) not in (None, old):
            if fmt.question_set and fmt.question_set(old) != fmt.question_set(files[first]):
                raise UsageError(
                    f"output: {folder / first} is a {fmt.name} of other questions; use `force`"
                    " to replace it (and its other files), or another `output` folder",
                    field="output",
                )
            built = [
                n for f in formats.build_formats() if f is not fmt for n in f.file_names(bank_id)
            ]
            if built and all((folder / name).is_file() for name in built):
                raise UsageError(
                    f"output: {folder} holds the outputs of `kzquiz build`; use `force` to"
                    f" replace its {fmt.name}, or another `output` folder",
                    field="output",
                )
    return [p for p in existing if p.name not in files]


def default_folder(bank: Path | None, path: Path) -> Path:
    """decks/ beside the bank; ./decks for the bundled bank (it lives inside the package)."""
    return Path("decks") if bundled(bank, path) else path.parent / "decks"


def _destination(
    request: Request, fmts: Sequence[Format], loaded: LoadedBank
) -> tuple[Path, str | None]:
    """The folder to write into and, for `out_file`, the one file name to use there."""
    bank_id = loaded.id
    target = request.out_file
    if target is None:
        return request.out_dir or default_folder(request.bank, loaded.path), None
    names = fmts[0].file_names(bank_id)
    if _is_dir(target):
        return target, None
    if len(names) != 1:
        raise UsageError(
            f"output: {fmts[0].name} writes several files; give a folder", field="output"
        )
    return target.parent, target.name


def _is_dir(path: Path) -> bool:
    """Whether `path` is a folder; False for a name the system cannot even look up (too long),
    which the writer then reports as it reports any name it cannot write."""
    try:
        return path.is_dir()
    except OSError:
        return False


def export(name: str, request: Request, report: Report = _quiet) -> Result:
    """`kzquiz export`: one export format (any case) of the selection."""
    fmt = formats.get(name, export=True)
    return run(dataclasses.replace(request, formats=(fmt.name,)), report)


def build(
    bank: Path | None,
    out_dir: Path | None = None,
    report: Report = _quiet,
    *,
    pdf: bool = False,
    language: str | None = None,
) -> Result:
    """`kzquiz build`: every format the registry builds, of every question, into one folder.

    With `pdf`, the worksheet and key are written as PDF too.
    """
    from kzquiz.render.worksheet import WorksheetOptions

    names = tuple(f.name for f in formats.build_formats())
    options: dict[str, object] = {"worksheet": WorksheetOptions(pdf=True)} if pdf else {}
    request = Request(
        names, bank=bank, out_dir=out_dir, whole_bank=True, options=options, language=language
    )
    return run(request, report)


@dataclass
class PracticeRun:
    """The result of a practice session, for the CLI to print."""

    loaded: LoadedBank
    seed: int | None
    asked: int  # 0: nothing left to re-practise
    missed: int = 0
    saved: Path | None = None
    problem: str | None = None

    def nothing_left(self) -> str:
        """What to say when every question was right last time, in the session's language."""
        from kzquiz import i18n

        tr = i18n.translator(i18n.of(self.loaded))
        return tr.gettext("You got every question right last time: nothing to re-practise.")

    def missed_line(self, command: str) -> str:
        """How many are recorded as missed and the command that practises them again."""
        from kzquiz import i18n

        tr = i18n.translator(i18n.of(self.loaded))
        line = tr.ngettext(
            "%(num)s missed; practise them again with: %(command)s",
            "%(num)s missed; practise them again with: %(command)s",
            self.missed,
        )
        return line % {"num": self.missed, "command": command}


def practise(
    request: Request,
    *,
    missed_only: bool = False,
    console: Console | None = None,
    read_line: Callable[[], str] | None = None,
    report: Report = _quiet,
) -> PracticeRun:
    """A terminal practice session on the selection, with the same seed policy as the files.

    Without `console` and `read_line` it talks to the terminal.
    """
    from kzquiz import i18n, practice
    from kzquiz.select import Selection

    loaded = load(request.bank, report, request.language)
    seed, drawn = settle_seed(request.seed, True)
    rng = random.Random(seed)
    selection = request.selection or Selection()
    questions = practice.choose(loaded, selection, rng, missed_only=missed_only)
    from kzquiz.pools import draw, run_pools

    # Pools (--pick or the bank's) drawn once from the seed, as for a self-check page.
    pools = run_pools(loaded, selection, questions)
    if pools:
        questions = draw(questions, pools, rng)
    if drawn:
        report(f"seed: {seed} (use --seed {seed} to reproduce)")
    if not questions:
        return PracticeRun(loaded, seed, 0)
    session = practice.run(
        loaded,
        practice.prepare(questions, rng, i18n.of(loaded)),
        console=console or practice.console_for(),
        read_line=read_line or practice.stdin_reader(),
    )
    saved, problem = practice.safe_save(loaded, session)
    # The record's count, not this run's: questions missed before and not asked now remain.
    return PracticeRun(loaded, seed, len(questions), len(session.to_practise), saved, problem)


def grade(request: GradeRequest, report: Report = _quiet) -> GradeResult:
    """`kzquiz grade`: scans and typed responses → gradebook and report (kzquiz.grade.run)."""
    from kzquiz.grade.run import run

    return run(request, report)
