"""Bank file -> plain Python data: the first step of loading, with no heavy imports.

Parsing a big bank is the slowest step before validation, and yaml-rs does most of it with
the GIL released. So the CLI starts it in a background thread (`BankReading.start`) and
imports pydantic, the models and the renderers meanwhile; `loader.load_bank` then collects
the result and validates it. Whatever reading or parsing raises is raised again in the thread
that collects the result, never lost in the background one.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

import yaml_rs

from kzquiz.errors import BankError, Problem

MAX_BANK_BYTES = 64 * 1024 * 1024  # a 50,000-question bank is ~25 MB
# Aliases are rare in banks; a few are fine, a "billion laughs" is refused in milliseconds.
_ALIAS_LIMITS = yaml_rs.AliasLimits(
    max_total_replayed_events=200_000,
    max_alias_expansions_per_anchor=1_000,
    max_replay_stack_depth=16,
)
_PLAIN_TAGS = {"str", "int", "float", "bool", "null", "seq", "map"}


def bundled_bank() -> Path | None:
    """The bank shipped inside the installed package, if any."""
    candidate = resources.files("kzquiz") / "data" / "questions.yaml"
    return Path(str(candidate)) if candidate.is_file() else None


def find_bank(arg: Path | None) -> Path:
    """The bank to use: the argument, else ./questions.yaml, else the bundled bank."""
    if arg is not None:
        return arg
    local = Path("questions.yaml")
    if local.exists():
        return local
    return bundled_bank() or local


def read_text(path: Path, name: str, limit: int, what: str) -> str:
    """A UTF-8 text file of at most `limit` bytes; a BankError that says why not."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except IsADirectoryError:
        raise BankError(
            [Problem(name, None, None, "", f"cannot read the {what}: it is a folder, not a file")]
        ) from None
    except FileNotFoundError:
        raise BankError(
            [Problem(name, None, None, "", f"cannot read the {what}: no such file")]
        ) from None
    except OSError as exc:
        raise BankError(
            [Problem(name, None, None, "", f"cannot read the {what}: {exc.strerror or exc}")]
        ) from None
    if len(raw) > limit:
        raise BankError(
            [
                Problem(
                    name,
                    None,
                    None,
                    "",
                    f"the {what} is larger than {limit // (1024 * 1024)} MiB; split it or trim it",
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise BankError(
            [
                Problem(
                    name,
                    line,
                    col,
                    "",
                    f"the {what} is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
                )
            ]
        ) from None


def may_have_tags(text: str) -> bool:
    """Whether a "!" stands where a YAML tag could start: first in a line, or after a space,
    `[`, `{` or `,`. Quoted text may match too; then the scanner decides."""
    # str.find hops from one "!" to the next (a bank has few); a regex for the same thing
    # tries every position of a 5 MB bank and costs a sixth of a second.
    at = text.find("!")
    while at >= 0:
        if at == 0 or text[at - 1].isspace() or text[at - 1] in "[{,":
            return True
        at = text.find("!", at + 1)
    return False


def refuse_tags(text: str, name: str) -> None:
    """Refuse every YAML tag but the plain core ones: a bank is data, never objects."""
    if not may_have_tags(text):
        return
    import yaml  # PyYAML only when there is something to look at (saves its import)

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    problems = []
    try:
        for token in yaml.scan(text, Loader=loader):
            if isinstance(token, yaml.TagToken):
                handle, suffix = token.value
                if handle == "!!" and suffix in _PLAIN_TAGS:
                    continue
                tag = f"{handle or ''}{suffix}"
                m = token.start_mark
                problems.append(
                    Problem(
                        name,
                        m.line + 1,
                        m.column + 1,
                        "",
                        f"YAML tag {tag} is refused: a bank is plain data (no !!python or other object tags)",
                    )
                )
    except yaml.YAMLError:
        return  # the parser reports syntax errors with their own positions
    if problems:
        raise BankError(problems)


def parse_yaml(text: str) -> Any:
    """Safe-load YAML text with yaml-rs: plain data only, duplicate keys and alias bombs refused.

    Raises yaml_rs.YAMLDecodeError (or RecursionError, MemoryError, ...) as yaml-rs does; the
    loader turns those into located problems.
    """
    return yaml_rs.loads(text, parse_datetime=False, alias_limits=_ALIAS_LIMITS)


class BankReading:
    """A bank file being read and parsed: in a background thread, or at once."""

    def __init__(self, path: Path, name: str | None = None) -> None:
        self.path = path
        self.name = name or str(path)
        self._text: str | None = None
        self._data: Any = None
        self._error: Exception | None = None
        self._thread: threading.Thread | None = None

    @classmethod
    def start(cls, path: Path, name: str | None = None) -> BankReading:
        """Begin reading and parsing in a background thread; collect with text() and data()."""
        reading = cls(path, name)
        # A daemon thread: if the command fails before collecting it, exiting doesn't wait.
        reading._thread = threading.Thread(target=reading._run, name="kzquiz-read", daemon=True)
        reading._thread.start()
        return reading

    @classmethod
    def now(cls, path: Path, name: str | None = None) -> BankReading:
        """Read and parse in this thread."""
        reading = cls(path, name)
        reading._run()
        return reading

    def _run(self) -> None:
        try:
            self._text = read_text(self.path, self.name, MAX_BANK_BYTES, "bank")
            refuse_tags(self._text, self.name)
            self._data = parse_yaml(self._text)
        except Exception as exc:  # kept for the thread that collects the result
            self._error = exc

    def _wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def text(self) -> str:
        """The bank's text; raises the BankError if the file could not be read."""
        self._wait()
        if self._text is None:
            raise self._error or RuntimeError("this reading was loaded already; read again")
        return self._text

    def data(self) -> Any:
        """The parsed YAML; raises what reading or parsing raised."""
        self._wait()
        if self._error is not None:
            raise self._error
        if self._text is None:
            raise RuntimeError("this reading was loaded already; read again")
        return self._data

    def release(self) -> None:
        """Forget the text and the data, once the loader has them.

        A command keeps its reading until it ends; the raw data of a big bank (30 MB for
        10,000 questions) must not stay alive beside the validated bank while it renders.
        """
        self._text = self._data = None
