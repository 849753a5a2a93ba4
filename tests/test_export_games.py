"""Game-platform exports (Kahoot, Blooket, Quizizz/Wayground, Gimkit) and `export --list`.

Each spreadsheet is read back the way a consumer reads it (openpyxl for .xlsx, the csv module
for .csv): the template's columns, the platform's limits, the correct-answer numbers against
the bank, the notes for exactly what the format cannot hold, and identical bytes on any day.
"""

from __future__ import annotations

import csv
import io
import json
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from export_helpers import check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.cli import app
from kzquiz.formats import BY_NAME, FORMATS, export_names
from kzquiz.loader import load_bank
from kzquiz.model import Cloze, Multiple, Question, Short, Single, TrueFalse
from kzquiz.render import Outputs, RenderJob, blooket, gimkit, kahoot, quizizz

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "questions.yaml"
GAMES = ("kahoot", "blooket", "quizizz", "gimkit")


@pytest.fixture
def loaded(make_bank: Any) -> LoadedBank:
    return load_export_bank(make_bank)


def _render(loaded: LoadedBank, name: str, questions: Any = None) -> Outputs:
    qs = loaded.bank.questions if questions is None else questions
    return BY_NAME[name].render(RenderJob(loaded, qs))


def _data(outputs: Outputs) -> bytes:
    (data,) = outputs.files.values()
    return data


def _sheet(data: bytes) -> list[list[Any]]:
    """Every row of the workbook's only sheet, as openpyxl reads it, trailing Nones dropped."""
    wb = openpyxl.load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Sheet1"]
    ws = wb.active
    assert ws is not None
    for row in ws.iter_rows():
        for c in row:
            assert c.data_type != "f", f"{c.coordinate} is a formula: {c.value!r}"
    out = []
    for values in ws.iter_rows(values_only=True):
        row = list(values)
        while row and row[-1] is None:
            row.pop()
        out.append(row)
    return out


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


def _ids(notes: list[str]) -> list[str]:
    return [n.split("(id: ", 1)[1].split(")", 1)[0] for n in notes]


# ---------------------------------------------------------------------------- golden files


@pytest.mark.parametrize("name", ["kahoot", "quizizz"])
def test_xlsx_golden(loaded: LoadedBank, name: str, request: pytest.FixtureRequest) -> None:
    """The cells, as openpyxl reads them back, equal the golden file's."""
    cells = _sheet(_data(_render(loaded, name)))
    text = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in cells)
    check_golden(request, f"export-bank.{name}.cells.jsonl", text.encode("utf-8"))


@pytest.mark.parametrize("name", ["blooket", "gimkit"])
def test_csv_golden(loaded: LoadedBank, name: str, request: pytest.FixtureRequest) -> None:
    check_golden(request, f"export-bank.{name}.csv", _data(_render(loaded, name)))


@pytest.mark.parametrize("name", GAMES)
def test_same_bytes_on_any_day(
    loaded: LoadedBank, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clock does not reach the file: openpyxl's own save would stamp it in."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first = _render(loaded, name).files
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    second = _render(loaded, name).files
    assert first == second
    if name in ("kahoot", "quizizz"):
        data = _data(_render(loaded, name))
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            assert zf.testzip() is None
            assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
            core = zf.read("docProps/core.xml").decode()
            # Every part is well-formed XML and declared in [Content_Types].xml, as any
            # Office Open XML reader (not only openpyxl) requires.
            parts = {n: ET.fromstring(zf.read(n)) for n in zf.namelist()}
            declared = {
                el.get("PartName") for el in parts["[Content_Types].xml"] if el.get("PartName")
            }
            assert "/xl/worksheets/sheet1.xml" in declared and "/xl/workbook.xml" in declared
        assert core.count("1980-01-01T00:00:00Z") == 2  # created and modified
        wb = openpyxl.load_workbook(io.BytesIO(data))
        assert wb.properties.creator == "kzquiz"


def test_source_date_epoch_dates_the_workbook(
    loaded: LoadedBank, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # 2023-11-14
    wb = openpyxl.load_workbook(io.BytesIO(_data(_render(loaded, "kahoot"))))
    assert wb.properties.created is not None and wb.properties.created.year == 2023
    assert wb.properties.modified == wb.properties.created


# ---------------------------------------------------------------------------- notes per format

_SKIPPED = ("forum-number", "keosayan", "china-investment", "who-is-who", "timeline")
_SKIPPED_ESC = ("esc-short", "esc-matching", "esc-cloze", "esc-range")
_FORMULA = "questions[8] (id: esc-single): {fmt}: answer 1 starts with '='; written with a leading apostrophe so spreadsheets do not run it as a formula"


def _not_held(index: int, qid: str, qtype: str, fmt: str, holds: str) -> str:
    return f"questions[{index}] (id: {qid}): {fmt}: {qtype} questions cannot be imported ({fmt} imports {holds}); left out"


def test_notes_are_exactly_what_each_format_cannot_hold(loaded: LoadedBank) -> None:
    by_id = {q.id: (i, q.type) for i, q in enumerate(loaded.bank.questions)}

    def left_out(fmt: str, holds: str, ids: tuple[str, ...]) -> list[str]:
        return [_not_held(by_id[i][0], i, by_id[i][1], fmt, holds) for i in ids]

    choice_only = (*_SKIPPED[:5], "esc-short", "esc-matching", "esc-cloze", "esc-range")
    assert _render(loaded, "kahoot").notes == [
        *left_out("Kahoot", "multiple-choice and true/false questions only", choice_only[:5]),
        _FORMULA.format(fmt="Kahoot"),
        *left_out("Kahoot", "multiple-choice and true/false questions only", choice_only[5:]),
    ]
    assert _render(loaded, "blooket").notes == [
        *left_out("Blooket", "multiple-choice questions only", choice_only[:5]),
        _FORMULA.format(fmt="Blooket"),
        *left_out("Blooket", "multiple-choice questions only", choice_only[5:]),
    ]
    assert _render(loaded, "gimkit").notes == [
        "questions[1] (id: breakaway-regions): Gimkit: Gimkit holds one right answer per "
        "question, not several; left out",
        *left_out("Gimkit", "questions with one right answer only", choice_only[:5]),
        "questions[8] (id: esc-single): Gimkit: correct answer starts with '='; written with a "
        "leading apostrophe so spreadsheets do not run it as a formula",
        *left_out("Gimkit", "questions with one right answer only", choice_only[5:]),
    ]
    holds = "choice, checkbox and fill-in-the-blank questions"
    assert _render(loaded, "quizizz").notes == [
        "questions[5] (id: china-investment): Quizizz: numeric answer written as the "
        "fill-in-the-blank text '22'; Quizizz compares typed text, so the tolerance ± 0.5 is lost",
        *left_out("Quizizz", holds, ("who-is-who", "timeline")),
        _FORMULA.format(fmt="Quizizz").replace("answer 1", "option 1"),
        *left_out("Quizizz", holds, ("esc-matching",)),
        "questions[12] (id: esc-range): Quizizz: numeric answer written as the "
        "fill-in-the-blank text '500'; Quizizz compares typed text, so the accepted range "
        "500–600 is lost",
    ]


# ---------------------------------------------------------------------------- read-back


def _held(loaded: LoadedBank, types: tuple[type, ...], most: int) -> list[Question]:
    out = []
    for q in loaded.bank.questions:
        choices = getattr(q, "choices", None)
        if isinstance(q, types) and (choices is None or len(choices) <= most):
            out.append(q)
    return out


def _answers(q: Question) -> list[str]:
    if isinstance(q, TrueFalse):
        return ["True", "False"]
    assert isinstance(q, (Single, Multiple))
    return [c.text for c in q.choices]


def _right(q: Question) -> list[int]:
    if isinstance(q, TrueFalse):
        return [1 if q.answer else 2]
    assert isinstance(q, (Single, Multiple))
    return [i for i, c in enumerate(q.choices, 1) if c.correct]


def _unguard(text: str) -> str:
    return text[1:] if text.startswith("'=") else text


def _numbers(value: Any) -> list[int]:
    return [int(n) for n in str(value).split(",")]


def test_kahoot_template_columns_limits_and_answers(loaded: LoadedBank) -> None:
    sheet = _sheet(_data(_render(loaded, "kahoot")))
    assert sheet[1] == [None, "Quiz template"]
    assert sheet[7] == [None, *kahoot.HEADINGS[1:]]
    rows = sheet[8:]
    held = _held(loaded, (Single, Multiple, TrueFalse), 4)
    assert len(rows) == len(held) == 5
    for number, (row, q) in enumerate(zip(rows, held, strict=True), start=1):
        row += [None] * (8 - len(row))
        assert row[0] == number
        assert isinstance(row[1], str) and len(row[1]) <= kahoot.MAX_QUESTION
        answers = [a for a in row[2:6] if a is not None]
        assert [_unguard(a) for a in answers] == _answers(q)
        assert all(len(a) <= kahoot.MAX_ANSWER for a in answers)
        assert row[6] in kahoot.TIME_LIMITS
        assert _numbers(row[7]) == _right(q)
    assert rows[1][7] == "1,2,4"  # several right answers: comma-separated numbers
    assert rows[0][7] == 1  # one: a number, as Kahoot's own sample


def test_kahoot_cuts_overlong_text_with_a_note(make_bank: Any) -> None:
    data = load_export_bank(make_bank)
    long = load_bank(
        make_bank(
            (Path(__file__).parent / "golden" / "export-bank.yaml")
            .read_text(encoding="utf-8")
            .replace(
                "prompt: Which two UN principles did Tokayev say had come into conflict?",
                "prompt: " + "Which two UN principles did Tokayev say had come into conflict? " * 3,
            )
            .replace(
                "{text: Non-interference and collective security}",
                "{text: " + "Non-interference and collective security " * 3 + "}",
            )
        )
    )
    assert long.bank.questions[0].stem != data.bank.questions[0].stem
    outputs = _render(long, "kahoot", long.bank.questions[:1])
    row = _sheet(_data(outputs))[8]
    assert len(row[1]) == 120 and row[1].endswith("…")
    assert row[1].startswith("Which two UN principles did Tokayev say had come into conflict?")
    assert len(row[3]) <= 75 and row[3].endswith("…")
    assert outputs.notes == [
        "questions[0] (id: un-two-principles): Kahoot: the question has 191 characters, more "
        "than the 120 allowed; cut to 120 ending in '…': shorten it in the bank",
        "questions[0] (id: un-two-principles): Kahoot: answer 2 has 122 characters, more than "
        "the 75 allowed; cut to 75 ending in '…': shorten it in the bank",
    ]


def test_more_choices_than_a_platform_holds_are_noted(make_bank: Any) -> None:
    text = (Path(__file__).parent / "golden" / "export-bank.yaml").read_text(encoding="utf-8")
    five = text.replace(
        "      - {text: Sovereign equality and peaceful settlement}\n",
        "      - {text: Sovereign equality and peaceful settlement}\n"
        "      - {text: Freedom of navigation}\n      - {text: Collective defence}\n",
    )
    bank = load_bank(make_bank(five))
    q = bank.bank.questions[:1]
    assert len(bank.bank.questions[0].choices) == 5  # type: ignore[union-attr]
    for name, most in (("kahoot", 4), ("blooket", 4), ("gimkit", 4)):
        outputs = _render(bank, name, q)
        fmt = name.capitalize()
        assert outputs.notes == [
            f"questions[0] (id: un-two-principles): {fmt}: 5 choices; {fmt} holds at most "
            f"{most}; left out"
        ]
    quizizz_rows = _sheet(_data(_render(bank, "quizizz", q)))[2:]
    assert quizizz_rows[0][2:7] == [c.text for c in bank.bank.questions[0].choices]  # type: ignore[union-attr]


def test_blooket_template_columns_limits_and_answers(loaded: LoadedBank) -> None:
    table = _csv_rows(_data(_render(loaded, "blooket")))
    assert table[0] == [blooket.TITLE, *[""] * 7]
    assert table[1] == list(blooket.HEADINGS)
    rows = table[2:]
    held = _held(loaded, (Single, Multiple, TrueFalse), 4)
    assert len(rows) == len(held) == 5
    for number, (row, q) in enumerate(zip(rows, held, strict=True), start=1):
        assert len(row) == 8 and row[0] == str(number)
        assert [_unguard(a) for a in row[2:6] if a] == _answers(q)
        assert 0 < int(row[6]) <= blooket.MAX_TIME
        assert _numbers(row[7]) == _right(q)
    # A tab and a line break stay inside their quoted cell.
    assert rows[3][1] == loaded.bank.questions[8].stem


def test_gimkit_template_columns_and_answers(loaded: LoadedBank) -> None:
    table = _csv_rows(_data(_render(loaded, "gimkit")))
    assert table[0] == [gimkit.TITLE, "", "", "", ""]
    assert table[1] == list(gimkit.HEADINGS)
    rows = table[2:]
    held = [q for q in _held(loaded, (Single, TrueFalse), 4)]
    assert len(rows) == len(held) == 4
    for row, q in zip(rows, held, strict=True):
        assert len(row) == 5
        answers = _answers(q)
        (right,) = _right(q)
        assert _unguard(row[1]) == answers[right - 1]
        assert [_unguard(a) for a in row[2:] if a] == [
            a for i, a in enumerate(answers, 1) if i != right
        ]
    assert rows[1][1:3] == ["False", "True"]  # sanctions-break is false


def test_quizizz_template_types_and_answers(loaded: LoadedBank) -> None:
    sheet = _sheet(_data(_render(loaded, "quizizz")))
    assert sheet[0] == list(quizizz.HEADINGS)
    assert sheet[1] == list(quizizz.INSTRUCTIONS)
    rows = [row + [None] * (11 - len(row)) for row in sheet[2:]]
    by_prompt = {r[0]: r for r in rows}
    qs = {q.id: q for q in loaded.bank.questions}
    for row in rows:
        assert row[1] in ("Multiple Choice", "Checkbox", "Fill-in-the-Blank")
        assert row[8] in quizizz.TIME_LIMITS
        options = [o for o in row[2:7] if o is not None]
        assert 1 <= len(options) <= quizizz.MAX_OPTIONS
        if row[1] == "Fill-in-the-Blank":
            assert row[7] is None
        else:
            assert all(1 <= n <= len(options) for n in _numbers(row[7]))
    multi = by_prompt[qs["breakaway-regions"].stem]
    assert multi[1] == "Checkbox" and multi[7] == "1,2,4"
    tf = by_prompt[qs["esc-truefalse"].stem]
    assert tf[1:4] == ["Multiple Choice", "True", "False"] and tf[7] == "1"
    short = qs["keosayan"]
    assert isinstance(short, Short)
    assert by_prompt[short.stem][2:4] == short.answers
    cloze = qs["forum-number"]
    assert isinstance(cloze, Cloze)
    blanks = [r for r in rows if r[0].startswith("Tokayev spoke at the ")]
    assert [[o for o in r[2:7] if o] for r in blanks] == cloze.blanks  # one row per blank
    assert blanks[1][0] == (
        "Tokayev spoke at the 25th St. Petersburg International _____ Forum in June 2022."
    )
    numeric = by_prompt[qs["china-investment"].stem + " (unit: billion USD)"]
    assert numeric[1:3] == ["Fill-in-the-Blank", "22"]
    assert by_prompt[qs["un-two-principles"].stem][10].startswith("He named territorial")
    assert "Evidence (paragraph" in by_prompt[qs["un-two-principles"].stem][10]
    assert not [r for r in rows if r[0] in (qs["who-is-who"].stem, qs["timeline"].stem)]


def test_formula_starts_are_defused_in_every_game(loaded: LoadedBank) -> None:
    """'=1+1 is a formula' reaches the spreadsheet as text, not as a formula to run."""
    for name in ("kahoot", "quizizz"):
        wb = openpyxl.load_workbook(io.BytesIO(_data(_render(loaded, name))))
        ws = wb.active
        assert ws is not None
        found = [c for row in ws.iter_rows() for c in row if c.value == "'=1+1 is a formula"]
        assert found and all(c.data_type == "s" for c in found), name
    for name in ("blooket", "gimkit"):
        text = _data(_render(loaded, name)).decode("utf-8-sig")
        assert "'=1+1 is a formula" in text and ",=1+1" not in text


# ---------------------------------------------------------------------------- the shipped bank


def _limits_broken(q: Question, name: str) -> bool:
    """Whether `q`, of a type the format holds, breaks one of its limits (worked out here)."""
    answers = _answers(q) if isinstance(q, (Single, Multiple, TrueFalse)) else []
    texts = [q.stem, *answers]
    if isinstance(q, Short):
        texts += q.answers
    if name == "quizizz":
        texts.append(q.explanation)
    if any(t.startswith(("=", "+", "-", "@", "\t", "\r")) for t in texts):
        return True  # a formula start, defused with a note
    if name == "kahoot":
        return len(answers) > 4 or len(q.stem) > 120 or any(len(a) > 75 for a in answers)
    if name in ("blooket", "gimkit"):
        return len(answers) > 4
    if isinstance(q, Short):
        return len(q.answers) > 5
    if isinstance(q, Cloze):
        return any(len(b) > 5 for b in q.blanks)
    return len(answers) > 5


@pytest.mark.parametrize("name", GAMES)
def test_shipped_bank_notes_name_exactly_what_cannot_be_held(name: str) -> None:
    loaded = load_bank(SHIPPED)
    outputs = _render(loaded, name)
    assert _data(outputs)
    fmt = BY_NAME[name]
    expected = {
        q.id for q in loaded.bank.questions if q.type in fmt.noted or _limits_broken(q, name)
    }
    # A question it holds but whose picture it cannot carry (no game import takes files).
    pictured = {
        q.id
        for q in loaded.bank.questions
        if q.type not in fmt.noted and (q.image is not None or q.explanation_image is not None)
    }
    assert set(_ids(outputs.notes)) == expected | pictured
    # Every question of a type the format holds and within its limits is in the file.
    kept = [q for q in loaded.bank.questions if q.id not in expected]
    assert all(
        "left out: " in n
        for n in outputs.notes
        if any(f"(id: {i})" in n for i in pictured - expected)
    )
    assert kept
    data = _data(outputs)
    cells = (
        [c for row in _sheet(data) for c in row if isinstance(c, str)]
        if name in ("kahoot", "quizizz")
        else [c for row in _csv_rows(data) for c in row]
    )
    for q in kept:
        if not isinstance(q, Cloze):
            assert q.stem in cells or q.stem + " (unit: " in " ".join(cells), (name, q.id)


# ---------------------------------------------------------------------------- the CLI


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_export_list_prints_every_format_from_the_registry() -> None:
    result = _run("export", "--list")
    assert result.exit_code == 0, result.output
    blocks = result.stdout.split("\n")
    heads = [line for line in blocks if line and not line.startswith(" ")]
    assert [h.split()[0] for h in heads] == export_names()
    for fmt in FORMATS:
        if not fmt.export:
            assert f"\n{fmt.name} " not in "\n" + result.stdout
            continue
        head = next(h for h in heads if h.split()[0] == fmt.name)
        assert fmt.summary in head and fmt.file_names("<bank-id>")[0] in head
        block = result.stdout.split(head, 1)[1].split("\n")[1:4]
        for label, types in zip(
            ("native", "converted", "noted"), (fmt.native, fmt.converted, fmt.noted), strict=True
        ):
            line = next(b for b in block if b.strip().startswith(label))
            listed = line.split(":", 1)[1].strip()
            assert set(listed.split(", ")) - {"-"} == set(types), (fmt.name, label)
    assert "kahoot" in result.stdout and "noted (a note each): cloze, short" in result.stdout


def test_export_without_format_is_bad_usage(mini_bank: Path) -> None:
    result = _run("export")
    assert result.exit_code == 2
    assert "FORMAT: none given; use one of gift, qti" in result.stderr
    assert "--list" in result.stderr


@pytest.mark.parametrize(
    ("fmt", "name"),
    [
        ("kahoot", "mini.kahoot.xlsx"),
        ("blooket", "mini.blooket.csv"),
        ("quizizz", "mini.quizizz.xlsx"),
        ("gimkit", "mini.gimkit.csv"),
    ],
)
def test_export_writes_each_game_file(
    fmt: str, name: str, mini_bank: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("export", fmt, str(mini_bank))
    assert result.exit_code == 0, result.output
    assert f"8 questions: {name}" in result.stdout
    assert "note: questions[3] (id: forum-number)" in result.stderr or fmt == "quizizz"
    assert (tmp_path / name).read_bytes() == _data(_render(load_bank(mini_bank), fmt))
