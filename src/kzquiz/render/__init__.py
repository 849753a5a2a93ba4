"""Renderers: one module per output format. Each returns bytes (or Outputs) and never writes files."""

from __future__ import annotations

import os
import time
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import jinja2


@lru_cache(maxsize=1)
def env() -> jinja2.Environment:
    """The one Jinja environment: package templates, autoescape on, undefined names are errors."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("kzquiz", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def build_time() -> int:
    """Seconds since the epoch for 'now': SOURCE_DATE_EPOCH when set (reproducible builds)."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if value.isdigit():
        return int(value)
    return int(time.time())


ZIP_EPOCH = 315532800  # 1980-01-01, the earliest date a zip entry can hold


def archive_time() -> int:
    """The date stamped inside archives: SOURCE_DATE_EPOCH when set, else a fixed date.

    Unlike build_time() it never falls back to 'now', so rebuilding an unchanged bank on
    another day gives the same bytes (the committed decks/ must not go stale by itself).
    """
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    return max(int(value), ZIP_EPOCH) if value.isdigit() else ZIP_EPOCH
