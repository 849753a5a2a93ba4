"""Renderers: one module per output format. Each returns Outputs (bytes and notes) and never writes files."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from kzquiz.errors import OutputError, UsageError

if TYPE_CHECKING:
    import jinja2

    from kzquiz.bank import LoadedBank
    from kzquiz.model import Question
    from kzquiz.pools import Pool


@dataclass
class Outputs:
    """What a renderer produced: file name -> bytes, and notes for the user."""

    files: dict[str, bytes] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def update(self, other: Outputs) -> None:
        """Merge another renderer's outputs into this one."""
        clash = self.files.keys() & other.files.keys()
        if clash:
            raise OutputError(f"two outputs want the same file name: {', '.join(sorted(clash))}")
        self.files.update(other.files)
        self.notes.extend(other.notes)


@dataclass(frozen=True)
class RenderJob:
    """What a renderer is given: everything it may use, none of it a file.

    `questions` is the selection, already filtered, sampled and leak-checked by the pipeline.
    `seed` is the one seed of the run (None where the format draws nothing). `options` is the
    format's own options object (e.g. WorksheetOptions), or None for its defaults.
    `previous` holds the bytes of the state files the format declared (Format.state_files),
    as the pipeline read them from the output folder; a name is absent when there was none.
    """

    loaded: LoadedBank
    questions: Sequence[Question]
    seed: int | None = None
    options: object = None
    previous: Mapping[str, bytes] = field(default_factory=dict)
    whole_bank: bool = False  # the selection is every question of the bank (kzquiz build)
    # The question pools (kzquiz.pools.Pool) of the run: the bank's and --pick's; None: the
    # bank's own. Every pool question is in `questions`; who draws is the format's to say.
    pools: Sequence[Pool] | None = None


@cache
def env(language: str = "en") -> jinja2.Environment:
    """The one Jinja environment per language: package templates, autoescape on, undefined
    names are errors, `_`/`ngettext` from the language's catalog (kzquiz.i18n).

    One environment per language (not one whose translations are swapped per render) keeps
    concurrent renders of different languages from seeing each other's messages.
    """
    import jinja2

    from kzquiz import i18n

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("kzquiz", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_translations(  # type: ignore[attr-defined]
        i18n.translations(language), newstyle=True
    )
    translator = i18n.translator(language)
    environment.globals["number"] = translator.number
    environment.globals["answer_text"] = translator.answer_text
    return environment


ZIP_EPOCH = 315532800  # 1980-01-01, the earliest date a zip entry can hold
MAX_EPOCH = 4354819199  # 2107-12-31 23:59:59 UTC, the latest date a zip entry can hold
_DIGITS = re.compile(r"[0-9]+", re.ASCII)  # not str.isdigit(): that takes "²" and "٣"


def source_date_epoch() -> int | None:
    """SOURCE_DATE_EPOCH as seconds, None when unset or empty; a UsageError when malformed.

    A value that is set but wrong (`abc`, `-1`, `1e9`, `²`, past 2107) is refused rather than
    ignored: ignoring it would silently give a build that is not the reproducible one asked for.
    """
    raw = os.environ.get("SOURCE_DATE_EPOCH")
    if raw is None or not raw.strip():
        return None
    value = raw.strip()
    if not _DIGITS.fullmatch(value):
        raise UsageError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds since 1970-01-01 UTC"
            f" (like 1700000000), not {raw!r}; unset it to use the current time"
        )
    seconds = int(value)
    if seconds > MAX_EPOCH:
        raise UsageError(
            f"SOURCE_DATE_EPOCH {value} lies after 2107-12-31, the latest date an archive can"
            f" hold; use at most {MAX_EPOCH}"
        )
    return seconds


def build_time() -> int:
    """Seconds since the epoch for 'now': SOURCE_DATE_EPOCH when set (reproducible builds)."""
    pinned = source_date_epoch()
    return pinned if pinned is not None else int(time.time())


def archive_time() -> int:
    """The date stamped inside archives: SOURCE_DATE_EPOCH when set, else a fixed date.

    Unlike build_time() it never falls back to 'now', so rebuilding an unchanged bank on
    another day gives the same bytes (the committed decks/ must not go stale by itself).
    """
    pinned = source_date_epoch()
    return max(pinned, ZIP_EPOCH) if pinned is not None else ZIP_EPOCH
