"""Shared by tests/test_export_*.py: the export test bank, golden files, and a GIFT reader.

The GIFT reader follows Moodle's own importer (question/format/gift/format.php,
qformat_gift::readquestion) step by step, so the tests check GIFT output against the rules of
the program that will read it, beside the third-party parser (pygiftparser).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kzquiz.bank import LoadedBank
from kzquiz.loader import load_bank

GOLDEN = Path(__file__).resolve().parent / "golden"
EXPORT_BANK = GOLDEN / "export-bank.yaml"


def load_export_bank(make_bank: object) -> LoadedBank:
    """The export test bank (every type plus escaping cases), written beside the article."""
    assert callable(make_bank)
    return load_bank(make_bank(EXPORT_BANK.read_text(encoding="utf-8")))


def check_golden(request: pytest.FixtureRequest, name: str, data: bytes) -> None:
    """Compare `data` with tests/golden/NAME; `pytest --update-golden` rewrites it instead."""
    path = GOLDEN / name
    if request.config.getoption("--update-golden"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return
    assert path.exists(), f"{path} is missing; run pytest --update-golden and review the diff"
    expected = path.read_bytes()
    if data == expected:
        return
    try:
        diff = difflib.unified_diff(
            expected.decode("utf-8").splitlines(keepends=True),
            data.decode("utf-8").splitlines(keepends=True),
            f"golden/{name}",
            "output",
        )
        shown = "".join(list(diff)[:80])
    except UnicodeDecodeError:
        shown = f"{len(expected)} bytes expected, {len(data)} bytes written"
    raise AssertionError(f"{name} differs from its golden file (pytest --update-golden):\n{shown}")


# --- Moodle's GIFT importer, transcribed -------------------------------------------------

_PLACEHOLDERS = [
    ("\\:", "&&058;"),
    ("\\#", "&&035;"),
    ("\\=", "&&061;"),
    ("\\{", "&&123;"),
    ("\\}", "&&125;"),
    ("\\~", "&&126;"),
    ("\\n", "&&010"),
]
_CHARS = {"&&058;": ":", "&&035;": "#", "&&061;": "=", "&&123;": "{", "&&125;": "}"}
_CHARS.update({"&&126;": "~", "&&010": "\n"})
_WEIGHT = re.compile(r"^%\-*([0-9]{1,2})\.?([0-9]*)%")
_FORMATS = ("moodle", "html", "plain", "markdown")


def _pre(text: str) -> str:
    text = text.replace("\\\\", "&&092;")
    for escaped, placeholder in _PLACEHOLDERS:
        text = text.replace(escaped, placeholder)
    return text.replace("&&092;", "\\")


def _post(text: str) -> str:
    for placeholder, char in _CHARS.items():
        text = text.replace(placeholder, char)
    return text


def _with_format(text: str, default: str = "moodle") -> tuple[str, str]:
    fmt = default
    if text.startswith("["):
        end = text.find("]")
        if text[1:end] in _FORMATS:
            fmt, text = text[1:end], text[end + 1 :]
    return fmt, _post(text).strip()


def _weight(answer: str) -> tuple[float | None, str]:
    if not _WEIGHT.match(answer):
        return None, answer
    answer = answer[1:]
    end = answer.find("%")
    return float(answer[:end]) / 100, answer[end + 1 :]


@dataclass
class MoodleQuestion:
    """What Moodle's GIFT import makes of one block."""

    qtype: str
    name: str = ""
    text: str = ""
    text_format: str = "moodle"
    general_feedback: str = ""
    single: bool = True
    answers: list[tuple[str, float]] = field(default_factory=list)  # (text, fraction)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    numbers: list[tuple[str, str, float]] = field(default_factory=list)  # (answer, tol, frac)
    correct: bool | None = None
    category: str = ""
    comment: str = ""


def moodle_read(block: str) -> MoodleQuestion:
    """One GIFT block (a question or $CATEGORY) as qformat_gift::readquestion reads it."""
    comments, lines = "", []
    for line in block.split("\n"):
        if line.strip().startswith("//"):
            comments += line.strip() + "\n"
            lines.append(" ")
        else:
            lines.append(line)
    text = _pre("\n".join(lines).strip())
    if text.startswith("$CATEGORY:"):
        return MoodleQuestion("category", category=text[10:].strip())
    q = MoodleQuestion("", comment=comments)
    if text.startswith("::"):
        text = text[2:]
        end = text.find("::")
        q.name, text = _post(text[:end]), text[end + 2 :].strip()
    start, finish = text.find("{"), text.find("}")
    assert start >= 0 and finish > start, f"no answer braces in {block!r}"
    answertext = text[start + 1 : finish].strip()
    blank = "" if text.endswith("}") else "_____"
    questiontext = text[:start] + blank + text[finish + 1 :]
    gf = answertext.rfind("####")
    general = ""
    if gf >= 0:
        general, answertext = answertext[gf + 4 :], answertext[:gf].strip()
    q.text_format, q.text = _with_format(questiontext)
    _, q.general_feedback = _with_format(general, q.text_format)
    if answertext.startswith("#"):
        q.qtype = "numerical"
        for answer in [a for a in answertext[1:].split("=") if a.strip()]:
            weight, answer = _weight(answer.strip())
            value = _with_format(answer.split("#", 1)[0].strip(), q.text_format)[1]
            if ".." in value:
                lo, hi = value.split("..")
                q.numbers.append((f"{lo}..{hi}", "", 1.0 if weight is None else weight))
            else:
                ans, _, tol = value.partition(":")
                q.numbers.append((ans, tol or "0", 1.0 if weight is None else weight))
    elif "~" in answertext:
        q.qtype = "multichoice"
        q.single = "=" in answertext
        for answer in [a for a in answertext.replace("=", "~=").split("~") if a.strip()]:
            answer = answer.strip()
            if answer.startswith("="):
                weight, answer = 1.0, answer[1:]
            else:
                parsed, answer = _weight(answer)
                weight = parsed or 0.0
            q.answers.append(
                (_with_format(answer.split("#", 1)[0].strip(), q.text_format)[1], weight)
            )
    elif "=" in answertext and "->" in answertext:
        q.qtype = "match"
        for answer in [a for a in answertext.split("=") if a.strip()]:
            marker = answer.find("->")
            left = _with_format(answer[:marker].strip(), q.text_format)[1]
            q.pairs.append((left, _post(answer[marker + 2 :]).strip()))
    elif answertext.split("#", 1)[0].strip() in ("T", "TRUE", "F", "FALSE"):
        q.qtype = "truefalse"
        q.correct = answertext.split("#", 1)[0].strip() in ("T", "TRUE")
    else:
        q.qtype = "shortanswer"
        for answer in [a for a in answertext.split("=") if a.strip()]:
            weight, answer = _weight(answer.strip())
            text_only = _with_format(answer.split("#", 1)[0].strip(), q.text_format)[1]
            q.answers.append((text_only, 1.0 if weight is None else weight))
    return q


def moodle_read_file(data: bytes) -> list[MoodleQuestion]:
    """Every block of a GIFT file: blocks are separated by blank lines; comment-only are skipped."""
    out = []
    for block in re.split(r"\n[ \t]*\n", data.decode("utf-8")):
        if all(not line.strip() or line.strip().startswith("//") for line in block.split("\n")):
            continue
        out.append(moodle_read(block))
    return out
