"""CSV export: golden file, RFC 4180 quoting, every field back from a reader, formula guard."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from export_helpers import check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.model import Cloze, Matching, Multiple, Numeric, Ordering, Short, Single, TrueFalse
from kzquiz.render.csv import COLUMNS, render_csv


@pytest.fixture
def loaded(make_bank: Any) -> LoadedBank:
    return load_export_bank(make_bank)


def _rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_golden(loaded: LoadedBank, request: pytest.FixtureRequest) -> None:
    data, notes = render_csv(loaded, loaded.bank.questions)
    check_golden(request, "export-bank.csv", data)
    assert notes == [
        "questions[8] (id: esc-single): CSV: answer starts with '='; written with a leading "
        "apostrophe so spreadsheets do not run it as a formula"
    ]


def test_rfc4180_bytes(loaded: LoadedBank) -> None:
    data, _ = render_csv(loaded, loaded.bank.questions)
    assert data.startswith(b"\xef\xbb\xbfid,type,topic,")  # UTF-8 BOM, then the header
    assert data.endswith(b"\r\n")
    # Records end with CRLF; a newline inside a quoted field stays as it was written.
    records = data.decode("utf-8-sig").split("\r\n")
    assert records[0] == ",".join(COLUMNS)
    assert '"Which is {not} a ""GIFT"" rule?' in data.decode("utf-8")
    assert len(_rows(data)) == len(loaded.bank.questions)


def test_every_field_reads_back(loaded: LoadedBank) -> None:
    data, _ = render_csv(loaded, loaded.bank.questions)
    rows = _rows(data)
    assert [r["id"] for r in rows] == [q.id for q in loaded.bank.questions]
    for q, r in zip(loaded.bank.questions, rows, strict=True):
        assert r["type"] == q.type
        assert r["topic"] == q.topic and r["topic_name"] == loaded.bank.topics[q.topic]
        assert int(r["difficulty"]) == q.difficulty
        assert json.loads(r["tags"]) == q.tags
        assert int(r["points"]) == q.score
        assert r["prompt"] == q.stem
        assert r["explanation"] == q.explanation and r["evidence"] == q.evidence
        assert int(r["evidence_paragraph"]) == loaded.paragraph_of[q.id]
        assert r["answer"].removeprefix("'") == q.answer_text()
        filled = {c for c in COLUMNS if r[c]}
        if isinstance(q, (Single, Multiple)):
            assert json.loads(r["choices"]) == [c.text for c in q.choices]
            assert json.loads(r["correct"]) == [
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[j] for j, c in enumerate(q.choices) if c.correct
            ]
            assert {"answers", "pairs", "items", "number"}.isdisjoint(filled)
        elif isinstance(q, TrueFalse):
            assert json.loads(r["correct"]) is q.answer
        elif isinstance(q, Short):
            assert json.loads(r["answers"]) == q.answers
        elif isinstance(q, Cloze):
            assert json.loads(r["answers"]) == q.blanks
        elif isinstance(q, Numeric):
            assert float(r["number"]) == q.answer
            assert r["unit"] == (q.unit or "")
            if q.range is not None:
                assert (float(r["range_min"]), float(r["range_max"])) == q.range
                assert r["tolerance"] == ""
            else:
                assert float(r["tolerance"]) == q.tolerance
        elif isinstance(q, Matching):
            assert [tuple(p) for p in json.loads(r["pairs"])] == [
                (p.left, p.right) for p in q.pairs
            ]
        elif isinstance(q, Ordering):
            assert json.loads(r["items"]) == q.items


def test_formula_guard_only_on_text(make_bank: Any, mini_bank_data: dict[str, Any]) -> None:
    """A negative number is a number; text that starts like a formula gets an apostrophe."""
    from kzquiz.loader import load_bank

    numeric = mini_bank_data["questions"][5]
    numeric.update(answer=-5, tolerance=1, unit="degrees")
    numeric["prompt"] = "@SUM(1+1) degrees below zero?"
    loaded = load_bank(make_bank(mini_bank_data))
    data, notes = render_csv(loaded, loaded.bank.questions)
    (row,) = [r for r in _rows(data) if r["id"] == "china-investment"]
    assert row["number"] == "-5" and row["tolerance"] == "1"
    assert row["prompt"] == "'@SUM(1+1) degrees below zero?"
    assert row["answer"] == "'-5 (± 1) degrees"
    assert notes == [
        "questions[5] (id: china-investment): CSV: prompt starts with '@'; written with a "
        "leading apostrophe so spreadsheets do not run it as a formula",
        "questions[5] (id: china-investment): CSV: answer starts with '-'; written with a "
        "leading apostrophe so spreadsheets do not run it as a formula",
    ]
