"""Answer sheets and `kzquiz grade`: a simulated class (tests/omr_sim.py) read back by OMR.

The class answers a 40-question sample (-n 40, seed 11) of the shipped bank: it fits one
page, so 32 students are 32 pages; `test_full_bank_sheet_spans_pages` covers the
multi-page sheet of all 105 questions.
"""

from __future__ import annotations

import dataclasses
import io
import math
import random
import time
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

import omr_sim as sim
from kzquiz import pipeline
from kzquiz.bank import LoadedBank
from kzquiz.cli import app
from kzquiz.grade import omr, score, stats
from kzquiz.grade.run import GradeRequest, run
from kzquiz.model import Multiple, Single, TrueFalse
from kzquiz.render.answersheet import BUBBLE, PAPER_MM, sheet_layout
from kzquiz.select import Selection

SEED = 11
COUNT = 40
STUDENTS = 32
pytestmark = pytest.mark.skipif(
    __import__("kzquiz.render.pdf", fromlist=["missing"]).missing() is not None,
    reason="needs WeasyPrint",
)


@dataclasses.dataclass
class Klass:
    loaded: LoadedBank
    questions: list
    versions: list
    students: list[sim.Student]
    keyed_wrong: str
    clean: dict[str, np.ndarray]  # student id -> clean page
    degraded: dict[str, np.ndarray]
    blanks: dict[str, list[np.ndarray]]
    folder: Path


@pytest.fixture(scope="module")
def klass(tmp_path_factory: pytest.TempPathFactory) -> Klass:
    loaded = pipeline.load(None)
    questions = pipeline.choose(loaded, Selection(count=COUNT), SEED)
    versions = sim.class_versions(loaded, questions, SEED, 2)
    blanks = sim.blank_pages(loaded, questions, SEED, 2)
    keyed = next(q.id for q in questions if isinstance(q, Single) and len(q.choices) >= 4)
    students = sim.simulate(loaded, versions, STUDENTS, seed=5, keyed_wrong=keyed)
    rng = random.Random(3)
    clean, degraded = {}, {}
    folder = tmp_path_factory.mktemp("scans")
    for i, st in enumerate(students):
        version = next(v for v in versions if v.letter == st.version)
        (page,) = sim.student_pages(loaded, st, version, blanks[st.version], SEED, rng)
        clean[st.sid] = page
        degraded[st.sid] = sim.degrade(page, rng, phone=i % 2 == 1)
        (folder / f"clean-{st.sid}.png").write_bytes(sim.png(page))
        (folder / f"photo-{st.sid}.jpg").write_bytes(
            bytes(cv2.imencode(".jpg", degraded[st.sid], [cv2.IMWRITE_JPEG_QUALITY, 85])[1])
        )
    return Klass(loaded, questions, versions, students, keyed, clean, degraded, blanks, folder)


def _read(k: Klass, image: np.ndarray, sid: str) -> score.SheetRead:
    st = next(s for s in k.students if s.sid == sid)
    version = next(v for v in k.versions if v.letter == st.version)
    scan = omr.read_page(image)
    (page,) = sheet_layout(k.loaded, version, SEED)
    return score.read_sheet(sid, scan, page, {i.number: i for i in version.items})


def test_clean_scans_read_exactly(klass: Klass) -> None:
    bubbles = 0
    for st in klass.students:
        read = _read(klass, klass.clean[st.sid], st.sid)
        assert read.student == st.sid
        assert read.responses == st.responses
        assert not read.doubts
        bubbles += len(read.responses)
    assert bubbles == STUDENTS * COUNT


def test_degraded_scans_never_read_wrong(klass: Klass) -> None:
    right = unclear = 0
    for st in klass.students:
        image = omr.decode_image((klass.folder / f"photo-{st.sid}.jpg").read_bytes())
        read = _read(klass, image, st.sid)
        assert read.student == st.sid
        for number, response in read.responses.items():
            if response is None:
                unclear += 1
                assert any(d.question == str(number) for d in read.doubts)
            else:
                assert response == st.responses[number], (st.sid, number)
                right += 1
    assert right / (right + unclear) >= 0.995


def _direct(k: Klass) -> tuple[list[str], np.ndarray, np.ndarray, dict[str, list[int]]]:
    """Points and right/wrong straight from the simulated answers (no OMR, no stats module)."""
    order = [q.id for q in sorted(k.questions, key=lambda q: k.loaded.bank.questions.index(q))]
    points = np.zeros((STUDENTS, len(order)))
    right = np.zeros((STUDENTS, len(order)))
    counts: dict[str, list[int]] = {}
    for s, st in enumerate(sorted(k.students, key=lambda st: st.sid)):
        version = next(v for v in k.versions if v.letter == st.version)
        for item in version.items:
            j = order.index(item.question.id)
            text = st.responses[item.number]
            outcome = score.score(item, text)
            points[s, j], right[s, j] = outcome.points, outcome.correct
            q = item.question
            if isinstance(q, Single | Multiple):
                n = len(q.choices)
                row = counts.setdefault(q.id, [0] * n)
                for letter in text:
                    opt = next(o for o in item.choices if o.letter == letter)
                    row[next(i for i, c in enumerate(q.choices) if c.text == opt.text)] += 1
            elif isinstance(q, TrueFalse):
                row = counts.setdefault(q.id, [0, 0])
                if text:
                    row[0 if text == "T" else 1] += 1
    return order, points, right, counts


def test_statistics_match_the_simulated_answers(klass: Klass, tmp_path: Path) -> None:
    scans = tuple(sorted(klass.folder.glob("clean-*.png")))
    result = run(
        GradeRequest(scans=scans, selection=Selection(count=COUNT), out_dir=tmp_path),
        lambda _: None,
    )
    assert result.problems == [] and result.students == STUDENTS and result.unclear == 0
    stat = result.stats
    assert stat is not None and stat.students == STUDENTS
    order, points, right, counts = _direct(klass)
    assert [i.qid for i in stat.items] == order
    assert stat.totals == [int(t) for t in points.sum(axis=1)]
    totals = points.sum(axis=1)
    k = len(order)
    for j, item in enumerate(stat.items):
        assert item.p == pytest.approx(right[:, j].mean(), abs=1e-12)
        rest = totals - points[:, j]
        if points[:, j].std() == 0:
            assert item.discrimination is None
        else:
            expected = np.corrcoef(points[:, j], rest)[0, 1]
            assert item.discrimination == pytest.approx(expected, abs=1e-9)
        if item.options:
            assert list(item.counts) == counts.get(item.qid, [0] * len(item.options))
    p = right.mean(axis=0)
    kr20 = k / (k - 1) * (1 - (p * (1 - p)).sum() / right.sum(axis=1).var())
    alpha = k / (k - 1) * (1 - points.var(axis=0).sum() / totals.var())
    assert stat.kr20 == pytest.approx(kr20, abs=1e-9)
    assert stat.alpha == pytest.approx(alpha, abs=1e-9)
    keyed = next(i for i in stat.items if i.qid == klass.keyed_wrong)
    assert keyed.discrimination is not None and keyed.discrimination < 0
    assert any("negative discrimination" in f for f in keyed.flags)
    # The gradebook and report are written, and the report links each question by its id.
    gradebook = (tmp_path / f"{klass.loaded.id}-gradebook.csv").read_text("utf-8").splitlines()
    assert gradebook[0].startswith("student,version,score,max,forum,")
    assert len(gradebook) == STUDENTS + 1
    html = (tmp_path / f"{klass.loaded.id}-grade-report.html").read_text("utf-8")
    assert f'href="#q-{klass.keyed_wrong}"' in html and "<script" not in html
    assert "<svg" in html


def test_stats_module_definitions() -> None:
    items = [stats.ItemInfo("a", 1, ("x", "y"), (0,)), stats.ItemInfo("b", 1)]
    rows = [
        [stats.Answer(1, True, (0,)), stats.Answer(1, True)],
        [stats.Answer(0, False, (1,)), stats.Answer(0, False)],
        [stats.Answer(1, True, (0,)), stats.Answer(0, False)],
    ]
    out = stats.compute(items, rows)
    assert out.items[0].counts == (2, 1)
    assert out.items[0].p == pytest.approx(2 / 3)
    assert math.isclose(out.items[1].discrimination or 0, stats.pearson([1, 0, 0], [1, 0, 1]))
    nobody = stats.compute(items, [rows[0], rows[0]])
    assert any("nobody chose" in f for f in nobody.items[0].flags)
    assert any("almost everyone right" in f for f in nobody.items[0].flags)


def _other_bank(loaded: LoadedBank) -> LoadedBank:
    info = loaded.bank.bank.model_copy(update={"id": "other-bank"})
    return dataclasses.replace(loaded, bank=loaded.bank.model_copy(update={"bank": info}))


def test_hostile_pages_are_reported_and_the_rest_graded(klass: Klass, tmp_path: Path) -> None:
    sids = [st.sid for st in klass.students[:6]]
    scans = [klass.folder / f"clean-{sid}.png" for sid in sids]
    # Another bank's sheet, and a sheet of another selection (QR hash mismatch).
    other = _other_bank(klass.loaded)
    foreign = sim.blank_pages(other, klass.questions, SEED, 1)["A"][0]
    (tmp_path / "foreign.png").write_bytes(sim.png(foreign))
    questions30 = pipeline.choose(klass.loaded, Selection(count=30), SEED)
    (tmp_path / "other-set.png").write_bytes(
        sim.png(sim.blank_pages(klass.loaded, questions30, SEED, 1)["A"][0])
    )
    (tmp_path / "blank.png").write_bytes(sim.png(np.full((1754, 1241), 255, np.uint8)))
    upside = cv2.rotate(klass.degraded[klass.students[6].sid], cv2.ROTATE_180)
    (tmp_path / "upside-down.png").write_bytes(sim.png(upside))
    (tmp_path / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00garbage" * 20)
    (tmp_path / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj broken\n")
    # Two sheets for one student: the same scan twice under two names.
    (tmp_path / "again.png").write_bytes(scans[0].read_bytes())
    # A PDF of two pages (scanned to PDF), one of them blank.
    pdf = io.BytesIO()
    pages = [Image.fromarray(klass.clean[klass.students[7].sid]), Image.new("L", (1241, 1754), 255)]
    pages[0].save(pdf, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    (tmp_path / "batch.pdf").write_bytes(pdf.getvalue())
    hostile = [
        tmp_path / n
        for n in (
            "foreign.png",
            "other-set.png",
            "blank.png",
            "upside-down.png",
            "corrupt.png",
            "corrupt.pdf",
            "again.png",
            "batch.pdf",
        )
    ]
    notes: list[str] = []
    out = tmp_path / "out"
    result = run(
        GradeRequest(scans=(*scans, *hostile), selection=Selection(count=COUNT), out_dir=out),
        notes.append,
    )
    problems = "\n".join(result.problems)
    assert "foreign.png: the sheet is for bank 'other-bank'" in problems
    assert "other-set.png: version A (seed 11) of another set of questions" in problems
    assert "blank.png: the page is blank" in problems
    assert "corrupt.png: not a readable image" in problems
    assert "corrupt.pdf: not a readable PDF" in problems
    assert "batch.pdf#2: the page is blank" in problems
    assert (
        f"student {sids[0]}: several sheets (clean-{sids[0]}.png, again.png); none graded"
        in problems
    )
    assert any("upside-down.png: read upside down, turned" in n for n in notes)
    graded = {r.student for r in result.rows}
    # Everyone else is graded: five clean sheets, the turned page and the PDF's first page.
    assert graded == {*sids[1:], klass.students[6].sid, klass.students[7].sid}
    turned = next(r for r in result.rows if r.student == klass.students[6].sid)
    assert turned.sheets == ["upside-down.png"]


def test_unclear_mark_goes_to_review_and_corrections(klass: Klass, tmp_path: Path) -> None:
    st, number = next(
        (s, n)
        for s in klass.students
        for n, text in s.responses.items()
        if text == "" and s.version == "A" and klass.versions[0].items[n - 1].choices
    )
    version = klass.versions[0]
    (page,) = sheet_layout(klass.loaded, version, SEED)
    block = next(b for b in page.blocks if b.number == number)
    bubble = block.fields[0].bubbles[0]
    image = klass.clean[st.sid].copy()
    k = sim.DPI / 25.4
    # A faint half mark: a thin stroke across the bubble.
    cv2.line(
        image,
        (round((bubble.x - BUBBLE / 2) * k), round(bubble.y * k)),
        (round((bubble.x + BUBBLE / 2) * k), round(bubble.y * k)),
        40,
        3,
    )
    scan = tmp_path / "faint.png"
    scan.write_bytes(sim.png(image))
    review = tmp_path / "review.html"
    result = run(
        GradeRequest(
            scans=(scan,), selection=Selection(count=COUNT), review=review, out_dir=tmp_path
        ),
        lambda _: None,
    )
    assert f"faint.png: question {number}: unclear mark" in result.problems
    assert result.rows[0].unclear == [number]
    html = review.read_text("utf-8")
    assert "data:image/png;base64," in html and "faint.png" in html
    corrections = tmp_path / "review-corrections.csv"
    assert corrections.read_text("utf-8").splitlines() == [
        "sheet,question,answer",
        f"faint.png,{number},",
    ]
    corrections.write_text(f"sheet,question,answer\nfaint.png,{number},{bubble.value}\n", "utf-8")
    again = run(
        GradeRequest(
            scans=(scan,),
            selection=Selection(count=COUNT),
            corrections=corrections,
            out_dir=tmp_path,
        ),
        lambda _: None,
    )
    assert again.problems == [] and again.rows[0].unclear == []


def test_time_to_grade_30_pages(klass: Klass, tmp_path: Path) -> None:
    scans = tuple(sorted(klass.folder.glob("photo-*.jpg")))[:30]
    start = time.perf_counter()
    result = run(
        GradeRequest(scans=scans, selection=Selection(count=COUNT), out_dir=tmp_path),
        lambda _: None,
    )
    elapsed = time.perf_counter() - start
    assert result.pages == 30 and result.students == 30
    print(f"graded 30 scanned pages in {elapsed:.2f} s")
    assert elapsed < 60


def test_full_bank_sheet_spans_pages(klass: Klass) -> None:
    loaded = klass.loaded
    (version,) = sim.class_versions(loaded, list(loaded.bank.questions), 1, 1)
    for paper in PAPER_MM:
        pages = sheet_layout(loaded, version, 1, paper)
        assert len(pages) >= 2
        numbers = [b.number for p in pages for b in p.blocks]
        assert numbers == list(range(1, len(loaded.bank.questions) + 1))
        width, height = PAPER_MM[paper]
        for p in pages:
            assert p.payload.endswith(f";{p.number}/{len(pages)};{paper}")
            centres = [(b.x, b.y) for f in p.student for b in f.bubbles] + [
                (b.x, b.y) for block in p.blocks for f in block.fields for b in f.bubbles
            ]
            assert len(set(centres)) == len(centres)
            assert all(15 < x < width - 15 and 15 < y < height - 15 for x, y in centres)


def _typed_csv(k: Klass, path: Path) -> None:
    lines = ["student,version," + ",".join(str(n) for n in range(1, COUNT + 1))]
    for st in k.students:
        cells = [f'"{st.responses[n]}"' for n in range(1, COUNT + 1)]
        lines.append(f"{st.sid},{st.version}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n", "utf-8")


def test_cli_grade_exit_codes(klass: Klass, tmp_path: Path) -> None:
    runner = CliRunner()
    typed = tmp_path / "typed.csv"
    _typed_csv(klass, typed)
    ok = runner.invoke(
        app,
        [
            "grade",
            "--responses",
            str(typed),
            "--seed",
            str(SEED),
            "-n",
            str(COUNT),
            "-o",
            str(tmp_path),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert f"graded {STUDENTS} students" in ok.output
    gradebook = (tmp_path / "kz-spief-2022-gradebook.csv").read_text("utf-8")
    scans = run(
        GradeRequest(
            scans=tuple(sorted(klass.folder.glob("clean-*.png"))),
            selection=Selection(count=COUNT),
            out_dir=tmp_path / "scans",
        ),
        lambda _: None,
    )
    # The typed answers give the same scores as the scans of the same answers.
    typed_scores = [line.split(",")[:3] for line in gradebook.splitlines()[1:]]
    assert typed_scores == [[r.student, r.version, str(r.score)] for r in scans.rows]
    usage = runner.invoke(app, ["grade"])
    assert usage.exit_code == 2 and "SCANS: give scans" in usage.output
    assert "--responses" in usage.output
    no_seed = runner.invoke(app, ["grade", "--responses", str(typed)])
    assert no_seed.exit_code == 2 and "--seed" in no_seed.output
    bad = tmp_path / "bad.csv"
    bad.write_text("student,version,1\n007,A,Z\n", "utf-8")
    wrong = runner.invoke(
        app,
        [
            "grade",
            "--responses",
            str(bad),
            "--seed",
            str(SEED),
            "-n",
            str(COUNT),
            "-o",
            str(tmp_path),
        ],
    )
    assert wrong.exit_code == 1 and f"{bad}:2: question 1 (id: " in wrong.output
    assert "Traceback" not in wrong.output
    nothing = runner.invoke(
        app, ["grade", str(tmp_path / "typed.csv"), "-n", str(COUNT), "-o", str(tmp_path / "x")]
    )
    assert nothing.exit_code == 1 and "no sheet or response could be graded" in nothing.output
    assert not (tmp_path / "x").exists()


def test_worksheet_answer_sheet_cli(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "worksheet",
            "--answer-sheet",
            "-n",
            "10",
            "--seed",
            "3",
            "--versions",
            "2",
            "-o",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 0, result.output
    for letter in "AB":
        html = (tmp_path / f"kz-spief-2022-answersheet-{letter}.html").read_text("utf-8")
        assert f"KZQ1;kz-spief-2022;{letter};3;" in html and "<script" not in html


def test_multi_page_sheet_of_the_whole_bank(klass: Klass, tmp_path: Path) -> None:
    loaded = klass.loaded
    questions = list(loaded.bank.questions)
    (version,) = sim.class_versions(loaded, questions, 1, 1)
    blanks = sim.blank_pages(loaded, questions, 1, 1)["A"]
    (student,) = sim.simulate(loaded, [version], 1, seed=9, keyed_wrong="")
    pages = sim.student_pages(loaded, student, version, blanks, 1, random.Random(1))
    assert len(pages) == 3
    scan = tmp_path / "three.pdf"
    images = [Image.fromarray(p) for p in pages]
    # Scanned in the wrong order: pages stand alone (QR page number, student number on each).
    images = [images[2], images[0], images[1]]
    scan.write_bytes(_pdf(images))
    result = run(GradeRequest(scans=(scan,), out_dir=tmp_path), lambda _: None)
    assert result.problems == [] and result.pages == 3
    (row,) = result.rows
    expected = sum(
        score.score(item, student.responses[item.number]).points for item in version.items
    )
    assert (row.student, row.score, row.max_score) == (
        student.sid,
        expected,
        sum(q.score for q in questions),
    )
    # Without a page (here page 2) the student is still graded, and the missing page is named.
    scan.write_bytes(_pdf(images[:2]))
    partial = run(GradeRequest(scans=(scan,), out_dir=tmp_path), lambda _: None)
    assert f"student {student.sid}: no scan of page 2; scored as unanswered" in partial.problems


def _pdf(images: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", save_all=True, append_images=images[1:], resolution=150)
    return buffer.getvalue()


def test_letter_paper_and_sideways_scans_are_read(klass: Klass) -> None:
    questions = pipeline.choose(klass.loaded, Selection(count=20), 4)
    blank = sim.blank_pages(klass.loaded, questions, 4, 1, paper="letter")["A"][0]
    for turn in (None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180):
        image = blank if turn is None else cv2.rotate(blank, turn)
        scan = omr.read_page(image)
        assert (scan.sheet.paper, scan.sheet.seed, scan.sheet.version) == ("letter", 4, "A")
        width, height = PAPER_MM["letter"]
        assert scan.image.shape == (round(height * omr.SCALE), round(width * omr.SCALE))


def test_gradebook_is_formula_safe(klass: Klass, tmp_path: Path) -> None:
    typed = tmp_path / "typed.csv"
    typed.write_text('student,version,1\n"=HYPERLINK(""x"")",A,\n', "utf-8")
    result = run(
        GradeRequest(
            responses=(typed,), seed=SEED, selection=Selection(count=COUNT), out_dir=tmp_path
        ),
        lambda _: None,
    )
    assert result.students == 1
    gradebook = (tmp_path / "kz-spief-2022-gradebook.csv").read_text("utf-8").splitlines()
    assert gradebook[1].startswith('"\'=HYPERLINK(""x"")",A,0,')


def test_a_russian_answer_sheet_is_read(tmp_path: Path) -> None:
    # The translated header and labels must leave the marks where the OMR looks for them.
    loaded = pipeline.load(Path(__file__).parent / "banks" / "ru-mini.yaml")
    questions = list(loaded.bank.questions)
    versions = sim.class_versions(loaded, questions, 2, 1)
    blanks = sim.blank_pages(loaded, questions, 2, 1)
    students = sim.simulate(loaded, versions, 3, seed=8, keyed_wrong="")
    rng = random.Random(1)
    for st in students:
        (page,) = sim.student_pages(loaded, st, versions[0], blanks["A"], 2, rng)
        scan = omr.read_page(sim.degrade(page, rng))
        (layout,) = sheet_layout(loaded, versions[0], 2)
        read = score.read_sheet(st.sid, scan, layout, {i.number: i for i in versions[0].items})
        assert read.student == st.sid
        assert read.responses == st.responses
