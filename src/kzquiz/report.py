"""Summaries of a bank for people: the table `kzquiz check` prints."""

from __future__ import annotations

from collections import Counter

from rich.table import Table

from kzquiz.loader import LoadedBank
from kzquiz.model import QUESTION_TYPES


def summary_table(loaded: LoadedBank) -> Table:
    """Questions by topic, type and difficulty, with totals."""
    questions = loaded.bank.questions
    by_topic_type: Counter[tuple[str, str]] = Counter((q.topic, str(q.type)) for q in questions)
    by_topic_diff = Counter((q.topic, q.difficulty) for q in questions)
    by_topic = Counter(q.topic for q in questions)
    table = Table(
        title=f"{loaded.title} ({loaded.id}): {len(questions)} questions", title_justify="left"
    )
    table.add_column("topic")
    for t in QUESTION_TYPES:
        table.add_column(t, justify="right")
    for d in (1, 2, 3):
        table.add_column(f"d{d}", justify="right")
    table.add_column("total", justify="right")
    for topic in loaded.bank.topics:
        table.add_row(
            topic,
            *(str(by_topic_type[(topic, t)] or "") for t in QUESTION_TYPES),
            *(str(by_topic_diff[(topic, d)] or "") for d in (1, 2, 3)),
            str(by_topic[topic]),
        )
    by_type: Counter[str] = Counter(str(q.type) for q in questions)
    by_diff = Counter(q.difficulty for q in questions)
    table.add_section()
    table.add_row(
        "total",
        *(str(by_type[t]) for t in QUESTION_TYPES),
        *(str(by_diff[d]) for d in (1, 2, 3)),
        str(len(questions)),
    )
    return table
