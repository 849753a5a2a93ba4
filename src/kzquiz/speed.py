"""Speed machinery in one place: reading the bank ahead, and the garbage collector's policy.

Two things make a command start fast, and both live here so that no command body has to
know about them:

- Read-ahead: the CLI calls `read_ahead(bank)` as soon as the command line names a bank,
  before Typer converts the options (which imports pydantic). The bank is then read and
  parsed in a background thread (kzquiz.read.BankReading) while the command's imports run;
  `load(bank)` collects that reading, or reads the bank now if no reading was started.
- The collector: a bank's objects live until the command ends, so the cyclic collector is
  off while they are built and they are frozen out of its sight afterwards, instead of being
  rescanned again and again for nothing. Reference counting frees everything as usual.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kzquiz.bank import LoadedBank
    from kzquiz.read import BankReading

# Banks whose reading started before their command ran: the path the bank was found at.
_READ_AHEAD: dict[Path, BankReading] = {}


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a step builds many objects that stay alive.

    Parsing, validating and rendering a big bank allocate hundreds of thousands of small
    objects and free almost none; the collector would scan them again and again for nothing.
    Reference counting still frees everything as usual, and the collector runs again
    afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_ahead(path: Path) -> None:
    """Start reading and parsing the bank at `path` in the background, for load() to collect."""
    from kzquiz.read import BankReading

    if path not in _READ_AHEAD:
        # The collector stays off until load() has built the bank (see the module docstring).
        gc.disable()
        _READ_AHEAD[path] = BankReading.start(path)


def load(path: Path, display: str | None = None) -> LoadedBank:
    """The validated bank at `path`, collecting a reading started by read_ahead()."""
    from kzquiz.loader import load_bank

    reading = _READ_AHEAD.pop(path, None)
    try:
        loaded = load_bank(path, display=display, reading=reading)
    finally:
        gc.enable()
    # Move the bank out of the cyclic collector's sight for good, so later collections don't
    # rescan hundreds of thousands of objects for nothing.
    gc.freeze()
    return loaded


def reset() -> None:
    """Forget readings nobody collected and turn the collector back on (end of a command)."""
    _READ_AHEAD.clear()
    gc.enable()
