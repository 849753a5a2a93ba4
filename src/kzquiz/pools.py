"""Question pools: sets of questions of which each student gets a draw of N.

A pool comes from the bank's `pools:` section (listed questions or a whole topic) or from
`--pick TOPIC=N` (a topic's questions in the selection). Formats whose platform draws per
student export the pool itself (QTI 1.2 and 2.1 sections with a selection count, a Moodle
category per pool); the worksheet draws per version with the seed; every other format
holds the whole pool and says so in a note.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kzquiz.bank import LoadedBank
from kzquiz.model import Bank, Question
from kzquiz.validate import Finding, suggest

if TYPE_CHECKING:
    from kzquiz.render import RenderJob
    from kzquiz.select import Selection


@dataclass(frozen=True)
class Pool:
    """A pool: its id, title, question ids (bank order) and how many each student gets."""

    id: str
    title: str
    question_ids: tuple[str, ...]
    draw: int


def job_pools(job: RenderJob) -> list[Pool]:
    """The pools a renderer is to use: the job's (or the bank's), within its questions."""
    pools = job.pools if job.pools is not None else bank_pools(job.loaded.bank)
    return pools_in(pools, job.questions)


def bank_pools(bank: Bank) -> list[Pool]:
    """The pools of the bank's `pools:` section, as validated."""
    # Positions and topics looked up, not scanned: a pass over the bank per pool was
    # quadratic on a bank of many pools.
    order = {q.id: k for k, q in enumerate(bank.questions)}
    by_topic = _ids_by_topic(bank)
    out = []
    for spec in bank.pools:
        if spec.questions is not None:
            wanted = {i for i in spec.questions if i in order}
            ids = tuple(sorted(wanted, key=order.__getitem__))
        else:
            ids = tuple(by_topic.get(spec.topic or "", ()))
        title = spec.title or (bank.topics.get(spec.topic or "", "") or spec.id)
        out.append(Pool(spec.id, title, ids, spec.draw))
    return out


def _ids_by_topic(bank: Bank) -> dict[str, list[str]]:
    """The question ids of each topic, in bank order."""
    out: dict[str, list[str]] = {}
    for q in bank.questions:
        out.setdefault(q.topic, []).append(q.id)
    return out


def pick_pool(loaded: LoadedBank, topic: str, draw: int, questions: Sequence[Question]) -> Pool:
    """The pool `--pick TOPIC=N` makes: the topic's questions among `questions`."""
    ids = tuple(q.id for q in questions if q.topic == topic)
    return Pool(f"pick-{topic}", loaded.bank.topics[topic], ids, draw)


def pools_in(pools: Sequence[Pool], questions: Sequence[Question]) -> list[Pool]:
    """The pools restricted to `questions` (a pool with none of them is left out)."""
    chosen = {q.id for q in questions}
    out = []
    for pool in pools:
        ids = tuple(i for i in pool.question_ids if i in chosen)
        if ids:
            out.append(Pool(pool.id, pool.title, ids, min(pool.draw, len(ids))))
    return out


def draw(
    questions: Sequence[Question], pools: Sequence[Pool], rng: random.Random
) -> list[Question]:
    """`questions` with each pool cut to a draw of its size from `rng`, in the given order."""
    dropped: set[str] = set()
    for pool in pools_in(pools, questions):
        members = list(pool.question_ids)
        kept = set(rng.sample(members, pool.draw))
        dropped.update(i for i in members if i not in kept)
    return [q for q in questions if q.id not in dropped]


def drawn_size(questions: Sequence[Question], pools: Sequence[Pool]) -> int:
    """How many of `questions` one draw from every pool keeps (what one worksheet version holds)."""
    return len(questions) - sum(len(p.question_ids) - p.draw for p in pools_in(pools, questions))


def version_leak_notes(
    loaded: LoadedBank, versions: Sequence[tuple[str, Sequence[Question]]]
) -> list[str]:
    """The leak and `excludes` notes of each drawn version (letter, its questions): a note
    true of every version once, any other with the versions it is true of."""
    from kzquiz.quality import leak_notes

    where: dict[str, list[str]] = {}
    for letter, questions in versions:
        for note in leak_notes(loaded, questions):
            where.setdefault(note, []).append(letter)
    return [
        note if len(letters) == len(versions) else f"version {', '.join(letters)}: {note}"
        for note, letters in where.items()
    ]


def run_pools(
    loaded: LoadedBank, selection: Selection | None, questions: Sequence[Question]
) -> list[Pool]:
    """The run's pools: --pick's if any were given (the bank's are then set aside), else the
    bank's, each within the selected questions."""
    if selection is not None and selection.picks:
        return [pick_pool(loaded, topic, n, questions) for topic, n in selection.picks]
    return pools_in(bank_pools(loaded.bank), questions)


def whole_pool_notes(pools: Sequence[Pool], fmt: str, questions: Sequence[Question]) -> list[str]:
    """Bank notes for a format without pools: each pool is exported whole, not drawn."""
    return [
        f"bank: {fmt}: has no question pools: pool '{p.id}' is exported whole "
        f"({len(p.question_ids)} questions), not a draw of {p.draw}"
        for p in pools_in(pools, questions)
    ]


def check_pools(bank: Bank) -> list[Finding]:
    """Pools that cannot be drawn: unknown questions or topics, draw > size, a question twice."""
    errors: list[Finding] = []
    ids = [q.id for q in bank.questions]
    known = set(ids)
    topics = list(bank.topics)
    owner: dict[str, int] = {}
    seen_pools: dict[str, int] = {}
    by_topic = _ids_by_topic(bank)
    for i, spec in enumerate(bank.pools):
        at: tuple[str | int, ...] = ("pools", i)
        if spec.id in seen_pools:
            errors.append(
                Finding(
                    at + ("id",),
                    f"duplicate pool id '{spec.id}' (first used by pools[{seen_pools[spec.id]}])",
                )
            )
        seen_pools.setdefault(spec.id, i)
        if (spec.questions is None) == (spec.topic is None):
            errors.append(
                Finding(at, "a pool needs either `questions: [...]` or `topic:`, not both")
            )
            continue
        members: list[str] = []
        listed: set[str] = set()  # members, for a membership test that is not a list scan
        if spec.questions is not None:
            for j, qid in enumerate(spec.questions):
                if qid not in known:
                    errors.append(
                        Finding(
                            at + ("questions", j),
                            f"unknown question id '{qid}'{suggest(qid, ids)}",
                        )
                    )
                elif qid in listed:
                    errors.append(
                        Finding(at + ("questions", j), f"question '{qid}' is listed twice")
                    )
                else:
                    members.append(qid)
                    listed.add(qid)
        else:
            topic = spec.topic or ""
            if topic not in bank.topics:
                errors.append(
                    Finding(
                        at + ("topic",),
                        f"unknown topic '{topic}'{suggest(topic, topics)}; use one of: "
                        f"{', '.join(topics)}",
                    )
                )
                continue
            members = by_topic.get(topic, [])
        if members and spec.draw > len(members):
            errors.append(
                Finding(
                    at + ("draw",),
                    f"draw {spec.draw} is more than the pool's {len(members)} questions",
                )
            )
        for qid in members:
            if qid in owner:
                errors.append(
                    Finding(
                        at,
                        f"question '{qid}' is already in pools[{owner[qid]}]; a question can "
                        "be in one pool only",
                    )
                )
            else:
                owner[qid] = i
    return errors
