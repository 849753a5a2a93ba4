"""The shipped bank exports to every format, and each format's notes are pinned.

The notes list is exactly what the format cannot hold: tests/golden/shipped-notes.json holds
it per format, note for note (`pytest --update-golden` rewrites it; review the diff), and
every question of a type the registry says the format notes is named.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from export_helpers import check_golden
from kzquiz.formats import FORMATS, QUESTION_ORDER, type_table
from kzquiz.loader import load_bank
from kzquiz.render import RenderJob

ROOT = Path(__file__).resolve().parent.parent


def test_every_format_exports_the_shipped_bank_with_pinned_notes(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    loaded = load_bank(ROOT / "questions.yaml")
    by_id = {q.id: q for q in loaded.bank.questions}
    pinned: dict[str, list[str]] = {}
    for fmt in FORMATS:
        job = RenderJob(loaded, loaded.bank.questions, seed=fmt.build_seed, whole_bank=True)
        outputs = fmt.render(job)
        assert outputs.files and all(outputs.files.values()), fmt.name
        named = {n.split("(id: ", 1)[1].split(")", 1)[0] for n in outputs.notes if "(id: " in n}
        assert named <= set(by_id), fmt.name
        # Every question of a type the format cannot hold is named; the game formats also
        # name questions of types they hold whose text exceeds the platform's limits.
        noted = {q.id for q in loaded.bank.questions if q.type in fmt.noted}
        assert noted <= named, fmt.name
        pinned[fmt.name] = outputs.notes
    text = json.dumps(pinned, indent=1, ensure_ascii=False) + "\n"
    check_golden(request, "shipped-notes.json", text.encode("utf-8"))


def test_type_table_covers_every_format_and_type() -> None:
    table = type_table().splitlines()
    assert len(table) == 2 + len(FORMATS)
    for line, fmt in zip(table[2:], FORMATS, strict=True):
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[0] == fmt.name and len(cells) == 1 + len(QUESTION_ORDER)
        for t, cell in zip(QUESTION_ORDER, cells[1:], strict=True):
            kinds = [t in fmt.native, t in fmt.converted, t in fmt.noted]
            assert sum(kinds) == 1, (fmt.name, t)  # each type held one way exactly
            assert cell == ["native", "converted", "note"][kinds.index(True)]


def test_the_registry_knows_the_question_types_of_the_model() -> None:
    from kzquiz.model import QUESTION_TYPES

    assert QUESTION_ORDER == QUESTION_TYPES
