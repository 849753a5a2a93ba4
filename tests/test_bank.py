"""The shipped bank: valid, warning-free, covering the whole article with every type."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kzquiz.bank import LoadedBank
from kzquiz.loader import load_bank
from kzquiz.model import QUESTION_TYPES, Cloze, Multiple, Single

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def shipped() -> LoadedBank:
    return load_bank(ROOT / "questions.yaml")


def test_valid_without_warnings(shipped: LoadedBank) -> None:
    assert shipped.warnings == []


def test_size_types_topics_difficulties(shipped: LoadedBank) -> None:
    questions = shipped.bank.questions
    assert len(questions) >= 90
    by_type = Counter(q.type for q in questions)
    assert all(by_type[t] >= 5 for t in QUESTION_TYPES), by_type
    by_topic = Counter(q.topic for q in questions)
    assert 6 <= len(shipped.bank.topics) <= 10
    assert all(by_topic[t] >= 6 for t in shipped.bank.topics), by_topic
    assert set(q.difficulty for q in questions) == {1, 2, 3}


def test_every_paragraph_is_cited(shipped: LoadedBank) -> None:
    cited = set(shipped.paragraph_of.values())
    every = set(range(1, len(shipped.source.paragraphs) + 1))
    assert len(every) == 25
    assert every - cited == set(), f"paragraphs without a question: {sorted(every - cited)}"


def test_a_third_ask_why_or_what_follows(shipped: LoadedBank) -> None:
    reasoning = [q for q in shipped.bank.questions if "reasoning" in q.tags]
    assert len(reasoning) * 3 >= len(shipped.bank.questions)


def test_choices_are_fair(shipped: LoadedBank) -> None:
    for q in shipped.bank.questions:
        if isinstance(q, (Single, Multiple)):
            texts = [c.text.lower() for c in q.choices]
            assert not any("all of the above" in t or "none of the above" in t for t in texts), q.id
            assert len(q.choices) >= 3, q.id
        if isinstance(q, Cloze):
            assert q.blanks and all(b for b in q.blanks), q.id


def test_source_title_is_the_article_title(shipped: LoadedBank) -> None:
    assert shipped.bank.bank.source.title == shipped.source.title
