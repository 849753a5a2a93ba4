"""Deterministic synthetic banks of every question type, for benchmarks and size tests.

Evidence quotes are real slices of the source article's paragraphs, so the banks are valid.
Besides the plain bank there are two adversarial kinds of the same questions and sizes:

- `notes`: an explicit `points:` on every question, so an export notes every question
  (GIFT has no points), the path where notes once piled up in a list;
- `warnings`: no `tags:` on any question, so `check` warns on every question, the path
  where one warning once made the loader parse the whole file again.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = ROOT / "sources" / "article.txt"
TYPES = ("single", "multiple", "truefalse", "cloze", "short", "numeric", "matching", "ordering")
KINDS = ("synthetic", "notes", "warnings")
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


def generate(n: int, seed: int = 1, kind: str = "synthetic") -> str:
    """The YAML text of a valid bank with n questions, the same for the same n, seed and kind."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} is not one of {', '.join(KINDS)}")
    # The plain bank keeps the id and title it always had: the same bytes as before.
    bank_id, title = f"synthetic-{n}", f"Synthetic bank of {n} questions"
    if kind != "synthetic":
        bank_id, title = f"synthetic-{kind}-{n}", f"{title} ({kind})"
    rng = random.Random(seed)
    quotes = _quotes(ARTICLE.read_text(encoding="utf-8"))
    words = sorted(
        {w.strip(".,;:“”\"'’()…") for q in quotes for w in q.split() if len(w) > 3} - {""}
    )
    out = [
        "bank:",
        f"  id: {bank_id}",
        f"  title: {_q(title)}",
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
        qtype = TYPES[i % len(TYPES)]
        w = [rng.choice(words) for _ in range(12)]
        out += [
            f"  - id: q-{i:06d}",
            f"    type: {qtype}",
            f"    topic: {topics[i % len(topics)]}",
            f"    difficulty: {1 + i % 3}",
        ]
        if kind != "warnings":
            out.append(f"    tags: [synthetic, tag-{i % 17}]")
        if kind == "notes":
            out.append(f"    points: {1 + i % 5}")
        if qtype == "cloze":
            out.append(
                f"    text: {_q(f'Question {i} about {w[0]} and {{{{{w[1]}|{w[2]}}}}} near {{{{{w[3]}}}}}.')}"
            )
        else:
            out.append(f"    prompt: {_q(f'Question {i}: what links {w[0]}, {w[1]} and {w[2]}?')}")
        if qtype in ("single", "multiple"):
            out.append("    choices:")
            for j in range(4):
                correct = j == 0 or (qtype == "multiple" and j == 2)
                flag = ", correct: true" if correct else ""
                out.append(f"      - {{text: {_q(f'Option {j}: {w[4 + j][:8]}')}{flag}}}")
        elif qtype == "truefalse":
            out.append(f"    answer: {'true' if i % 2 else 'false'}")
        elif qtype == "short":
            out.append(f"    answers: [{_q(w[4])}, {_q(w[5] + ' ' + w[4])}]")
        elif qtype == "numeric":
            out += [f"    answer: {i % 1000}", "    tolerance: 0.5", '    unit: "units"']
        elif qtype == "matching":
            out.append("    pairs:")
            for j in range(3):
                out.append(
                    f"      - {{left: {_q(f'{w[4 + j]} {j}')}, right: {_q(f'{w[8 + j]} match {j}')}}}"
                )
        elif qtype == "ordering":
            out.append(f"    items: [{', '.join(_q(f'{w[4 + j]} step {j}') for j in range(4))}]")
        out += [
            f"    explanation: {_q(f'Because {w[9]} relates to {w[10]} in question {i}.')}",
            f"    evidence: {_q(rng.choice(quotes))}",
        ]
    return "\n".join(out) + "\n"


def write_bank(folder: Path, n: int, seed: int = 1, kind: str = "synthetic") -> Path:
    """Write bank-<n>.yaml (bank-<kind>-<n>.yaml) and the article beside it; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "article.txt").write_text(ARTICLE.read_text(encoding="utf-8"), encoding="utf-8")
    path = folder / (f"bank-{n}.yaml" if kind == "synthetic" else f"bank-{kind}-{n}.yaml")
    path.write_text(generate(n, seed, kind), encoding="utf-8")
    return path


if __name__ == "__main__":
    import sys

    # genbank.py [KIND] N...: write banks of N questions (KIND: synthetic, notes, warnings)
    args = sys.argv[1:]
    kind = args.pop(0) if args and args[0] in KINDS else "synthetic"
    for arg in args or ["1000"]:
        print(write_bank(ROOT / "benchmarks" / "out", int(arg), kind=kind))
