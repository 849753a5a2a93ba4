"""`kzquiz practice`: ask questions one by one in the terminal and learn from each mistake.

Output goes to a rich Console and input comes from a `read_line` callable, so the same code
serves a student at a terminal and a test with scripted answers. Answers are checked by
kzquiz.grading, the rules the self-check page mirrors. The questions a student got wrong
are remembered per bank in the user's data folder, for `--missed`.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs
from rich.console import Console
from rich.table import Table
from rich.text import Text
from typing_extensions import assert_never

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.errors import KzquizError, SelectionError
from kzquiz.grading import Grade, grade, parse_number
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
from kzquiz.output import write_file
from kzquiz.select import Selection, scrambled, select, shuffled

LineReader = Callable[[], str]
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DONT_KNOW = "?"
_SEPARATORS = re.compile(r"[\s,;/+&]+")
_PAIR = re.compile(r"(\d+)\s*[-:.=>)]*\s*([a-z])")


class _Invalid(Exception):
    """The input cannot be read as an answer; the message is the hint to show."""


@dataclass
class Asked:
    """A question as it is put to the student: `order` is how its options are shown.

    single/multiple: choice indexes in display order (shown as A, B, ...);
    matching: right-item indexes in display order (shown as a, b, ...);
    ordering: item indexes in the scrambled order they are listed in (numbered 1, 2, ...).
    """

    question: Question
    order: list[int] = field(default_factory=list)
    lang: str = "en"  # the language the question is put in (kzquiz.i18n)

    @property
    def tr(self) -> i18n.Translator:
        """The messages of the language the question is put in."""
        return i18n.translator(self.lang)


@dataclass
class Session:
    """What happened in one practice run."""

    results: list[tuple[Question, bool]] = field(default_factory=list)
    total: int = 0
    stopped: bool = False
    # Ids of the questions given up on with `?`: not right, and counted apart in the score.
    skipped: list[str] = field(default_factory=list)
    # Ids (in bank order) the saved record holds as missed, this run's and earlier ones.
    to_practise: list[str] = field(default_factory=list)

    @property
    def right(self) -> int:
        """How many questions were answered right."""
        return sum(ok for _, ok in self.results)

    @property
    def missed(self) -> list[str]:
        """Ids of the questions answered wrong."""
        return [q.id for q, ok in self.results if not ok]


def missed_path(bank_id: str) -> Path:
    """Where the ids of a bank's missed questions are kept (the user's data folder)."""
    return platformdirs.user_data_path("kzquiz") / "missed" / f"{bank_id}.json"


class RecordError(KzquizError):
    """The record of missed questions exists but cannot be used."""


# A record lists question ids (at most 100 characters each); this is far above any bank's.
RECORD_LIMIT = 16 * 1024 * 1024


def read_record(path: Path, *, limit: int = RECORD_LIMIT, what: str = "record") -> bytes | None:
    """The bytes of a regular file of at most `limit` bytes, or None if there is none.

    A FIFO or device would block or never end, so anything that is not a regular file is
    refused (kzquiz.read opens without blocking and checks before the first read).
    """
    from kzquiz.read import UnreadableFile, read_optional_file

    try:
        return read_optional_file(path, limit=limit, what=what)
    except UnreadableFile as exc:
        raise RecordError(str(exc)) from None


def load_missed(bank_id: str) -> list[str] | None:
    """The ids missed last time, or None if there is no usable record."""
    try:
        return _record(bank_id)
    except RecordError:
        return None


def _record(bank_id: str) -> list[str] | None:
    """The ids missed last time; None without a record; RecordError for one that is broken."""
    path = missed_path(bank_id)
    raw = read_record(path, what="record of missed questions")
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        raise RecordError(f"{path}: the record of missed questions is not valid JSON") from None
    ids = data.get("missed") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise RecordError(
            f"{path}: the record of missed questions has no list of question ids under 'missed'"
        )
    return ids


def save_missed(loaded: LoadedBank, session: Session) -> Path:
    """Update the record: questions answered now are right or missed; others keep their state.

    A record that cannot be read is started afresh, unless it is not a regular file (then
    RecordError, and it is left alone).
    """
    path = missed_path(loaded.id)
    try:
        previous = set(_record(loaded.id) or [])
    except RecordError:
        if path.exists() and not path.is_file():
            raise
        previous = set()
    answered = {q.id for q, _ in session.results}
    missed = (previous - answered) | set(session.missed)
    # Bank order keeps the file stable; ids no longer in the bank are kept for other versions.
    ordered = [q.id for q in loaded.bank.questions if q.id in missed]
    session.to_practise = list(ordered)
    ordered += sorted(missed - set(ordered))
    payload = {"bank": loaded.id, "missed": ordered}
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_file(path, (json.dumps(payload, indent=2) + "\n").encode())


def choose(
    loaded: LoadedBank, selection: Selection, rng: random.Random, *, missed_only: bool = False
) -> list[Question]:
    """The questions to practise, in bank order; with missed_only, those missed last time.

    An empty list means there is nothing left to re-practise (every question was right).
    """
    if not missed_only:
        return select(loaded, selection, rng)
    try:
        record = _record(loaded.id)
    except RecordError as exc:
        raise SelectionError(
            f"{loaded.display}: {exc}; practise without --missed to start a new record"
        ) from None
    if record is None:
        raise SelectionError(
            f"{loaded.display}: no record of missed questions for bank '{loaded.id}' yet; "
            "run `kzquiz practice` first"
        )
    wanted = set(record)
    remaining = [q for q in loaded.bank.questions if q.id in wanted]
    if not remaining:
        return []
    # Narrow the bank to the missed questions so the usual filters and --count apply to them.
    bank = loaded.bank.model_copy(update={"questions": remaining})
    return select(dataclasses.replace(loaded, bank=bank), selection, rng)


def prepare(questions: Sequence[Question], rng: random.Random, lang: str = "en") -> list[Asked]:
    """Shuffle the questions and each question's options, all from one seeded rng."""
    asked = []
    for q in shuffled(questions, rng):
        if isinstance(q, (Single, Multiple)):
            order = shuffled(range(len(q.choices)), rng)
        elif isinstance(q, Matching):
            order = shuffled(range(len(q.pairs)), rng)
        elif isinstance(q, Ordering):
            order = scrambled(range(len(q.items)), rng)
        else:
            order = []
        asked.append(Asked(q, order, lang))
    return asked


def run(
    loaded: LoadedBank,
    asked: Sequence[Asked],
    *,
    console: Console,
    read_line: LineReader,
) -> Session:
    """Ask every question, say right or wrong with the explanation, then print the score.

    End of input or Ctrl-C stops cleanly: the score so far is printed and returned.
    """
    session = Session(total=len(asked))
    tr = i18n.translator(i18n.of(loaded))
    try:
        for number, item in enumerate(asked, start=1):
            _show(console, loaded, item, number, len(asked))
            response = _ask(console, item, read_line)
            result = grade(
                item.question,
                response,
                language=loaded.bank.bank.language,
                decimal=i18n.decimal_style(item.lang),
            )
            session.results.append((item.question, result.correct))
            if response is None:
                session.skipped.append(item.question.id)
            _feedback(console, loaded, item, result, response)
    except (KeyboardInterrupt, EOFError):
        session.stopped = True
        console.print()
        console.print(Text(tr.gettext("Stopped."), style="bold"))
    print_score(console, loaded, session)
    return session


def print_score(console: Console, loaded: LoadedBank, session: Session) -> None:
    """The score with a row per topic."""
    answered = len(session.results)
    tr = i18n.translator(i18n.of(loaded))
    _ = tr.gettext
    console.print()
    if not answered:
        console.print(Text(_("No question answered, so no score yet.")))
        return
    table = Table(title=_("Score by topic"), title_justify="left")
    table.add_column(_("topic"))
    table.add_column(_("right"), justify="right")
    table.add_column(_("asked"), justify="right")
    table.add_column("%", justify="right")
    for topic, name in loaded.bank.topics.items():
        mine = [ok for q, ok in session.results if q.topic == topic]
        if mine:
            table.add_row(name, str(sum(mine)), str(len(mine)), _percent(sum(mine), len(mine)))
    table.add_section()
    table.add_row(_("total"), str(session.right), str(answered), _percent(session.right, answered))
    console.print(table)
    label = _("Score so far") if session.stopped else _("Score")
    line = f"{label}: " + tr.ngettext(
        "%(right)s of %(num)s right (%(percent)s)",
        "%(right)s of %(num)s right (%(percent)s)",
        answered,
    ) % {"right": session.right, "num": answered, "percent": _percent(session.right, answered)}
    if session.skipped:
        n = len(session.skipped)
        line += "; " + tr.ngettext("%(num)s skipped", "%(num)s skipped", n) % {"num": n}
    if session.stopped and answered < session.total:
        n = session.total - answered
        line += "; " + tr.ngettext(
            "%(num)s question(s) not reached", "%(num)s question(s) not reached", n
        ) % {"num": n}
    console.print(Text(line, style="bold"))


def _percent(right: int, total: int) -> str:
    # Round halves up, as the self-check page does (JavaScript's Math.round).
    return f"{(200 * right + total) // (2 * total)}%"


# ---- showing a question ---------------------------------------------------------------


def _show(console: Console, loaded: LoadedBank, item: Asked, number: int, total: int) -> None:
    q = item.question
    _ = item.tr.gettext
    console.print()
    console.rule(
        Text(_("Question %(n)s of %(count)s") % {"n": number, "count": total}), align="left"
    )
    topic = loaded.bank.topics.get(q.topic, q.topic)
    difficulty = _("difficulty %(level)s") % {"level": q.difficulty}
    console.print(Text(f"{topic} · {difficulty}", style="dim"))
    if isinstance(q, Cloze):
        text = Text()
        for seg in q.segments:
            if isinstance(seg, int):
                text.append(f"[{seg + 1}] _____", style="bold cyan")
            else:
                text.append(seg)
        console.print(text)
        return
    console.print(Text(q.stem, style="bold"))
    if isinstance(q, (Single, Multiple)):
        for pos, idx in enumerate(item.order):
            console.print(Text.assemble(f"  {LETTERS[pos]}. ", (q.choices[idx].text, "")))
    elif isinstance(q, TrueFalse):
        console.print(Text(f"  T. {_('True')}\n  F. {_('False')}"))
    elif isinstance(q, Matching):
        for i, pair in enumerate(q.pairs, start=1):
            console.print(Text(f"  {i}. {pair.left}"))
        console.print(Text("  " + _("with:"), style="dim"))
        for pos, idx in enumerate(item.order):
            console.print(Text(f"  {LETTERS[pos].lower()}. {q.pairs[idx].right}"))
    elif isinstance(q, Ordering):
        for pos, idx in enumerate(item.order, start=1):
            console.print(Text(f"  {pos}. {q.items[idx]}"))


def hint(item: Asked) -> str:
    """How to type the answer to this question."""
    q = item.question
    n = len(item.order)
    _ = item.tr.gettext
    if isinstance(q, Single):
        return _("Type one letter, A to %(last)s.") % {"last": LETTERS[n - 1]}
    if isinstance(q, Multiple):
        return _("Type every right letter (A to %(last)s), like AC or A C.") % {
            "last": LETTERS[n - 1]
        }
    if isinstance(q, TrueFalse):
        return _("Type T (true) or F (false).")
    if isinstance(q, Cloze):
        return _("Type the missing word(s) for each blank.")
    if isinstance(q, Short):
        return _("Type your answer.")
    if isinstance(q, Numeric):
        # No example number: any number shown could be the answer itself.
        if q.unit:
            return _(
                "Type a number (unit: %(unit)s) in digits, with a point or a comma for decimals."
            ) % {"unit": q.unit}
        return _("Type a number in digits, with a point or a comma for decimals.")
    if isinstance(q, Matching):
        # Gaps, not letters: any example made of real letters could be the answer itself.
        gaps = " ".join(f"{i}_" for i in range(1, n + 1))
        return _(
            "Give each number its letter, like %(gaps)s with a letter from a to %(last)s in"
            " each gap, each letter once (or only the letters, in row order)."
        ) % {"gaps": gaps, "last": LETTERS[n - 1].lower()}
    if isinstance(q, Ordering):
        gaps = " ".join("_" for _ in range(n))
        return _(
            "Type the item numbers in the right order, first to last, like %(gaps)s with a"
            " number from 1 to %(n)s in each gap, each number once."
        ) % {"gaps": gaps, "n": n}
    raise TypeError(f"unknown question type: {type(q).__name__}")


# ---- reading an answer ------------------------------------------------------------------


def _ask(console: Console, item: Asked, read_line: LineReader) -> Any:
    q = item.question
    _ = item.tr.gettext
    dont_know = _("(%(key)s if you don't know)") % {"key": DONT_KNOW}
    console.print(Text(f"{hint(item)} {dont_know}", style="dim"))
    if isinstance(q, Cloze):
        typed = [
            _read_valid(
                console,
                read_line,
                _("blank %(n)s") % {"n": b + 1} + "> ",
                lambda t: _text(t, _("Type the blank, or %(key)s if you don't know.")),
            )
            for b in range(len(q.blanks))
        ]
        # `?` for one blank leaves that blank wrong; `?` for every blank gives up.
        return None if all(t == DONT_KNOW for t in typed) else typed
    return _read_valid(console, read_line, "> ", lambda t: parse_answer(item, t))


def _read_valid(
    console: Console, read_line: LineReader, prompt: str, parse: Callable[[str], Any]
) -> Any:
    """Read until the input makes sense; invalid input gets a hint, not a wrong mark."""
    while True:
        console.print(Text(prompt, style="bold"), end="")
        line = read_line()
        try:
            return parse(line)
        except _Invalid as exc:
            console.print(Text(f"  {exc}", style="yellow"))


def _text(line: str, message: str) -> str:
    text = line.strip()
    if not text:
        raise _Invalid(message % {"key": DONT_KNOW})
    return text


def parse_answer(item: Asked, line: str) -> Any:
    """Turn a typed line into a response for kzquiz.grading; raise on input that makes no sense."""
    q = item.question
    _ = item.tr.gettext
    text = line.strip()
    if text == DONT_KNOW:
        return None  # graded wrong, and the answer is shown
    if isinstance(q, (Single, Multiple)):
        letters = _letters(text, len(item.order), item)
        if isinstance(q, Single):
            if len(letters) != 1:
                raise _Invalid(_("Only one answer is right here.") + f" {hint(item)}")
            return item.order[letters[0]]
        return sorted(item.order[i] for i in set(letters))
    if isinstance(q, TrueFalse):
        word = text.casefold()
        # The letters T and F in any language, and the words as the language writes them.
        if word in ("t", "true", _("True").casefold()):
            return True
        if word in ("f", "false", _("False").casefold()):
            return False
        raise _Invalid(hint(item))
    if isinstance(q, Short):
        return _text(text, _("Type the answer, or %(key)s if you don't know."))
    if isinstance(q, Numeric):
        if parse_number(text, i18n.decimal_style(item.lang)) is None:
            raise _Invalid(_("That is not a number.") + f" {hint(item)}")
        return text
    if isinstance(q, Matching):
        return _matching(item, text)
    if isinstance(q, Ordering):
        return _ordering(item, text)
    raise TypeError(f"unknown question type: {type(q).__name__}")


def _letters(text: str, n: int, item: Asked) -> list[int]:
    compact = _SEPARATORS.sub("", text).rstrip(".)").upper()
    if not compact:
        raise _Invalid(hint(item))
    out = []
    for ch in compact:
        pos = LETTERS.find(ch)
        if pos < 0 or pos >= n:
            raise _Invalid(_not_a_letter(ch, item))
        out.append(pos)
    return out


def _matching(item: Asked, text: str) -> list[int]:
    n = len(item.order)
    low = text.casefold()
    pairs = _PAIR.findall(low)
    if pairs and not _PAIR.sub("", low).strip(" ,;"):
        by_row: dict[int, int] = {}
        for row_text, letter in pairs:
            row = int(row_text) - 1
            if not 0 <= row < n:
                message = item.tr.gettext("There is no row %(row)s.") % {"row": row_text}
                raise _Invalid(f"{message} {hint(item)}")
            if row in by_row:
                message = item.tr.gettext("Row %(row)s is matched twice.") % {"row": row_text}
                raise _Invalid(f"{message} {hint(item)}")
            by_row[row] = _letter(letter, n, item)
        if len(by_row) != n:
            missing = ", ".join(str(r + 1) for r in range(n) if r not in by_row)
            message = item.tr.gettext("Match every row; missing: %(rows)s.") % {"rows": missing}
            raise _Invalid(f"{message} {hint(item)}")
        picks = [by_row[r] for r in range(n)]
    else:
        compact = _SEPARATORS.sub("", low)
        if len(compact) != n or not compact.isalpha():
            raise _Invalid(hint(item))
        picks = [_letter(ch, n, item) for ch in compact]
    if len(set(picks)) != n:
        raise _Invalid(item.tr.gettext("Use each letter once.") + f" {hint(item)}")
    return [item.order[p] for p in picks]


def _letter(ch: str, n: int, item: Asked) -> int:
    pos = LETTERS.lower().find(ch)
    if pos < 0 or pos >= n:
        raise _Invalid(_not_a_letter(ch, item))
    return pos


def _not_a_letter(ch: str, item: Asked) -> str:
    message = item.tr.gettext("%(typed)s is not one of the letters.") % {"typed": repr(ch)}
    return f"{message} {hint(item)}"


def _ordering(item: Asked, text: str) -> list[int]:
    n = len(item.order)
    parts = [p for p in _SEPARATORS.split(text) if p]
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) == n and n <= 9:
        parts = list(parts[0])  # "3124" for four items
    if not all(p.isdigit() for p in parts):
        raise _Invalid(hint(item))
    numbers = [int(p) for p in parts]
    if sorted(numbers) != list(range(1, n + 1)):
        message = item.tr.gettext("Use each number from 1 to %(n)s once.") % {"n": n}
        raise _Invalid(f"{message} {hint(item)}")
    return [item.order[k - 1] for k in numbers]


# ---- feedback -------------------------------------------------------------------------


def _feedback(
    console: Console, loaded: LoadedBank, item: Asked, result: Grade, response: Any
) -> None:
    q = item.question
    tr = item.tr
    _ = tr.gettext
    if result.correct:
        console.print(Text(_("✓ Right!"), style="bold green"))
    elif response is None:
        console.print(
            Text.assemble(
                (_("Skipped"), "bold yellow"), " — " + _("the answer is") + " ", tr.answer_text(q)
            )
        )
    else:
        verdict = Text(_("✗ Wrong."), style="bold red")
        parts = len(result.parts)
        if isinstance(q, (Cloze, Matching)) and parts > 1:
            counts = {"right": result.right_parts, "n": parts}
            if isinstance(q, Cloze):
                line = _("%(right)s of %(n)s blanks right.") % counts
            else:
                line = _("%(right)s of %(n)s matches right.") % counts
            verdict.append(f" {line}", style="red")
        console.print(verdict)
        if isinstance(q, Cloze):
            for b, (ok, alts) in enumerate(zip(result.parts, q.blanks, strict=True), start=1):
                if not ok:
                    typed = response[b - 1] if b - 1 < len(response) else ""
                    said = _("Blank %(n)s: you typed “%(typed)s”; the answer is") % {
                        "n": b,
                        "typed": typed,
                    }
                    console.print(Text.assemble(f"  {said} ", (alts[0], "bold")))
        console.print(Text.assemble((_("The answer:") + " ", "bold"), tr.answer_text(q)))
    typed = _typed_answer(item)
    if typed is not None and not result.correct:
        console.print(Text.assemble((typed[0], "bold"), typed[1]))
    console.print(Text.assemble((_("Why:") + " ", "bold"), q.explanation))
    paragraph = loaded.paragraph_of.get(q.id)
    where = (
        _("Evidence (paragraph %(n)s):") % {"n": paragraph} if paragraph else _("Evidence:")
    ) + " "
    quote = _("“%(quote)s”") % {"quote": q.evidence}
    console.print(Text.assemble((where, "bold"), (quote, "italic")))


def _typed_answer(item: Asked) -> tuple[str, str] | None:
    """The right answer as the student types it here, after a label; None for typed text."""
    q = item.question
    in_letters = item.tr.gettext("In letters:") + " "
    if isinstance(q, Matching):
        pairs = (f"{i + 1}{LETTERS[item.order.index(i)].lower()}" for i in range(len(q.pairs)))
        return in_letters, " ".join(pairs)
    if isinstance(q, Ordering):
        numbers = " ".join(str(item.order.index(k) + 1) for k in range(len(q.items)))
        return item.tr.gettext("In numbers:") + " ", numbers
    if isinstance(q, (Single, Multiple)):
        right = (LETTERS[item.order.index(i)] for i, c in enumerate(q.choices) if c.correct)
        return in_letters, "".join(sorted(right))
    if isinstance(q, (TrueFalse, Cloze, Short, Numeric)):
        return None
    assert_never(q)


def stdin_reader() -> LineReader:
    """Read lines from standard input (with line editing at a terminal)."""

    def read() -> str:
        # input() raises EOFError at end of input, which ends the run cleanly.
        return input()

    return read


def console_for(file: Any = None) -> Console:
    """A Console that never interprets bank text as markup or emoji codes."""
    return Console(file=file, markup=False, emoji=False, highlight=False)


def safe_save(loaded: LoadedBank, session: Session) -> tuple[Path | None, str | None]:
    """Save the missed record; a data folder that cannot be written is reported, not fatal."""
    if not session.results:
        return None, None
    try:
        broken = None
        try:
            _record(loaded.id)
        except RecordError as exc:
            broken = f"{exc}; started a new one"
        return save_missed(loaded, session), broken
    except (OSError, KzquizError) as exc:  # the score matters more than the record
        return None, f"could not save the missed questions: {exc}"
