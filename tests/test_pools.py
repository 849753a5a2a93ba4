"""Question pools: the bank's `pools:`, `--pick TOPIC=N`, and how each format holds a pool.

QTI 1.2 and 2.1 keep the pool as a section that draws N (read back with ElementTree), Moodle
XML as a category of its own with the draw in its name and description; the worksheet draws
per version from the seed; every other format holds the whole pool, with a note.
"""

from __future__ import annotations

import copy
import io
import random
import re
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import MINI_BANK
from kzquiz.cli import app
from kzquiz.errors import BankError
from kzquiz.formats import BY_NAME, FORMATS
from kzquiz.loader import load_bank
from kzquiz.pools import Pool, bank_pools, draw
from kzquiz.render.moodle import render_moodle
from kzquiz.render.qti import render_qti
from kzquiz.render.selfcheck import state_key
from kzquiz.render.worksheet import WorksheetOptions, layout, render_worksheets

ROOT = Path(__file__).resolve().parent.parent
QTI12 = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"


def _bank(pools: list[dict[str, Any]]) -> dict[str, Any]:
    data = copy.deepcopy(MINI_BANK)
    data["pools"] = pools
    return data


def _ids(data: dict[str, Any], topic: str) -> list[str]:
    return [q["id"] for q in data["questions"] if q["topic"] == topic]


def _problems(make_bank: Any, pools: list[dict[str, Any]]) -> list[str]:
    with pytest.raises(BankError) as caught:
        load_bank(make_bank(_bank(pools)))
    return [str(p) for p in caught.value.problems]


# ---------------------------------------------------------------------------- validation


def test_a_valid_pool_of_listed_questions_or_a_topic(make_bank: Any) -> None:
    ids = _ids(MINI_BANK, "economy")
    loaded = load_bank(
        make_bank(
            _bank(
                [
                    {"id": "eco", "questions": ids[:3], "draw": 2},
                    {"id": "sov", "topic": "sovereignty", "draw": 1, "title": "Sovereignty"},
                ]
            )
        )
    )
    eco, sov = bank_pools(loaded.bank)
    assert eco == Pool("eco", "eco", tuple(ids[:3]), 2)
    assert sov.title == "Sovereignty" and sov.question_ids == tuple(_ids(MINI_BANK, "sovereignty"))


@pytest.mark.parametrize(
    ("pools", "expected"),
    [
        (
            [{"id": "p", "questions": ["nope"], "draw": 1}],
            r"pools\[0\]\.questions\[0\].*unknown question id 'nope'",
        ),
        ([{"id": "p", "topic": "nope", "draw": 1}], r"pools\[0\]\.topic.*unknown topic 'nope'"),
        (
            [{"id": "p", "topic": "economy", "draw": 99}],
            r"pools\[0\]\.draw.*draw 99 is more than the pool's \d+ questions",
        ),
        (
            [
                {"id": "p", "topic": "economy", "draw": 1},
                {"id": "q", "topic": "economy", "draw": 1},
            ],
            r"pools\[1\].*is already in pools\[0\]",
        ),
        (
            [{"id": "p", "topic": "economy", "questions": ["x"], "draw": 1}],
            r"pools\[0\].*either `questions: \[...\]` or `topic:`",
        ),
        ([{"id": "p", "draw": 1}], r"pools\[0\].*either"),
        (
            [
                {"id": "p", "topic": "economy", "draw": 1},
                {"id": "p", "topic": "sovereignty", "draw": 1},
            ],
            r"pools\[1\]\.id.*duplicate pool id 'p'",
        ),
        ([{"id": "p", "topic": "economy", "draw": 0}], r"pools\[0\]\.draw"),
        ([{"id": "p", "topic": "economy", "drawn": 1}], r"pools\[0\]"),
    ],
)
def test_bad_pools_are_located(make_bank: Any, pools: list[dict[str, Any]], expected: str) -> None:
    problems = _problems(make_bank, pools)
    found = [p for p in problems if re.search(expected, p)]
    assert found, problems
    # file:line of the bank, as every located problem.
    assert re.match(r".*bank\.yaml:\d+", found[0]), found[0]


def test_the_cli_reports_a_bad_pool_and_exits_1(make_bank: Any, tmp_path: Path) -> None:
    path = make_bank(_bank([{"id": "p", "questions": ["nope"], "draw": 1}]))
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "unknown question id 'nope'" in result.stderr and "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- --pick


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        ("economy", "--pick 'economy': write TOPIC=N"),
        ("economy=0", "--pick 'economy=0': write TOPIC=N"),
        ("nope=1", "--pick nope=1: 'nope' is not a topic of this bank"),
        ("economy=99", "--pick economy=99: only"),
    ],
)
def test_bad_picks_are_usage_errors(
    mini_bank: Path, tmp_path: Path, pick: str, message: str
) -> None:
    out = tmp_path / "out.txt"
    result = CliRunner().invoke(
        app, ["export", "gift", str(mini_bank), "--pick", pick, "-o", str(out)]
    )
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and not out.exists()


def test_pick_and_count_do_not_combine(mini_bank: Path, tmp_path: Path) -> None:
    args = [
        "export",
        "gift",
        str(mini_bank),
        "--pick",
        "economy=1",
        "-n",
        "2",
        "-o",
        str(tmp_path / "g"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2 and "--pick and --count cannot be combined" in result.stderr


def test_pick_exports_the_topic_as_a_pool(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "q.zip"
    args = ["export", "qti21", str(mini_bank), "--pick", "economy=2", "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    with zipfile.ZipFile(out) as zf:
        test = ET.fromstring(zf.read("test.xml"))
    ns = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
    (section,) = test.iter(f"{ns}assessmentSection")  # only the picked topic
    selection = section.find(f"{ns}selection")
    assert selection is not None and selection.get("select") == "2"
    refs = [r.get("identifier") for r in section.iter(f"{ns}assessmentItemRef")]
    assert refs == [f"q-{i}" for i in _ids(MINI_BANK, "economy")]


# ---------------------------------------------------------------------------- formats


@pytest.fixture
def pooled(make_bank: Any) -> Any:
    ids = _ids(MINI_BANK, "economy")
    return load_bank(make_bank(_bank([{"id": "eco", "questions": ids[:3], "draw": 2}])))


def test_qti12_pool_is_a_section_with_its_selection_number(pooled: Any) -> None:
    (pool,) = bank_pools(pooled.bank)
    data, _ = render_qti(pooled, pooled.bank.questions, [pool])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        (name,) = [
            n for n in zf.namelist() if n.count("/") == 1 and not n.endswith(("/", "meta.xml"))
        ]
        root = ET.fromstring(zf.read(name))
    root_section = next(root.iter(f"{QTI12}section"))
    inner = root_section.findall(f"{QTI12}section")
    assert len(inner) == 1
    number = inner[0].find(f"{QTI12}selection_ordering/{QTI12}selection/{QTI12}selection_number")
    assert number is not None and number.text == "2"
    titles = [i.get("title") for i in inner[0].findall(f"{QTI12}item")]
    assert titles == list(pool.question_ids)
    loose = [i.get("title") for i in root_section.findall(f"{QTI12}item")]
    assert not set(loose) & set(titles)
    assert len(loose) + len(titles) == len(pooled.bank.questions)


def test_moodle_pool_is_a_category_naming_its_draw(pooled: Any) -> None:
    (pool,) = bank_pools(pooled.bank)
    data, notes = render_moodle(pooled, pooled.bank.questions, [pool])
    root = ET.fromstring(data)
    questions = root.findall("question")
    (at,) = [
        i
        for i, q in enumerate(questions)
        if q.get("type") == "category" and "(draw 2)" in (q.findtext("category/text") or "")
    ]
    info = questions[at].findtext("info/text") or ""
    assert "each student gets 2 of these 3 questions" in info
    assert questions[at].findtext("idnumber") == f"{pooled.id}-pool-eco"
    after = [q.findtext("name/text") for q in questions[at + 1 : at + 4]]
    assert after == list(pool.question_ids)
    assert len(questions) == at + 4  # the pool comes last
    # Moodle's importer has no random question type: none is written, a note says what to do.
    assert not [q for q in questions if q.get("type") == "random"]
    assert any("add 2 random questions from it" in n for n in notes)


def test_worksheet_versions_draw_from_the_pool_reproducibly(pooled: Any) -> None:
    (pool,) = bank_pools(pooled.bank)
    questions = pooled.bank.questions
    versions = layout(pooled, questions, 6, random.Random(7), pools=[pool])
    drawn = [frozenset(i.question.id for i in v.items) & set(pool.question_ids) for v in versions]
    assert all(len(d) == 2 for d in drawn)
    assert len(set(drawn)) > 1  # the versions drew different questions
    others = {q.id for q in questions} - set(pool.question_ids)
    assert all(others <= {i.question.id for i in v.items} for v in versions)
    again = layout(pooled, questions, 6, random.Random(7), pools=[pool])
    assert [[i.question.id for i in v.items] for v in again] == [
        [i.question.id for i in v.items] for v in versions
    ]
    options = WorksheetOptions(versions=3, seed=7)
    first = render_worksheets(pooled, questions, options, random.Random(7), pools=[pool])
    assert render_worksheets(pooled, questions, options, random.Random(7), pools=[pool]) == first
    # The key lists every question any version drew.
    key = first[f"{pooled.id}-key.html"].decode()
    for v in layout(pooled, questions, 3, random.Random(7), pools=[pool]):
        for item in v.items:
            assert item.question.id in key or item.question.stem[:20] in key


def test_draw_keeps_order_and_the_rest() -> None:
    class Q:
        def __init__(self, i: str) -> None:
            self.id = i

    qs: list[Any] = [Q(c) for c in "abcdef"]
    kept = draw(qs, [Pool("p", "p", ("b", "c", "d"), 1)], random.Random(1))
    assert [q.id for q in kept if q.id not in "bcd"] == ["a", "e", "f"]
    assert len(kept) == 4 and [q.id for q in kept] == sorted(q.id for q in kept)


@pytest.mark.parametrize("name", [f.name for f in FORMATS if f.pools == "whole"])
def test_formats_without_pools_hold_the_whole_pool_and_say_so(
    pooled: Any, tmp_path: Path, name: str
) -> None:
    from kzquiz import pipeline

    fmt = BY_NAME[name]
    pools = bank_pools(pooled.bank)
    outputs = pipeline.render(
        fmt, pooled, pooled.bank.questions, seed=fmt.build_seed, folder=tmp_path, pools=pools
    )
    whole = "pool 'eco' is exported whole (3 questions), not a draw of 2"
    assert [n for n in outputs.notes if "pool" in n] == [
        f"bank: {name}: has no question pools: {whole}"
    ]


def test_qti12_quiz_points_count_each_pool_by_its_draw(pooled: Any) -> None:
    (pool,) = bank_pools(pooled.bank)
    data, _ = render_qti(pooled, pooled.bank.questions, [pool])
    by_id = {q.id: q for q in pooled.bank.questions}
    loose = sum(q.score for q in pooled.bank.questions if q.id not in pool.question_ids)
    expected = loose + 2 * max(by_id[i].score for i in pool.question_ids)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        (name,) = [n for n in zf.namelist() if n.endswith("assessment_meta.xml")]
        meta = ET.fromstring(zf.read(name))
    ns = "{http://canvas.instructure.com/xsd/cccv1p0}"
    assert meta.findtext(f"{ns}points_possible") == f"{float(expected):.1f}"


def test_worksheet_messages_count_one_versions_draw(make_bank: Any, tmp_path: Path) -> None:
    ids = _ids(MINI_BANK, "economy")
    data = _bank([{"id": "eco", "questions": ids[:3], "draw": 2}])
    for q in data["questions"]:
        if q["id"] == ids[0]:
            q["excludes"] = [ids[1]]  # a pair the draw puts together on some versions only
    path = make_bank(data)
    args = ["worksheet", str(path), "--versions", "6", "--seed", "7", "-o", str(tmp_path / "w")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    total = len(data["questions"])
    assert f"{total - 1} questions per version, drawn from {total}, 6 versions" in result.stdout
    # The excludes note names exactly the versions whose draw holds both questions.
    loaded = load_bank(path)
    versions = layout(
        loaded, loaded.bank.questions, 6, random.Random(7), pools=bank_pools(loaded.bank)
    )
    both = [v.letter for v in versions if {ids[0], ids[1]} <= {i.question.id for i in v.items}]
    assert 0 < len(both) < 6, "the seed should put the pair together on some versions only"
    pair_notes = [n for n in result.stderr.splitlines() if "`excludes` keeps them apart" in n]
    assert len(pair_notes) == 1
    assert pair_notes[0].startswith(f"note: version {', '.join(both)}: "), pair_notes[0]


def test_worksheet_without_pools_counts_its_questions(mini_bank: Path, tmp_path: Path) -> None:
    args = ["worksheet", str(mini_bank), "--seed", "7", "-o", str(tmp_path / "w")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    total = len(MINI_BANK["questions"])
    assert f"{total} questions, 1 version," in result.stdout
    assert "per version" not in result.stdout


# ---------------------------------------------------------------------------- --pick elsewhere


def _selfcheck(bank: Path, out: Path, seed: int) -> tuple[str, str]:
    """`selfcheck --pick economy=2 --seed SEED`: its summary line and its page."""
    args = ["selfcheck", str(bank), "--pick", "economy=2", "--seed", str(seed), "-o", str(out)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.stderr
    assert "exported whole" not in result.stderr  # a draw, not the whole pool
    (page,) = out.iterdir()
    return result.stdout, page.read_text(encoding="utf-8")


def _holds(page: str, loaded: Any, questions: list[Any], seed: int) -> bool:
    """Whether the page is of exactly these questions (its storage key names them)."""
    return state_key(loaded.id, questions, seed) in page


def test_selfcheck_draws_the_pick_once_from_the_seed(mini_bank: Path, tmp_path: Path) -> None:
    loaded = load_bank(mini_bank)
    economy = [q for q in loaded.bank.questions if q.topic == "economy"]
    pool = Pool("pick-economy", "Economy", tuple(q.id for q in economy), 2)
    drawn = set()
    for seed in range(6):
        stdout, page = _selfcheck(mini_bank, tmp_path / f"s{seed}", seed)
        assert f"2 questions, drawn from {len(economy)}:" in stdout
        expected = draw(economy, [pool], random.Random(seed))
        assert len(expected) == 2 and _holds(page, loaded, expected, seed)
        assert not _holds(page, loaded, economy, seed)
        assert _selfcheck(mini_bank, tmp_path / f"again{seed}", seed)[1] == page  # reproducible
        drawn.add(tuple(q.id for q in expected))
    assert len(drawn) > 1  # seeds draw differently


def test_practice_draws_the_pick_once_from_the_seed(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kzquiz import pipeline
    from kzquiz.practice import console_for
    from kzquiz.select import Selection

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))

    def asked(seed: int) -> tuple[int, str]:
        shown = io.StringIO()

        def stop() -> str:
            raise EOFError

        request = pipeline.Request(
            (), bank=mini_bank, selection=Selection(picks=(("economy", 1),)), seed=seed
        )
        done = pipeline.practise(request, console=console_for(shown), read_line=stop)
        return done.asked, shown.getvalue()

    count, shown = asked(3)
    assert count == 1  # one question of the topic, not all of them
    assert asked(3) == (count, shown)


def test_anki_refuses_a_pick_and_says_why(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "deck"
    result = CliRunner().invoke(
        app, ["anki", str(mini_bank), "--pick", "economy=1", "-o", str(out)]
    )
    assert result.exit_code == 2
    assert "a deck is for learning every question" in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_answer_sheets_follow_each_versions_draw(make_bank: Any, tmp_path: Path) -> None:
    # A version's bubble sheet lists the questions that version drew from the pool, in its
    # printed order, so a scan is graded against what the student saw.
    ids = _ids(MINI_BANK, "economy")
    path = make_bank(_bank([{"id": "eco", "questions": ids[:3], "draw": 2}]))
    out = tmp_path / "out"
    args = ["worksheet", str(path), "--answer-sheet", "--versions", "4", "--seed", "7"]
    result = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    loaded = load_bank(path)
    versions = layout(
        loaded, loaded.bank.questions, 4, random.Random(7), pools=bank_pools(loaded.bank)
    )
    drawn = set()
    for version in versions:
        sheet = (out / f"{loaded.id}-answersheet-{version.letter}.html").read_text()
        printed = [i.question.id for i in version.items]
        assert re.findall(r'data-qid="([^"]+)"', sheet) == printed, version.letter
        drawn.add(frozenset(printed) & set(ids[:3]))
    assert len(drawn) > 1  # the versions drew different questions from the pool
