"""Printable worksheets and answer keys: self-contained HTML that prints well from a browser.

One HTML file per version (same questions, different order, shuffled choices) and one
answer key covering every version. Nothing is fetched from the network: CSS is inline and
fonts are system font stacks, so the files print offline. All randomness comes from the
`random.Random` the caller passes in, so the same seed gives byte-identical files.
"""

from __future__ import annotations

import dataclasses
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.errors import SelectionError, UsageError
from kzquiz.i18n import N_, Translator, translator
from kzquiz.images import Figure, figure, has_images
from kzquiz.model import (
    QUESTION_TYPES,
    Cloze,
    Matching,
    Multiple,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
)
from kzquiz.pools import Pool, draw, job_pools, version_leak_notes
from kzquiz.render import Outputs, RenderJob
from kzquiz.select import scrambled, shuffled
from kzquiz.speed import paused_gc

MAX_VERSIONS = len(string.ascii_uppercase)
# CSS `size` values for `@page`; the keys are the paper sizes a worksheet accepts.
PAPERS: dict[str, str] = {"a4": "A4", "letter": "letter"}
BUILD_SEED = 1
# How often to reshuffle a version whose question order repeats an earlier version's.
# Small selections may have fewer distinct orders than versions; then a repeat is accepted.
_DISTINCT_ATTEMPTS = 20

# English here; translated where they are printed (kzquiz.i18n).
INSTRUCTIONS: dict[str, str] = {
    "single": N_("Tick the one correct answer."),
    "multiple": N_("Tick every correct answer; there may be more than one."),
    "truefalse": N_("Tick True or False."),
    "cloze": N_("Write the missing word or words on each line."),
    "short": N_("Answer in a few words on the lines."),
    "numeric": N_("Write a number in the box."),
    "matching": N_("Write the letter of the matching item in each box."),
    "ordering": N_("Number the items in the correct order, starting with 1."),
}
TYPE_LABELS: dict[str, str] = {
    "single": N_("One answer"),
    "multiple": N_("Several answers"),
    "truefalse": N_("True or false"),
    "cloze": N_("Fill in the gaps"),
    "short": N_("Short answer"),
    "numeric": N_("Number"),
    "matching": N_("Matching"),
    "ordering": N_("Ordering"),
}


@dataclass(frozen=True)
class WorksheetOptions:
    """How to lay out a worksheet set; the questions themselves are chosen by the caller."""

    title: str | None = None
    versions: int = 1
    paper: str = "a4"
    reading: bool = True
    seed: int | None = None  # shown in the key so the set can be reproduced
    large_print: bool = False  # larger type and more room to write
    pdf: bool = False  # a PDF beside each page, and one of every version for one print job
    answer_sheet: bool = False  # a machine-readable bubble sheet per version (render/answersheet)


@dataclass(frozen=True)
class Option:
    """A lettered line on paper: a choice, or an entry of a matching question's right column."""

    letter: str
    text: str
    correct: bool = False


@dataclass(frozen=True)
class Row:
    """A numbered entry of a matching question's left column and the letter it matches."""

    number: int
    text: str
    answer: str


@dataclass(frozen=True)
class Step:
    """An ordering item as printed, with the number the student should write beside it."""

    text: str
    position: int


@dataclass(frozen=True)
class Item:
    """One question as it appears in one version: its number and shuffled parts."""

    number: int
    question: Question
    paragraph: int | None
    choices: tuple[Option, ...] = ()
    rows: tuple[Row, ...] = ()
    right: tuple[Option, ...] = ()
    steps: tuple[Step, ...] = ()
    hint: str = ""
    image: Figure | None = None  # shown with the prompt
    explanation_image: Figure | None = None  # shown in the key, with the explanation
    answer: str = ""  # the answer in the sheet's language (numbers), where it is text

    @property
    def points(self) -> str:
        """The question's points as printed beside it: "1 pt", "2 pts"."""
        n = self.question.score
        return f"{n} pt" if n == 1 else f"{n} pts"

    @property
    def grid(self) -> str:
        """The answer as the quick-marking grid shows it, in this version's letters."""
        q = self.question
        if isinstance(q, Single | Multiple):
            return ", ".join(c.letter for c in self.choices if c.correct)
        if isinstance(q, TrueFalse):
            return next(c.text for c in self.choices if c.correct)
        if isinstance(q, Cloze):
            if len(q.blanks) == 1:
                return q.blanks[0][0]
            return " · ".join(f"({i}) {b[0]}" for i, b in enumerate(q.blanks, 1))
        if isinstance(q, Matching):
            return " · ".join(f"{r.number}\u2009{r.answer}" for r in self.rows)
        if isinstance(q, Ordering):
            return ", ".join(str(s.position) for s in self.steps)
        return self.answer or q.answer_text()


@dataclass(frozen=True)
class Section:
    """The questions of one topic, under its heading."""

    topic: str
    items: tuple[Item, ...]


@dataclass(frozen=True)
class Version:
    """One printed version of the worksheet."""

    letter: str
    sections: tuple[Section, ...]

    @property
    def items(self) -> list[Item]:
        """Every item, in printed order."""
        return [item for section in self.sections for item in section.items]


@dataclass
class _Sheet:
    """What every template of one set shares."""

    title: str
    source_title: str
    source_date: str | None
    language: str
    paper: str
    seed: int | None
    questions: int
    points: int
    digits: int = 1  # of the highest question number, to size the number column
    large_print: bool = False
    types: list[tuple[str, str, str]] = field(default_factory=list)  # (type, label, instruction)
    ui: str = "en"  # the language of the text around the questions (kzquiz.i18n)


def render_worksheets(
    loaded: LoadedBank,
    questions: Sequence[Question],
    options: WorksheetOptions,
    rng: random.Random,
    pools: Sequence[Pool] = (),
    notes: list[str] | None = None,
) -> dict[str, bytes]:
    """Render one worksheet per version and one answer key: file name -> HTML bytes.

    With pools, each version's own leak and `excludes` notes are added to `notes`.
    """
    if not questions:
        raise SelectionError(f"{loaded.display}: no questions to put on a worksheet")
    if not 1 <= options.versions <= MAX_VERSIONS:
        raise UsageError(
            f"versions must be between 1 and {MAX_VERSIONS}, not {options.versions}",
            field="versions",
        )
    if options.paper not in PAPERS:
        raise UsageError(f"paper {options.paper!r}: use one of {', '.join(PAPERS)}", field="paper")
    # A big set makes hundreds of thousands of objects that all live until the files are
    # written; the cyclic collector would rescan them for nothing (see kzquiz.speed).
    with paused_gc():
        return _render(loaded, questions, options, rng, pools, notes)


def _render(
    loaded: LoadedBank,
    questions: Sequence[Question],
    options: WorksheetOptions,
    rng: random.Random,
    pools: Sequence[Pool],
    notes: list[str] | None = None,
) -> dict[str, bytes]:
    lang = i18n.of(loaded)
    tr = translator(lang)
    _ = tr.gettext
    versions = layout(loaded, questions, options.versions, rng, tr=tr, pools=pools)
    if pools and notes is not None:
        drawn = [(v.letter, [item.question for item in v.items]) for v in versions]
        notes.extend(version_leak_notes(loaded, drawn))
    # With pools each version has its own draw, of the same size from every pool.
    first = [item.question for item in versions[0].items]
    present = {item.question.type for v in versions for item in v.items}
    sheet = _Sheet(
        title=options.title or loaded.title,
        source_title=loaded.source.title or loaded.bank.bank.source.title,
        source_date=loaded.bank.bank.source.date,
        language=loaded.bank.bank.language,
        paper=PAPERS[options.paper],
        seed=options.seed,
        questions=len(first),
        points=sum(q.score for q in first),
        digits=len(str(len(first))),
        large_print=options.large_print,
        types=[(t, _(TYPE_LABELS[t]), _(INSTRUCTIONS[t])) for t in QUESTION_TYPES if t in present],
        ui=lang,
    )
    from kzquiz.render import env

    worksheet = env(lang).get_template("worksheet/worksheet.html.j2")
    key = env(lang).get_template("worksheet/key.html.j2")
    files: dict[str, bytes] = {}
    reading = passage(loaded) if options.reading else None
    for version in versions:
        html = worksheet.render(
            sheet=sheet,
            version=version,
            reading=reading,
            footer=footer(sheet.title, _("Version %(letter)s") % {"letter": version.letter}, tr),
        )
        files[f"{loaded.id}-worksheet-{version.letter}.html"] = html.encode("utf-8")
    html = key.render(
        sheet=sheet,
        versions=versions,
        full=_full_key(versions),
        footers={
            v.letter: footer(sheet.title, _("Key %(letter)s") % {"letter": v.letter}, tr)
            for v in versions
        },
        full_footer=footer(sheet.title, _("Answer key"), tr),
    )
    files[f"{loaded.id}-key.html"] = html.encode("utf-8")
    return files


def render(job: RenderJob) -> Outputs:
    """The worksheet set of `job.questions`: `job.options` (WorksheetOptions), shuffled from `job.seed`."""
    options = job.options if isinstance(job.options, WorksheetOptions) else WorksheetOptions()
    seed = BUILD_SEED if job.seed is None else job.seed
    options = dataclasses.replace(options, seed=seed)
    if options.pdf:
        from kzquiz.render import pdf

        reason = pdf.missing()
        if reason is not None:
            raise UsageError(f"pdf: {reason}", field="pdf")
    notes: list[str] = []
    files = render_worksheets(
        job.loaded, job.questions, options, random.Random(seed), job_pools(job), notes
    )
    if options.answer_sheet:
        from kzquiz.render import answersheet

        files.update(
            answersheet.render_sheets(
                job.loaded,
                job.questions,
                pools=job_pools(job),
                versions=options.versions,
                seed=seed,
                paper=options.paper,
                title=options.title or job.loaded.title,
            )
        )
    if options.pdf:
        files.update(pdf_files(job.loaded.id, files, options.versions))
    return Outputs(files=files, notes=notes)


def pdf_files(bank_id: str, pages: dict[str, bytes], versions: int) -> dict[str, bytes]:
    """The PDF of every page, and with several versions one PDF of all of them in order."""
    from kzquiz.render import pdf

    out = {
        name.removesuffix(".html") + ".pdf": pdf.html_to_pdf(html) for name, html in pages.items()
    }
    if versions > 1:
        sheets = [
            pages[f"{bank_id}-worksheet-{letter}.html"]
            for letter in string.ascii_uppercase[:versions]
        ]
        out[f"{bank_id}-worksheets.pdf"] = pdf.combined_pdf(sheets)
    return out


def layout(
    loaded: LoadedBank,
    questions: Sequence[Question],
    versions: int,
    rng: random.Random,
    *,
    tr: Translator | None = None,
    pools: Sequence[Pool] = (),
) -> list[Version]:
    """Order the questions of each version (grouped by topic) and shuffle their parts.

    Each version draws its own questions from every pool (kzquiz.pools), from the same rng:
    the seed gives the same draws again.
    """
    topics = loaded.bank.topics
    tr = tr or translator("en")
    out: list[Version] = []
    seen: set[tuple[str, ...]] = set()
    for letter in string.ascii_uppercase[:versions]:
        # Topics keep the bank's order (the teacher's sequence); questions move within a topic.
        by_topic: dict[str, list[Question]] = {topic: [] for topic in topics}
        for q in draw(questions, pools, rng) if pools else questions:
            by_topic[q.topic].append(q)
        groups = [group for group in by_topic.values() if group]
        for _ in range(_DISTINCT_ATTEMPTS):
            order = [shuffled(group, rng) for group in groups]
            signature = tuple(q.id for group in order for q in group)
            if signature not in seen:
                break
        seen.add(signature)
        number = 0
        sections = []
        for group in order:
            items = []
            for q in group:
                number += 1
                item = _item(q, number, loaded.paragraph_of.get(q.id), rng, tr)
                if has_images(q):
                    item = dataclasses.replace(
                        item,
                        image=figure(loaded, q.image),
                        explanation_image=figure(loaded, q.explanation_image),
                    )
                items.append(item)
            sections.append(Section(topics[group[0].topic], tuple(items)))
        out.append(Version(letter, tuple(sections)))
    return out


def _item(
    q: Question, number: int, paragraph: int | None, rng: random.Random, tr: Translator
) -> Item:
    """Shuffle one question's parts for one version."""
    _ = tr.gettext
    letters = string.ascii_uppercase
    if isinstance(q, Single | Multiple):
        choices = shuffled(q.choices, rng)
        hint = ""
        # Say "several" on the question itself: a student cannot tell from the boxes.
        if isinstance(q, Multiple) and "all that apply" not in q.prompt.casefold():
            hint = _("Tick all that apply.")
        return Item(
            number,
            q,
            paragraph,
            choices=tuple(Option(letters[i], c.text, c.correct) for i, c in enumerate(choices)),
            hint=hint,
        )
    if isinstance(q, TrueFalse):
        # Always True then False: shuffling these only confuses.
        return Item(
            number,
            q,
            paragraph,
            choices=(Option("T", _("True"), q.answer), Option("F", _("False"), not q.answer)),
        )
    if isinstance(q, Matching):
        # Several left items may share a right item; it is printed (and lettered) once.
        left = shuffled(q.pairs, rng)
        rights = list(dict.fromkeys(p.right for p in left))
        # Scrambled against the left column, so the answer is never simply 1A 2B 3C.
        right = scrambled(rights, rng)
        letter_of = {text: letters[i] for i, text in enumerate(right)}
        return Item(
            number,
            q,
            paragraph,
            rows=tuple(Row(i, p.left, letter_of[p.right]) for i, p in enumerate(left, 1)),
            right=tuple(Option(letter_of[text], text) for text in right),
        )
    if isinstance(q, Ordering):
        # Never print the items already in order: that would give the answer away.
        positions = scrambled(list(range(1, len(q.items) + 1)), rng)
        return Item(number, q, paragraph, steps=tuple(Step(q.items[p - 1], p) for p in positions))
    return Item(number, q, paragraph, answer=tr.answer_text(q))


@dataclass(frozen=True)
class _KeyEntry:
    """One question in the full key, with its number in every version."""

    item: Item
    numbers: tuple[tuple[str, int], ...]
    accepted: tuple[str, ...]


def _full_key(versions: list[Version]) -> list[tuple[str, list[_KeyEntry]]]:
    """The full key once, in version A's order, noting each question's number per version.

    Where versions drew different questions from a pool, a question first met in a later
    version follows, under its topic, in that version's order.
    """
    number_in: dict[str, list[tuple[str, int]]] = {}
    for version in versions:
        for item in version.items:
            number_in.setdefault(item.question.id, []).append((version.letter, item.number))
    by_topic: dict[str, list[_KeyEntry]] = {}
    listed: set[str] = set()
    for version in versions:
        for section in version.sections:
            entries = by_topic.setdefault(section.topic, [])
            for item in section.items:
                if item.question.id in listed:
                    continue
                listed.add(item.question.id)
                numbers = tuple(number_in[item.question.id])
                entries.append(_KeyEntry(item, numbers, tuple(accepted(item.question))))
    return list(by_topic.items())


@dataclass(frozen=True)
class Passage:
    """The reading passage: title, date and paragraphs with their number and heading."""

    title: str
    date: str | None
    paragraphs: list[tuple[int, str | None, str]]  # (number, heading before it, text)


def passage(loaded: LoadedBank) -> Passage:
    """The bank's article as printed and shown: numbered as the key and feedback cite it."""
    src = loaded.source
    return Passage(
        title=src.title or loaded.bank.bank.source.title,
        date=loaded.bank.bank.source.date,
        paragraphs=[(n, src.headings.get(n), p) for n, p in enumerate(src.paragraphs, 1)],
    )


def accepted(q: Question) -> list[str]:
    """Alternatives accepted besides the model answer (shown in the full key)."""
    if isinstance(q, Short):
        return list(q.answers[1:])
    if isinstance(q, Cloze):
        return [f"({i}) " + " / ".join(b[1:]) for i, b in enumerate(q.blanks, 1) if len(b) > 1]
    return []


def footer(title: str, label: str, tr: Translator | None = None, limit: int = 60) -> Markup:
    """The page footer as a CSS `content` value: the (shortened) title, a label, page N of M."""
    if len(title) > limit:
        title = title[: limit - 1].rstrip() + "…"
    # One message with both numbers, so a language can put them in its own order; the
    # page counters go where its placeholders are.
    text = (tr or translator("en")).gettext("page %(page)s of %(pages)s")
    before, _, rest = text.partition("%(page)s")
    middle, _, after = rest.partition("%(pages)s")
    value = css_string(f"{title} · {label} · {before}") + " counter(page) "
    value += css_string(middle) + " counter(pages)"
    if after:
        value += " " + css_string(after)
    return Markup(value)


def css_string(text: str) -> Markup:
    """Quote text as a CSS string that cannot end the string or the <style> element."""
    # Escape everything but letters, digits and spaces as \HEX so no quote, backslash or
    # `</style>` can survive; the trailing space ends each escape as CSS requires.
    body = "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{body}"')


_QUESTION_ID = re.compile(rb'data-qid="([^"]*)"')


def question_set(sheet: bytes) -> frozenset[str]:
    """The ids of the questions on a rendered worksheet (to tell one set from another)."""
    return frozenset(m.group(1).decode() for m in _QUESTION_ID.finditer(sheet))
