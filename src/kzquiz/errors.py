"""The small exception hierarchy the library raises; the CLI maps it to exit codes.

No Typer here: the library never exits and never prints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A problem is one line: bank text quoted in a message (a key, a value) may hold newlines
# or other control characters, which are shown escaped instead.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _one_line(text: str) -> str:
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1], text)


@dataclass(frozen=True)
class Problem:
    """One located problem (or warning) in a bank file."""

    file: str
    line: int | None
    col: int | None
    where: str  # e.g. "questions[12] (id: un-two-principles)" or "bank.source.text"
    message: str

    def __str__(self) -> str:
        where, message = _one_line(self.where), _one_line(self.message)
        loc = _one_line(self.file)
        if self.line is not None:
            loc += f":{self.line}"
            if self.col is not None:
                loc += f":{self.col}"
        return f"{loc}: {where}: {message}" if where else f"{loc}: {message}"


class KzquizError(Exception):
    """Base class for every error the tool reports without a traceback.

    `field` names the setting the error is about (e.g. "topic", "count"), when there is one:
    the message then starts with that name, and the CLI shows it as its option (`--topic`).
    """

    exit_code = 1
    field: str | None = None

    def __init__(self, *args: object, field: str | None = None) -> None:
        super().__init__(*args)
        if field is not None:
            self.field = field


class BankError(KzquizError):
    """The bank cannot be used; carries every problem found, one per line."""

    exit_code = 1

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class SelectionError(KzquizError):
    """A selection of questions matched nothing or cannot be satisfied."""

    exit_code = 1


class UsageError(KzquizError):
    """The command line asked for something impossible (bad option value, bad path)."""

    exit_code = 2


class OutputError(KzquizError):
    """An output could not be written; nothing was half-written."""

    exit_code = 1
