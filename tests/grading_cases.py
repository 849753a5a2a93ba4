"""One table of answer-checking cases, run against kzquiz.grading (Python) and the self-check
page's JavaScript, so the terminal and the browser always agree on what is right."""

from __future__ import annotations

from typing import Any

import pydantic

from kzquiz.model import Question

_BASE: dict[str, Any] = {
    "topic": "t",
    "difficulty": 1,
    "explanation": "Because.",
    "evidence": "quote",
}

QUESTIONS: dict[str, dict[str, Any]] = {
    "single": {
        "type": "single",
        "prompt": "Pick one.",
        "choices": [{"text": "Right", "correct": True}, {"text": "Wrong"}, {"text": "Also wrong"}],
    },
    "multiple": {
        "type": "multiple",
        "prompt": "Pick all.",
        "choices": [
            {"text": "Taiwan", "correct": True},
            {"text": "Kosovo", "correct": True},
            {"text": "Crimea"},
            {"text": "Abkhazia", "correct": True},
        ],
    },
    "truefalse": {
        "type": "truefalse",
        "prompt": "Kazakhstan broke the sanctions.",
        "answer": False,
    },
    "cloze": {
        "type": "cloze",
        "text": "The {{25th|twenty-fifth}} International {{Economic}} Forum in {{June|Jun}} 2022.",
    },
    "short": {"type": "short", "prompt": "Who?", "answers": ["Tigran Keosayan", "Keosayan"]},
    "short-quotes": {
        "type": "short",
        "prompt": "Which policy?",
        "answers": ["Kazakhstan’s “multi-vector” policy"],
    },
    "short-sharp-s": {"type": "short", "prompt": "Street?", "answers": ["Straße"]},
    "short-greek": {"type": "short", "prompt": "Road?", "answers": ["ΟΔΟΣ"]},
    "short-accent": {"type": "short", "prompt": "Where?", "answers": ["café"]},
    "short-spaces": {"type": "short", "prompt": "Which city?", "answers": ["New York"]},
    "numeric": {
        "type": "numeric",
        "prompt": "How many billion?",
        "answer": 22,
        "tolerance": 0.5,
        "unit": "billion USD",
    },
    "numeric-range": {
        "type": "numeric",
        "prompt": "How many states?",
        "answer": 550,
        "range": [500, 600],
    },
    "numeric-negative": {"type": "numeric", "prompt": "Below zero?", "answer": -3},
    "numeric-rounding": {"type": "numeric", "prompt": "About?", "answer": 1.1, "tolerance": 0.1},
    "numeric-thousands": {"type": "numeric", "prompt": "Exactly?", "answer": 1000},
    "matching": {
        "type": "matching",
        "prompt": "Match.",
        "pairs": [
            {"left": "Raisi", "right": "Iran"},
            {"left": "Putin", "right": "Russia"},
            {"left": "Tokayev", "right": "Kazakhstan"},
        ],
    },
    "ordering": {"type": "ordering", "prompt": "Order.", "items": ["one", "two", "three", "four"]},
}

# (question key, response, right?, parts or None when not worth pinning)
CASES: list[tuple[str, Any, bool, tuple[bool, ...] | None]] = [
    ("single", 0, True, (True,)),
    ("single", 1, False, (False,)),
    ("single", None, False, (False,)),
    ("single", 7, False, (False,)),
    ("multiple", [0, 1, 3], True, (True, True, True, True)),
    ("multiple", [3, 1, 0], True, None),
    ("multiple", [0, 1], False, (True, True, True, False)),
    ("multiple", [0, 1, 2, 3], False, (True, True, False, True)),
    ("multiple", [], False, None),
    ("multiple", None, False, None),
    ("truefalse", False, True, (True,)),
    ("truefalse", True, False, (False,)),
    ("truefalse", None, False, (False,)),
    ("cloze", ["25th", "Economic", "June"], True, (True, True, True)),
    ("cloze", ["Twenty-Fifth", "  economic. ", "JUN"], True, None),
    ("cloze", ["twenty–fifth", "ECONOMIC!", "june"], True, None),
    ("cloze", ["25", "Economic", "June"], False, (False, True, True)),
    ("cloze", ["", "", ""], False, (False, False, False)),
    ("cloze", ["25th"], False, (True, False, False)),
    ("short", "tigran   keosayan", True, None),
    ("short", "Keosayan.", True, None),
    ("short", "  KEOSAYAN!  ", True, None),
    ("short", "Keosayan's", False, None),
    ("short", "Putin", False, None),
    ("short", "", False, None),
    ("short", ".", False, None),
    ("short", None, False, None),
    ("short-quotes", 'kazakhstan\'s "multi-vector" policy', True, None),
    ("short-quotes", "Kazakhstan‘s «multi—vector» policy", True, None),
    ("short-quotes", "Kazakhstan's multi vector policy", False, None),
    ("short-sharp-s", "STRASSE", True, None),
    ("short-sharp-s", "strasse", True, None),
    ("short-sharp-s", "STRAẞE", True, None),
    ("short-greek", "οδος", True, None),
    ("short-greek", "οδοσ", True, None),
    ("short-accent", "cafe\u0301", True, None),
    ("short-accent", "cafe", False, None),
    ("short-spaces", "new\u00a0york", True, None),
    ("short-spaces", "New\u2003York\t", True, None),
    ("short-spaces", "NewYork", False, None),
    ("numeric", "22", True, None),
    ("numeric", "22.5", True, None),
    ("numeric", "21.5", True, None),
    ("numeric", "22.6", False, None),
    ("numeric", "21.4", False, None),
    ("numeric", "2.2e1", True, None),
    ("numeric", "+22", True, None),
    ("numeric", " 22 ", True, None),
    ("numeric", "22,5", False, None),
    ("numeric", "twenty-two", False, None),
    ("numeric", "", False, None),
    ("numeric", "٢٢", False, None),
    ("numeric", 22.4, True, None),
    ("numeric", None, False, None),
    ("numeric-range", "500", True, None),
    ("numeric-range", "600", True, None),
    ("numeric-range", "499.9", False, None),
    ("numeric-range", "1,000", False, None),
    ("numeric-negative", "\u22123", True, None),
    ("numeric-negative", "-3", True, None),
    ("numeric-negative", "3", False, None),
    ("numeric-rounding", "1.0", True, None),
    ("numeric-rounding", "1.2", True, None),
    ("numeric-rounding", "0.99", False, None),
    ("numeric-thousands", "1,000", True, None),
    ("numeric-thousands", "1,000.0", True, None),
    ("numeric-thousands", "10,00", False, None),
    ("matching", [0, 1, 2], True, (True, True, True)),
    ("matching", [1, 0, 2], False, (False, False, True)),
    ("matching", [0, None, 2], False, (True, False, True)),
    ("matching", [0, 1], False, (True, True, False)),
    ("matching", None, False, (False, False, False)),
    ("ordering", [0, 1, 2, 3], True, (True, True, True, True)),
    ("ordering", [1, 0, 2, 3], False, (False, False, True, True)),
    ("ordering", [0, 1, 2], False, (True, True, True, False)),
    ("ordering", [0, 1, 2, 3, 3], False, (True, True, True, True)),
    ("ordering", None, False, (False, False, False, False)),
]

# normalise_answer(text) == expected, on both sides
NORMALISE_CASES: list[tuple[str, str]] = [
    ("  Hello,   World!  ", "hello, world"),
    ("“Quoted”", '"quoted"'),
    ("it’s", "it's"),
    ("Straße", "strasse"),
    ("Rock–paper—scissors", "rock-paper-scissors"),
    ("wait…", "wait"),
    ("U.S.", "u.s"),
    ("line\nbreak\ttab", "line break tab"),
    ("ΟΔΟΣ", "οδοσ"),
]

# parse_number(text) == expected, on both sides
NUMBER_CASES: list[tuple[str, float | None]] = [
    ("22", 22.0),
    (" 7 ", 7.0),
    ("1,000", 1000.0),
    ("1,234,567.5", 1234567.5),
    ("\u22125", -5.0),
    ("1.", 1.0),
    (".5", 0.5),
    ("2e3", 2000.0),
    ("22,5", None),
    ("1,00", None),
    ("abc", None),
    ("", None),
    ("inf", None),
    ("NaN", None),
    ("٢٢", None),
    ("0x10", None),
    ("1 000", None),
]


def question(key: str) -> Question:
    """The table's question as a validated model."""
    adapter: pydantic.TypeAdapter[Question] = pydantic.TypeAdapter(Question)
    return adapter.validate_python({"id": key, **_BASE, **QUESTIONS[key]})
