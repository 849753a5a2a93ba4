"""Rules that need the whole bank: ids, topics, answers that make sense, evidence in the article.

Each finding carries a path into the YAML document (e.g. ("questions", 3, "choices", 1)),
which the loader turns into file:line:col.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from kzquiz.model import Bank, Cloze, Matching, Multiple, Numeric, Ordering, Question, Single
from kzquiz.source import SourceText, normalise

Path = tuple[str | int, ...]

# A correct choice this much longer than every distractor gives the answer away.
GIVEAWAY_RATIO = 1.5
GIVEAWAY_MIN_CHARS = 12


@dataclass(frozen=True)
class Finding:
    """A rule broken at a path in the document."""

    path: Path
    message: str


def suggest(word: str, options: list[str]) -> str:
    """A ' (did you mean ...?)' hint, or ''."""
    close = difflib.get_close_matches(word, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


# (index in the document, id, topic, evidence), each as the models hold it; None where invalid.
Identity = tuple[int, str | None, str | None, str | None]


def check_identity(
    questions: Iterable[Identity], topics: list[str], source: SourceText | None
) -> tuple[list[Finding], dict[str, int]]:
    """Duplicate ids, unknown topics and evidence quotes, on the typed values of each question.

    The loader passes every question that has these fields right, even one with a type error
    elsewhere, so one run reports everything; and the values are the ones the models hold
    (`id: 5` is the id "5"), so nothing the renderers see escapes these checks.
    """
    errors: list[Finding] = []
    paragraph_of: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    topic_set = set(topics)
    for i, qid, topic, evidence in questions:
        at: Path = ("questions", i)
        if qid is not None:
            if qid in first_seen:
                errors.append(
                    Finding(
                        at + ("id",),
                        f"duplicate id '{qid}' (first used by questions[{first_seen[qid]}]); ids must be unique",
                    )
                )
            else:
                first_seen[qid] = i
        if topic is not None and topics and topic not in topic_set:
            errors.append(
                Finding(
                    at + ("topic",),
                    f"unknown topic '{topic}'{suggest(topic, topics)}; add it under `topics:` or use one of: {', '.join(topics)}",
                )
            )
        if source is not None and evidence is not None and evidence.strip():
            para = source.locate(evidence)
            if para is None:
                errors.append(Finding(at + ("evidence",), _not_found(source, evidence)))
            elif qid is not None:
                paragraph_of[qid] = para
    return errors, paragraph_of


def _not_found(source: SourceText, evidence: str) -> str:
    if source.in_title(evidence):
        hint = (
            "; the text's first block is taken as its title: start the file with a title line"
            if source.title_looks_like_paragraph
            else ""
        )
        return f"evidence quote found in the title of the source text, not in a paragraph; quote a paragraph{hint}"
    return "evidence quote not found in the source text; copy it verbatim from one paragraph"


def check_answers(questions: Iterable[tuple[int, Question]]) -> list[Finding]:
    """Answers that cannot be right: no correct choice, empty blanks, duplicates, bad ranges."""
    errors: list[Finding] = []
    for i, q in questions:
        errors.extend(_check_answer(q, ("questions", i)))
    return errors


def _duplicates(texts: list[str]) -> list[int]:
    seen: set[str] = set()
    dup = []
    for j, t in enumerate(texts):
        key = normalise(t)
        if key in seen:
            dup.append(j)
        seen.add(key)
    return dup


def _check_answer(q: object, at: Path) -> list[Finding]:
    out: list[Finding] = []
    if isinstance(q, (Single, Multiple)):
        n = sum(c.correct for c in q.choices)
        if isinstance(q, Single) and n != 1:
            out.append(
                Finding(
                    at + ("choices",),
                    f"a single-choice question needs exactly one choice with `correct: true`, found {n}; use type: multiple for several",
                )
            )
        if isinstance(q, Multiple) and n == 0:
            out.append(
                Finding(
                    at + ("choices",),
                    "a multiple-choice question needs at least one choice with `correct: true`",
                )
            )
        for j in _duplicates([c.text for c in q.choices]):
            out.append(
                Finding(
                    at + ("choices", j, "text"),
                    f"choices[{j}] repeats an earlier choice; every choice must be different",
                )
            )
    elif isinstance(q, Cloze):
        opens, closes = q.text.count("{{"), q.text.count("}}")
        if not q.blanks:
            out.append(
                Finding(at + ("text",), "a cloze needs at least one blank written as {{answer}}")
            )
        elif opens != len(q.blanks) or closes != len(q.blanks):
            out.append(
                Finding(at + ("text",), "unbalanced blank markers: every '{{' needs its '}}'")
            )
        for b, alts in enumerate(q.blanks, start=1):
            if not alts:
                out.append(
                    Finding(
                        at + ("text",), f"blank {b} is empty; write the answer inside {{{{...}}}}"
                    )
                )
    elif isinstance(q, Matching):
        for j in _duplicates([p.left for p in q.pairs]):
            out.append(
                Finding(
                    at + ("pairs", j, "left"),
                    f"pairs[{j}].left repeats an earlier left item; every row must be different",
                )
            )
        for j in _duplicates([p.right for p in q.pairs]):
            out.append(
                Finding(
                    at + ("pairs", j, "right"),
                    f"pairs[{j}].right repeats an earlier right item; every match must be different",
                )
            )
    elif isinstance(q, Ordering):
        for j in _duplicates(q.items):
            out.append(
                Finding(
                    at + ("items", j),
                    f"items[{j}] repeats an earlier item; the order would be ambiguous",
                )
            )
    elif isinstance(q, Numeric):
        if q.range is not None and q.tolerance is not None:
            out.append(Finding(at + ("range",), "give either `tolerance` or `range`, not both"))
        if q.range is not None:
            lo, hi = q.range
            if lo > hi:
                out.append(
                    Finding(at + ("range",), f"range minimum {lo:g} is above its maximum {hi:g}")
                )
            elif not lo <= q.answer <= hi:
                out.append(
                    Finding(
                        at + ("answer",),
                        f"answer {q.answer:g} lies outside its range [{lo:g}, {hi:g}]",
                    )
                )
    return out


def check_warnings(bank: Bank, source: SourceText | None = None) -> list[Finding]:
    """Things that are allowed but probably wrong: giveaways, untagged questions, empty topics."""
    out: list[Finding] = []
    if source is not None and source.title_looks_like_paragraph:
        out.append(
            Finding(
                ("bank", "source", "text"),
                f"the source text's first block ({len(source.title):,} characters) reads like a "
                "paragraph, but the first block is the title and is not numbered or quotable; "
                "start the file with a one-line title and a blank line",
            )
        )
    used = Counter(q.topic for q in bank.questions)
    for topic in bank.topics:
        if not used[topic]:
            out.append(Finding(("topics", topic), f"topic '{topic}' has no questions"))
    for i, q in enumerate(bank.questions):
        at: Path = ("questions", i)
        if not q.tags:
            out.append(
                Finding(
                    at + ("id",),
                    "question has no tags; add `tags: [...]` so it can be selected and filtered",
                )
            )
        if isinstance(q, (Single, Multiple)):
            wrong = [len(c.text) for c in q.choices if not c.correct]
            if not wrong:
                continue
            longest_wrong = max(wrong)
            for j, c in enumerate(q.choices):
                if (
                    c.correct
                    and len(c.text) > GIVEAWAY_RATIO * longest_wrong
                    and len(c.text) - longest_wrong >= GIVEAWAY_MIN_CHARS
                ):
                    out.append(
                        Finding(
                            at + ("choices", j, "text"),
                            f"choices[{j}] is correct and {len(c.text)} characters long, much longer than every distractor (at most {longest_wrong}); it gives the answer away",
                        )
                    )
    return out
