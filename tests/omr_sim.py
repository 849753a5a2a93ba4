"""A simulated class for the grading tests: abilities, responses, filled and degraded scans.

Students answer by a two-parameter logistic model, P(right) = 1 / (1 + exp(-a(θ - b))),
with θ ~ N(0, 1) from a fixed seed, b from the question's difficulty (1, 2, 3 → -1, 0, 1)
and a = 1.7. One single-choice question is simulated as keyed wrong: the option the
students' knowledge points to is one the bank marks wrong, so the strong students pick it.
Sheets are the real answer-sheet PDF rasterised with pypdfium2, filled with dark
ellipses at the layout's bubble centres (jittered like a hand), then optionally degraded.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
import pypdfium2

from kzquiz.bank import LoadedBank
from kzquiz.model import Cloze, Matching, Multiple, Numeric, Ordering, Short, Single, TrueFalse
from kzquiz.render import pdf
from kzquiz.render.answersheet import BUBBLE, Page, render_sheets, sheet_layout, versions_for
from kzquiz.render.worksheet import Item, Version

DPI = 150


@dataclass
class Student:
    """One simulated student: id, ability, version and the responses they mark."""

    sid: str
    theta: float
    version: str
    responses: dict[int, str]  # question number -> response text (version letters)


def blank_pages(
    loaded: LoadedBank, questions: list, seed: int, versions: int, paper: str = "a4"
) -> dict[str, list[np.ndarray]]:
    """Every version's answer sheet pages as grey images, from the real PDF."""
    html = render_sheets(
        loaded, questions, versions=versions, seed=seed, paper=paper, title=loaded.title
    )
    out = {}
    for name, page in html.items():
        letter = name.removesuffix(".html")[-1]
        document = pypdfium2.PdfDocument(pdf.html_to_pdf(page))
        pages = []
        for i in range(len(document)):
            array = np.array(document[i].render(scale=DPI / 72, grayscale=True).to_numpy())
            pages.append(array if array.ndim == 2 else array[..., 0])
        out[letter] = pages
        document.close()
    return out


def _logistic(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def response(item: Item, right: bool, rng: random.Random, keyed_wrong: bool = False) -> str:
    """A response text that is right or wrong for the item (in the version's letters)."""
    q = item.question
    if isinstance(q, Single):
        good = next(c.letter for c in item.choices if c.correct)
        bad = [c.letter for c in item.choices if not c.correct]
        if keyed_wrong:
            # The "real" answer is the first distractor: the strong choose it, the weak the key.
            return bad[0] if right else rng.choice([good, good, *bad[1:]])
        return good if right else rng.choice(bad)
    if isinstance(q, Multiple):
        good = {c.letter for c in item.choices if c.correct}
        if not right:
            flip = rng.choice([c.letter for c in item.choices])
            good ^= {flip}
        return "".join(sorted(good))
    if isinstance(q, TrueFalse):
        return ("T" if q.answer else "F") if right else ("F" if q.answer else "T")
    if isinstance(q, Numeric):
        _, hi = q.bounds
        value = q.answer if right else hi + 1 + rng.randint(0, 5)
        text = f"{value:g}"
        return text
    if isinstance(q, Ordering):
        positions = [s.position for s in item.steps]
        if not right:
            i, j = rng.sample(range(len(positions)), 2)
            positions[i], positions[j] = positions[j], positions[i]
        return ",".join(map(str, positions))
    if isinstance(q, Short | Cloze | Matching):
        return "R" if right else "W"
    raise TypeError(q)


def simulate(
    loaded: LoadedBank, versions: list[Version], n: int, seed: int, keyed_wrong: str
) -> list[Student]:
    """n students with known abilities answering the versions in turn."""
    rng = random.Random(seed)
    out = []
    for s in range(n):
        theta = rng.gauss(0, 1)
        version = versions[s % len(versions)]
        responses = {}
        for item in version.items:
            b = (item.question.difficulty - 2) * 1.0
            right = rng.random() < _logistic(1.7 * (theta - b))
            if rng.random() < 0.03 and item.question.id != keyed_wrong:
                responses[item.number] = ""  # left unanswered
                continue
            responses[item.number] = response(
                item, right, rng, keyed_wrong=item.question.id == keyed_wrong
            )
        out.append(Student(f"{100000 + s * 37:06d}", theta, version.letter, responses))
    return out


def bubbles_for(item: Item, page: Page, text: str) -> list[tuple[float, float]]:
    """The bubble centres (mm) a student fills to give `text` for this item on this page."""
    block = next(b for b in page.blocks if b.number == item.number)
    fields = {f.name: f for f in block.fields}
    q = item.question
    out = []

    def pick(name: str, value: str) -> None:
        b = next(b for b in fields[name].bubbles if b.value == value)
        out.append((b.x, b.y))

    if not text:
        return out
    if isinstance(q, Single | Multiple | TrueFalse):
        for letter in text:
            pick("answer", letter)
    elif isinstance(q, Numeric):
        sign = text.startswith("-")
        body = text.lstrip("-")
        digits = body.replace(".", "")
        for i, d in enumerate(digits):
            pick(f"digit{i + 1}", d)
        if sign:
            pick("sign", "-")
        if "." in body:
            pick("point", str(body.index(".")))
    elif isinstance(q, Ordering):
        for i, pos in enumerate(text.split(",")):
            pick(f"row-{'abcdefghijklmnopqrstuvwxyz'[i]}", pos)
    else:
        pick("mark", {"R": "right", "W": "wrong"}[text])
    return out


def fill(image: np.ndarray, centres: list[tuple[float, float]], rng: random.Random) -> np.ndarray:
    """Dark, slightly irregular ellipses at the centres (mm), like a pen's."""
    out = image.copy()
    k = DPI / 25.4
    r = BUBBLE / 2 * k
    for x, y in centres:
        cx = (x + rng.gauss(0, 0.2)) * k
        cy = (y + rng.gauss(0, 0.2)) * k
        axes = (round(r * rng.uniform(0.85, 1.05)), round(r * rng.uniform(0.8, 1.0)))
        shade = rng.randint(10, 70)
        cv2.ellipse(
            out, (round(cx), round(cy)), axes, rng.uniform(0, 180), 0, 360, shade, -1, cv2.LINE_AA
        )
    return out


def student_pages(
    loaded: LoadedBank,
    student: Student,
    version: Version,
    blanks: list[np.ndarray],
    seed: int,
    rng: random.Random,
) -> list[np.ndarray]:
    """The student's filled pages (clean)."""
    pages = sheet_layout(loaded, version, seed)
    out = []
    for page, blank in zip(pages, blanks, strict=True):
        centres = []
        for column, digit in zip(page.student, student.sid, strict=True):
            b = next(b for b in column.bubbles if b.value == digit)
            centres.append((b.x, b.y))
        items = {i.number: i for i in version.items}
        for block in page.blocks:
            centres += bubbles_for(items[block.number], page, student.responses[block.number])
        out.append(fill(blank, centres, rng))
    return out


def degrade(image: np.ndarray, rng: random.Random, phone: bool = False) -> np.ndarray:
    """Rotation up to 3°, scale 0.9-1.1, blur, noise; `phone` adds a skewed perspective."""
    h, w = image.shape
    pad = int(0.08 * max(h, w))
    canvas = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=205)
    ch, cw = canvas.shape
    matrix = cv2.getRotationMatrix2D((cw / 2, ch / 2), rng.uniform(-3, 3), rng.uniform(0.9, 1.1))
    out = cv2.warpAffine(canvas, matrix, (cw, ch), borderValue=205)
    if phone:
        src = np.float32([[0, 0], [cw, 0], [0, ch], [cw, ch]])
        j = 0.04
        dst = np.float32(
            [
                [rng.uniform(0, j) * cw, rng.uniform(0, j) * ch],
                [cw - rng.uniform(0, j) * cw, rng.uniform(0, j) * ch],
                [rng.uniform(0, j) * cw, ch - rng.uniform(0, j) * ch],
                [cw - rng.uniform(0, j) * cw, ch - rng.uniform(0, j) * ch],
            ]
        )
        out = cv2.warpPerspective(
            out, cv2.getPerspectiveTransform(src, dst), (cw, ch), borderValue=205
        )
        # Uneven light across a photo.
        ramp = np.linspace(0.85, 1.0, cw, dtype=np.float32)[None, :]
        out = (out.astype(np.float32) * ramp).clip(0, 255).astype(np.uint8)
    out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.4, 1.1))
    noise = np.random.default_rng(rng.randrange(2**32)).normal(0, 6, out.shape)
    return (out.astype(np.float32) + noise).clip(0, 255).astype(np.uint8)


def png(image: np.ndarray) -> bytes:
    """PNG bytes of a grey image."""
    ok, data = cv2.imencode(".png", image)
    assert ok
    return bytes(data)


def class_versions(loaded: LoadedBank, questions: list, seed: int, versions: int) -> list[Version]:
    """The versions the sheets show."""
    return versions_for(loaded, questions, versions, seed)
