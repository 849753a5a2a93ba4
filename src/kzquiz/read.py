"""Bank file -> plain Python data: the first step of loading, with no heavy imports.

Parsing a big bank is the slowest step before validation, and yaml-rs does most of it with
the GIL released. So the CLI starts it in a background thread (`BankReading.start`) and
imports pydantic, the models and the renderers meanwhile; `loader.load_bank` then collects
the result and validates it. Whatever reading or parsing raises is raised again in the thread
that collects the result, never lost in the background one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from importlib import resources
from pathlib import Path
from typing import Any

import yaml_rs

from kzquiz.errors import BankError, KzquizError, Problem

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


class UnreadableFile(KzquizError):
    """A file that cannot be read as asked: missing, a folder, a FIFO or device, too large."""

    exit_code = 1

    def __init__(
        self, path: Path, what: str, reason: str, *, too_large: bool = False, missing: bool = False
    ) -> None:
        self.path, self.what, self.reason = path, what, reason
        self.too_large, self.missing = too_large, missing
        super().__init__(f"{path}: cannot read the {what}: {reason}")


_SPECIAL = (
    (stat.S_ISDIR, "it is a folder, not a file"),
    (stat.S_ISFIFO, "it is a pipe (FIFO), not a regular file"),
    (stat.S_ISCHR, "it is a device, not a regular file"),
    (stat.S_ISBLK, "it is a device, not a regular file"),
    (stat.S_ISSOCK, "it is a socket, not a regular file"),
)
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


_open = os.open  # one name to stand in for the OS in tests (a refused permission, say)


def _not_regular(mode: int) -> str | None:
    for test, reason in _SPECIAL:
        if test(mode):
            return reason
    return None if stat.S_ISREG(mode) else "it is not a regular file"


def _size(limit: int) -> str:
    return f"{limit // (1024 * 1024)} MiB" if limit >= 1024 * 1024 else f"{limit:,} bytes"


def read_optional_file(path: Path, *, limit: int, what: str) -> bytes | None:
    """Like read_regular_file(), but None where there is no such file (a first build, say)."""
    try:
        return read_regular_file(path, limit=limit, what=what)
    except UnreadableFile as exc:
        if exc.missing:
            return None
        raise


def read_regular_file(path: Path, *, limit: int, what: str) -> bytes:
    """The bytes of a regular file of at most `limit` bytes; UnreadableFile saying why not.

    Opened without blocking and checked with fstat before a byte is read, so a FIFO, a device
    (/dev/zero, a terminal) or a folder is refused at once instead of hanging or reading forever.
    """
    try:
        fd = _open(path, _OPEN_FLAGS)
    except ValueError:  # an embedded NUL: no file can have that name
        raise UnreadableFile(path, what, "its path contains a NUL character") from None
    except (FileNotFoundError, NotADirectoryError):  # a path through a file names nothing
        raise UnreadableFile(path, what, "no such file", missing=True) from None
    except IsADirectoryError:
        raise UnreadableFile(path, what, "it is a folder, not a file") from None
    except OSError as exc:
        reason = None
        with contextlib.suppress(OSError, ValueError):
            reason = _not_regular(os.stat(path).st_mode)  # a socket cannot be opened at all
        raise UnreadableFile(path, what, reason or str(exc.strerror or exc)) from None
    try:
        info = os.fstat(fd)
        reason = _not_regular(info.st_mode)
        if reason:
            raise UnreadableFile(path, what, reason)
        too_big = f"it is larger than {_size(limit)}; split it or trim it"
        if info.st_size > limit:
            raise UnreadableFile(path, what, too_big, too_large=True)
        chunks, got = [], 0
        # A regular file may still grow while it is read: never read past the cap.
        while got <= limit:
            chunk = os.read(fd, min(limit + 1 - got, 1 << 20) or 1)
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
        if got > limit:
            raise UnreadableFile(path, what, too_big, too_large=True)
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(path, what, str(exc.strerror or exc)) from None
    finally:
        os.close(fd)


class JSONTooDeep(ValueError):
    """JSON that nests deeper than the parser can follow."""


def parse_json(raw: bytes | str) -> Any:
    """json.loads that fails with a ValueError (never RecursionError) on any bad input.

    Syntax errors stay json.JSONDecodeError, bad UTF-8 UnicodeDecodeError, and nesting too deep
    for the parser JSONTooDeep: all ValueError, so one `except ValueError` covers them.
    """
    import json

    try:
        return json.loads(raw)
    except RecursionError:
        raise JSONTooDeep("the JSON nests too deeply to be read") from None


def _encoding_problem(raw: bytes) -> str | None:
    """The name of a UTF-16/32 encoding the bytes look like (with or without a BOM), or None."""
    boms = (
        (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
        (b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"),
        (b"\xfe\xff", "UTF-16 (big-endian)"),
        (b"\xff\xfe", "UTF-16 (little-endian)"),
    )
    for bom, name in boms:
        if raw.startswith(bom):
            return f"{name} text"
    head = raw[:400]
    if len(head) < 4 or b"\x00" not in head:
        return None
    # Text in these encodings puts NUL bytes at fixed offsets of every ASCII character.
    nul = [b == 0 for b in head[: len(head) // 4 * 4]]
    share = {k: sum(nul[k::4]) / (len(nul) // 4) for k in range(4)}
    if share[1] > 0.9 and share[2] > 0.9 and share[3] > 0.9 and share[0] < 0.5:
        return "UTF-32 (little-endian) text without a byte-order mark"
    if share[0] > 0.9 and share[1] > 0.9 and share[2] > 0.9 and share[3] < 0.5:
        return "UTF-32 (big-endian) text without a byte-order mark"
    if share[1] > 0.7 and share[3] > 0.7 and share[0] < 0.3 and share[2] < 0.3:
        return "UTF-16 (little-endian) text without a byte-order mark"
    if share[0] > 0.7 and share[2] > 0.7 and share[1] < 0.3 and share[3] < 0.3:
        return "UTF-16 (big-endian) text without a byte-order mark"
    return None


def _line_col(text: str, at: int) -> tuple[int, int]:
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def read_text(path: Path, name: str, limit: int, what: str) -> str:
    """A UTF-8 text file of at most `limit` bytes, without NUL; a BankError that says why not."""
    try:
        raw = read_regular_file(path, limit=limit, what=what)
    except UnreadableFile as exc:
        if exc.too_large:
            message = f"the {what} is larger than {_size(limit)}; split it or trim it"
            raise BankError([Problem(name, None, None, "", message)]) from None
        raise BankError(
            [Problem(name, None, None, "", f"cannot read the {what}: {exc.reason}")]
        ) from None
    encoding = _encoding_problem(raw)
    if encoding:
        raise BankError(
            [Problem(name, None, None, "", f"the {what} is {encoding}; save it as UTF-8")]
        )
    try:
        text = raw.decode("utf-8-sig")
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
    # The YAML parser silently ends the document at a NUL (the rest would vanish without a
    # word), and no bank or article means one; refuse every one, where it stands.
    at = text.find("\x00")
    if at >= 0:
        problems: list[Problem] = []
        while at >= 0 and len(problems) < 20:
            line, col = _line_col(text, at)
            problems.append(
                Problem(
                    name, line, col, "", f"the {what} contains a NUL character (U+0000); remove it"
                )
            )
            at = text.find("\x00", at + 1)
        raise BankError(problems)
    return text


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
