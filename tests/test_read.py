"""Reading a bank in the background gives exactly what reading it at once gives, errors included."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

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


@pytest.fixture
def events(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What happens, in order: a reading starts; a command asks for its reading."""
    from kzquiz import speed

    seen: list[str] = []
    start, asked = BankReading.start.__func__, speed.load  # type: ignore[attr-defined]

    def counting_start(cls: type[BankReading], path: Path, name: str | None = None) -> Any:
        seen.append(f"start {path.name}")
        return start(cls, path, name)

    def counting_ask(path: Path, display: str | None = None) -> Any:
        seen.append("command asks")
        return asked(path, display)

    monkeypatch.setattr(BankReading, "start", classmethod(counting_start))
    monkeypatch.setattr(speed, "load", counting_ask)
    return seen


@pytest.mark.parametrize(
    "args",
    [
        ["check", "bank.yaml"],
        ["check", "--strict", "bank.yaml"],
        ["anki", "bank.yaml", "-o", "out", "--topic", "un"],
        ["worksheet", "-n", "3", "bank.yaml", "--seed", "1", "-o", "out"],
    ],
)
def test_the_bank_is_read_before_typer_converts_the_options(
    make_bank: BankFactory, events: list[str], monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(make_bank().parent)
    result = CliRunner().invoke(app, args)
    # One reading, begun before the command ran, and handed to it.
    assert events == ["start bank.yaml", "command asks"], result.output
    assert gc.isenabled()


@pytest.mark.parametrize(
    ("args", "exit_code"),
    [
        (["check", "--help"], 0),
        (["--version"], 0),
        (["schema"], 0),
        (["check", "--nope", "bank.yaml"], 2),
        (["nosuchcommand", "bank.yaml"], 2),
    ],
)
def test_nothing_is_read_ahead_for_a_command_that_will_not_read(
    make_bank: BankFactory,
    events: list[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    exit_code: int,
) -> None:
    monkeypatch.chdir(make_bank().parent)
    result = CliRunner().invoke(app, args)
    assert result.exit_code == exit_code, result.output
    assert events == []
    assert gc.isenabled()


def test_a_reading_begun_for_a_command_that_then_fails_is_dropped(
    make_bank: BankFactory, events: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from kzquiz import speed

    monkeypatch.chdir(make_bank().parent)
    # The words parse, but Typer refuses the value: the read-ahead began and must not linger.
    result = CliRunner().invoke(app, ["worksheet", "bank.yaml", "-n", "many"])
    assert result.exit_code == 2
    assert events == ["start bank.yaml"]
    assert speed._READ_AHEAD == {}
    assert gc.isenabled()


def test_the_reading_lets_go_of_the_raw_data_once_loaded(make_bank: BankFactory) -> None:
    reading = BankReading.start(make_bank())
    load_bank(reading.path, reading=reading)
    # The command keeps its reading object while it renders; the raw YAML must not stay.
    assert (reading._text, reading._data) == (None, None)
    with pytest.raises(RuntimeError, match="loaded already"):
        load_bank(reading.path, reading=reading)
