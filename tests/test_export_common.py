"""What the LMS exports share: the notes collector."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import pytest

from kzquiz.bank import LoadedBank
from kzquiz.model import Numeric
from kzquiz.render.export_common import Notes, numeric_prompt


def _notes() -> Notes:
    # Notes only reads the bank's question list (for the questions[N] prefix).
    return Notes(cast(LoadedBank, SimpleNamespace(bank=SimpleNamespace(questions=[]))), "GIFT")


def test_notes_keep_first_order_and_say_each_once() -> None:
    notes = _notes()
    for message in ("b", "a", "b", "c", "a"):
        notes.add_bank(message)
    assert notes.items == ["bank: GIFT: b", "bank: GIFT: a", "bank: GIFT: c"]


def test_items_is_a_copy() -> None:
    notes = _notes()
    notes.add_bank("x")
    notes.items.append("y")
    assert notes.items == ["bank: GIFT: x"]


@pytest.mark.parametrize(
    ("unit", "shown"),
    [
        ("billion US dollars", "How many? (unit: billion US dollars)"),
        ("states", "How many? (unit: states)"),
        ("%", "How many? (unit: %)"),
        ("years", "How many? (unit: years)"),
        (None, "How many?"),
    ],
)
def test_numeric_prompt_names_any_unit_so_it_reads_right(unit: str | None, shown: str) -> None:
    q = Numeric(
        id="n", type="numeric", topic="t", difficulty=1, prompt="How many?", answer=1,
        unit=unit, explanation="e", evidence="e",
    )  # fmt: skip
    assert numeric_prompt(q) == shown
