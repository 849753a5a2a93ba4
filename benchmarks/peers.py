"""Peers of kzquiz from PyPI, measured side by side: each in a venv of its own.

- text2qti (QTI from a Markdown-like text format): the synthetic bank's single, multiple,
  true/false, short-answer and numeric questions written in its format, against
  `kzquiz export qti` of the same questions;
- anki-yaml-tool (an Anki deck from YAML): every question as a front/back note with tags,
  against `kzquiz anki` of the whole bank.

Usage (what run.py calls, in a child process so that it stays small):
    python benchmarks/peers.py text2qti BANK.yaml OUT.txt
    python benchmarks/peers.py anki-yaml-tool BANK.yaml OUT.yaml
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml_rs

HERE = Path(__file__).resolve().parent
VENV = HERE / "out" / "peers" / "venv"
PACKAGES = {"text2qti": "text2qti", "anki-yaml-tool": "anki-yaml-tool"}
# The question types text2qti holds, and so the ones kzquiz exports for the comparison.
TEXT2QTI_TYPES = ("single", "multiple", "truefalse", "short", "numeric")


def _bin(name: str) -> Path:
    return VENV / ("Scripts" if os.name == "nt" else "bin") / name


def ensure(package: str) -> tuple[Path | None, str]:
    """The peer's command in its own venv, installed from PyPI if need be; or None and why."""
    script = _bin(package)
    if script.exists():
        return script, ""
    try:
        if not _bin("python").exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)],
                check=True,
                capture_output=True,
                timeout=300,
            )
        subprocess.run(
            [str(_bin("python")), "-m", "pip", "install", "-q", PACKAGES[package]],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        last = detail.decode(errors="replace").strip().splitlines()[-1:] or [str(exc)]
        return None, f"could not install {package}: {last[0]}"
    if not script.exists():
        return None, f"{package} installed no `{package}` command"
    return script, ""


def _line(text: Any) -> str:
    # text2qti reads one line per prompt and choice, and `$...$` as LaTeX.
    return " ".join(str(text).split()).replace("$", "USD ")


def to_text2qti(bank: Path, out: Path) -> int:
    """Write the bank's questions of TEXT2QTI_TYPES in text2qti's format; return how many."""
    data = yaml_rs.loads(bank.read_text(encoding="utf-8"), parse_datetime=False)
    lines = [f"Quiz title: {_line(data['bank']['title'])}", "Quiz description: benchmark", ""]
    count = 0
    for q in data["questions"]:
        kind = q["type"]
        if kind not in TEXT2QTI_TYPES:
            continue
        count += 1
        lines.append(f"{count}.  {_line(q['prompt'])}")
        if kind == "single":
            for j, c in enumerate(q["choices"]):
                mark = "*" if c.get("correct") else ""
                lines.append(f"{mark}{'abcdefgh'[j]}) {_line(c['text'])}")
        elif kind == "multiple":
            for c in q["choices"]:
                lines.append(f"[{'*' if c.get('correct') else ' '}] {_line(c['text'])}")
        elif kind == "truefalse":
            lines += [
                f"{'*' if q['answer'] else ''}a) True",
                f"{'' if q['answer'] else '*'}b) False",
            ]
        elif kind == "short":
            lines += [f"*   {_line(a)}" for a in q["answers"]]
        else:  # numeric
            lines.append(f"=   {q['answer']} +- {q.get('tolerance', 0)}")
        lines.append("")
    out.write_text("\n".join(lines), encoding="utf-8")
    return count


def _answer(q: dict[str, Any]) -> str:
    kind = q["type"]
    if kind in ("single", "multiple"):
        return "; ".join(c["text"] for c in q["choices"] if c.get("correct"))
    if kind == "truefalse":
        return "True" if q["answer"] else "False"
    if kind == "short":
        return q["answers"][0]
    if kind == "numeric":
        return f"{q['answer']} ± {q.get('tolerance', 0)} {q.get('unit', '')}".strip()
    if kind == "matching":
        return "; ".join(f"{p['left']} → {p['right']}" for p in q["pairs"])
    if kind == "ordering":
        return " → ".join(q["items"])
    return "(cloze)"


def to_anki_yaml_tool(bank: Path, out: Path) -> int:
    """Write every question as an anki-yaml-tool note (front, back, tags); return how many."""
    import json

    data = yaml_rs.loads(bank.read_text(encoding="utf-8"), parse_datetime=False)
    notes = [
        {
            "front": q.get("prompt") or q.get("text"),
            "back": f"{_answer(q)}<br>{q['explanation']}<br>{q['evidence']}",
            "tags": list(q.get("tags") or []),
        }
        for q in data["questions"]
    ]
    deck = {
        "config": {
            "name": "kzquiz benchmark",
            "deck-name": data["bank"]["title"],
            "css": ".card { font-family: arial; }",
            "fields": ["Front", "Back"],
            "templates": [
                {
                    "name": "Card 1",
                    "qfmt": "{{Front}}",
                    "afmt": "{{FrontSide}}<hr id=answer>{{Back}}",
                }
            ],
        },
        "data": notes,
    }
    # JSON is YAML: every YAML reader reads it, and no writer's quoting is in question.
    out.write_text(json.dumps(deck, ensure_ascii=False, indent=1), encoding="utf-8")
    return len(notes)


if __name__ == "__main__":
    which, bank_arg, out_arg = sys.argv[1:4]
    convert = to_text2qti if which == "text2qti" else to_anki_yaml_tool
    print(convert(Path(bank_arg), Path(out_arg)))
