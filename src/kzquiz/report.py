"""Summaries of a bank for people: the table `kzquiz check` prints."""

from __future__ import annotations

from collections import Counter

from kzquiz.loader import LoadedBank
from kzquiz.model import QUESTION_TYPES


def summary_table(loaded: LoadedBank) -> str:
    """Questions by topic, type and difficulty, with totals, as aligned plain text.

    Plain text on purpose: it reads the same in a terminal, a CI log or a file, and costs
    nothing to print (a rich table took a tenth of a second to import and lay out).
    """
    questions = loaded.bank.questions
    by_topic_type: Counter[tuple[str, str]] = Counter((q.topic, str(q.type)) for q in questions)
    by_topic_diff = Counter((q.topic, q.difficulty) for q in questions)
    by_topic = Counter(q.topic for q in questions)
    by_type: Counter[str] = Counter(str(q.type) for q in questions)
    by_diff = Counter(q.difficulty for q in questions)

    header = ["topic", *QUESTION_TYPES, "d1", "d2", "d3", "total"]
    rows = [
        [
            topic,
            *(str(by_topic_type[(topic, t)] or "-") for t in QUESTION_TYPES),
            *(str(by_topic_diff[(topic, d)] or "-") for d in (1, 2, 3)),
            str(by_topic[topic]),
        ]
        for topic in loaded.bank.topics
    ]
    total = [
        "total",
        *(str(by_type[t]) for t in QUESTION_TYPES),
        *(str(by_diff[d]) for d in (1, 2, 3)),
        str(len(questions)),
    ]
    widths = [max(len(row[i]) for row in (header, *rows, total)) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        # The topic column is left-aligned, the counts right-aligned.
        first, *counts = cells
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(counts, widths[1:], strict=True))]
        )

    rule = "  ".join("-" * w for w in widths)
    title = f"{loaded.title} ({loaded.id}): {len(questions)} questions"
    return "\n".join([title, "", line(header), rule, *map(line, rows), rule, line(total)]) + "\n"
