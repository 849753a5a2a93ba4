"""`kzquiz export FORMAT` and the exports build step; the shipped bank in every format."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from export_helpers import moodle_read_file
from kzquiz.cli import app
from kzquiz.formats import BY_NAME, export_names
from kzquiz.loader import load_bank
from kzquiz.render import RenderJob
from kzquiz.render.export_common import bank_order

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "questions.yaml"


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("gift", "mini.gift.txt"),
        ("qti", "mini.qti.zip"),
        ("quizlet", "mini.quizlet.txt"),
        ("csv", "mini.csv"),
    ],
)
def test_default_file_in_this_folder(
    fmt: str, name: str, mini_bank: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    monkeypatch.chdir(tmp_path)
    result = _run("export", fmt, str(mini_bank))
    assert result.exit_code == 0, result.output
    assert f"8 questions: {name}" in result.output
    loaded = load_bank(mini_bank)
    assert (tmp_path / name).read_bytes() == _export(loaded, fmt)[0]
    assert not list(tmp_path.glob(".*.tmp"))  # written atomically, nothing left behind


def test_stdout_and_output_file(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("export", "quizlet", str(mini_bank), "-o", "-")
    assert result.exit_code == 0
    assert result.stdout.count("\n") == 12 and result.stdout.count("\t") == 12
    out = tmp_path / "sub" / "cards.csv"
    result = _run("export", "csv", str(mini_bank), "-o", str(out), "--topic", "economy")
    assert result.exit_code == 0
    assert out.read_bytes().decode("utf-8-sig").count("\r\n") == 1 + 4  # header + 4 questions


def test_selection_options(mini_bank: Path) -> None:
    result = _run(
        "export", "gift", str(mini_bank), "-o", "-", "--type", "truefalse", "--type", "numeric"
    )
    names = [m.name for m in moodle_read_file(result.stdout_bytes) if m.qtype != "category"]
    assert names == ["sanctions-break", "china-investment"]
    sampled = [
        _run("export", "quizlet", str(mini_bank), "-o", "-", "-n", "3", "--seed", "5").stdout
        for _ in range(2)
    ]
    assert sampled[0] == sampled[1] and sampled[0].count("\n") >= 3
    result = _run("export", "csv", str(mini_bank), "-o", "-", "-n", "2")
    assert "seed: " in result.stderr and "--seed" in result.stderr


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ["export", "blackboard"],
            2,
            "unknown export format 'blackboard'; use one of: gift, qti, qti21, cc, moodle, "
            "quizlet, csv, kahoot, blooket, quizizz, gimkit",
        ),
        (["export", "qti", "-o", "-"], 2, "-o: qti is not a text file, so it cannot go to"),
        (["export", "gift", "--difficulty", "4"], 2, "--difficulty '4'"),
        (["export", "gift", "--topic", "nope"], 2, "--topic 'nope' is not a topic"),
        (["export", "gift", "--tag", "nothing-has-this"], 1, "no question matches"),
    ],
)
def test_bad_usage(args: list[str], code: int, message: str, mini_bank: Path) -> None:
    bank = [str(mini_bank)] if len(args) > 1 and args[1] != "blackboard" else []
    result = _run(*args[:2], *bank, *args[2:])
    assert result.exit_code == code
    assert message in result.stderr


def test_output_folder_gets_the_default_name(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("export", "gift", str(mini_bank), "-o", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert (tmp_path / "mini.gift.txt").read_bytes().startswith(b"// ")
    assert f"8 questions: {tmp_path / 'mini.gift.txt'}" in result.stdout


def test_format_names_ignore_case(mini_bank: Path) -> None:
    upper = _run("export", "GIFT", str(mini_bank), "-o", "-")
    assert upper.exit_code == 0, upper.output
    assert upper.stdout_bytes == _run("export", "gift", str(mini_bank), "-o", "-").stdout_bytes


def test_notes_go_to_stderr(make_bank: Any, mini_bank_data: dict[str, Any]) -> None:
    mini_bank_data["questions"][0]["points"] = 4
    bank = make_bank(mini_bank_data)
    result = _run("export", "gift", str(bank), "-o", "-")
    assert result.exit_code == 0
    assert result.stderr == (
        "note: questions[0] (id: un-two-principles): GIFT: GIFT has no points; "
        "set the mark (4) in Moodle\n"
    )
    assert "note:" not in result.stdout


def _export(loaded: Any, fmt: str) -> tuple[bytes, list[str]]:
    outputs = BY_NAME[fmt].render(RenderJob(loaded, loaded.bank.questions))
    (data,) = outputs.files.values()
    return data, outputs.notes


def test_shipped_bank_exports_without_losing_anything() -> None:
    """The bank that ships with kzquiz fits every format that holds every type: no note but
    one per pictured question where the format cannot carry files (GIFT, Quizlet).

    (The game platforms hold choice questions only; tests/test_export_games.py pins their
    notes for this bank.)
    """
    loaded = load_bank(SHIPPED)
    pictured = [q.id for q in loaded.bank.questions if q.image is not None or q.explanation_image]
    assert len(pictured) >= 3
    for fmt in export_names():
        if BY_NAME[fmt].noted:
            continue
        data, notes = _export(loaded, fmt)
        if fmt in {"gift", "quizlet"}:
            assert len(notes) == len(pictured), (fmt, notes)
            for note, qid in zip(notes, pictured, strict=True):
                assert f"(id: {qid})" in note and "picture" in note, (fmt, note)
        else:
            assert notes == [], fmt
        assert data
    gift, _ = _export(loaded, "gift")
    read = [m for m in moodle_read_file(gift) if m.qtype != "category"]
    split = sum(len(q.blanks) - 1 for q in loaded.bank.questions if q.type == "cloze")
    assert len(read) == len(loaded.bank.questions) + split
    assert {m.qtype for m in read} == {
        "multichoice",
        "truefalse",
        "shortanswer",
        "numerical",
        "match",
    }
    moodle, _ = _export(loaded, "moodle")
    questions = [q for q in ET.fromstring(moodle) if q.get("type") != "category"]
    # One Moodle question per bank question: a cloze stays one embedded-answers question.
    assert [q.findtext("idnumber") for q in questions] == [
        q.id for q in bank_order(loaded, loaded.bank.questions)
    ]
    qti, _ = _export(loaded, "qti")
    with zipfile.ZipFile(io.BytesIO(qti)) as zf:
        assert zf.testzip() is None


def test_export_moodle_writes_moodle_xml(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "quiz.xml"
    result = _run("export", "moodle", str(mini_bank), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    root = ET.fromstring(out.read_bytes())
    assert root.tag == "quiz"
    names = [q.findtext("name/text") for q in root if q.get("type") != "category"]
    assert sorted(names) == sorted(q.id for q in load_bank(mini_bank).bank.questions)
    assert _run("export", "moodle", str(mini_bank), "-o", "-").stdout_bytes == out.read_bytes()
