"""The one deterministic zip writer: bytes that depend only on the files and the date."""

from __future__ import annotations

import io
import sys
import time
import zipfile
from collections.abc import Iterable, Mapping

from kzquiz.render import archive_time

DateTime = tuple[int, int, int, int, int, int]
_ZLIB_DEFAULT = 6
# zf.open takes the level from the entry; the attribute's name changed in Python 3.13.
_LEVEL_ATTRIBUTE = "compress_level" if sys.version_info >= (3, 13) else "_compresslevel"


def archive_date() -> DateTime:
    """The date stamped on every entry: the day of archive_time() (SOURCE_DATE_EPOCH)."""
    year, month, mday = time.gmtime(archive_time())[:3]
    return (year, month, mday, 0, 0, 0)


def zip_bytes(
    files: Mapping[str, bytes | Iterable[bytes]],
    date_time: DateTime | None = None,
    *,
    compresslevel: int = _ZLIB_DEFAULT,
) -> bytes:
    """A zip of `files` (sorted by name), with fixed metadata and the date of archive_date().

    A name ending in "/" is a folder entry. A file may be given as pieces, which are
    compressed as they come (zlib's output does not depend on how its input is split).
    """
    stamp = date_time or archive_date()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, stamp)
            info.create_system = 3  # Unix, whatever system builds it
            if name.endswith("/"):
                info.external_attr = (0o40755 << 16) | 0x10
                info.compress_type = zipfile.ZIP_STORED
            else:
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
            content = files[name]
            if isinstance(content, bytes):
                zf.writestr(info, content, compresslevel=compresslevel)
                continue
            setattr(info, _LEVEL_ATTRIBUTE, compresslevel)
            with zf.open(info, "w") as member:
                for piece in content:
                    member.write(piece)
    return buffer.getvalue()
