"""Shared fixtures: small banks written to tmp_path, one question of every type."""

from __future__ import annotations

import copy
import os
import random
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# Processes the tests start (python -m kzquiz, benchmarks) import this tree's code too.
os.environ["PYTHONPATH"] = os.pathsep.join(
    p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
)
ARTICLE = ROOT / "sources" / "article.txt"

MINI_BANK: dict[str, Any] = {
    "bank": {
        "id": "mini",
        "title": "Mini bank",
        "language": "en",
        "source": {"title": "Tokayev at the forum", "date": "2022-06", "text": "article.txt"},
    },
    "topics": {
        "sovereignty": "Sovereignty and international law",
        "economy": "Sanctions and trade",
    },
    "questions": [
        {
            "id": "un-two-principles",
            "type": "single",
            "topic": "sovereignty",
            "difficulty": 2,
            "tags": ["un-charter"],
            "prompt": "Which two UN principles did Tokayev say had come into conflict?",
            "choices": [
                {"text": "Territorial integrity and self-determination", "correct": True},
                {"text": "Non-interference and collective security"},
                {"text": "Sovereign equality and peaceful settlement"},
            ],
            "explanation": "He named territorial integrity and the right of a nation to self-determination.",
            "evidence": "two UN principles came into conflict",
        },
        {
            "id": "breakaway-regions",
            "type": "multiple",
            "topic": "sovereignty",
            "difficulty": 2,
            "tags": ["recognition"],
            "prompt": "Which regions did Tokayev say Kazakhstan could not recognise? Select all that apply.",
            "choices": [
                {"text": "Taiwan", "correct": True},
                {"text": "Kosovo", "correct": True},
                {"text": "Crimea"},
                {"text": "Abkhazia", "correct": True},
            ],
            "explanation": "The article lists Taiwan, Kosovo, South Ossetia and Abkhazia.",
            "evidence": "including Taiwan and Kosovo",
        },
        {
            "id": "sanctions-break",
            "type": "truefalse",
            "topic": "economy",
            "difficulty": 1,
            "tags": ["sanctions"],
            "prompt": "Kazakhstan intends to break the Western sanctions on Russia.",
            "answer": False,
            "explanation": "Tokayev said Kazakhstan has no intention of breaking them.",
            "evidence": "Kazakhstan has no intention of breaking the Western sanctions",
        },
        {
            "id": "forum-number",
            "type": "cloze",
            "topic": "sovereignty",
            "difficulty": 1,
            "tags": ["forum"],
            "text": "Tokayev spoke at the {{25th|twenty-fifth}} St. Petersburg International {{Economic}} Forum in {{June|Jun}} 2022.",
            "explanation": "It was the 25th SPIEF.",
            "evidence": "25th St. Petersburg International Economic Forum",
        },
        {
            "id": "keosayan",
            "type": "short",
            "topic": "economy",
            "difficulty": 2,
            "tags": ["people"],
            "prompt": "Which Kremlin-backed journalist accused Kazakhstan of being ungrateful?",
            "answers": ["Tigran Keosayan", "Keosayan"],
            "explanation": "Tigran Keosayan made the remark.",
            "evidence": "Kremlin-backed journalist Tigran Keosayan",
        },
        {
            "id": "china-investment",
            "type": "numeric",
            "topic": "economy",
            "difficulty": 2,
            "tags": ["china", "numbers"],
            "prompt": "How many billion US dollars has China invested in Kazakhstan over 15 years?",
            "answer": 22,
            "tolerance": 0.5,
            "unit": "billion USD",
            "explanation": "Over $22 billion.",
            "evidence": "invested over $22 billion in our economy",
        },
        {
            "id": "who-is-who",
            "type": "matching",
            "topic": "economy",
            "difficulty": 3,
            "tags": ["people"],
            "prompt": "Match each person to their role.",
            "pairs": [
                {"left": "Ebrahim Raisi", "right": "President of Iran"},
                {"left": "Margarita Simonyan", "right": "Editor-in-chief of RT"},
                {"left": "Vladimir Putin", "right": "President of Russia"},
            ],
            "explanation": "As the article describes them.",
            "evidence": "Iranian President Ebrahim Raisi",
        },
        {
            "id": "timeline",
            "type": "ordering",
            "topic": "sovereignty",
            "difficulty": 3,
            "tags": ["dates"],
            "prompt": "Put these events in order, earliest first.",
            "items": [
                "Kazakhstan joins the Paris Agreement",
                "Tokayev becomes president",
                "Russia's full-scale war begins",
                "The June 17 plenary session",
            ],
            "explanation": "2016, 2019, February 24 2022, June 17 2022.",
            "evidence": "Kazakhstan joined the 2015 Paris Agreement on August 2, 2016",
        },
    ],
}

BankFactory = Callable[..., Path]


def _mini_bank() -> dict[str, Any]:
    """A deep copy of MINI_BANK with its one detected leak acknowledged, so it loads without warnings."""
    data = copy.deepcopy(MINI_BANK)
    # "The June 17 plenary session" (timeline) shows the answer of forum-number's blank, June.
    # Set here, not in MINI_BANK, because tests that rename ids or poison every string copy
    # MINI_BANK itself.
    data["questions"][7]["excludes"] = ["forum-number"]
    return data


@pytest.fixture
def mini_bank_data() -> dict[str, Any]:
    """A fresh deep copy of the mini bank, to mutate in a test."""
    return _mini_bank()


@pytest.fixture
def make_bank(tmp_path: Path) -> BankFactory:
    """Write a bank (data or raw YAML text) and the article into tmp_path; return the bank path."""

    def factory(data: dict[str, Any] | str | None = None, name: str = "bank.yaml") -> Path:
        shutil.copyfile(ARTICLE, tmp_path / "article.txt")
        path = tmp_path / name
        if data is None:
            data = _mini_bank()
        text = (
            data
            if isinstance(data, str)
            else yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
        )
        path.write_text(text, encoding="utf-8")
        return path

    return factory


@pytest.fixture
def mini_bank(make_bank: BankFactory) -> Path:
    """The mini bank written to tmp_path."""
    return make_bank()


# The property tests' seed, shown in the header and in failure notes. Fixed by default so CI
# is repeatable; KZQUIZ_HYPOTHESIS_SEED=random explores new examples, any number replays a run.
_seed = os.environ.get("KZQUIZ_HYPOTHESIS_SEED", "").strip().lower()
if _seed == "random":
    _seed = str(random.SystemRandom().randrange(2**32))
os.environ["KZQUIZ_HYPOTHESIS_SEED"] = _seed or "20220617"


def pytest_report_header() -> str:
    """Show the hypothesis seed so a failing run can be replayed."""
    return f"hypothesis seed: KZQUIZ_HYPOTHESIS_SEED={os.environ['KZQUIZ_HYPOTHESIS_SEED']}"


def pytest_addoption(parser: pytest.Parser) -> None:
    """`pytest --update-golden` rewrites the golden files under tests/golden/ from the output."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite golden files under tests/golden/ instead of comparing against them.",
    )
