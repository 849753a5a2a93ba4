"""Writing outputs so that nothing is ever half-written or lost.

Every file of a build is first written in full to a temporary file in the target folder;
only when all of them are written are they renamed into place. A failure on the way
removes the temporary files and leaves every earlier output untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path

from kzquiz.errors import OutputError, UsageError


def prepare_dir(path: Path) -> Path:
    """Create the output folder if missing; refuse a path that is a file."""
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path}: is a file, not a folder; give -o a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(
            f"{path}: cannot create the output folder: {exc.strerror or exc}"
        ) from None
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_files(out_dir: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write every file atomically as a set: all are replaced, or none is."""
    prepare_dir(out_dir)
    mode = 0o666 & ~_umask()
    staged: list[tuple[str, Path]] = []
    try:
        for name, data in files.items():
            if "/" in name or "\\" in name or name.startswith("."):
                raise OutputError(f"refusing to write {name!r}: output names are plain file names")
            fd, tmp_name = tempfile.mkstemp(dir=out_dir, prefix=f".{name}.", suffix=".tmp")
            tmp = Path(tmp_name)
            staged.append((name, tmp))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(tmp, mode)
    except OSError as exc:
        _discard(staged)
        raise OutputError(
            f"{out_dir}: could not write the outputs ({exc.strerror or exc}); earlier files are unchanged"
        ) from None
    except BaseException:
        _discard(staged)
        raise
    written = []
    for name, tmp in staged:
        target = out_dir / name
        os.replace(tmp, target)
        written.append(target)
    return written


def write_file(path: Path, data: bytes) -> Path:
    """Write one file atomically."""
    return write_files(path.parent, {path.name: data})[0]


def _discard(staged: list[tuple[str, Path]]) -> None:
    for _, tmp in staged:
        with contextlib.suppress(OSError):
            tmp.unlink()
