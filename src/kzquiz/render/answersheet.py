"""Machine-readable answer sheets: one bubble sheet per worksheet version.

Everything on a sheet is placed by one function, `sheet_layout`, in millimetres from the
page's top-left corner. The template draws exactly those shapes (one SVG the size of the
page) and `kzquiz.grade.omr` reads the bubbles at exactly those points, so printing and
reading can never drift apart.

A sheet has four solid corner squares (alignment), a QR code (`payload`: sheet format,
bank id, version, seed, a hash of the version's question list, page and page count), a
student-id grid on every page (pages stand alone, so a stack of scans may be shuffled),
and one block per question:

- single / multiple / true-false: one bubble per letter of this version;
- numeric: `NUMERIC_DIGITS` rows of 0-9 (the number's digits from the first row on, rows
  left empty at the end), then a row with a minus bubble and "point after digit k"
  bubbles (1 to `NUMERIC_DIGITS - 1`);
- ordering: one row per item as the worksheet lists it (a, b, c ...), bubbles 1..n for
  the position the student gives it;
- short, cloze, matching: two boxes the teacher ticks, "right" or "wrong".

The questions flow down three columns and on to further pages when they do not fit.
"""

from __future__ import annotations

import hashlib
import random
import string
from collections.abc import Sequence
from dataclasses import dataclass

from typing_extensions import assert_never

from kzquiz.bank import LoadedBank
from kzquiz.model import (
    Cloze,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
)
from kzquiz.pools import Pool
from kzquiz.render.worksheet import Item, Version
from kzquiz.render.worksheet import layout as worksheet_layout

FORMAT_VERSION = 1
QR_PREFIX = "KZQ"
# Paper sizes in mm (width, height), by the worksheet's --paper names.
PAPER_MM: dict[str, tuple[float, float]] = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MARKER = 8.0  # side of a corner square
MARKER_INSET = 8.0  # from the paper's edge to the square's outer edge
BUBBLE = 3.8  # diameter of a bubble (and side of a right/wrong box)
PITCH_X = 5.0
PITCH_Y = 5.2
NUMERIC_DIGITS = 5
STUDENT_DIGITS = 6
QR_SIZE = 30.0
COLUMNS = 3
LABEL_W = 9.0  # room for the question number left of its bubbles
BLOCK_GAP = 2.2
MAX_PER_ROW = 10
HEADER_H = 80.0  # from the top marker row to the first question row


@dataclass(frozen=True)
class Bubble:
    """One mark position: centre (mm), the value it stands for, its printed label."""

    x: float
    y: float
    value: str
    label: str
    box: bool = False  # a square tick box (right/wrong) instead of a circle


@dataclass(frozen=True)
class Field:
    """Bubbles of which (normally) one is marked: a question's letters, one digit row ..."""

    name: str  # "answer", "digit1", "sign", "point", "row-a", "id3" ...
    bubbles: tuple[Bubble, ...]
    label: str = ""  # printed left of the row
    label_x: float = 0.0
    label_y: float = 0.0


@dataclass(frozen=True)
class Block:
    """One question's place on the sheet."""

    number: int
    qid: str
    type: str
    x: float
    y: float  # top-left of the block
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class Page:
    """One page of one version's answer sheet."""

    version: str
    number: int  # 1-based
    pages: int
    width: float
    height: float
    markers: tuple[
        tuple[float, float], ...
    ]  # centres: top-left, top-right, bottom-left, bottom-right
    qr_x: float
    qr_y: float
    payload: str
    student: tuple[Field, ...]  # one column of 0-9 per digit of the student id
    blocks: tuple[Block, ...]


def question_hash(ids: Sequence[str]) -> str:
    """A short hash of a version's question ids in printed order (ties a scan to its key)."""
    return hashlib.sha256("\n".join(ids).encode("utf-8")).hexdigest()[:12]


def payload(
    bank_id: str, version: str, seed: int, digest: str, page: int, pages: int, paper: str
) -> str:
    """The QR code's text: fields joined by ';' (ids never hold ';')."""
    return ";".join(
        (
            f"{QR_PREFIX}{FORMAT_VERSION}",
            bank_id,
            version,
            str(seed),
            digest,
            f"{page}/{pages}",
            paper,
        )
    )


def versions_for(
    loaded: LoadedBank,
    questions: Sequence[Question],
    versions: int,
    seed: int,
    pools: Sequence[Pool] = (),
) -> list[Version]:
    """The worksheet's versions for this seed, exactly as `kzquiz worksheet` prints them."""
    # The worksheet's first use of its Random is this layout, so the same seed gives the
    # same versions here (with each version's draw from the pools); version k depends only
    # on versions before it, not on the total.
    return worksheet_layout(loaded, questions, versions, random.Random(seed), pools=pools)


def _row_fields(
    name: str, values: Sequence[str], labels: Sequence[str], x: float, y: float, box: bool = False
) -> tuple[list[Field], float]:
    """Bubbles in rows of at most MAX_PER_ROW from (x, y) (centre of the first); the height."""
    fields = []
    rows = [range(i, min(i + MAX_PER_ROW, len(values))) for i in range(0, len(values), MAX_PER_ROW)]
    bubbles = []
    for r, indexes in enumerate(rows):
        for c, i in enumerate(indexes):
            bubbles.append(Bubble(x + c * PITCH_X, y + r * PITCH_Y, values[i], labels[i], box))
    fields.append(Field(name, tuple(bubbles)))
    return fields, len(rows) * PITCH_Y


def _block_fields(item: Item, x: float, y: float) -> tuple[tuple[Field, ...], float]:
    """The fields of one question placed with its first bubble row centred at y."""
    q = item.question
    bx = x + LABEL_W + BUBBLE / 2
    if isinstance(q, Single | Multiple | TrueFalse):
        letters = [c.letter for c in item.choices]
        fields, height = _row_fields("answer", letters, letters, bx, y)
        return tuple(fields), height
    if isinstance(q, Numeric):
        out = []
        for d in range(NUMERIC_DIGITS):
            digits = [str(v) for v in range(10)]
            (row,), _ = _row_fields(f"digit{d + 1}", digits, digits, bx, y + d * PITCH_Y)
            out.append(Field(row.name, row.bubbles, f"{d + 1}", x + LABEL_W - 2.0, y + d * PITCH_Y))
        last = y + NUMERIC_DIGITS * PITCH_Y
        out.append(Field("sign", (Bubble(bx, last, "-", "−"),), "±.", x + LABEL_W - 2.0, last))
        points = [
            Bubble(bx + (k + 1) * PITCH_X, last, str(k), f".{k}") for k in range(1, NUMERIC_DIGITS)
        ]
        out.append(Field("point", tuple(points)))
        return tuple(out), (NUMERIC_DIGITS + 1) * PITCH_Y
    if isinstance(q, Ordering):
        n = len(item.steps)
        positions = [str(p) for p in range(1, n + 1)]
        out = []
        for i in range(n):
            letter = string.ascii_lowercase[i]
            (row,), _ = _row_fields(f"row-{letter}", positions, positions, bx, y + i * PITCH_Y)
            out.append(Field(row.name, row.bubbles, letter, x + LABEL_W - 2.0, y + i * PITCH_Y))
        return tuple(out), n * PITCH_Y
    if isinstance(q, Short | Cloze | Matching):
        fields, height = _row_fields(
            "mark", ["right", "wrong"], ["✓", "✗"], bx + PITCH_X, y, box=True
        )
        return tuple(fields), height
    assert_never(q)


def _student(x: float, y: float) -> tuple[Field, ...]:
    """The student-id grid: one column of 0-9 per digit, top to bottom."""
    return tuple(
        Field(
            f"id{c + 1}",
            tuple(Bubble(x + c * PITCH_X, y + r * PITCH_Y, str(r), str(r)) for r in range(10)),
        )
        for c in range(STUDENT_DIGITS)
    )


def sheet_layout(loaded: LoadedBank, version: Version, seed: int, paper: str = "a4") -> list[Page]:
    """Every page of one version's answer sheet, every shape in mm: the one layout."""
    width, height = PAPER_MM[paper]
    half = MARKER / 2
    near, far_x, far_y = (
        MARKER_INSET + half,
        width - MARKER_INSET - half,
        height - MARKER_INSET - half,
    )
    markers = ((near, near), (far_x, near), (near, far_y), (far_x, far_y))
    left = MARKER_INSET + 4.0
    column_w = (width - 2 * left) / COLUMNS
    top = MARKER_INSET + HEADER_H
    bottom = height - MARKER_INSET - MARKER - 4.0
    # Place the blocks column by column, page by page.
    placed: list[list[tuple[Item, float, float]]] = [[]]
    column, y = 0, top
    for item in version.items:
        _, h = _block_fields(item, 0.0, 0.0)
        if y + h > bottom and y > top:
            column, y = column + 1, top
            if column == COLUMNS:
                placed.append([])
                column = 0
        placed[-1].append((item, left + column * column_w, y))
        y += h + BLOCK_GAP
    digest = question_hash([item.question.id for item in version.items])
    pages = []
    for number, blocks in enumerate(placed, 1):
        out = []
        for item, bx, by in blocks:
            fields, _ = _block_fields(item, bx, by + PITCH_Y / 2)
            out.append(Block(item.number, item.question.id, item.question.type, bx, by, fields))
        pages.append(
            Page(
                version=version.letter,
                number=number,
                pages=len(placed),
                width=width,
                height=height,
                markers=markers,
                qr_x=width - MARKER_INSET - MARKER - 4.0 - QR_SIZE,
                qr_y=MARKER_INSET + 2.0,
                payload=payload(
                    loaded.id, version.letter, seed, digest, number, len(placed), paper
                ),
                student=_student(left + 22.0, MARKER_INSET + 26.0),
                blocks=tuple(out),
            )
        )
    return pages


@dataclass(frozen=True)
class QrModules:
    """The QR code's dark modules as one SVG path in mm."""

    path: str
    size: float


def qr_modules(text: str, size: float = QR_SIZE) -> QrModules:
    """The QR code of `text` (error correction M, quiet zone 2 modules) drawn in `size` mm."""
    import segno

    code = segno.make_qr(text, error="m", boost_error=False)
    matrix = [list(row) for row in code.matrix]
    quiet = 2
    n = len(matrix) + 2 * quiet
    m = size / n
    parts = []
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                parts.append(
                    f"M{(c + quiet) * m:.3f} {(r + quiet) * m:.3f}h{m:.3f}v{m:.3f}h-{m:.3f}z"
                )
    return QrModules("".join(parts), size)


def render_sheets(
    loaded: LoadedBank,
    questions: Sequence[Question],
    *,
    pools: Sequence[Pool] = (),
    versions: int,
    seed: int,
    paper: str,
    title: str,
) -> dict[str, bytes]:
    """One HTML answer sheet per version (every page of it): file name -> bytes."""
    from kzquiz import i18n
    from kzquiz.render import env
    from kzquiz.render.worksheet import PAPERS

    lang = i18n.of(loaded)
    template = env(lang).get_template("worksheet/answersheet.html.j2")
    files = {}
    for version in versions_for(loaded, questions, versions, seed, pools):
        pages = sheet_layout(loaded, version, seed, paper)
        html = template.render(
            title=title,
            language=lang,
            decimal="," if lang in i18n.DECIMAL_COMMA else ".",
            paper=PAPERS[paper],
            pages=pages,
            qr={p.number: qr_modules(p.payload) for p in pages},
            marker=MARKER,
            bubble=BUBBLE,
        )
        files[f"{loaded.id}-answersheet-{version.letter}.html"] = html.encode("utf-8")
    return files
