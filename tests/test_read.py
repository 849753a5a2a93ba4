"""Reading a bank in the background gives exactly what reading it at once gives, errors included."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import BankFactory
from kzquiz.cli import app
from kzquiz.errors import BankError
from kzquiz.loader import load_bank
from kzquiz.read import BankReading


def _outcome(reading: BankReading) -> tuple[str, object]:
    try:
        return "ok", load_bank(reading.path, reading=reading).bank
    except BankError as exc:
        return "error", str(exc)


@pytest.mark.parametrize(
    "content",
    [
        None,  # the valid mini bank
        "bank: [unclosed",
        "a: 1\na: 2\n",
        "x: !!python/object/apply:os.system ['true']\n",
        "",
    ],
    ids=["valid", "syntax-error", "duplicate-key", "refused-tag", "empty"],
)
def test_background_and_inline_reading_agree(make_bank: BankFactory, content: str | None) -> None:
    path = make_bank(content)
    background = _outcome(BankReading.start(path))
    inline = _outcome(BankReading.now(path))
    assert background == inline
    assert background[0] == ("ok" if content is None else "error")


def test_an_unreadable_file_is_reported_by_the_collecting_thread(tmp_path: Path) -> None:
    reading = BankReading.start(tmp_path / "missing.yaml")
    with pytest.raises(BankError, match=r"missing\.yaml: cannot read the bank: no such file"):
        reading.text()
    with pytest.raises(BankError):
        reading.data()


def test_the_collector_is_on_again_after_a_failed_load(make_bank: BankFactory) -> None:
    path = make_bank("bank: [unclosed")
    assert gc.isenabled()
    result = CliRunner().invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    assert "YAML syntax error" in result.stderr
    assert gc.isenabled()
