"""Checking a student's response to a question: the one set of rules for answers.

`kzquiz practice` grades with this module; the self-check page's JavaScript
(templates/selfcheck/selfcheck.js) mirrors it line for line, and the tests run both
against the same table of cases (tests/grading_cases.py).

A response is plain data, independent of how choices were shown:

- single: the index of the chosen choice (bank order), or None
- multiple: the indexes of the chosen choices
- truefalse: True or False
- cloze: the text typed into each blank
- short, numeric: the text typed
- matching: for each left item (bank order), the index of the right item chosen, or None
- ordering: the item indexes (bank order) in the order the student put them
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

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
from kzquiz.source import TYPOGRAPHY

# Typographic characters a student may or may not type the way the bank does: the table
# kzquiz.source folds evidence quotes with.
_TRANSLATE = TYPOGRAPHY
# Trailing full stops, commas and the like are how a sentence ends, not part of the answer.
_TRAILING = re.compile(r"[\s.,;:!?]+$")
# Digits with an optional thousands grouping ("1,000"), decimals after a point, an exponent.
# ASCII digits only ([0-9], not \d), as JavaScript reads them.
_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
)
# A comma that is not followed by groups of exactly three digits is a decimal comma ("1,93").
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]+,[0-9]+(?:[eE][+-]?[0-9]+)?")
# Where a language writes a decimal comma (kzquiz.i18n.DECIMAL_COMMA): a comma is always the
# decimal sign, a point is accepted too, and thousands are grouped with spaces ("1 500,5").
_COMMA_NUMBER = re.compile(
    r"[+-]?(?:(?:[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+|[0-9]+)(?:[.,][0-9]*)?|[.,][0-9]+)"
    r"(?:[eE][+-]?[0-9]+)?"
)
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f]")
# Bounds like 1.1 - 0.1 come out as 1.0000000000000002; a student typing 1.0 is right.
_REL_EPS = 1e-9
# A hyphen joining two words is often typed as a space ("Nur-Sultan", "Nur Sultan"); a
# leading minus sign is left alone.
_JOINING_HYPHENS = re.compile(r"(?<=[^ -])-+(?=[^ -])")
_ARTICLE = re.compile(r"^(?:the|an?) (?=.)")
_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
_MONTH = r"(january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?"
_DAY = r"([0-9]{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,? ([0-9]{4}))?"
# "24 february", "24th of february", "the 24th of february" and "february 24th, 2022".
_DAY_MONTH = re.compile(rf"(?:the )?{_DAY}(?: of)? {_MONTH}{_YEAR}")
_MONTH_DAY = re.compile(rf"{_MONTH}(?: the)? {_DAY}{_YEAR}")


@dataclass(frozen=True)
class Grade:
    """Whether a response is right, and which of its parts are (blanks, rows, choices)."""

    correct: bool
    parts: tuple[bool, ...]

    @property
    def right_parts(self) -> int:
        """How many parts are right."""
        return sum(self.parts)


def fold_case(text: str) -> str:
    """The case folding practice and the self-check page share: lower, upper, lower again.

    Unlike str.casefold() this is what JavaScript can do exactly the same way. It turns
    ß and ẞ into "ss", the final ς into σ, dotless ı into i (its capital is I) and İ into i.
    """
    folded = text.lower().upper().lower().replace("\u03c2", "\u03c3")
    # Case mappings can leave decomposed letters (İ lowers to i + U+0307); compose them again.
    return unicodedata.normalize("NFC", folded).replace("i\u0307", "i")


def normalise_answer(text: str) -> str:
    """Fold case, whitespace, typographic quotes/dashes and trailing punctuation away."""
    t = unicodedata.normalize("NFC", text).translate(_TRANSLATE)
    return _TRAILING.sub("", fold_case(" ".join(t.split())))


def answer_key(text: str, language: str = "en") -> str:
    """What a typed answer is compared by: normalised, hyphens as spaces, and in English
    without a leading article and with dates in one form ("24th of Feb." is "24 february")."""
    key = _JOINING_HYPHENS.sub(" ", normalise_answer(text))
    if language.split("-")[0] != "en":
        return key
    key = _ARTICLE.sub("", key, count=1)
    return _date(key) or key


def _date(key: str) -> str | None:
    m = _DAY_MONTH.fullmatch(key)
    if m is not None:
        day, month, year = m.group(1, 2, 3)
    else:
        m = _MONTH_DAY.fullmatch(key)
        if m is None:
            return None
        month, day, year = m.group(1, 2, 3)
    if not 1 <= int(day) <= 31:
        return None
    name = next(full for full in _MONTHS if full.startswith(month[:3]))
    return f"{int(day)} {name}" + (f" {year}" if year else "")


def same_answer(response: str, accepted: Sequence[str], language: str = "en") -> bool:
    """Whether typed text matches one of the accepted answers once both are folded."""
    typed = answer_key(response, language)
    return bool(typed) and any(typed == answer_key(a, language) for a in accepted)


def parse_number(text: str, decimal: str = "point") -> float | None:
    """A typed number ("22", "-0.5", "1,000", "1,93", "2e3"), or None if it is not one.

    `decimal` is "comma" for a language that writes 3,5 (then "1,500" is 1.5, "1 500" 1500).
    """
    s = text.strip().replace("\u2212", "-")
    if decimal == "comma":
        if not _COMMA_NUMBER.fullmatch(s):
            return None
        return float(_GROUP_SPACES.sub("", s).replace(",", "."))
    if _NUMBER.fullmatch(s):
        return float(s.replace(",", ""))
    if _DECIMAL_COMMA.fullmatch(s):
        return float(s.replace(",", "."))
    return None


def within(value: float, lo: float, hi: float) -> bool:
    """Whether a number lies in [lo, hi], forgiving float rounding in the bounds."""
    if math.isnan(value):
        return False
    scale = max([1.0] + [abs(b) for b in (lo, hi) if math.isfinite(b)])
    eps = _REL_EPS * scale
    return lo - eps <= value <= hi + eps


def grade(
    question: Question, response: Any, *, language: str = "en", decimal: str = "point"
) -> Grade:
    """Grade a response (see the module docstring for its shape); None is unanswered.

    `language` is the bank's (`bank.language`): English answers fold articles and dates.
    `decimal` is how the interface's language writes numbers (kzquiz.i18n.decimal_style).
    """
    if isinstance(question, Single):
        index = _index(response, len(question.choices))
        return _one(index is not None and question.choices[index].correct)
    if isinstance(question, Multiple):
        picked = set(_ints(response))
        parts = tuple((i in picked) == c.correct for i, c in enumerate(question.choices))
        return Grade(all(parts), parts)
    if isinstance(question, TrueFalse):
        return _one(isinstance(response, bool) and response == question.answer)
    if isinstance(question, Cloze):
        typed = _texts(response, len(question.blanks))
        parts = tuple(
            same_answer(t, alts, language) for t, alts in zip(typed, question.blanks, strict=True)
        )
        return Grade(all(parts), parts)
    if isinstance(question, Short):
        return _one(isinstance(response, str) and same_answer(response, question.answers, language))
    if isinstance(question, Numeric):
        return _one(_number_right(question, response, decimal))
    if isinstance(question, Matching):
        chosen = _slots(response, len(question.pairs))
        parts = tuple(c == i for i, c in enumerate(chosen))
        return Grade(all(parts), parts)
    if isinstance(question, Ordering):
        order = _slots(response, len(question.items))
        parts = tuple(c == i for i, c in enumerate(order))
        # An order with items left out or repeated is never right, whatever its prefix.
        whole = isinstance(response, (list, tuple)) and len(response) == len(question.items)
        return Grade(whole and all(parts), parts)
    raise TypeError(f"unknown question type: {type(question).__name__}")


def _one(ok: bool) -> Grade:
    return Grade(ok, (ok,))


def _number_right(question: Numeric, response: Any, decimal: str = "point") -> bool:
    if isinstance(response, bool):
        return False
    if isinstance(response, (int, float)):
        value: float | None = float(response)
    elif isinstance(response, str):
        value = parse_number(response, decimal)
    else:
        value = None
    if value is None:
        return False
    lo, hi = question.bounds
    return within(value, lo, hi)


def _index(response: Any, n: int) -> int | None:
    if isinstance(response, int) and not isinstance(response, bool) and 0 <= response < n:
        return response
    return None


def _ints(response: Any) -> list[int]:
    if not isinstance(response, (list, tuple)):
        return []
    return [r for r in response if isinstance(r, int) and not isinstance(r, bool)]


def _texts(response: Any, n: int) -> list[str]:
    items = list(response) if isinstance(response, (list, tuple)) else []
    return [(items[i] if i < len(items) and isinstance(items[i], str) else "") for i in range(n)]


def _slots(response: Any, n: int) -> list[int | None]:
    items = list(response) if isinstance(response, (list, tuple)) else []
    return [
        (
            items[i]
            if i < len(items) and isinstance(items[i], int) and not isinstance(items[i], bool)
            else None
        )
        for i in range(n)
    ]
