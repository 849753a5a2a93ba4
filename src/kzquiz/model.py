"""The bank's typed models: what a valid questions.yaml is.

Shape and types live here (pydantic); cross-field rules that need the whole bank
(duplicate ids, unknown topics, evidence in the article) live in validate.py.
"""

from __future__ import annotations

import re
from functools import cached_property
from typing import Annotated, Literal, Union, get_args

from pydantic import BaseModel, ConfigDict, Field, Strict, StringConstraints

# Limits: generous for real banks (a 50,000-question bank passes), firm against abuse.
MAX_TEXT = 10_000
MAX_QUESTIONS = 100_000
MAX_OPTIONS = 26  # lettered A-Z on paper and in Anki

ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Control characters other than tab/newline/carriage return cannot be printed, break XML
# and GIFT, and are never meant; refuse them instead of guessing.
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, min_length=1, max_length=100)]
Text = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_TEXT, pattern=TEXT_PATTERN
    ),
]

QuestionType = Literal[
    "single", "multiple", "truefalse", "cloze", "short", "numeric", "matching", "ordering"
]
QUESTION_TYPES: tuple[str, ...] = get_args(QuestionType)

# Numbers as YAML writes them, never true/false ("true" is not 1) or text ("nan"); strict
# still takes a whole number for a float. Non-finite values (.nan, .inf, 1e400) are refused:
# no student can type them and every export would print them as nonsense.
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
WholeNumber = Annotated[int, Strict()]

Level = Literal["remember", "understand", "apply", "analyse", "evaluate"]
LEVELS: tuple[str, ...] = get_args(Level)

_BLANK = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


class _Strict(BaseModel):
    # Unknown keys are typos (`explaination:`). Numbers written where text is expected
    # (`answers: [2060]`) are what the teacher meant, but as written ("007", not 7): the loader
    # puts the scalar's source text in their place before validation, so no coercion here.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """One option of a single/multiple choice question."""

    text: Text
    correct: Annotated[bool, Strict()] = False


class Pair(_Strict):
    """One row of a matching question: left is matched to right."""

    left: Text
    right: Text


class Image(_Strict):
    """A picture shown with a question's prompt (or with its explanation)."""

    file: Annotated[str, StringConstraints(min_length=1, max_length=1000)] = Field(
        description="Path of a PNG, JPEG, WebP, GIF or SVG file, relative to the bank file "
        "and inside its folder."
    )
    alt: Text = Field(description="What the picture shows, for readers who cannot see it.")
    caption: Text | None = Field(default=None, description="A line shown under the picture.")
    credit: Text | None = Field(
        default=None, description="Where the picture or its data comes from (its licence)."
    )


class _QuestionBase(_Strict):
    id: Id = Field(description="Unique, stable id: lowercase letters, digits and '-'.")
    topic: Id = Field(description="A key of the bank's `topics`.")
    difficulty: WholeNumber = Field(ge=1, le=3, description="1 easy, 2 medium, 3 hard.")
    tags: list[Id] = Field(default_factory=list, max_length=50)
    explanation: Text = Field(description="Why the answer is right (and the tempting one wrong).")
    evidence: Text = Field(description="A verbatim quote from the source text.")
    points: WholeNumber | None = Field(
        default=None, ge=1, le=100, description="Override default points."
    )
    level: Level | None = Field(
        default=None,
        description="What the question measures (a blueprint level): remember, understand, "
        "apply, analyse or evaluate.",
    )
    excludes: list[Id] = Field(
        default_factory=list,
        max_length=100,
        description="Ids of questions never to put on one sheet with this one (one gives the "
        "other away).",
    )
    image: Image | None = Field(default=None, description="A picture shown with the prompt.")
    explanation_image: Image | None = Field(
        default=None, description="A picture shown with the explanation (in keys and feedback)."
    )

    @property
    def stem(self) -> str:
        """The question as asked, in plain text."""
        return getattr(self, "prompt", "")

    @property
    def default_points(self) -> int:
        """Points the question is worth on a worksheet."""
        return 1

    @property
    def score(self) -> int:
        """Points, honouring an explicit override."""
        return self.points if self.points is not None else self.default_points


class Single(_QuestionBase):
    """Exactly one correct choice."""

    type: Literal["single"]
    prompt: Text
    choices: list[Choice] = Field(min_length=2, max_length=MAX_OPTIONS)

    def answer_text(self) -> str:
        """The correct answer in plain text."""
        return "; ".join(c.text for c in self.choices if c.correct)


class Multiple(_QuestionBase):
    """One or more correct choices; the student selects all that apply."""

    type: Literal["multiple"]
    prompt: Text
    choices: list[Choice] = Field(min_length=2, max_length=MAX_OPTIONS)

    @property
    def default_points(self) -> int:
        """Points the question is worth on a worksheet."""
        return 2

    def answer_text(self) -> str:
        """The correct answers in plain text."""
        return "; ".join(c.text for c in self.choices if c.correct)


class TrueFalse(_QuestionBase):
    """A statement that is true or false."""

    type: Literal["truefalse"]
    prompt: Text
    answer: Annotated[bool, Strict()]

    def answer_text(self) -> str:
        """The correct answer in plain text."""
        return "True" if self.answer else "False"


class Cloze(_QuestionBase):
    """Text with one or more `{{answer|alternative}}` blanks."""

    type: Literal["cloze"]
    text: Text

    @cached_property
    def blanks(self) -> list[list[str]]:
        """Accepted answers per blank, canonical answer first."""
        return [
            [alt.strip() for alt in m.group(1).split("|") if alt.strip()]
            for m in _BLANK.finditer(self.text)
        ]

    @cached_property
    def segments(self) -> list[str | int]:
        """The text split into literal strings and blank indexes (0-based)."""
        out: list[str | int] = []
        pos = 0
        for i, m in enumerate(_BLANK.finditer(self.text)):
            out.append(self.text[pos : m.start()])
            out.append(i)
            pos = m.end()
        out.append(self.text[pos:])
        return out

    @property
    def stem(self) -> str:
        """The text with each blank shown as a line."""
        return "".join("_____" if isinstance(s, int) else s for s in self.segments)

    @property
    def default_points(self) -> int:
        """One point per blank."""
        return max(1, len(self.blanks))

    def answer_text(self) -> str:
        """The canonical answer of each blank."""
        return "; ".join(b[0] for b in self.blanks if b)


class Short(_QuestionBase):
    """A free answer; any of `answers` is accepted (the first is canonical)."""

    type: Literal["short"]
    prompt: Text
    answers: list[Text] = Field(min_length=1, max_length=50)

    def answer_text(self) -> str:
        """The canonical answer."""
        return self.answers[0]


class Numeric(_QuestionBase):
    """A number, optionally within a tolerance or a range, with an optional unit."""

    type: Literal["numeric"]
    prompt: Text
    answer: Number
    tolerance: Number | None = Field(default=None, ge=0)
    range: tuple[Number, Number] | None = Field(
        default=None, description="[min, max] accepted, inclusive; instead of tolerance."
    )
    unit: Text | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The accepted interval, inclusive."""
        if self.range is not None:
            return self.range
        tol = self.tolerance or 0.0
        return (self.answer - tol, self.answer + tol)

    def answer_text(self) -> str:
        """The answer with its accepted interval and unit."""
        text = format_number(self.answer)
        if self.range is not None:
            text += f" (accepted {format_number(self.range[0])}–{format_number(self.range[1])})"
        elif self.tolerance:
            text += f" (± {format_number(self.tolerance)})"
        return f"{text} {self.unit}" if self.unit else text


class Matching(_QuestionBase):
    """Pairs to match: each left item goes with its right item."""

    type: Literal["matching"]
    prompt: Text
    pairs: list[Pair] = Field(min_length=2, max_length=MAX_OPTIONS)

    @property
    def default_points(self) -> int:
        """One point per pair."""
        return len(self.pairs)

    def answer_text(self) -> str:
        """Every pair as `left → right`."""
        return "; ".join(f"{p.left} → {p.right}" for p in self.pairs)


class Ordering(_QuestionBase):
    """Items listed in their correct order."""

    type: Literal["ordering"]
    prompt: Text
    items: list[Text] = Field(min_length=3, max_length=MAX_OPTIONS)

    @property
    def default_points(self) -> int:
        """Ordering is all-or-nothing but worth more than a single pick."""
        return 2

    def answer_text(self) -> str:
        """The items in order."""
        return " → ".join(self.items)


Question = Annotated[
    Union[Single, Multiple, TrueFalse, Cloze, Short, Numeric, Matching, Ordering],  # noqa: UP007
    Field(discriminator="type"),
]


class Source(_Strict):
    """The reading passage that every evidence quote comes from."""

    title: Text
    date: Text | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=1000)] = Field(
        description="Path of the plain-text article, relative to the bank file."
    )
    url: Text | None = None


class BankInfo(_Strict):
    """The bank's identity and source."""

    id: Id = Field(description="Namespace for stable ids (Anki GUIDs). Never change it.")
    title: Text
    language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]+)*$")] = "en"
    source: Source


class PoolSpec(_Strict):
    """A pool: questions (listed, or a whole topic) of which each student gets `draw`."""

    id: Id
    title: Text | None = None
    questions: list[Id] | None = Field(default=None, min_length=1, max_length=MAX_QUESTIONS)
    topic: Id | None = None
    draw: WholeNumber = Field(ge=1, description="How many questions each student gets.")


class Bank(_Strict):
    """A whole question bank."""

    bank: BankInfo
    topics: dict[Id, Text] = Field(min_length=1, max_length=100)
    questions: list[Question] = Field(min_length=1, max_length=MAX_QUESTIONS)
    pools: list[PoolSpec] = Field(default_factory=list, max_length=1000)


# Each question type's model, by its `type:` name.
QUESTION_MODELS: dict[str, type[BaseModel]] = {
    model.model_fields["type"].annotation.__args__[0]: model
    for model in get_args(get_args(Question)[0])
}

# Every field name a bank can use, read off the models (for "did you mean ...?" hints).
FIELD_NAMES: tuple[str, ...] = tuple(
    sorted(
        {
            name
            for model in (
                Bank,
                BankInfo,
                Source,
                Choice,
                Pair,
                Image,
                PoolSpec,
                *get_args(get_args(Question)[0]),
            )
            for name in model.model_fields
        }
    )
)


def format_number(x: float) -> str:
    """Show 193.0 as 193 and 0.5 as 0.5."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else repr(float(x))
