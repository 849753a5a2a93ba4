"""Hand-in files from the self-check page: one student's answers, keyed by question id.

The page shuffles with a seed of its own, so its answers cannot be in a worksheet version's
letters; they are in bank order instead, one question a row:

    kzquiz-responses,<bank id>,<question-set hash>,<point|comma>
    <student>,<question id>,<answer>[,<answer>...]
    ...
    kzquiz-end,<number of answer rows>,<checksum>

- single / multiple: the letters of the choices ticked, A being the bank's first ("AC");
  true/false: T or F;
- numeric, short: the text as typed; cloze: one cell per blank, as typed;
- matching: one cell per left item in bank order: the bank position (1, 2 ...) of the right
  item chosen, empty when none;
- ordering: one cell per item in bank order: the position (1, 2 ...) the student gave it.

The question-set hash is `question_hash` of the page's question ids in bank order, the same
hash the answer sheets' QR codes carry; `point|comma` is how the page read decimals. The
checksum (32-bit FNV-1a over the rows above it) catches a file edited or cut short after the
page wrote it; it is no protection against a student who computes it anew. A question left
blank has no row. The answers are graded by `kzquiz.grading`, as the page grades them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from typing_extensions import assert_never

from kzquiz import grading
from kzquiz.grade.score import BadResponse, Outcome
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

HEADER = "kzquiz-responses"
END = "kzquiz-end"
MAX_NAME = 100


class HandInError(ValueError):
    """A hand-in file that cannot be graded; the text names file:line."""


def is_handin(rows: Sequence[tuple[int, list[str]]]) -> bool:
    """Whether CSV rows are a hand-in file (by its first cell)."""
    return bool(rows) and bool(rows[0][1]) and rows[0][1][0].strip() == HEADER


def checksum(rows: Sequence[Sequence[str]]) -> str:
    """FNV-1a (32 bit) of the rows' cells, the same the page computes: 8 hex digits."""
    text = "\n".join("\x1f".join(cells) for cells in rows)
    h = 0x811C9DC5
    for byte in text.encode("utf-8"):
        h = ((h ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{h:08x}"


@dataclass(frozen=True)
class HandIn:
    """One student's graded hand-in: who, and the outcome of every question answered."""

    student: str
    outcomes: dict[str, Outcome]


def _letters(text: str, n: int) -> list[int]:
    picked = list(dict.fromkeys(text.strip().upper()))
    letters = [chr(ord("A") + i) for i in range(n)]
    if not picked or any(p not in letters for p in picked):
        raise BadResponse(f"{text!r}: the letters here are {''.join(letters)}")
    return sorted(letters.index(p) for p in picked)


def _positions(cells: Sequence[str], n: int, what: str) -> list[int | None]:
    if len(cells) != n:
        raise BadResponse(f"{len(cells)} cells, but the question has {n} {what}")
    out: list[int | None] = []
    for cell in cells:
        cell = cell.strip()
        if cell == "":
            out.append(None)
        elif cell.isdigit() and 1 <= int(cell) <= n:
            out.append(int(cell) - 1)
        else:
            raise BadResponse(f"{cell!r}: a position 1-{n}")
    return out


def response_of(q: Question, cells: Sequence[str]) -> tuple[Any, tuple[int, ...]]:
    """A row's answer cells as `kzquiz.grading` takes them, and the bank choices picked."""
    if isinstance(q, Single | Multiple):
        if len(cells) != 1:
            raise BadResponse("one cell of letters")
        picked = _letters(cells[0], len(q.choices))
        if isinstance(q, Single):
            if len(picked) != 1:
                raise BadResponse(f"{cells[0]!r}: one letter")
            return picked[0], tuple(picked)
        return picked, tuple(picked)
    if isinstance(q, TrueFalse):
        value = {"T": True, "F": False}.get(cells[0].strip().upper() if len(cells) == 1 else "")
        if value is None:
            raise BadResponse("T or F")
        return value, (0,) if value else (1,)
    if isinstance(q, Numeric | Short):
        if len(cells) != 1:
            raise BadResponse("one cell")
        return cells[0], ()
    if isinstance(q, Cloze):
        if len(cells) != len(q.blanks):
            raise BadResponse(f"{len(cells)} cells, but the question has {len(q.blanks)} blanks")
        return list(cells), ()
    if isinstance(q, Matching):
        return _positions(cells, len(q.pairs), "items to match"), ()
    if isinstance(q, Ordering):
        n = len(q.items)
        positions = _positions(cells, n, "items")
        if sorted(p for p in positions if p is not None) != list(range(n)):
            raise BadResponse("each position 1-n once")
        order = [0] * n
        for item, position in enumerate(positions):
            order[position or 0] = item
        return order, ()
    assert_never(q)


def _name(text: str) -> str:
    name = " ".join(text.split())
    if not name or len(name) > MAX_NAME:
        raise BadResponse(f"a student name of 1-{MAX_NAME} characters")
    if any(unicodedata.category(c)[0] == "C" for c in name):
        raise BadResponse("a student name without control characters")
    return name


def read(
    path: Path,
    rows: Sequence[tuple[int, list[str]]],
    *,
    bank_id: str,
    questions: Sequence[Question],
    digest: str,
    language: str,
) -> HandIn:
    """Check a hand-in file against the bank and question set, and grade every answer."""
    head_line, head = rows[0]
    if len(head) < 3 or head[1] != bank_id:
        other = head[1] if len(head) > 1 else ""
        raise HandInError(
            f"{path}:{head_line}: a hand-in for bank {other!r}, not {bank_id!r}; not graded"
        )
    if head[2] != digest:
        raise HandInError(
            f"{path}:{head_line}: a hand-in from another set of questions of {bank_id!r} (its"
            " question hash differs: give the self-check's selection, -n and --seed); not graded"
        )
    decimal = head[3] if len(head) > 3 and head[3] in ("point", "comma") else "point"
    end_line, end = rows[-1]
    body = rows[1:-1]
    if (
        len(rows) < 2
        or end[:1] != [END]
        or len(end) != 3
        or end[1] != str(len(body))
        or end[2] != checksum([cells for _, cells in rows[:-1]])
    ):
        raise HandInError(
            f"{path}:{end_line}: the file was changed or cut short after the page wrote it"
            " (its last line's count or checksum does not match); not graded"
        )
    by_id = {q.id: q for q in questions}
    student: str | None = None
    outcomes: dict[str, Outcome] = {}
    for line, cells in body:
        try:
            if len(cells) < 3:
                raise BadResponse("a row is student,question id,answer")
            who = _name(cells[0])
            if student is not None and who != student:
                raise BadResponse(f"student {who!r}, but the file is {student!r}'s")
            student = who
            qid = cells[1].strip()
            q = by_id.get(qid)
            if q is None:
                raise BadResponse(f"question {qid!r} is not in this set")
            if qid in outcomes:
                raise BadResponse(f"question {qid!r} answered twice")
            response, chosen = response_of(q, cells[2:])
        except BadResponse as exc:
            raise HandInError(f"{path}:{line}: {exc}; not graded") from exc
        ok = grading.grade(q, response, language=language, decimal=decimal).correct
        outcomes[qid] = Outcome(q.score if ok else 0, ok, chosen)
    if student is None:
        raise HandInError(f"{path}:{end_line}: no answer in the file; not graded")
    return HandIn(student, outcomes)
