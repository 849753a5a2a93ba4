"""kzquiz.grading against the shared table (the page's JavaScript runs the same table in
test_selfcheck.py)."""

from __future__ import annotations

from typing import Any

import pytest

from grading_cases import CASES, NORMALISE_CASES, NUMBER_CASES, question
from kzquiz.grading import grade, normalise_answer, parse_number, same_answer, within


@pytest.mark.parametrize(("key", "response", "right", "parts"), CASES)
def test_grade_table(key: str, response: Any, right: bool, parts: tuple[bool, ...] | None) -> None:
    result = grade(question(key), response)
    assert result.correct is right
    if parts is not None:
        assert result.parts == parts


@pytest.mark.parametrize(("text", "expected"), NORMALISE_CASES)
def test_normalise_table(text: str, expected: str) -> None:
    assert normalise_answer(text) == expected


@pytest.mark.parametrize(("text", "expected"), NUMBER_CASES)
def test_parse_number_table(text: str, expected: float | None) -> None:
    assert parse_number(text) == expected


def test_every_question_type_is_in_the_table() -> None:
    kinds = {question(key).type for key, *_ in CASES}
    assert kinds == {
        "single",
        "multiple",
        "truefalse",
        "cloze",
        "short",
        "numeric",
        "matching",
        "ordering",
    }
    # and each type has at least one right and one wrong case
    for kind in kinds:
        outcomes = {right for key, _, right, _ in CASES if question(key).type == kind}
        assert outcomes == {True, False}, kind


def test_blank_answer_never_matches() -> None:
    # An accepted answer made only of punctuation normalises to "", like an empty response.
    assert not same_answer("", ["?"])
    assert not same_answer("?", ["?"])


def test_within_forgives_float_rounding_only() -> None:
    lo, hi = 1.1 - 0.1, 1.1 + 0.1  # 1.0000000000000002, 1.2000000000000002
    assert within(1.0, lo, hi)
    assert not within(0.9999, lo, hi)
    assert within(-5.0, float("-inf"), 0.0)
    assert not within(float("nan"), 0.0, 1.0)


def test_unknown_type_is_refused() -> None:
    with pytest.raises(TypeError):
        grade(object(), 1)  # type: ignore[arg-type]
