"""Summaries of a bank for people: the table `kzquiz check` prints."""

from __future__ import annotations

from collections import Counter

from kzquiz.bank import LoadedBank
from kzquiz.model import LEVELS, QUESTION_TYPES
from kzquiz.quality import LONGEST_KEY_SHARE, TRUE_SHARE, Figures, figures


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
    title = f"{loaded.title} ({loaded.id}): {_count(len(questions), 'question')}"
    out = [title, "", *_aligned([header, None, *rows, None, total])]
    f = figures(loaded.bank)
    out += ["", "Blueprint (topic x level):", "", *_blueprint(loaded, f)]
    out += ["", *_figure_lines(f), _tags_line(loaded)]
    return "\n".join(out) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _aligned(table: list[list[str] | None]) -> list[str]:
    """Rows as columns of text (None: a rule); the first column left, the counts right."""
    cells = [row for row in table if row is not None]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]

    def line(row: list[str]) -> str:
        first, *counts = row
        return "  ".join(
            [first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(counts, widths[1:], strict=True))]
        )

    rule = "  ".join("-" * w for w in widths)
    return [rule if row is None else line(row) for row in table]


def _blueprint(loaded: LoadedBank, f: Figures) -> list[str]:
    levels = [*LEVELS, "unset"]
    header = ["topic", *levels, "total"]
    by_level: Counter[str] = Counter()
    rows = []
    for topic in loaded.bank.topics:
        counts = [f.blueprint[(topic, level)] for level in levels]
        by_level.update(dict(zip(levels, counts, strict=True)))
        rows.append([topic, *(str(n or "-") for n in counts), str(sum(counts))])
    n = len(loaded.bank.questions)
    total = ["total", *(str(by_level[level]) for level in levels), str(n)]
    share = ["share", *(_share(by_level[level], n) for level in levels), "100 %"]
    return _aligned([header, None, *rows, None, total, share])


def _share(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "-"


def _figure_lines(f: Figures) -> list[str]:
    """The bank-level figures the quality warnings are based on."""
    n_true, n_tf = f.true_false
    hard_true, hard_tf = f.true_false_hard
    lo, hi = TRUE_SHARE
    positions = ", ".join(
        f"{chr(ord('A') + p)} {f.key_positions[p]}"
        for p in range(max(f.fewest_choices, max(f.key_positions, default=-1) + 1))
    )
    return [
        f"longest key: {len(f.longest_key)} of {_count(f.choice_items, 'choice question')} "
        f"({_share(len(f.longest_key), f.choice_items)}; at most {round(100 * LONGEST_KEY_SHARE)} %)",
        f"key positions: {positions or '-'} (of {_count(f.single_items, 'single-choice question')})",
        f"true/false: True in {n_true} of {n_tf} ({_share(n_true, n_tf)}); at difficulty 2-3: "
        f"{hard_true} of {hard_tf} ({_share(hard_true, hard_tf)}); "
        f"aim for {round(100 * lo)}-{round(100 * hi)} %",
        f"leaks: {f.leaks} (pairs kept apart by `excludes`: {f.acknowledged})",
        f"near-duplicates: {f.near_duplicates}",
    ]


def _tags_line(loaded: LoadedBank) -> str:
    """Every tag with its count, so the values `--tag` takes can be found."""
    tags: Counter[str] = Counter(t for q in loaded.bank.questions for t in q.tags)
    listed = ", ".join(f"{t} {n}" for t, n in sorted(tags.items()))
    return f"tags: {listed or '-'}"
