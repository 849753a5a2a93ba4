"""What the LMS exports (GIFT, QTI, Quizlet, CSV) share: notes, feedback text, reshaped types.

Each export is a pure function `(loaded, questions) -> (bytes, notes)`. A note names the
question the way `kzquiz check` does (`questions[N] (id: ID)`), then the format, then what the
format could not hold, so nothing is ever dropped without the teacher being told.
"""

from __future__ import annotations

from collections.abc import Sequence

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.model import Cloze, Multiple, Numeric, Ordering, Question


class Notes:
    """Collects per-question notes for one format, numbered by the question's place in the bank."""

    def __init__(self, loaded: LoadedBank, fmt: str) -> None:
        self.fmt = fmt
        # A dict keeps insertion order and finds a repeat in constant time (a list scan made
        # a bank where every question earns a note quadratic).
        self._seen: dict[str, None] = {}
        # Notes use the bank index, not the index in the selection, so they point at the YAML.
        self._index = {q.id: i for i, q in enumerate(loaded.bank.questions)}

    def add(self, q: Question, message: str) -> None:
        """Record that `q` lost or changed something in this format."""
        where = self._index.get(q.id)
        prefix = f"questions[{where}] (id: {q.id})" if where is not None else f"(id: {q.id})"
        self._append(f"{prefix}: {self.fmt}: {message}")

    def add_bank(self, message: str) -> None:
        """Record something about the bank as a whole (its title, a topic name)."""
        self._append(f"bank: {self.fmt}: {message}")

    @property
    def items(self) -> list[str]:
        """The notes in the order they were first recorded, each once."""
        return list(self._seen)

    def _append(self, note: str) -> None:
        # The same text can be written in several places; say it once.
        self._seen.setdefault(note, None)


def picture_note(notes: Notes, q: Question, why: str) -> None:
    """One note for a question whose pictures the format cannot carry, naming each file."""
    files = [image.file for image in (q.image, q.explanation_image) if image is not None]
    if files:
        what = "picture" if len(files) == 1 else "pictures"
        notes.add(q, f"{what} {', '.join(repr(f) for f in files)} left out: {why}")


# What each format that cannot carry files tells the teacher to do instead.
PICTURES_IN_MOODLE = (
    "GIFT cannot carry files; use Moodle XML (kzquiz export moodle), which embeds them"
)
PICTURES_BY_EDITOR = (
    "{platform} takes pictures only in its web editor; add them there after the import"
)


def evidence_line(loaded: LoadedBank, q: Question) -> str:
    """'Evidence (paragraph N): “quote”', the way every output cites the article."""
    _ = i18n.translator(i18n.of(loaded)).gettext
    para = loaded.paragraph_of.get(q.id)
    where = _("Evidence (paragraph %(n)s):") % {"n": para} if para is not None else _("Evidence:")
    return f"{where} " + _("“%(quote)s”") % {"quote": q.evidence}


def feedback_text(loaded: LoadedBank, q: Question) -> str:
    """General feedback: the explanation, a blank line, then the evidence quote."""
    return f"{q.explanation}\n\n{evidence_line(loaded, q)}"


def numeric_prompt(q: Numeric, lang: str = "en") -> str:
    """The prompt, naming the unit when there is one (no LMS numeric answer carries units).

    "(unit: states)" reads right for any unit, a count, a currency or a sign: "(in states)"
    and "(in %)" did not.
    """
    if not q.unit:
        return q.stem
    return f"{q.stem} " + i18n.translator(lang).gettext("(unit: %(unit)s)") % {"unit": q.unit}


def position_label(position: int, lang: str = "en") -> str:
    """The left side of an ordering question shown as matching: 'Position 1', 'Position 2', ..."""
    return i18n.translator(lang).gettext("Position %(n)s") % {"n": position}


def ordering_pairs(q: Ordering, lang: str = "en") -> list[tuple[str, str]]:
    """An ordering question as matching pairs (position -> item), which loses nothing."""
    return [(position_label(i, lang), item) for i, item in enumerate(q.items, start=1)]


def cloze_with_one_blank(q: Cloze, blank: int, marker: str = "_____") -> tuple[str, str]:
    """The cloze text around one blank: (text before, text after), other blanks filled in.

    Splitting a cloze into one question per blank keeps every blank; the other blanks show
    their canonical answer so each question still reads as a whole sentence.
    """
    before: list[str] = []
    after: list[str] = []
    side = before
    for seg in q.segments:
        if isinstance(seg, int):
            if seg == blank:
                side = after
                continue
            side.append(q.blanks[seg][0] if q.blanks[seg] else marker)
        else:
            side.append(seg)
    return "".join(before), "".join(after)


def format_weight(value: float) -> str:
    """A percentage with at most five decimals and no trailing zeros: 33.33333, -50, 12.5."""
    text = f"{value:.5f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# The grades Moodle's import accepts (question_bank::fraction_options): 100/n for these n.
_LISTED_SPLITS = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 20})


def multiple_weights(q: Multiple, notes: Notes) -> tuple[str, str]:
    """Moodle's weights of a right and a wrong option: 100/k % and -100/w % (ticking all is 0).

    GIFT and Moodle XML both import into Moodle, which accepts only its listed grades, so a
    split it does not list is noted.
    """
    right = sum(c.correct for c in q.choices)
    wrong = len(q.choices) - right
    for count, kind in ((right, "correct"), (wrong, "wrong")):
        if count and count not in _LISTED_SPLITS:
            notes.add(
                q,
                f"{count} {kind} options weigh {format_weight(100 / count)}% each, a grade "
                "Moodle does not list; import with 'Match grades: nearest' or edit the weights",
            )
    return format_weight(100 / right), format_weight(-100 / wrong) if wrong else "0"


def bank_order(loaded: LoadedBank, questions: Sequence[Question]) -> list[Question]:
    """The questions grouped by topic, topics in the bank's order, bank order within a topic."""
    by_topic: dict[str, list[Question]] = {t: [] for t in loaded.bank.topics}
    for q in questions:
        by_topic.setdefault(q.topic, []).append(q)
    return [q for qs in by_topic.values() for q in qs]
