"""Summaries of a bank for people: the table `kzquiz check` prints."""

from __future__ import annotations

from collections import Counter

from kzquiz.bank import LoadedBank
from kzquiz.model import QUESTION_TYPES


def summary_table(loaded: LoadedBank) -> str:
    """Questions by topic, type and difficulty, with totals, as aligned plain text.

    Plain text on purpose: it reads the same in a terminal, a CI log or a file, and costs
    nothing to print (a rich table took a tenth of a second to import and lay out).
    """
    questions = loaded.bank.questions
    # Two counts per question; the totals are sums of these (a bank can be 100,000 long).
    by_topic_type: Counter[tuple[str, str]] = Counter((q.topic, q.type) for q in questions)
    by_topic_diff: Counter[tuple[str, int]] = Counter((q.topic, q.difficulty) for q in questions)
    by_topic: Counter[str] = Counter()
    by_type: Counter[str] = Counter()
    for (topic, type_), n in by_topic_type.items():
        by_topic[topic] += n
        by_type[type_] += n
    by_diff: Counter[int] = Counter()
    for (_, difficulty), n in by_topic_diff.items():
        by_diff[difficulty] += n

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
