"""Marks → responses → points: one response text per question, whichever way it came in.

A response is written in the version's letters, the same in a scan, a typed-responses CSV
and a corrections CSV:

- single / multiple: the letters ticked ("B", "AC"); true/false: "T" or "F";
- numeric: the number ("-5.7");
- ordering: the position given to each item as the worksheet lists it ("3,1,4,2");
- short, cloze, matching: "R" (the teacher ticked right) or "W" (wrong);
- empty: unanswered (scored 0).

Scoring is all or nothing: a question's points when its response is right, else 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from typing_extensions import assert_never

from kzquiz import grading
from kzquiz.grade.omr import Scan, state
from kzquiz.model import Cloze, Matching, Multiple, Numeric, Ordering, Short, Single, TrueFalse
from kzquiz.render.answersheet import Block, Page
from kzquiz.render.answersheet import Field as SheetField
from kzquiz.render.worksheet import Item


@dataclass(frozen=True)
class Doubt:
    """A mark the reader would not decide: where it is and what each bubble read."""

    sheet: str  # "scans.pdf#2", "ann.png"
    question: str  # the question number, or "student"
    qid: str
    fills: tuple[tuple[str, float], ...]  # (value, fill) per bubble
    crop: bytes  # PNG of the block


@dataclass
class SheetRead:
    """One read page: who, which version and page, and the responses by question number."""

    name: str
    version: str
    page: int
    pages: int
    student: str | None
    responses: dict[int, str | None] = field(default_factory=dict)  # None: unclear
    doubts: list[Doubt] = field(default_factory=list)


def _states(scan: Scan, f: SheetField) -> list[tuple[str, float, str]]:
    out = []
    for b in f.bubbles:
        fill = scan.fill(b.x, b.y)
        out.append((b.value, fill, state(fill)))
    return out


def _one(marks: list[tuple[str, float, str]]) -> str | None:
    """The one value marked in a row, "" when none, None when unclear or several."""
    if any(s == "unclear" for _, _, s in marks):
        return None
    chosen = [v for v, _, s in marks if s == "filled"]
    if len(chosen) > 1:
        return None
    return chosen[0] if chosen else ""


def block_response(item: Item, scan: Scan, block: Block) -> str | None:
    """What a block's marks say, as a response text; None when a mark is unclear."""
    q = item.question
    rows = {f.name: _states(scan, f) for f in block.fields}
    if isinstance(q, Single | Multiple | TrueFalse):
        marks = rows["answer"]
        if any(s == "unclear" for _, _, s in marks):
            return None
        return "".join(v for v, _, s in marks if s == "filled")
    if isinstance(q, Numeric):
        digits = []
        for name in sorted(n for n in rows if n.startswith("digit")):
            digit = _one(rows[name])
            if digit is None:
                return None
            digits.append(digit)
        used = len("".join(digits))
        if "" in digits[:used] or any(digits[used:]):
            return None  # a row left empty between digits: which number is meant?
        sign, point = _one(rows["sign"]), _one(rows["point"])
        if sign is None or point is None:
            return None
        text = "".join(digits)
        if not text:
            return "" if not sign and not point else None
        if point:
            k = int(point)
            if k >= len(text):
                return None
            text = text[:k] + "." + text[k:]
        return ("-" if sign else "") + text
    if isinstance(q, Ordering):
        positions = []
        for f in block.fields:
            pos = _one(rows[f.name])
            if pos is None:
                return None
            positions.append(pos)
        return ",".join(positions) if any(positions) else ""
    if isinstance(q, Short | Cloze | Matching):
        mark = _one(rows["mark"])
        if mark is None:
            return None
        return {"right": "R", "wrong": "W", "": ""}[mark]
    assert_never(q)


def read_sheet(name: str, scan: Scan, page: Page, items: dict[int, Item]) -> SheetRead:
    """Every response (and the student number) on one corrected page."""
    read = SheetRead(name, page.version, page.number, page.pages, None)
    digits = []
    unclear_id = False
    for column in page.student:
        digit = _one(_states(scan, column))
        if digit is None:
            unclear_id = True
        digits.append(digit or "")
    xs = [b.x for f in page.student for b in f.bubbles]
    ys = [b.y for f in page.student for b in f.bubbles]
    if unclear_id:
        fills = tuple(
            (f"{f.name}={b.value}", scan.fill(b.x, b.y)) for f in page.student for b in f.bubbles
        )
        crop = scan.crop(min(xs) - 4, min(ys) - 4, max(xs) + 4, max(ys) + 4)
        read.doubts.append(Doubt(name, "student", "", fills, crop))
    elif "".join(digits):
        read.student = "".join(d or "_" for d in digits).rstrip("_")
    for block in page.blocks:
        item = items[block.number]
        response = block_response(item, scan, block)
        read.responses[block.number] = response
        if response is None:
            bubbles = [b for f in block.fields for b in f.bubbles]
            fills = tuple(
                (f"{f.name}={b.value}" if len(block.fields) > 1 else b.value, scan.fill(b.x, b.y))
                for f in block.fields
                for b in f.bubbles
            )
            crop = scan.crop(
                block.x,
                min(b.y for b in bubbles) - 4,
                max(b.x for b in bubbles) + 4,
                max(b.y for b in bubbles) + 4,
            )
            read.doubts.append(Doubt(name, str(block.number), block.qid, fills, crop))
    return read


@dataclass(frozen=True)
class Outcome:
    """A scored response: points, whether right, the bank's choice indexes picked."""

    points: int
    correct: bool
    chosen: tuple[int, ...] = ()


class BadResponse(ValueError):
    """A response text that cannot be an answer to its question (a typing slip)."""


_SPLIT = re.compile(r"\s*[,;]\s*|\s+")


def score(item: Item, response: str) -> Outcome:
    """Score one response text (see the module docstring); BadResponse when it is no answer."""
    q = item.question
    text = response.strip()
    if isinstance(q, Single | Multiple):
        letters = [c.letter for c in item.choices]
        picked = list(dict.fromkeys(text.upper().replace(",", "").replace(" ", "")))
        if any(p not in letters for p in picked):
            raise BadResponse(f"{text!r}: the letters here are {''.join(letters)}")
        bank_index = {
            opt.letter: next(i for i, c in enumerate(q.choices) if c.text == opt.text)
            for opt in item.choices
        }
        chosen = tuple(sorted(bank_index[p] for p in picked))
        if isinstance(q, Single):
            ok = len(chosen) == 1 and grading.grade(q, chosen[0]).correct
        else:
            ok = bool(chosen) and grading.grade(q, list(chosen)).correct
        return Outcome(q.score if ok else 0, ok, chosen)
    if isinstance(q, TrueFalse):
        value = {"": None, "T": True, "F": False}.get(text.upper(), "bad")
        if value == "bad":
            raise BadResponse(f"{text!r}: answer T or F")
        ok = value is not None and grading.grade(q, value).correct
        return Outcome(q.score if ok else 0, ok, () if value is None else ((0,) if value else (1,)))
    if isinstance(q, Numeric):
        if text and grading.parse_number(text) is None:
            raise BadResponse(f"{text!r}: not a number")
        ok = bool(text) and grading.grade(q, text).correct
        return Outcome(q.score if ok else 0, ok)
    if isinstance(q, Ordering):
        n = len(item.steps)
        parts = [p.strip() for p in _SPLIT.split(text)] if text else []
        if len(parts) == 1 and len(parts[0]) == n and n < 10:
            parts = list(parts[0])  # "3142"
        if len(parts) == n and "" in parts:
            return Outcome(0, False)  # some items left without a position: not the order
        if text and (len(parts) != n or not all(p.isdigit() and 1 <= int(p) <= n for p in parts)):
            raise BadResponse(f"{text!r}: give a position 1-{n} for each of the {n} items")
        ok = bool(parts) and all(
            int(p) == s.position for p, s in zip(parts, item.steps, strict=True)
        )
        return Outcome(q.score if ok else 0, ok)
    if isinstance(q, Short | Cloze | Matching):
        mark = text.upper()
        if mark not in ("", "R", "W"):
            raise BadResponse(f"{text!r}: answer R (right) or W (wrong)")
        ok = mark == "R"
        return Outcome(q.score if ok else 0, ok)
    assert_never(q)
