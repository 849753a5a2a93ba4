"""The `kzquiz grade` pipeline: scans and typed responses → sheets → scores → files.

    scans (PNG/JPEG, PDF pages) ──omr──▶ corrected pages + QR ──▶ key (bank, seed, version)
    responses CSV ────────────────────────────────────────────────┤
    self-check hand-ins (by question id, grade/handin.py) ──────────┤
    corrections CSV (the teacher's decisions on doubtful marks) ───┤
        ──▶ score every question ──▶ stats ──▶ gradebook CSV, report HTML, review HTML
        ──▶ output.write_files (atomic)

A page that cannot be read (no corner squares, no QR code, another bank or set, a damaged
file) is reported with its file and page, and the other pages are still graded. A mark
that is neither filled nor empty is reported with its page and question and counts as no
answer until a corrections CSV decides it; students with undecided marks are left out of
the statistics. Two sheets with one student number are both reported and neither graded.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kzquiz.errors import KzquizError, UsageError

if TYPE_CHECKING:
    from kzquiz.bank import LoadedBank
    from kzquiz.grade.score import Outcome
    from kzquiz.grade.stats import ClassStats
    from kzquiz.model import Question
    from kzquiz.render.worksheet import Version

Report = Callable[[str], None]
MAX_CSV = 16 * 1024 * 1024
MAX_SCAN = 256 * 1024 * 1024  # a PDF of a whole class's scans


class GradeInputError(KzquizError):
    """A responses or corrections CSV that cannot be used; names file:line."""

    exit_code = 1


@dataclass(frozen=True)
class GradeRequest:
    """What to grade, against which bank and selection, and where the files go."""

    scans: tuple[Path, ...] = ()
    responses: tuple[Path, ...] = ()  # typed CSVs and self-check hand-ins (told by header)
    corrections: Path | None = None
    review: Path | None = None
    bank: Path | None = None
    selection: object = None  # a kzquiz.select.Selection: the worksheet's filters and count
    seed: int | None = None  # for typed responses (scans carry theirs)
    paper: str = "a4"  # for the layout of typed responses' versions
    out_dir: Path | None = None
    language: str | None = None  # of the report and review page (default: the bank's)


@dataclass
class GradeResult:
    """What was graded and written, and every problem met on the way."""

    students: int = 0
    pages: int = 0
    problems: list[str] = field(default_factory=list)
    unclear: int = 0
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # never any; the CLI prints both
    rows: list[GradebookRow] = field(default_factory=list)
    stats: ClassStats | None = None


@dataclass
class _Student:
    student: str
    version: Version
    sheets: list[str] = field(default_factory=list)
    responses: dict[int, str | None] = field(default_factory=dict)
    pages: set[int] = field(default_factory=set)
    pages_total: int = 1
    outcomes: dict[str, Outcome] | None = None  # a hand-in, already graded by question id


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    from kzquiz.read import read_regular_file

    data = read_regular_file(path, limit=MAX_CSV, what="CSV")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise GradeInputError(f"{path}: not UTF-8 text ({exc.reason})") from exc
    rows = []
    reader = csv.reader(io.StringIO(text))
    for row in reader:
        if any(cell.strip() for cell in row):
            rows.append((reader.line_num, row))
    return rows


INSTALL_HINT = "grading needs OpenCV and pypdfium2: pip install 'kzquiz[grade]'"


def missing() -> str | None:
    """Why grading is not available here, or None when it is."""
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        import pypdfium2  # type: ignore[import-untyped]  # noqa: F401
    except ImportError as exc:
        return f"{INSTALL_HINT}; {exc}"
    return None


def run(request: GradeRequest, report: Report) -> GradeResult:
    """Grade every scan and typed response; write the gradebook, report and review page."""
    reason = missing()
    if reason is not None:
        raise UsageError(reason)
    from kzquiz import pipeline
    from kzquiz.grade import handin, omr, score
    from kzquiz.grade import report as reports
    from kzquiz.output import write_files
    from kzquiz.pools import bank_pools, pools_in
    from kzquiz.read import read_regular_file
    from kzquiz.render.answersheet import question_hash, sheet_layout, versions_for
    from kzquiz.render.worksheet import BUILD_SEED

    if not request.scans and not request.responses:
        raise UsageError(
            "scans: give scans of answer sheets, or a CSV of typed `responses`", field="scans"
        )
    loaded = pipeline.load(request.bank, report, language=request.language)
    result = GradeResult()
    keys: dict[tuple[int, str], tuple[Version, str]] = {}

    def key(seed: int, letter: str) -> tuple[Version, str]:
        """The versions up to `letter` for this seed, and the letter's question hash."""
        if (seed, letter) not in keys:
            questions = pipeline.choose(loaded, request.selection, seed)  # type: ignore[arg-type]
            count = ord(letter) - ord("A") + 1
            # The bank's pools draw per version as the worksheet did (`--pick` is not taken here).
            pools = pools_in(bank_pools(loaded.bank), questions)
            versions = versions_for(loaded, questions, count, seed, pools)
            version = versions[-1]
            keys[(seed, letter)] = (
                version,
                question_hash([i.question.id for i in version.items]),
            )
        return keys[(seed, letter)]

    reads: list[score.SheetRead] = []
    version_of: dict[str, Version] = {}
    for path in request.scans:
        try:
            data = read_regular_file(path, limit=MAX_SCAN, what="scan")
        except KzquizError as exc:
            result.problems.append(str(exc))
            continue
        try:
            images = omr.pdf_pages(data) if data[:5] == b"%PDF-" else [omr.decode_image(data)]
        except omr.PageUnreadable as exc:
            result.problems.append(f"{path}: {exc}")
            continue
        for index, image in enumerate(images, 1):
            name = f"{path.name}#{index}" if len(images) > 1 or data[:5] == b"%PDF-" else path.name
            result.pages += 1
            try:
                scan = omr.read_page(image)
            except omr.PageUnreadable as exc:
                result.problems.append(f"{name}: {exc}")
                continue
            sheet = scan.sheet
            if sheet.bank_id != loaded.id:
                result.problems.append(
                    f"{name}: the sheet is for bank {sheet.bank_id!r}, not {loaded.id!r}; not graded"
                )
                continue
            if not "A" <= sheet.version <= "Z" or len(sheet.version) != 1:
                result.problems.append(f"{name}: the QR code names no version; not graded")
                continue
            version, digest = key(sheet.seed, sheet.version)
            if digest != sheet.digest:
                result.problems.append(
                    f"{name}: version {sheet.version} (seed {sheet.seed}) of another set of"
                    " questions (its QR code's question hash differs: other filters or -n?);"
                    " not graded"
                )
                continue
            pages = sheet_layout(loaded, version, sheet.seed, sheet.paper)
            if sheet.pages != len(pages) or not 1 <= sheet.page <= len(pages):
                result.problems.append(f"{name}: page {sheet.page}/{sheet.pages} is not in the set")
                continue
            items = {i.number: i for i in version.items}
            read = score.read_sheet(name, scan, pages[sheet.page - 1], items)
            if scan.turned:
                report(f"note: {name}: read upside down, turned")
            reads.append(read)
            version_of[read.name] = version

    corrections = _corrections(request.corrections) if request.corrections else {}
    students: dict[str, _Student] = {}
    duplicates: set[str] = set()
    doubts: list[score.Doubt] = []
    for read in reads:
        who = corrections.get((read.name, "student"), read.student)
        sheet_doubts = [d for d in read.doubts if (d.sheet, d.question) not in corrections]
        if who is None:
            if not any(d.question == "student" for d in sheet_doubts):
                result.problems.append(f"{read.name}: no student number marked; not graded")
            doubts.extend(sheet_doubts)
            if any(d.question == "student" for d in sheet_doubts):
                result.problems.append(f"{read.name}: the student number is unclear; not graded")
            continue
        doubts.extend(sheet_doubts)
        for doubt in sheet_doubts:
            result.problems.append(f"{read.name}: question {doubt.question}: unclear mark")
        responses = {n: corrections.get((read.name, str(n)), r) for n, r in read.responses.items()}
        record = students.get(who)
        if record is None:
            record = students[who] = _Student(who, version_of[read.name], pages_total=read.pages)
        elif record.version is not version_of[read.name] or read.page in record.pages:
            duplicates.add(who)
        record.sheets.append(read.name)
        record.pages.add(read.page)
        record.responses.update(responses)
    for who in sorted(duplicates):
        result.problems.append(
            f"student {who}: several sheets ({', '.join(students[who].sheets)}); none graded"
        )
        del students[who]
    refused: set[str] = set()
    for path in request.responses:
        cells = _read_csv(path)
        if handin.is_handin(cells):
            seed = request.seed if request.seed is not None else BUILD_SEED
            version, _ = key(seed, "A")
            position = {q.id: i for i, q in enumerate(loaded.bank.questions)}
            asked = sorted((i.question for i in version.items), key=lambda q: position[q.id])
            try:
                got = handin.read(
                    path,
                    cells,
                    bank_id=loaded.id,
                    questions=asked,
                    digest=question_hash([q.id for q in asked]),
                    language=loaded.bank.bank.language,
                )
            except handin.HandInError as exc:
                result.problems.append(str(exc))
                continue
            if got.student in students or got.student in refused:
                result.problems.append(
                    f"student {got.student}: several hand-ins or sheets; none graded"
                )
                students.pop(got.student, None)
                refused.add(got.student)
                continue
            students[got.student] = _Student(
                got.student, version, [path.name], {}, {1}, 1, got.outcomes
            )
            continue
        if request.seed is None:
            raise UsageError(
                "seed: typed responses need the worksheet's --seed (a scan carries its own)",
                field="seed",
            )
        for who, version, responses in _typed(path, cells, lambda v: key(request.seed or 0, v)[0]):
            if who in students:
                result.problems.append(f"student {who}: typed responses and a sheet; none graded")
                del students[who]
                continue
            students[who] = _Student(who, version, [str(path)], responses, {1}, 1)
    result.unclear = len(doubts)
    if not students:
        raise GradeInputError("\n".join([*result.problems, "no sheet or response could be graded"]))
    # Every version holds the same questions; the statistics list them in bank order.
    first = next(iter(students.values())).version
    position = {q.id: i for i, q in enumerate(loaded.bank.questions)}
    questions = sorted((i.question for i in first.items), key=lambda q: position[q.id])
    rows, table, stat = _score(loaded, questions, students, result)
    result.rows, result.stats = rows, stat
    files = {
        f"{loaded.id}-gradebook.csv": reports.gradebook(loaded, rows),
        f"{loaded.id}-grade-report.html": reports.report_html(loaded, stat, table, result.problems),
    }
    out_dir = request.out_dir or Path.cwd()
    if request.review is not None:
        review = request.review
        names = {
            review.name: reports.review_html(loaded, doubts),
            review.stem + "-corrections.csv": reports.corrections_csv(doubts),
        }
        if review.parent.resolve() == out_dir.resolve():
            files.update(names)
        else:
            result.written += write_files(review.parent, names)
    result.written += write_files(out_dir, files)
    result.students = len(students)
    return result


def _typed(
    path: Path, rows: list[tuple[int, list[str]]], version_of: Callable[[str], Version]
) -> list[tuple[str, Version, dict[int, str | None]]]:
    """Typed responses: a header `student,version,1,2,...` and one student a line."""
    from kzquiz.grade.score import BadResponse, score

    if not rows or [c.strip().lower() for c in rows[0][1][:2]] != ["student", "version"]:
        raise GradeInputError(f"{path}:1: a responses CSV starts with student,version,1,2,...")
    out = []
    for line, row in rows[1:]:
        who, letter = row[0].strip(), (row[1].strip().upper() if len(row) > 1 else "")
        if not who:
            raise GradeInputError(f"{path}:{line}: no student")
        if len(letter) != 1 or not "A" <= letter <= "Z":
            raise GradeInputError(f"{path}:{line}: version {letter!r}: a letter A-Z")
        version = version_of(letter)
        items = version.items
        answers = row[2:]
        if len(answers) > len(items):
            raise GradeInputError(
                f"{path}:{line}: {len(answers)} answers, but the sheet has {len(items)} questions"
            )
        responses: dict[int, str | None] = {}
        for item, text in zip(items, answers, strict=False):
            try:
                score(item, text)
            except BadResponse as exc:
                raise GradeInputError(
                    f"{path}:{line}: question {item.number} (id: {item.question.id}): {exc}"
                ) from exc
            responses[item.number] = text.strip()
        out.append((who, version, responses))
    return out


def _score(
    loaded: LoadedBank,
    questions: Sequence[Question],
    students: dict[str, _Student],
    result: GradeResult,
) -> tuple[list[GradebookRow], list[tuple[str, list[int]]], ClassStats]:
    """Every student's points, the gradebook rows and the class statistics."""
    from kzquiz import i18n
    from kzquiz.grade.score import BadResponse, Outcome, score
    from kzquiz.grade.stats import Answer, ItemInfo, compute

    _ = i18n.gettext_for(i18n.of(loaded))
    from kzquiz.model import Multiple, Single, TrueFalse

    order = [q.id for q in questions]
    by_id = {q.id: q for q in questions}
    rows = []
    complete: list[list[Answer]] = []
    numbers: dict[str, set[int]] = {qid: set() for qid in order}
    for who in sorted(students):
        record = students[who]
        answers: dict[str, Answer] = {}
        unclear: list[int] = []
        for item in record.version.items:
            if record.outcomes is not None:
                # A hand-in has no printed numbers; it was graded by question id.
                got = record.outcomes.get(item.question.id, Outcome(0, False))
                answers[item.question.id] = Answer(got.points, got.correct, got.chosen)
                continue
            numbers[item.question.id].add(item.number)
            response = record.responses.get(item.number, "")
            if response is None:
                unclear.append(item.number)
                response = ""
            try:
                outcome = score(item, response)
            except BadResponse as exc:
                result.problems.append(f"student {who}: question {item.number}: {exc}; scored 0")
                outcome = score(item, "")
            answers[item.question.id] = Answer(outcome.points, outcome.correct, outcome.chosen)
        missing = sorted(set(range(1, record.pages_total + 1)) - record.pages)
        if missing:
            result.problems.append(
                f"student {who}: no scan of page {', '.join(map(str, missing))}; scored as unanswered"
            )
        topics: dict[str, int] = dict.fromkeys(loaded.bank.topics, 0)
        for qid, answer in answers.items():
            topics[by_id[qid].topic] += answer.points
        rows.append(
            GradebookRow(
                who,
                "self-check" if record.outcomes is not None else record.version.letter,
                sum(a.points for a in answers.values()),
                sum(q.score for q in questions),
                topics,
                unclear,
                record.sheets,
            )
        )
        if not unclear and not missing:
            complete.append([answers[qid] for qid in order])
    infos = []
    for q in questions:
        if isinstance(q, Single | Multiple):
            infos.append(
                ItemInfo(
                    q.id,
                    q.score,
                    tuple(c.text for c in q.choices),
                    tuple(i for i, c in enumerate(q.choices) if c.correct),
                )
            )
        elif isinstance(q, TrueFalse):
            shown = (_("True"), _("False"))  # as the report's reader knows them
            infos.append(ItemInfo(q.id, q.score, shown, (0,) if q.answer else (1,)))
        else:
            infos.append(ItemInfo(q.id, q.score))
    table = [(qid, sorted(numbers[qid])) for qid in order]
    return rows, table, compute(infos, complete)


@dataclass(frozen=True)
class GradebookRow:
    """One student's line of the gradebook."""

    student: str
    version: str
    score: int
    max_score: int
    topics: dict[str, int]
    unclear: list[int]
    sheets: list[str]


def _corrections(path: Path) -> dict[tuple[str, str], str | None]:
    """The teacher's decisions: (sheet, question or "student") → response text."""
    out: dict[tuple[str, str], str | None] = {}
    rows = _read_csv(path)
    if not rows or [c.strip().lower() for c in rows[0][1][:3]] != ["sheet", "question", "answer"]:
        raise GradeInputError(f"{path}:1: a corrections CSV starts with sheet,question,answer")
    for line, row in rows[1:]:
        if len(row) < 3:
            raise GradeInputError(f"{path}:{line}: needs three cells: sheet,question,answer")
        sheet, question, answer = (c.strip() for c in row[:3])
        out[(sheet, question)] = answer
    return out
