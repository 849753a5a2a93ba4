"""The state file `<bank-id>.lock.json`: per question and note type, a content hash and a time.

Anki applies an incoming note only when its modification time is newer than the one in the
collection. The state file, kept next to the deck, records a hash of what every note shows
and the time it last changed: an unchanged question keeps its time (and the package stays
byte-identical), an edited one gets a newer time. It is parsed here from bytes; reading it
from the output folder is the caller's job.
"""

from __future__ import annotations

import json
from typing import Any, Literal

import pydantic
import pydantic_core

from kzquiz.errors import OutputError
from kzquiz.model import MAX_TEXT

LOCK_FORMAT = 1
# The latest time a stamp may hold (year 36812): far past any real clock, so a stamp there
# comes from a damaged or hostile file.
MAX_MOD = 2**40
# A state file holds a few hundred bytes per question: 64 MiB is far beyond any real bank,
# and refusing more before parsing keeps a runaway file from filling memory.
MAX_STATE_BYTES = 64 * 1024 * 1024


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Stamp(_Strict):
    """What a note type showed at its last change, and when that was."""

    hash: str = pydantic.Field(pattern=r"^[0-9a-f]{64}$")
    mod: int = pydantic.Field(ge=0, le=MAX_MOD)


class QuestionStamp(Stamp):
    """What a question's note showed at its last change, when that was, its type and deck."""

    model: str = pydantic.Field(min_length=1, max_length=100)
    deck: str = pydantic.Field(min_length=1, max_length=MAX_TEXT * 2 + 2)


class Removed(QuestionStamp):
    """A question that left the bank: its last stamp and when it was found missing."""

    removed: int = pydantic.Field(ge=0, le=MAX_MOD)


class Lock(_Strict):
    """The state file: per question and note type, a content hash and its modification time."""

    format: Literal[1]
    bank: str
    created: int = pydantic.Field(ge=0, le=MAX_MOD)
    models: dict[str, Stamp]
    questions: dict[str, QuestionStamp]
    removed: dict[str, Removed] = pydantic.Field(default_factory=dict)

    def dumps(self) -> bytes:
        """Deterministic JSON: sorted keys, two-space indent, trailing newline.

        The bytes of json.dumps(..., sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        (tests compare the two), written by pydantic-core's serializer: with an indent,
        json.dumps falls back to its pure-Python encoder, slow for 10,000 entries.
        """
        return pydantic_core.to_json(_sorted_keys(self.model_dump()), indent=2) + b"\n"


def _sorted_keys(value: Any) -> Any:
    """The same data with every mapping's keys in sorted order (what sort_keys=True does)."""
    # Leaves are passed over without a call each: the questions' stamps hold 40,000 of them
    # in a 10,000-question bank. (Keys are unique, so sorting the items never compares values.)
    if isinstance(value, dict):
        return {
            key: _sorted_keys(item) if isinstance(item, (dict, list)) else item
            for key, item in sorted(value.items())
        }
    if isinstance(value, list):
        return [_sorted_keys(item) if isinstance(item, (dict, list)) else item for item in value]
    return value


ADVICE = (
    "restore it from version control, or delete it to start afresh (every note is then"
    " sent as changed once, and questions removed earlier are no longer listed)"
)


def parse_state(raw: bytes, bank_id: str, name: str) -> Lock:
    """The state file from its bytes; a damaged one is an OutputError naming `name`."""
    if len(raw) > MAX_STATE_BYTES:
        raise OutputError(
            f"{name}: the Anki state file is {len(raw):,} bytes, over the limit of"
            f" {MAX_STATE_BYTES:,}; {ADVICE}"
        )
    try:
        lock = Lock.model_validate(json.loads(raw.decode("utf-8")))
    except RecursionError:
        raise OutputError(
            f"{name}: the Anki state file is nested too deeply to be one of ours; {ADVICE}"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(
            f"{name}: the Anki state file is not valid JSON ({exc}); {ADVICE}"
        ) from None
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise OutputError(
            f"{name}: the Anki state file is damaged ({where}: {first['msg']}); {ADVICE}"
        ) from None
    if lock.bank != bank_id:
        raise OutputError(
            f"{name}: this state file belongs to bank {lock.bank!r}, not {bank_id!r}; {ADVICE}"
        )
    return lock


def next_mod(previous: Stamp | None, now: int, what: str) -> int:
    """The modification time of a changed note or note type (`what`, for the message)."""
    # Anki applies an update only if it is strictly newer than what the collection has; with a
    # pinned SOURCE_DATE_EPOCH "now" may not be, so step one second past the previous time.
    mod = now if previous is None else max(now, previous.mod + 1)
    if mod > MAX_MOD:
        if previous is not None and previous.mod >= now:
            raise OutputError(
                f"the Anki state file stamps {what} at {previous.mod}, the latest time it can"
                f" hold ({MAX_MOD}), so its change cannot be stamped newer; the file is"
                f" damaged: {ADVICE}"
            )
        raise OutputError(check_time(now))
    return mod


def check_time(now: int) -> str:
    """Why a build time cannot be stamped (it is past MAX_MOD)."""
    return (
        f"the build time {now} (from SOURCE_DATE_EPOCH or the clock) is past the latest time"
        f" the Anki state file can hold ({MAX_MOD})"
    )
