"""The files `kzquiz grade` writes: the gradebook CSV, the report and the review page."""

from __future__ import annotations

import base64
import csv
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from kzquiz.grade import omr, stats

if TYPE_CHECKING:
    from kzquiz.bank import LoadedBank
    from kzquiz.grade.run import GradebookRow
    from kzquiz.grade.score import Doubt
    from kzquiz.grade.stats import ClassStats


def _cell(value: object) -> str:
    from kzquiz.render.csv import defuse

    text = str(value)
    return defuse(text) or text


def _csv(rows: Sequence[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([_cell(c) for c in row])
    return buffer.getvalue().encode("utf-8")


def gradebook(loaded: LoadedBank, rows: Sequence[GradebookRow]) -> bytes:
    """student, version, score, max, points per topic, undecided marks, sheets (CSV, UTF-8)."""
    topics = list(loaded.bank.topics)
    head = ["student", "version", "score", "max", *topics, "unclear", "sheets"]
    body = [
        [
            r.student,
            r.version,
            r.score,
            r.max_score,
            *(r.topics[t] for t in topics),
            " ".join(map(str, r.unclear)),
            " ".join(r.sheets),
        ]
        for r in rows
    ]
    return _csv([head, *body])


def corrections_csv(doubts: Sequence[Doubt]) -> bytes:
    """The corrections file to fill in: one line per doubtful mark, `answer` left empty."""
    return _csv([["sheet", "question", "answer"], *([d.sheet, d.question, ""] for d in doubts)])


def _png_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def review_html(loaded: LoadedBank, doubts: Sequence[Doubt]) -> bytes:
    """Every doubtful mark's crop beside what each bubble read."""
    from kzquiz import i18n
    from kzquiz.render import env

    lang = i18n.of(loaded)
    html = (
        env(lang)
        .get_template("grade/review.html.j2")
        .render(
            language=lang,
            title=loaded.title,
            doubts=[(d, _png_uri(d.crop)) for d in doubts],
            filled=omr.FILLED,
            empty=omr.EMPTY,
        )
    )
    return html.encode("utf-8")


def _bars(
    values: Sequence[tuple[str, int]], width: float = 480, height: float = 160
) -> dict[str, object]:
    top = max([v for _, v in values] + [1])
    step = width / max(len(values), 1)
    bars = [
        {
            "x": round(i * step + 2, 2),
            "w": round(step - 4, 2),
            "h": round(v / top * (height - 30), 2),
            "y": round(height - 18 - v / top * (height - 30), 2),
            "label": label,
            "value": v,
        }
        for i, (label, v) in enumerate(values)
    ]
    return {"width": width, "height": height, "bars": bars}


def report_html(
    loaded: LoadedBank,
    stat: ClassStats,
    numbers: Sequence[tuple[str, list[int]]],
    problems: Sequence[str],
) -> bytes:
    """The class report: score distribution, every question's figures and flags, problems."""
    from kzquiz import i18n
    from kzquiz.render import env

    lang = i18n.of(loaded)
    gettext = i18n.gettext_for(lang)
    number_of = dict(numbers)
    html = (
        env(lang)
        .get_template("grade/report.html.j2")
        .render(
            language=lang,
            flags={i.qid: stats.flags(i, gettext) for i in stat.items},
            title=loaded.title,
            bank=loaded.display,
            stat=stat,
            histogram=_bars(stats.histogram(stat.totals, stat.max_total)),
            numbers=number_of,
            flagged=[i for i in stat.items if i.flags],
            problems=problems,
            thresholds={
                "low": stats.LOW_DISCRIMINATION,
                "easy": stats.EASY,
                "hard": stats.HARD,
            },
            mean=(sum(stat.totals) / len(stat.totals)) if stat.totals else None,
        )
    )
    return html.encode("utf-8")
