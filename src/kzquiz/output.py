"""Writing outputs so that nothing is ever half-written, lost or mixed.

A build's files are a set (a deck and its state file, a worksheet and its key): written as a
set, or not at all, even if the process is killed. The steps, all inside one output folder:

1. every file is written in full to a temporary file `.NAME.XXXXXXXX.tmp` and fsynced;
2. a journal (`.kzquiz-pending`) naming every temporary file and its target is written last;
3. the temporary files are renamed onto their targets, then the journal is removed.

Killed before 2, the folder holds the old set (plus temporary files); killed during 3, the
journal lets the next kzquiz that writes there finish the renames first (`settle`), so it holds
the new set. Either way the leftovers of a killed build are removed by the next one. A lock
file (`.kzquiz-lock`, held with flock) keeps two builds into one folder from interleaving.
A failure on the way (disk full, an immutable file) undoes what was done: every earlier
output is left untouched.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from kzquiz.errors import OutputError, UsageError

LOCK_NAME = ".kzquiz-lock"
JOURNAL_NAME = ".kzquiz-pending"
# What a killed build leaves: `.NAME.` + mkstemp's eight characters + `.tmp` or `.bak`.
_LEFTOVER = re.compile(r"^\..+\.[a-z0-9_]{8}\.(?:tmp|bak)$")
# A file name's limit is 255 bytes on common file systems; the temporary name adds 14.
MAX_NAME_BYTES = 255 - len("..XXXXXXXX.tmp")


def prepare_dir(path: Path) -> Path:
    """Create the output folder if missing; refuse a path that is a file."""
    try:
        exists, is_dir = path.exists(), path.is_dir()
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot use this output folder: {_reason(exc)}") from None
    if exists and not is_dir:
        raise UsageError(f"{path}: is a file, not a folder; give -o a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot create the output folder: {_reason(exc)}") from None
    return path


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ValueError):
        return "the path contains a NUL character"
    if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
        return "the name is too long"
    return str(getattr(exc, "strerror", None) or exc)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _special(mode: int) -> str | None:
    """What kind of non-regular file this is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_name(out_dir: Path, name: str) -> None:
    if not name or "/" in name or "\\" in name or name.startswith(".") or "\x00" in name:
        raise OutputError(f"refusing to write {name!r}: output names are plain file names")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME_BYTES:
        raise OutputError(
            f"{out_dir / name}: the file name is too long ({len(name)} characters);"
            f" keep it under {MAX_NAME_BYTES} bytes"
        )


def _check_target(out_dir: Path, name: str) -> None:
    target = out_dir / name
    try:
        mode = os.lstat(target).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise OutputError(f"{target}: cannot write there: {_reason(exc)}") from None
    kind = _special(mode)
    if kind is not None:
        # A device, pipe or link is never replaced by a regular file (think /dev/null as root).
        raise OutputError(
            f"{target}: is {kind}, not a regular file; refusing to replace it, write to another name"
        )


@contextlib.contextmanager
def _locked(out_dir: Path) -> Iterator[None]:
    """Hold the folder's lock file for the duration; another holder is an OutputError."""
    try:
        import fcntl
    except ImportError:  # no flock on this platform: write without the lock
        yield
        return
    lock = out_dir / LOCK_NAME
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        except OSError as exc:
            raise OutputError(
                f"{out_dir}: could not write the outputs ({_reason(exc)}); earlier files are unchanged"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise OutputError(
                f"{out_dir}: another kzquiz is writing into this folder (it holds {LOCK_NAME});"
                " wait for it to finish, then run again"
            ) from None
        # The holder before us removes the file as it lets go: lock the file that is there now.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock)
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _settle_locked(out_dir: Path) -> list[str]:
    """Finish a killed build's renames (if its journal says so) and remove its leftovers."""
    finished: list[str] = []
    journal = out_dir / JOURNAL_NAME
    try:
        entries = json.loads(journal.read_bytes())
    except (OSError, ValueError):
        entries = None
    if isinstance(entries, list):
        for entry in entries:
            if not (isinstance(entry, list) and len(entry) == 2):
                continue
            tmp, name = (str(part) for part in entry)
            if _LEFTOVER.match(tmp) and "/" not in name and not name.startswith("."):
                with contextlib.suppress(OSError):
                    os.replace(out_dir / tmp, out_dir / name)
                    finished.append(name)
        _fsync_dir(out_dir)
    with contextlib.suppress(OSError):
        journal.unlink()
    with contextlib.suppress(OSError):
        for entry in os.scandir(out_dir):
            if _LEFTOVER.match(entry.name) and entry.is_file(follow_symlinks=False):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
    return finished


def settle(out_dir: Path) -> list[str]:
    """Bring a folder a killed build left behind to one whole set; the names it completed.

    Safe to call before reading state files from an output folder; a no-op on a tidy one.
    """
    if not (out_dir / JOURNAL_NAME).exists() and not _has_leftovers(out_dir):
        return []
    with _locked(out_dir):
        return _settle_locked(out_dir)


def _has_leftovers(out_dir: Path) -> bool:
    try:
        return any(_LEFTOVER.match(e.name) for e in os.scandir(out_dir))
    except OSError:
        return False


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write every file atomically as a set: all are replaced, or none is."""
    for name in files:
        _check_name(out_dir, name)
    prepare_dir(out_dir)
    for name in files:
        _check_target(out_dir, name)
    mode = 0o666 & ~_umask()
    with _locked(out_dir):
        _settle_locked(out_dir)
        staged = _stage(out_dir, files, mode)
        return _swap_in(out_dir, staged)


def _stage(out_dir: Path, files: Mapping[str, bytes], mode: int) -> list[tuple[str, Path]]:
    """Every file written and fsynced under a temporary name, then the journal naming them."""
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
            tmp = Path(tmp_name)
            staged.append((name, tmp))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, mode)
        journal = json.dumps([[tmp.name, name] for name, tmp in staged]).encode()
        fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f"{JOURNAL_NAME}.", suffix=".tmp")
        staged.append(("", Path(tmp_name)))
        with os.fdopen(fd, "wb") as fh:
            fh.write(journal)
            fh.flush()
            os.fsync(fh.fileno())
        _fsync_dir(out_dir)  # the temporary files exist for sure before the journal names them
        os.replace(tmp_name, out_dir / JOURNAL_NAME)
        staged.pop()
        _fsync_dir(out_dir)
    except OSError as exc:
        _discard(staged)
        raise OutputError(
            f"{out_dir}: could not write the outputs ({_reason(exc)}); earlier files are unchanged"
        ) from None
    except BaseException:
        _discard(staged)
        raise
    return staged


def _swap_in(out_dir: Path, staged: list[tuple[str, Path]]) -> list[Path]:
    """Rename the staged files onto their targets; undo every rename if one fails."""
    backups: list[tuple[Path, Path | None]] = []
    written: list[Path] = []
    target = out_dir
    try:
        # Keep the old files reachable (a hard link each, no copy) to put back on failure. An
        # immutable or otherwise untouchable target fails here, before anything is replaced.
        for name, tmp in staged:
            target = out_dir / name
            backups.append((target, _backup(target, tmp)))
        for name, tmp in staged:
            target = out_dir / name
            os.replace(tmp, target)
            written.append(target)
    except OSError as exc:
        failed = target
        for done, backup in backups[: len(written)]:
            with contextlib.suppress(OSError):
                if backup is None:
                    done.unlink()
                else:
                    os.replace(backup, done)
        _discard(staged)
        _discard_paths([b for _, b in backups if b is not None])
        with contextlib.suppress(OSError):
            (out_dir / JOURNAL_NAME).unlink()
        raise OutputError(
            f"{failed}: cannot be replaced ({_reason(exc)}); no output was changed"
        ) from None
    _fsync_dir(out_dir)
    with contextlib.suppress(OSError):
        (out_dir / JOURNAL_NAME).unlink()
    _discard_paths([b for _, b in backups if b is not None])
    return written


def _backup(target: Path, tmp: Path) -> Path | None:
    """A hard link to the old target beside it, or None (no old file, or no links here)."""
    backup = tmp.with_name(tmp.name[: -len(".tmp")] + ".bak")
    try:
        os.link(target, backup)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return None  # a file system without hard links: replace without a way back
        # EPERM is what an immutable file gives, and what some file systems give for any link.
        try:
            os.close(os.open(target, os.O_WRONLY | getattr(os, "O_NONBLOCK", 0)))
        except OSError as refused:
            if refused.errno == errno.EPERM:  # (EACCES is only a mode; a rename still works)
                raise exc from None
        return None
    return backup


def write_file(path: Path, data: bytes) -> Path:
    """Write one file atomically."""
    return write_files(path.parent, {path.name: data})[0]


def _discard(staged: list[tuple[str, Path]]) -> None:
    _discard_paths([tmp for _, tmp in staged])


def _discard_paths(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink()
