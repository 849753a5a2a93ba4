"""Choosing questions: filters, seeded samples and shuffles.

Randomness only ever comes from a `random.Random(seed)` the caller passes in, so the same
seed always gives the same selection and order.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from kzquiz.bank import LoadedBank
from kzquiz.errors import SelectionError, UsageError
from kzquiz.model import QUESTION_TYPES, Question
from kzquiz.quality import leak_free_sample

T = TypeVar("T")


@dataclass(frozen=True)
class Selection:
    """Which questions to use; empty filters mean 'all'."""

    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    difficulty: tuple[int, int] | None = None
    count: int | None = None
    # --pick TOPIC=N: pools of a topic's questions, N drawn for each student (kzquiz.pools).
    picks: tuple[tuple[str, int], ...] = ()

    def describe(self) -> str:
        """The selection in words, for messages."""
        parts = []
        if self.topics:
            parts.append("topic " + " or ".join(self.topics))
        if self.tags:
            parts.append("tag " + " or ".join(self.tags))
        if self.types:
            parts.append("type " + " or ".join(self.types))
        if self.difficulty:
            lo, hi = self.difficulty
            parts.append(f"difficulty {lo}" if lo == hi else f"difficulty {lo}-{hi}")
        if self.picks:
            parts.append("pick " + ", ".join(f"{t}={n}" for t, n in self.picks))
        return " and ".join(parts) or "all questions"


def parse_difficulty(text: str | None) -> tuple[int, int] | None:
    """'2' -> (2, 2); '1-2' -> (1, 2); None -> None."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*([1-3])\s*(?:-\s*([1-3])\s*)?", text)
    if not m:
        raise UsageError(
            f"difficulty {text!r}: use a level 1-3 or a range like 1-2", field="difficulty"
        )
    lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
    if lo > hi:
        raise UsageError(
            f"difficulty {text!r}: the range goes from low to high, like 1-2", field="difficulty"
        )
    return lo, hi


def parse_pick(text: str) -> tuple[str, int]:
    """'economy=3' -> ('economy', 3)."""
    m = re.fullmatch(r"\s*([^=\s]+)\s*=\s*(\d+)\s*", text)
    if not m or int(m.group(2)) < 1:
        raise UsageError(
            f"pick {text!r}: write TOPIC=N, N at least 1, like economy=3", field="pick"
        )
    return m.group(1), int(m.group(2))


def _check_picks(selection: Selection, chosen: list[Question]) -> None:
    """Each topic picked once, drawing no more than the selection holds of it."""
    seen: set[str] = set()
    if selection.count is not None:
        raise UsageError(
            "pick and `count` cannot be combined: a pick is its own draw", field="pick"
        )
    for topic, n in selection.picks:
        if topic in seen:
            raise UsageError(f"pick {topic}: the topic is picked twice", field="pick")
        seen.add(topic)
        size = sum(q.topic == topic for q in chosen)
        if n > size:
            raise UsageError(
                f"pick {topic}={n}: only {size} questions of topic {topic!r} match", field="pick"
            )


def select(
    loaded: LoadedBank,
    selection: Selection,
    rng: random.Random | None = None,
    notes: list[str] | None = None,
) -> list[Question]:
    """The questions matching every filter, in bank order; a sample of `count` if asked.

    A sample never holds two questions where one gives the other away; if fewer than `count`
    fit, a note saying so is appended to `notes`.
    """
    bank = loaded.bank
    unknown = [t for t in selection.topics if t not in bank.topics]
    if unknown:
        raise UsageError(
            f"topic {unknown[0]!r} is not a topic of this bank; topics: {', '.join(bank.topics)}",
            field="topic",
        )
    bad_types = [t for t in selection.types if t not in QUESTION_TYPES]
    if bad_types:
        raise UsageError(
            f"type {bad_types[0]!r} is not a question type; types: {', '.join(QUESTION_TYPES)}",
            field="type",
        )
    for topic, n in selection.picks:
        if topic not in bank.topics:
            raise UsageError(
                f"pick {topic}={n}: {topic!r} is not a topic of this bank; topics: "
                f"{', '.join(bank.topics)}",
                field="pick",
            )
    if selection.count is not None and selection.count < 1:
        raise UsageError("count must be at least 1", field="count")
    topics, tags, types = set(selection.topics), set(selection.tags), set(selection.types)
    # Picked topics are the selection (with --topic's, if any).
    topics |= {t for t, _ in selection.picks} if topics else set()
    picked = {t for t, _ in selection.picks}
    lo, hi = selection.difficulty or (1, 3)
    chosen = [
        q
        for q in bank.questions
        if (not topics or q.topic in topics)
        and (not picked or topics or q.topic in picked)
        and (not tags or tags.intersection(q.tags))
        and (not types or q.type in types)
        and lo <= q.difficulty <= hi
    ]
    if not chosen:
        message = f"{loaded.display}: no question matches {selection.describe()}"
        known = sorted({t for q in bank.questions for t in q.tags})
        if tags - set(known):
            message += f"; tags of this bank: {', '.join(known) or 'none'}"
        raise SelectionError(message)
    if selection.picks:
        _check_picks(selection, chosen)
    if selection.count is not None and selection.count < len(chosen):
        chosen = leak_free_sample(loaded, chosen, selection.count, rng, notes)
    return chosen


def shuffled(items: Sequence[T], rng: random.Random) -> list[T]:
    """A shuffled copy; the input is left alone."""
    out = list(items)
    rng.shuffle(out)
    return out


def scrambled(items: Sequence[T], rng: random.Random) -> list[T]:
    """A shuffled copy that is never in the original order (for ordering questions)."""
    identity = list(range(len(items)))
    order = identity[:]
    if len(order) < 2:
        return list(items)
    rng.shuffle(order)
    while order == identity:
        rng.shuffle(order)
    return [items[i] for i in order]
