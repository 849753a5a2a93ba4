"""Item quality: the patterns a test-wise student exploits, found before a quiz is printed.

A question can be true and still a poor test item: its key is always the longest option,
True is nearly always the answer, another question on the same sheet states its answer.
These rules read the validated bank and return findings (warnings, located by the loader
like every other), the figures `kzquiz check` prints, and the conflicts a selection must
keep off one sheet.

Everything here runs on every `check`, also of banks with tens of thousands of questions,
so no rule compares every question with every other: answer terms are indexed by their
tokens, and each question's visible text is scanned once for them.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import assert_never

from kzquiz.bank import LoadedBank
from kzquiz.model import (
    LEVELS,
    Bank,
    Multiple,
    Question,
    Single,
    format_number,
)
from kzquiz.source import normalise
from kzquiz.validate import Finding, Path, suggest

# Thresholds of the bank-level rules: a pattern is only a pattern in enough items.
LONGEST_KEY_SHARE = 0.35
KEY_POSITION_SHARE = 0.50
TRUE_SHARE = (0.40, 0.60)
MIN_ITEMS = 6  # items a share is computed over before it can warn
MIN_ITEMS_NEVER_KEYED = 12
# A correct single choice shorter than this (and without a digit) is too common a word to
# count as "the answer" when another question shows it ("Yes", "EU").
MIN_CHOICE_TERM = 4
# Longest answer term looked for in visible text, in tokens; a longer key is a sentence
# that no other question repeats word for word by accident.
MAX_TERM_TOKENS = 12
# Questions that may show one answer before the question asking for it is warned about
# instead of each of them.
MAX_PAIRS_PER_TERM = 3
# Questions listed in a bank-level warning before "and N more".
MAX_LISTED = 20

# Numbers keep their decimal point or thousands comma ("0.5", "1,000"), so 193 never
# matches inside 1930 or 19.3; everything else splits on non-word characters.
_TOKEN = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+|\d+")
# The same on ASCII text, where a letter is A-Z or a-z and a digit 0-9: ranges, not
# Unicode categories, a third faster over a big bank's visible text.
_ASCII_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[A-Za-z]+")
_BLANK = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_ALL_NONE = re.compile(
    r"\b(?:all|none|any) of (?:the )?(?:above|these|those|the options)\b"
    r"|\b(?:both|neither) [a-z] (?:and|nor) [a-z]\b"
    r"|\ball the above\b"
)

Term = tuple[str, ...]


def tokens(text: str) -> list[str]:
    """The words and numbers of a text, folded for comparison (case, quotes, dashes, spaces)."""
    folded = normalise(text)
    return (_ASCII_TOKEN if folded.isascii() else _TOKEN).findall(folded)


def where(i: int, q: Question) -> str:
    """How a message names a question: questions[N] (id: ID)."""
    return f"questions[{i}] (id: {q.id})"


def _listing(items: Sequence[tuple[int, Question]]) -> str:
    shown = ", ".join(where(i, q) for i, q in items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)} %" if whole else "-"


def _letter(position: int) -> str:
    return chr(ord("A") + position)


# The per-type functions below dispatch on `q.type`, not isinstance: isinstance on pydantic
# models costs about a microsecond a call, and they run over every question of every check.


def answer_terms(q: Question) -> list[str]:
    """What a student writes or picks as the answer, as written (for leak detection)."""
    if q.type == "short":
        return list(q.answers)
    if q.type == "cloze":
        return [alt for blank in q.blanks for alt in blank]
    if q.type == "numeric":
        return [format_number(q.answer)]
    if q.type == "single":
        return [
            c.text
            for c in q.choices
            if c.correct and (len(c.text) >= MIN_CHOICE_TERM or any(ch.isdigit() for ch in c.text))
        ]
    if (
        q.type == "multiple"
        or q.type == "truefalse"
        or q.type == "matching"
        or q.type == "ordering"
    ):
        return []
    assert_never(q)


def visible_fields(q: Question) -> list[tuple[Path, str]]:
    """Each piece of text a student sees on the sheet, with its path in the question."""
    if q.type == "single" or q.type == "multiple":
        return [(("prompt",), q.prompt)] + [
            (("choices", j, "text"), c.text) for j, c in enumerate(q.choices)
        ]
    if q.type == "cloze":
        return [(("text",), _BLANK.sub(" ", q.text))]
    if q.type == "truefalse" or q.type == "short" or q.type == "numeric":
        return [(("prompt",), q.prompt)]
    if q.type == "matching":
        out: list[tuple[Path, str]] = [(("prompt",), q.prompt)]
        for j, p in enumerate(q.pairs):
            out += [(("pairs", j, "left"), p.left), (("pairs", j, "right"), p.right)]
        return out
    if q.type == "ordering":
        return [(("prompt",), q.prompt)] + [(("items", j), t) for j, t in enumerate(q.items)]
    assert_never(q)


def _answer_key(q: Question) -> tuple[Any, ...] | None:
    """What two questions must share to give the same answer (for near-duplicates)."""
    if q.type == "single":
        return ("text", normalise(q.answer_text()))
    if q.type == "multiple":
        return ("texts", tuple(sorted(normalise(c.text) for c in q.choices if c.correct)))
    if q.type == "truefalse":
        return ("bool", q.answer)
    if q.type == "short" or q.type == "cloze":
        return ("text", normalise(q.answer_text()))
    if q.type == "numeric":
        return ("text", format_number(q.answer))
    if q.type == "matching" or q.type == "ordering":
        return None
    assert_never(q)


@dataclass(frozen=True)
class Leak:
    """Question `shower` shows `term`, the answer of question `answerer` (and `others` more)."""

    shower: int
    path: Path
    term: str
    answerer: int
    others: int


@dataclass
class Analysis:
    """The answer-term index of a bank: who answers which term, and who shows it."""

    questions: Sequence[Question]
    index_of: dict[str, int]
    term_text: list[str] = field(default_factory=list)  # term id -> the term as written
    answerers: list[list[int]] = field(default_factory=list)  # term id -> question indexes
    answers: dict[int, set[int]] = field(default_factory=dict)  # question -> term ids
    shows: dict[int, list[tuple[int, Path]]] = field(default_factory=dict)  # first place each
    showers: list[list[tuple[int, Path]]] = field(default_factory=list)  # term id -> shown at
    term_size: list[int] = field(default_factory=list)  # term id -> tokens
    excluded: dict[int, set[int]] = field(default_factory=dict)  # symmetric, by index
    _leak_findings: tuple[list[Finding], int] | None = None
    _figures: Figures | None = None
    _near: list[tuple[int, int, str]] | None = None

    def conflicts(self, i: int, drawn: _Drawn) -> bool:
        """Whether question i would give away, or be given away by, a question already drawn."""
        if drawn.terms_shown.intersection(self.answers.get(i, ())):
            return True
        if any(t in drawn.terms_answered for t, _ in self.shows.get(i, ())):
            return True
        return bool(drawn.indexes.intersection(self.excluded.get(i, ())))

    def leaks(self, among: Iterable[int] | None = None) -> list[Leak]:
        """Every (question, term) where a question shows another's answer, within `among`."""
        members = range(len(self.questions)) if among is None else sorted(set(among))
        # Answerers restricted to the members, built once: linear in the members' terms.
        if among is None:
            answerers = self.answerers
        else:
            answerers = [[] for _ in self.term_text]
            for i in members:
                for t in self.answers.get(i, ()):
                    answerers[t].append(i)
        sets: dict[int, set[int]] = {}
        out: list[Leak] = []
        for b in members:
            excl = self.excluded.get(b, set())
            named: set[int] = set()  # one leak per pair: "the EAEU" and "EAEU" are one
            for t, path in self.shows.get(b, ()):
                who = answerers[t]
                if not who:
                    continue
                # Skipping b itself and b's exclusions costs at most 1 + len(excl) steps.
                first = next((a for a in who if a != b and a not in excl), None)
                if first is None or first in named:
                    continue
                named.add(first)
                who_set = sets.get(t)
                if who_set is None:
                    who_set = sets[t] = set(who)
                others = len(who) - 1 - (b in who_set) - sum(1 for e in excl if e in who_set)
                out.append(Leak(b, path, self.term_text[t], first, others))
        return out

    def leak_findings(self) -> tuple[list[Finding], int]:
        """The cross-item leak warnings, and how many question pairs leak."""
        if self._leak_findings is None:
            self._leak_findings = _leak_findings(self)
        return self._leak_findings


@dataclass
class _Drawn:
    indexes: set[int] = field(default_factory=set)
    terms_shown: set[int] = field(default_factory=set)
    terms_answered: set[int] = field(default_factory=set)

    def add(self, i: int, analysis: Analysis) -> None:
        self.indexes.add(i)
        self.terms_shown.update(t for t, _ in analysis.shows.get(i, ()))
        self.terms_answered.update(analysis.answers.get(i, ()))


_cache: list[tuple[Bank, Analysis]] = []


def analyse(bank: Bank) -> Analysis:
    """Index the bank's answer terms and find where each question's visible text shows one."""
    # Loading warns from this index, `check` summarises from it and a selection draws with it:
    # build it once per bank object.
    for cached, analysis in _cache:
        if cached is bank:
            return analysis
    analysis = _analyse(bank.questions)
    _cache[:] = [(bank, analysis)]
    return analysis


def _analyse(questions: Sequence[Question]) -> Analysis:
    index_of = {q.id: i for i, q in enumerate(questions)}
    a = Analysis(questions, index_of)
    term_id: dict[Term, int] = {}
    lengths: dict[str, set[int]] = {}  # first token -> lengths of the terms starting with it
    for i, q in enumerate(questions):
        for text in answer_terms(q):
            key = tuple(tokens(text))
            if not key or len(key) > MAX_TERM_TOKENS:
                continue
            t = term_id.get(key)
            if t is None:
                t = term_id[key] = len(a.term_text)
                a.term_text.append(text)
                a.answerers.append([])
                a.showers.append([])
                a.term_size.append(len(key))
                lengths.setdefault(key[0], set()).add(len(key))
            if t not in a.answers.setdefault(i, set()):
                a.answers[i].add(t)
                a.answerers[t].append(i)
        for other in q.excludes:
            j = index_of.get(other)
            if j is not None and j != i:
                a.excluded.setdefault(i, set()).add(j)
                a.excluded.setdefault(j, set()).add(i)
    # Longest first, so "the Eurasian Economic Union" is named rather than "Eurasian".
    first = {k: sorted(v, reverse=True) for k, v in lengths.items()}
    for i, q in enumerate(questions):
        seen: set[int] = set()
        found: list[tuple[int, Path]] = []
        own_key = {j for j, c in enumerate(q.choices) if c.correct} if q.type == "single" else set()
        for path, text in visible_fields(q):
            words = tokens(text)
            if first.keys().isdisjoint(words):
                continue  # most text holds no answer term at all: one check in C
            for pos, word in enumerate(words):
                sizes = first.get(word)
                if sizes is None:
                    continue
                for size in sizes:
                    t = term_id.get(tuple(words[pos : pos + size]))
                    if t is not None and t not in seen:
                        # A single question's own key shows its own answer by design.
                        if path[0] == "choices" and path[1] in own_key and i in a.answerers[t]:
                            continue
                        seen.add(t)
                        found.append((t, path))
                        a.showers[t].append((i, path))
        if found:
            a.shows[i] = found
    return a


def _answer_path(q: Question, term: str) -> Path:
    """Where a question's answer `term` is written."""
    if q.type == "single":
        return ("choices", next(j for j, c in enumerate(q.choices) if c.correct), "text")
    if q.type == "short":
        return ("answers", q.answers.index(term) if term in q.answers else 0)
    if q.type == "numeric":
        return ("answer",)
    if q.type == "cloze":
        return ("text",)
    if (
        q.type == "multiple"
        or q.type == "truefalse"
        or q.type == "matching"
        or q.type == "ordering"
    ):
        return ("id",)  # no answer terms (see answer_terms): never asked for
    assert_never(q)


def _leak_findings(a: Analysis) -> tuple[list[Finding], int]:
    """One warning per question showing another's answer; one per answer shown very often.

    When many questions state an answer ("Russia" in a bank about Russia), the question to
    change is the one asking for it: it is named once, with the questions that show it,
    which keeps the warnings linear in the bank's size.
    """
    qs = a.questions
    out: list[Finding] = []
    named: set[tuple[int, int]] = set()  # (shower, answerer): "the EAEU" and "EAEU" are one
    # Longest terms first, so "the Eurasian Economic Union" is named rather than "Eurasian".
    for t in sorted(range(len(a.term_text)), key=lambda t: -a.term_size[t]):
        who, term = a.answerers[t], a.term_text[t]
        hits = []
        for b, path in a.showers[t]:
            excl = a.excluded.get(b, set())
            # Skipping b itself and b's exclusions costs at most 1 + len(excl) steps.
            first = next((x for x in who if x != b and x not in excl), None)
            if first is not None and (b, first) not in named:
                named.add((b, first))
                hits.append((b, path, first))
        if not hits:
            continue
        if len(hits) <= MAX_PAIRS_PER_TERM:
            who_set = set(who)
            for b, path, first in hits:
                excl = a.excluded.get(b, set())
                others = len(who) - 1 - (b in who_set) - sum(1 for e in excl if e in who_set)
                more = f" and {others} more" if others else ""
                out.append(
                    Finding(
                        ("questions", b, *path),
                        f"shows the answer of {where(first, qs[first])}{more}: '{term}'; "
                        f"rephrase its {_label(path)} so it does not state '{term}', "
                        f"or add `excludes: [{qs[first].id}]`",
                    )
                )
            continue
        asker = who[0]
        shown = [(b, qs[b]) for b, _, _ in hits if b != asker]
        same = f"; {len(who) - 1} more questions have this answer" if len(who) > 1 else ""
        out.append(
            Finding(
                ("questions", asker, *_answer_path(qs[asker], term)),
                f"its answer '{term}' is shown by {len(shown)} other questions: "
                f"{_listing(shown)}; ask for something they do not state, or rephrase them"
                f"{same}",
            )
        )
    return out, len(named)


def check_excludes(questions: Any) -> list[Finding]:
    """`excludes` naming a question that does not exist, or the question itself (errors)."""
    if not isinstance(questions, list):
        return []
    ids = [q.get("id") for q in questions if isinstance(q, dict)]
    known = {i for i in ids if isinstance(i, str)}
    out: list[Finding] = []
    for i, q in enumerate(questions):
        if not isinstance(q, dict) or not isinstance(q.get("excludes"), list):
            continue
        for j, other in enumerate(q["excludes"]):
            if not isinstance(other, str):
                continue  # the schema reports it
            at: Path = ("questions", i, "excludes", j)
            if other == q.get("id"):
                out.append(
                    Finding(at, f"excludes[{j}] is the question's own id '{other}'; remove it")
                )
            elif other not in known:
                hint = suggest(other, sorted(known))
                out.append(
                    Finding(
                        at,
                        f"excludes[{j}] '{other}' is not the id of any question{hint}; use an existing id or remove it",
                    )
                )
    return out


@dataclass
class Figures:
    """The bank-level figures and the level blueprint that `check` prints."""

    choice_items: int = 0
    longest_key: list[int] = field(default_factory=list)
    key_positions: Counter[int] = field(default_factory=Counter)
    single_items: int = 0
    fewest_choices: int = 0
    true_false: tuple[int, int] = (0, 0)  # (True answers, items)
    true_false_hard: tuple[int, int] = (0, 0)  # the same among difficulty >= 2
    leaks: int = 0
    acknowledged: int = 0  # question pairs kept apart by `excludes`
    near_duplicates: int = 0
    blueprint: Counter[tuple[str, str]] = field(default_factory=Counter)  # (topic, level)


def _keys_longest(q: Single | Multiple) -> bool:
    wrong = [len(c.text) for c in q.choices if not c.correct]
    if not wrong:
        return False
    longest_wrong = max(wrong)
    return any(c.correct and len(c.text) > longest_wrong for c in q.choices)


def _near_duplicates(analysis: Analysis) -> list[tuple[int, int, str]]:
    """(later, first, answer) for each question that repeats an earlier one's evidence and answer."""
    if analysis._near is None:
        analysis._near = _find_near_duplicates(analysis.questions)
    return analysis._near


def _find_near_duplicates(questions: Sequence[Question]) -> list[tuple[int, int, str]]:
    first: dict[tuple[str, tuple[Any, ...]], int] = {}
    out = []
    for i, q in enumerate(questions):
        key = _answer_key(q)
        if key is None:
            continue
        k = (normalise(q.evidence), key)
        if k in first:
            out.append((i, first[k], q.answer_text()))
        else:
            first[k] = i
    return out


def figures(bank: Bank) -> Figures:
    """The longest-key share, key positions, true/false balance, leaks and blueprint."""
    analysis = analyse(bank)
    if analysis._figures is None:
        analysis._figures = _figures(bank, analysis)
    return analysis._figures


def _figures(bank: Bank, analysis: Analysis) -> Figures:
    f = Figures()
    fewest: int | None = None
    true_all = tf_all = true_hard = tf_hard = 0
    for i, q in enumerate(bank.questions):
        f.blueprint[(q.topic, q.level or "unset")] += 1
        if q.type == "single" or q.type == "multiple":
            f.choice_items += 1
            if _keys_longest(q):
                f.longest_key.append(i)
        if q.type == "single":
            f.single_items += 1
            f.key_positions[next(j for j, c in enumerate(q.choices) if c.correct)] += 1
            fewest = len(q.choices) if fewest is None else min(fewest, len(q.choices))
        elif q.type == "truefalse":
            tf_all += 1
            true_all += q.answer
            if q.difficulty >= 2:
                tf_hard += 1
                true_hard += q.answer
    f.fewest_choices = fewest or 0
    f.true_false, f.true_false_hard = (true_all, tf_all), (true_hard, tf_hard)
    f.leaks = analysis.leak_findings()[1]
    f.acknowledged = sum(len(v) for v in analysis.excluded.values()) // 2
    f.near_duplicates = len(_near_duplicates(analysis))
    return f


def quality_findings(bank: Bank) -> list[Finding]:
    """Every item-quality warning of the bank (see the module docstring)."""
    questions = bank.questions
    f = figures(bank)
    out: list[Finding] = []
    top: Path = ("questions",)

    if f.choice_items >= MIN_ITEMS and len(f.longest_key) > LONGEST_KEY_SHARE * f.choice_items:
        items = [(i, questions[i]) for i in f.longest_key]
        out.append(
            Finding(
                top,
                f"the correct choice is strictly the longest option in {len(items)} of "
                f"{f.choice_items} choice questions ({_percent(len(items), f.choice_items)}, "
                f"more than {round(100 * LONGEST_KEY_SHARE)} %): {_listing(items)}; "
                "make a distractor as long as the key in some of them",
            )
        )

    if f.single_items >= MIN_ITEMS:
        position, n = f.key_positions.most_common(1)[0]
        if n > KEY_POSITION_SHARE * f.single_items:
            items = [
                (i, q)
                for i, q in enumerate(questions)
                if q.type == "single" and q.choices[position].correct
            ]
            out.append(
                Finding(
                    top,
                    f"the correct choice is {_letter(position)} (choices[{position}]) in {n} of "
                    f"{f.single_items} single-choice questions ({_percent(n, f.single_items)}, "
                    f"more than {round(100 * KEY_POSITION_SHARE)} %): {_listing(items)}; "
                    "move the key to another position in some of them (CSV and GIFT keep the bank's order)",
                )
            )
    if f.single_items >= MIN_ITEMS_NEVER_KEYED:
        for position in range(f.fewest_choices):
            if not f.key_positions[position]:
                out.append(
                    Finding(
                        top,
                        f"no single-choice question has its correct choice at {_letter(position)} "
                        f"(choices[{position}]), a position all {f.single_items} have; "
                        "move the key there in some of them",
                    )
                )

    lo, hi = TRUE_SHARE
    for (n_true, n), scope, hard in (
        (f.true_false, "", False),
        (f.true_false_hard, " at difficulty 2-3", True),
    ):
        if n >= MIN_ITEMS and not lo * n <= n_true <= hi * n:
            many = n_true > hi * n
            items = [
                (i, q)
                for i, q in enumerate(questions)
                if q.type == "truefalse" and q.answer == many and (not hard or q.difficulty >= 2)
            ]
            out.append(
                Finding(
                    top,
                    f"True is the answer of {n_true} of {n} true/false questions{scope} "
                    f"({_percent(n_true, n)}, outside {round(100 * lo)}-{round(100 * hi)} %): "
                    f"{'true' if many else 'false'} are {_listing(items)}; "
                    f"rewrite some as {'false' if many else 'true'} statements",
                )
            )

    with_level = sum(n for (_, level), n in f.blueprint.items() if level != "unset")
    if 0 < with_level < len(questions):
        items = [(i, q) for i, q in enumerate(questions) if q.level is None]
        out.append(
            Finding(
                top,
                f"{len(items)} of {len(questions)} questions have no `level`: {_listing(items)}; "
                f"give each one ({', '.join(LEVELS)}) so the blueprint counts them",
            )
        )

    for i, q in enumerate(questions):
        at: Path = ("questions", i)
        if q.type == "single" or q.type == "multiple":
            for j, c in enumerate(q.choices):
                if _ALL_NONE.search(normalise(c.text)):
                    out.append(
                        Finding(
                            at + ("choices", j, "text"),
                            f"choices[{j}] '{c.text}' is an all/none-of-the-above option; "
                            "replace it with a plausible distractor (choices are shuffled, and it cues the answer)",
                        )
                    )

    analysis = analyse(bank)
    for i, found in analysis.shows.items():
        own = analysis.answers.get(i, set())
        for t, path in found:
            if t in own:
                term = analysis.term_text[t]
                out.append(
                    Finding(
                        ("questions", i, *path),
                        f"its own answer '{term}' appears in its {_label(path)}; "
                        f"rephrase it so it does not state '{term}'",
                    )
                )
    out.extend(analysis.leak_findings()[0])

    for later, first, answer in _near_duplicates(analysis):
        out.append(
            Finding(
                ("questions", later, "evidence"),
                f"near-duplicate of {where(first, questions[first])}: the same evidence and "
                f"the same answer '{answer}'; remove one or merge them",
            )
        )
    return out


def _label(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def leak_notes(loaded: LoadedBank, questions: Sequence[Question]) -> list[str]:
    """The leaks left among questions that share one sheet, one note per shown answer."""
    analysis = analyse(loaded.bank)
    bank_questions = loaded.bank.questions
    members = [analysis.index_of[q.id] for q in questions if q.id in analysis.index_of]
    notes = []
    for leak in analysis.leaks(members):
        more = f" and {leak.others} more" if leak.others else ""
        notes.append(
            f"{where(leak.shower, bank_questions[leak.shower])} shows the answer of "
            f"{where(leak.answerer, bank_questions[leak.answerer])}{more} on the same sheet: '{leak.term}'"
        )
    chosen = set(members)
    pairs = [
        (i, j)
        for i in sorted(chosen)
        for j in sorted(analysis.excluded.get(i, ()))
        if i < j and j in chosen
    ]
    if len(pairs) == 1:
        ((i, j),) = pairs
        notes.append(
            f"{where(i, bank_questions[i])} and {where(j, bank_questions[j])} are on the "
            "same sheet although `excludes` keeps them apart"
        )
    elif pairs:
        # One line for many acknowledged pairs: each is the teacher's own, not news.
        listed = ", ".join(f"{bank_questions[i].id}/{bank_questions[j].id}" for i, j in pairs)
        notes.append(
            f"{len(pairs)} pairs that `excludes` keeps apart are on the same sheet"
            f" (a sample of fewer questions parts them): {listed}"
        )
    return notes


def leak_free_sample(
    loaded: LoadedBank,
    chosen: Sequence[Question],
    count: int,
    rng: random.Random | None,
    notes: list[str] | None = None,
) -> list[Question]:
    """`count` of `chosen` in bank order, none giving another away (leaks or `excludes`).

    Questions are drawn in a seeded order (bank order without `rng`) and one that conflicts
    with a question already drawn is skipped. The first draw is the plain sample of `count`,
    so a selection without conflicts is the one it always was; if fewer than `count` fit,
    what fits is returned and a note says so.
    """
    analysis = analyse(loaded.bank)
    n = len(chosen)
    first = rng.sample(range(n), count) if rng is not None else list(range(count))
    drawn, picked = _Drawn(), list[int]()
    index = [analysis.index_of[q.id] for q in chosen]

    def draw(order: Iterable[int]) -> None:
        for k in order:
            if len(picked) == count:
                return
            i = index[k]
            if not analysis.conflicts(i, drawn):
                drawn.add(i, analysis)
                picked.append(k)

    draw(first)
    if len(picked) < count:
        taken = set(first)
        rest = [k for k in range(n) if k not in taken]
        if rng is not None:
            rng.shuffle(rest)
        draw(rest)
        if len(picked) < count and notes is not None:
            notes.append(
                f"only {len(picked)} of the {count} questions asked for fit on one sheet: "
                f"every other one of the {n} that match shows the answer of a question already "
                "chosen, or is given away by one (a detected leak or `excludes`)"
            )
    keep = set(picked)
    return [q for k, q in enumerate(chosen) if k in keep]
