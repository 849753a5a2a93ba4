"""Item statistics of a graded class: difficulty, discrimination, distractors, reliability.

Definitions (students × questions; a question is right when it earned full points):

- difficulty p: the share of students right;
- discrimination: the corrected point-biserial, Pearson's r between a question's points and
  each student's total without that question (None when either has no variance);
- KR-20: k/(k-1) · (1 − Σ p(1−p) / var(number right)), on right/wrong scores;
- Cronbach's alpha: k/(k-1) · (1 − Σ var(points) / var(total)), on points;
  variances are population variances (divided by n), as KR-20's p(1−p) is;
- distractor counts: how many students chose each option (single, multiple, true/false).

Flags (questions to revise): discrimination below `LOW_DISCRIMINATION` (negative: the
stronger students do worse on it, often a wrong key; near zero: it does not tell them
apart), p above `EASY` (almost everyone right) or below `HARD` (almost everyone wrong),
and a wrong option nobody chose (it distracts no one).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

LOW_DISCRIMINATION = 0.1
EASY = 0.95
HARD = 0.2


@dataclass(frozen=True)
class Answer:
    """One student's result on one question."""

    points: int
    correct: bool
    chosen: tuple[int, ...] = ()


@dataclass
class ItemStats:
    """The figures and flags of one question."""

    qid: str
    max_points: int
    options: tuple[str, ...]  # the bank's option texts, for distractor counts ("" if none)
    correct_options: tuple[int, ...]
    n: int = 0
    p: float = 0.0
    mean_points: float = 0.0
    discrimination: float | None = None
    counts: tuple[int, ...] = ()
    flags: list[str] = field(default_factory=list)


@dataclass
class ClassStats:
    """Totals, reliability and every question's figures."""

    students: int
    max_total: int
    totals: list[int]
    items: list[ItemStats]
    kr20: float | None
    alpha: float | None


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs)


def _var(xs: Sequence[float]) -> float:
    m = _mean(xs)
    return sum((x - m) ** 2 for x in xs) / len(xs)


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None when either variable is constant."""
    mx, my = _mean(xs), _mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


@dataclass(frozen=True)
class ItemInfo:
    """What the statistics need to know of a question."""

    qid: str
    max_points: int
    options: tuple[str, ...] = ()
    correct_options: tuple[int, ...] = ()


def compute(items: Sequence[ItemInfo], answers: Sequence[Sequence[Answer]]) -> ClassStats:
    """The class's statistics: `answers[s][i]` is student s's result on items[i]."""
    n, k = len(answers), len(items)
    totals = [sum(a.points for a in row) for row in answers]
    right = [sum(a.correct for a in row) for row in answers]
    out = []
    for i, info in enumerate(items):
        points = [row[i].points for row in answers]
        stats = ItemStats(info.qid, info.max_points, info.options, info.correct_options, n=n)
        if n:
            stats.p = sum(row[i].correct for row in answers) / n
            stats.mean_points = _mean(points)
            rest = [t - p for t, p in zip(totals, points, strict=True)]
            stats.discrimination = pearson(points, rest) if n > 1 else None
        stats.counts = tuple(
            sum(o in row[i].chosen for row in answers) for o in range(len(info.options))
        )
        stats.flags = flags(stats)
        out.append(stats)
    kr20 = alpha = None
    if n > 1 and k > 1:
        var_right, var_total = _var(right), _var(totals)
        if var_right > 0:
            kr20 = k / (k - 1) * (1 - sum(s.p * (1 - s.p) for s in out) / var_right)
        if var_total > 0:
            item_var = sum(_var([row[i].points for row in answers]) for i in range(k))
            alpha = k / (k - 1) * (1 - item_var / var_total)
    return ClassStats(n, sum(i.max_points for i in items), totals, out, kr20, alpha)


def flags(s: ItemStats, _: Callable[[str], str] = str) -> list[str]:
    """Why a question should be looked at again (see the module docstring), through `_`."""
    out = []
    if s.discrimination is not None and s.discrimination < 0:
        out.append(
            _("negative discrimination (%(d)s): check the key") % {"d": f"{s.discrimination:.2f}"}
        )
    elif s.discrimination is not None and s.discrimination < LOW_DISCRIMINATION:
        out.append(_("near-zero discrimination (%(d)s)") % {"d": f"{s.discrimination:.2f}"})
    if s.n and s.p > EASY:
        out.append(_("almost everyone right (p = %(p)s)") % {"p": f"{s.p:.2f}"})
    elif s.n and s.p < HARD:
        out.append(_("almost everyone wrong (p = %(p)s)") % {"p": f"{s.p:.2f}"})
    for o, (text, count) in enumerate(zip(s.options, s.counts, strict=True)):
        if o not in s.correct_options and count == 0 and s.n:
            out.append(_("nobody chose the distractor “%(text)s”") % {"text": text})
    return out


def histogram(totals: Sequence[int], max_total: int, bins: int = 10) -> list[tuple[str, int]]:
    """Score counts in `bins` equal ranges of 0..max_total: (label, count)."""
    width = max(1, math.ceil((max_total + 1) / bins))
    out = []
    for lo in range(0, max_total + 1, width):
        hi = min(lo + width - 1, max_total)
        out.append((f"{lo}–{hi}" if hi > lo else str(lo), sum(lo <= t <= hi for t in totals)))
    return out
