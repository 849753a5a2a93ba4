"""Deterministic synthetic banks of every question type, for benchmarks and size tests.

Evidence quotes are real slices of the source article's paragraphs, so the banks are valid.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "sources" / "article.txt"
TYPES = ("single", "multiple", "truefalse", "cloze", "short", "numeric", "matching", "ordering")
TOPICS = {f"topic-{i}": f"Synthetic topic {i}" for i in range(1, 9)}


def _quotes(article: str) -> list[str]:
    blocks = [b.strip() for b in re.split(r"\n\s*\n", article) if b.strip()][1:]
    quotes = []
    for block in blocks:
        words = block.split()
        if len(words) < 12:
            continue  # section headings
        for start in range(0, len(words) - 8, 7):
            quotes.append(" ".join(words[start : start + 6]))
    return quotes


def _q(s: str) -> str:
    """A double-quoted YAML scalar."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(n: int, seed: int = 1) -> str:
    """The YAML text of a valid bank with n questions, the same for the same n and seed."""
    rng = random.Random(seed)
    quotes = _quotes(ARTICLE.read_text(encoding="utf-8"))
    words = sorted(
        {w.strip(".,;:“”\"'’()…") for q in quotes for w in q.split() if len(w) > 3} - {""}
    )
    out = [
        "bank:",
        f"  id: synthetic-{n}",
        f'  title: "Synthetic bank of {n} questions"',
        "  language: en",
        "  source:",
        '    title: "Synthetic source"',
        "    text: article.txt",
        "topics:",
        *(f"  {k}: {_q(v)}" for k, v in TOPICS.items()),
        "questions:",
    ]
    topics = list(TOPICS)
    for i in range(n):
        kind = TYPES[i % len(TYPES)]
        w = [rng.choice(words) for _ in range(12)]
        out += [
            f"  - id: q-{i:06d}",
            f"    type: {kind}",
            f"    topic: {topics[i % len(topics)]}",
            f"    difficulty: {1 + i % 3}",
            f"    tags: [synthetic, tag-{i % 17}]",
        ]
        if kind == "cloze":
            out.append(
                f"    text: {_q(f'Question {i} about {w[0]} and {{{{{w[1]}|{w[2]}}}}} near {{{{{w[3]}}}}}.')}"
            )
        else:
            out.append(f"    prompt: {_q(f'Question {i}: what links {w[0]}, {w[1]} and {w[2]}?')}")
        if kind in ("single", "multiple"):
            out.append("    choices:")
            for j in range(4):
                correct = j == 0 or (kind == "multiple" and j == 2)
                flag = ", correct: true" if correct else ""
                out.append(f"      - {{text: {_q(f'Option {j}: {w[4 + j][:8]}')}{flag}}}")
        elif kind == "truefalse":
            out.append(f"    answer: {'true' if i % 2 else 'false'}")
        elif kind == "short":
            out.append(f"    answers: [{_q(w[4])}, {_q(w[5] + ' ' + w[4])}]")
        elif kind == "numeric":
            out += [f"    answer: {i % 1000}", "    tolerance: 0.5", '    unit: "units"']
        elif kind == "matching":
            out.append("    pairs:")
            for j in range(3):
                out.append(
                    f"      - {{left: {_q(f'{w[4 + j]} {j}')}, right: {_q(f'{w[8 + j]} match {j}')}}}"
                )
        elif kind == "ordering":
            out.append(f"    items: [{', '.join(_q(f'{w[4 + j]} step {j}') for j in range(4))}]")
        out += [
            f"    explanation: {_q(f'Because {w[9]} relates to {w[10]} in question {i}.')}",
            f"    evidence: {_q(rng.choice(quotes))}",
        ]
    return "\n".join(out) + "\n"


def write_bank(folder: Path, n: int, seed: int = 1) -> Path:
    """Write bank-<n>.yaml and the article beside it; return the bank path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "article.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / f"bank-{n}.yaml"
    path.write_text(generate(n, seed), encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    for arg in sys.argv[1:] or ["1000"]:
        print(write_bank(ROOT / "benchmarks" / "out", int(arg)))
