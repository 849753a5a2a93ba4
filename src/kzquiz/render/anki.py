"""Anki decks (.apkg) that study well and update cleanly when the bank is edited.

How a re-import stays clean, and what each piece is for:

- Every note's GUID is a function of the bank id and the question id only, so Anki matches
  a question to the note it made before, however the question's text changes.
- Our three note types, their fields and card templates have fixed ids and names, so Anki
  recognises them on every import instead of adding "kzquiz Choice+" copies.
- Anki applies an incoming note only when its modification time is newer than the one in
  the collection. The state file `<bank-id>.lock.json`, kept next to the deck, records a
  hash of what every note shows and the time it last changed: an unchanged question keeps
  its time (and the package stays byte-identical), an edited one gets a newer time.
- A package cannot delete notes, so questions removed from the bank are kept in the state
  file and reported with an Anki search that finds their notes.

All bank text is escaped for HTML and, beyond that, for Anki's own field syntax: braces (cloze
deletions, template fields), square brackets (`[sound:...]`, `[latex]`) and, inside a cloze
answer, colons (the `::` hint separator) become character references.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import genanki
import pydantic
import pydantic_core
from markupsafe import escape

from kzquiz.bank import LoadedBank
from kzquiz.errors import OutputError
from kzquiz.model import (
    MAX_TEXT,
    Cloze,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
    format_number,
)
from kzquiz.render import Outputs, RenderJob, build_time
from kzquiz.select import scrambled, shuffled
from kzquiz.speed import paused_gc

LOCK_FORMAT = 1
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The field on every note type that holds the question id; the removed-questions search uses it.
ID_FIELD = "QuestionId"

# Fixed forever: Anki identifies our note types by these ids. (Derived once from
# sha256("kzquiz/model/<kind>"); never recompute or change them.)
CHOICE_MODEL_ID = 95174190684992
CLOZE_MODEL_ID = 48029149304556
ANSWER_MODEL_ID = 254364170374754

# Characters that make bank text need escaping in a field: HTML's, and those Anki gives a
# meaning (braces, brackets; colons inside a cloze answer). Most bank text contains none of
# them, and one scan for them is far cheaper than escaping: a 10,000-question deck escapes
# about 100,000 strings.
_NEEDS_ESCAPE = re.compile(r"[&<>\"'{}\[\]\n]")
_CLOZE_NEEDS_ESCAPE = re.compile(r"[&<>\"'{}\[\]\n:]")

# Fixed zip entry dates: the package must not depend on when it was built.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def stable_id(*parts: str) -> int:
    """A fixed Anki id for a name: 48 bits of sha256, kept well inside JavaScript's safe range."""
    digest = hashlib.sha256("\x1f".join(("kzquiz", *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:6], "big") + 10**12


def note_guid(bank_id: str, question_id: str) -> str:
    """The note's GUID: depends on the bank id and question id only, never on its text.

    genanki.guid_for(bank_id, question_id), computed the same way with less overhead (tests
    compare the two): the first 8 bytes of sha256("<bank_id>__<question_id>") written in
    Anki's base 91, most significant digit first.
    """
    number = int.from_bytes(
        hashlib.sha256(f"{bank_id}__{question_id}".encode()).digest()[:8], "big"
    )
    digits = ""
    while number:
        number, digit = divmod(number, 91)
        digits = _BASE91[digit] + digits
    return digits


# genanki.util.BASE91_TABLE, Anki's alphabet for GUIDs.
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


@dataclass(frozen=True)
class NoteType:
    """One of our Anki note types: fixed id, fixed field and template names and ids."""

    key: str
    name: str
    model_id: int
    fields: tuple[str, ...]
    card: str
    front: str
    back: str
    cloze: bool = False

    def field_id(self, field: str) -> int:
        """The fixed id Anki keeps for a field (matches fields across imports)."""
        return stable_id("field", self.key, field)

    def template_id(self) -> int:
        """The fixed id of the card template."""
        return stable_id("template", self.key, self.card)


CHOICE = NoteType(
    key="choice",
    name="kzquiz Choice",
    model_id=CHOICE_MODEL_ID,
    fields=(
        "Prompt",
        "Instruction",
        "Options",
        "Correct",
        "Answer",
        "Explanation",
        "Evidence",
        "Source",
        "Kind",
        ID_FIELD,
    ),
    card="Choice",
    front="choice_front.html",
    back="choice_back.html",
)
CLOZE = NoteType(
    key="cloze",
    name="kzquiz Cloze",
    model_id=CLOZE_MODEL_ID,
    fields=("Text", "Explanation", "Evidence", "Source", ID_FIELD),
    card="Cloze",
    front="cloze_front.html",
    back="cloze_back.html",
    cloze=True,
)
ANSWER = NoteType(
    key="answer",
    name="kzquiz Answer",
    model_id=ANSWER_MODEL_ID,
    fields=(
        "Prompt",
        "Instruction",
        "Details",
        "Answer",
        "Explanation",
        "Evidence",
        "Source",
        ID_FIELD,
    ),
    card="Answer",
    front="answer_front.html",
    back="answer_back.html",
)
NOTE_TYPES: tuple[NoteType, ...] = (CHOICE, CLOZE, ANSWER)
NOTE_TYPE_OF: dict[str, NoteType] = {
    "single": CHOICE,
    "multiple": CHOICE,
    "truefalse": CHOICE,
    "cloze": CLOZE,
    "short": ANSWER,
    "numeric": ANSWER,
    "matching": ANSWER,
    "ordering": ANSWER,
}


# ------------------------------------------------------------------------------ state file


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)


class Stamp(_Strict):
    """What a note type showed at its last change, and when that was."""

    hash: str = pydantic.Field(pattern=r"^[0-9a-f]{64}$")
    mod: int = pydantic.Field(ge=0, le=2**40)


class QuestionStamp(Stamp):
    """What a question's note showed at its last change, when that was, its type and deck."""

    model: str = pydantic.Field(min_length=1, max_length=100)
    deck: str = pydantic.Field(min_length=1, max_length=MAX_TEXT * 2 + 2)


class Removed(QuestionStamp):
    """A question that left the bank: its last stamp and when it was found missing."""

    removed: int = pydantic.Field(ge=0, le=2**40)


class Lock(_Strict):
    """The state file: per question and note type, a content hash and its modification time."""

    format: Literal[1]
    bank: str
    created: int = pydantic.Field(ge=0, le=2**40)
    models: dict[str, Stamp]
    questions: dict[str, QuestionStamp]
    removed: dict[str, Removed] = pydantic.Field(default_factory=dict)

    def dumps(self) -> bytes:
        """Deterministic JSON: sorted keys, two-space indent, trailing newline.

        The bytes of json.dumps(..., sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        (tests compare the two), written by pydantic-core's serializer: with an indent,
        json.dumps falls back to its pure-Python encoder, slow for 10,000 entries.
        """
        return pydantic_core.to_json(_sorted_keys(self.model_dump()), indent=2) + b"\n"


def _sorted_keys(value: Any) -> Any:
    """The same data with every mapping's keys in sorted order (what sort_keys=True does)."""
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    return value


def lock_name(bank_id: str) -> str:
    """The state file's name in the output folder."""
    return f"{bank_id}.lock.json"


def apkg_name(bank_id: str) -> str:
    """The package's file name in the output folder."""
    return f"{bank_id}.apkg"


def read_lock(path: Path, bank_id: str) -> Lock | None:
    """The previous state file, None if there is none; a damaged one is an OutputError."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        # No output folder yet (or -o names a file, which writing the outputs reports).
        return None
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot read the Anki state file: {exc.strerror or exc}"
        ) from None
    return parse_lock(raw, str(path), bank_id)


def parse_lock(raw: bytes, where: str, bank_id: str) -> Lock:
    """The state file from its bytes; a damaged one is an OutputError naming `where`."""
    path = where
    advice = (
        "restore it from version control, or delete it to start afresh (every note is then"
        " sent as changed once, and questions removed earlier are no longer listed)"
    )
    try:
        lock = Lock.model_validate(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(
            f"{path}: the Anki state file is not valid JSON ({exc}); {advice}"
        ) from None
    except pydantic.ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        raise OutputError(
            f"{path}: the Anki state file is damaged ({where}: {first['msg']}); {advice}"
        ) from None
    if lock.bank != bank_id:
        raise OutputError(
            f"{path}: this state file belongs to bank {lock.bank!r}, not {bank_id!r}; {advice}"
        )
    return lock


# ------------------------------------------------------------------------------ note types


def _template_text(name: str) -> str:
    return (resources.files("kzquiz") / "templates" / "anki" / name).read_text(encoding="utf-8")


def _templates(nt: NoteType) -> tuple[str, str]:
    explain = _template_text("explain.html")
    front = _template_text(nt.front)
    if nt is CHOICE:
        # The tap-to-pick script lives in the front; {{FrontSide}} carries it to the back.
        front += "<script>\n" + _template_text("choice.js") + "</script>\n"
    back = _template_text(nt.back).replace("<!-- kzquiz:explain -->\n", explain)
    return front, back


def model_json(nt: NoteType) -> dict[str, Any]:
    """Everything Anki stores about a note type that we decide (hashed into the state file)."""
    front, back = _templates(nt)
    return {
        "name": nt.name,
        "id": nt.model_id,
        "type": "cloze" if nt.cloze else "standard",
        "fields": [{"name": f, "id": nt.field_id(f)} for f in nt.fields],
        "templates": [{"name": nt.card, "id": nt.template_id(), "qfmt": front, "afmt": back}],
        "css": _template_text("cards.css"),
    }


class _Model(genanki.Model):  # type: ignore[misc]
    """A genanki Model whose modification time comes from the state file, not the clock."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def to_json(self, timestamp: float, deck_id: int) -> dict[str, Any]:
        """genanki's note type JSON with our modification time."""
        data: dict[str, Any] = super().to_json(timestamp, deck_id)
        data["mod"] = self.mod
        return data


def _genanki_model(nt: NoteType, mod: int) -> _Model:
    data = model_json(nt)
    fields = [dict(f) for f in data["fields"]]
    templates = [
        {"name": t["name"], "id": t["id"], "qfmt": t["qfmt"], "afmt": t["afmt"]}
        for t in data["templates"]
    ]
    return _Model(
        mod,
        model_id=nt.model_id,
        name=nt.name,
        fields=fields,
        templates=templates,
        css=data["css"],
        model_type=genanki.Model.CLOZE if nt.cloze else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )


# ------------------------------------------------------------------------------ fields


def anki_text(value: str) -> str:
    """Bank text as an Anki field: HTML-escaped, Anki's syntax characters neutralised."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    # markupsafe's escape for HTML; then braces and brackets, which Anki reads as
    # cloze/field/sound syntax, become character references too. (Chained replaces: each is
    # one C scan, several times faster than str.translate with multi-character values.)
    return _anki_syntax(str(escape(value))).replace("\n", "<br>")


def _anki_syntax(html: str) -> str:
    return (
        html.replace("{", "&#123;")
        .replace("}", "&#125;")
        .replace("[", "&#91;")
        .replace("]", "&#93;")
    )


# HTML fragments for the fields. Every bank value goes through anki_text (`_t`); the rest is
# kzquiz's own markup. Plain f-strings, because this is the hot path of a big build.
_t = anki_text


def _badged(tag: str, key: str, text: str) -> str:
    badge = f'<span class="kz-letter">{key}</span><span class="kz-text">{_t(text)}</span>'
    return f"<li>{badge}</li>" if tag == "li" else f'<span class="kz-cell">{badge}</span>'


def options_html(items: Sequence[tuple[str, str]]) -> str:
    """Lettered options, which the Choice card's script makes tappable."""
    rows = "".join(
        f'<li data-letter="{k}"><span class="kz-letter">{k}</span>'
        f'<span class="kz-text">{_t(text)}</span></li>'
        for k, text in items
    )
    return f"<ol>{rows}</ol>"


def lettered_html(items: Sequence[tuple[str, str]]) -> str:
    """A list of items, each with its letter (or number) badge."""
    return f'<ul class="kz-list">{"".join(_badged("li", k, text) for k, text in items)}</ul>'


def short_html(answers: Sequence[str]) -> str:
    """The model answer, then any other accepted answers."""
    out = f'<p class="kz-answer-main">{_t(answers[0])}</p>'
    if len(answers) > 1:
        out += f'<p class="kz-also">Also accepted: {"; ".join(_t(a) for a in answers[1:])}</p>'
    return out


def numeric_html(value: str, accepted: str) -> str:
    """The number with its unit, then the accepted interval if there is one."""
    out = f'<p class="kz-answer-main">{_t(value)}</p>'
    if accepted:
        out += f'<p class="kz-also">Accepted: {_t(accepted)}</p>'
    return out


def matching_front_html(lefts: Sequence[tuple[str, str]], rights: Sequence[tuple[str, str]]) -> str:
    """Numbered items and the lettered items to match them with, side by side."""
    return f'<div class="kz-columns">{lettered_html(lefts)}{lettered_html(rights)}</div>'


def matching_back_html(rows: Sequence[tuple[str, str, str, str]]) -> str:
    """The pairs as a two-column table: item, and what it matches."""
    body = "".join(
        f"<tr><td>{_badged('span', n, left)}</td><td>{_badged('span', k, right)}</td></tr>"
        for n, left, k, right in rows
    )
    return (
        '<table class="kz-table"><thead><tr><th scope="col">Item</th>'
        f'<th scope="col">Matches</th></tr></thead><tbody>{body}</tbody></table>'
    )


def ordering_back_html(items: Sequence[tuple[str, str]]) -> str:
    """The items in their correct order, as a numbered list with their letters."""
    rows = "".join(f"<li>{_badged('span', k, text)}</li>" for k, text in items)
    return f'<ol class="kz-steps">{rows}</ol>'


def source_html(title: str, date: str, paragraph: int) -> str:
    """Where the evidence quote comes from: article title, date and paragraph."""
    out = _source_head(title, date)
    if paragraph:
        out += f", paragraph {paragraph}"
    return out


@lru_cache(maxsize=64)
def _source_head(title: str, date: str) -> str:
    # The same for every note of a bank: escaped once, not once per question.
    out = _t(title)
    if date:
        out += f" ({_t(date)})"
    return out


def deck_description_html(title: str, source_title: str, date: str, url: str) -> str:
    """The top deck's description: the bank and its source (linked only over http/https)."""
    source = _t(source_title)
    if url.startswith(("https://", "http://")):
        source = f'<a href="{_t(url)}">{source}</a>'
    if date:
        source += f" ({_t(date)})"
    return f"<p>{_t(title)}: questions made with kzquiz.</p><p>Source: {source}</p>"


# json.dumps(s, ensure_ascii=False) for a str, without the encoder set-up of every call.
_json_str: Callable[[str], str] = json.encoder.encode_basestring


@dataclass(frozen=True)
class NoteSpec:
    """Everything one note shows: note type, field values, tags and deck."""

    question: Question
    note_type: NoteType
    fields: dict[str, str]
    tags: tuple[str, ...]
    deck: str

    def content_hash(self) -> str:
        """sha256 of a canonical JSON of everything the note shows.

        The JSON is json.dumps({"model", "fields", "tags", "deck"}, sort_keys=True,
        ensure_ascii=False, separators=(",", ":")), written out with json's own string
        encoder: the same text (tests compare the two) at half the cost, which counts when a
        deck has 10,000 notes of a kilobyte each.
        """
        fields = ",".join([_json_str(self.fields[f]) for f in self.note_type.fields])
        tags = ",".join([_json_str(t) for t in self.tags])
        canonical = (
            f'{{"deck":{_json_str(self.deck)},"fields":[{fields}],'
            f'"model":{_json_str(self.note_type.name)},"tags":[{tags}]}}'
        )
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def deck_part(name: str) -> str:
    """A deck name component: '::' would start a subdeck, so it is folded to ':'."""
    while "::" in name:
        name = name.replace("::", ":")
    return " ".join(name.split()) or "-"


def _rng(bank_id: str, question_id: str) -> random.Random:
    # Seeded per question (str seeds are hashed with sha512, not Python's randomised hash),
    # so the option order never changes between builds or when other questions change.
    return random.Random(f"kzquiz-anki/{bank_id}/{question_id}")


def note_spec(loaded: LoadedBank, q: Question) -> NoteSpec:
    """Render one question into its note type, fields, tags and deck."""
    info = loaded.bank.bank
    nt = NOTE_TYPE_OF[q.type]
    fields: dict[str, str] = {
        "Explanation": anki_text(q.explanation),
        "Evidence": anki_text(q.evidence),
        "Source": source_html(
            info.source.title, info.source.date or "", loaded.paragraph_of.get(q.id, 0)
        ),
        ID_FIELD: anki_text(q.id),
    }
    # The seeded generator is made only for the types that shuffle: seeding costs more than
    # the rest of a short question's note.
    if isinstance(q, (Single, Multiple, TrueFalse)):
        if isinstance(q, TrueFalse):
            options = [("True", q.answer), ("False", not q.answer)]
            instruction = "True or false?"
        else:
            options = [(c.text, c.correct) for c in shuffled(q.choices, _rng(loaded.id, q.id))]
            instruction = (
                "Choose all that apply." if isinstance(q, Multiple) else "Choose one answer."
            )
        lettered = [(LETTERS[i], text) for i, (text, _) in enumerate(options)]
        right = [(LETTERS[i], text) for i, (text, ok) in enumerate(options) if ok]
        fields |= {
            "Prompt": anki_text(q.prompt),
            "Instruction": instruction,
            "Options": options_html(lettered),
            "Correct": " ".join(letter for letter, _ in right),
            "Answer": lettered_html(right),
            "Kind": q.type,
        }
    elif isinstance(q, Cloze):
        fields["Text"] = cloze_text(q)
    else:
        fields |= {"Prompt": anki_text(q.prompt), **_answer_fields(q, loaded.id)}
    tags = (
        *q.tags,
        f"topic::{q.topic}",
        f"difficulty::{q.difficulty}",
        f"type::{q.type}",
    )
    deck = _deck_name(info.title, loaded.bank.topics[q.topic])
    return NoteSpec(q, nt, {f: fields[f] for f in nt.fields}, tags, deck)


@lru_cache(maxsize=256)
def _deck_name(title: str, topic_name: str) -> str:
    # One per topic; cached so a big bank does not fold the same names for every question.
    return f"{deck_part(title)}::{deck_part(topic_name)}"


def _answer_fields(q: Question, bank_id: str) -> dict[str, str]:
    if isinstance(q, Short):
        return {
            "Instruction": "Answer in a word or a few words.",
            "Details": "",
            "Answer": short_html(q.answers),
        }
    if isinstance(q, Numeric):
        value = format_number(q.answer) + (f" {q.unit}" if q.unit else "")
        lo, hi = q.bounds
        accepted = "" if lo == hi else f"{format_number(lo)} to {format_number(hi)}"
        return {
            "Instruction": anki_text(f"Give a number{f' in {q.unit}' if q.unit else ''}."),
            "Details": "",
            "Answer": numeric_html(value, accepted),
        }
    if isinstance(q, Matching):
        order = scrambled(range(len(q.pairs)), _rng(bank_id, q.id))
        letter_of = {pair_index: LETTERS[pos] for pos, pair_index in enumerate(order)}
        lefts = [(str(i + 1), p.left) for i, p in enumerate(q.pairs)]
        rights = [(LETTERS[pos], q.pairs[i].right) for pos, i in enumerate(order)]
        rows = [(str(i + 1), p.left, letter_of[i], p.right) for i, p in enumerate(q.pairs)]
        return {
            "Instruction": "Match each numbered item with a lettered one.",
            "Details": matching_front_html(lefts, rights),
            "Answer": matching_back_html(rows),
        }
    if isinstance(q, Ordering):
        order = scrambled(range(len(q.items)), _rng(bank_id, q.id))
        letter_of = {item_index: LETTERS[pos] for pos, item_index in enumerate(order)}
        shown = [(LETTERS[pos], q.items[i]) for pos, i in enumerate(order)]
        correct = [(letter_of[i], item) for i, item in enumerate(q.items)]
        return {
            "Instruction": "Put the lettered items in order.",
            "Details": lettered_html(shown),
            "Answer": ordering_back_html(correct),
        }
    raise TypeError(f"no Anki answer fields for question type {q.type!r}")  # pragma: no cover


def cloze_text(q: Cloze) -> str:
    """The cloze field: one `{{cN::...}}` per blank, accepted alternatives shown on its back."""
    out: list[str] = []
    for segment in q.segments:
        if isinstance(segment, str):
            out.append(anki_text(segment))
            continue
        answers = q.blanks[segment] or ["…"]
        answer = _cloze_answer(answers[0])
        if len(answers) > 1:
            alts = " or ".join(_cloze_answer(a) for a in answers[1:])
            answer += f'<span class="kz-alt"> (also: {alts})</span>'
        out.append(f"{{{{c{segment + 1}::{answer}}}}}")
    return "".join(out)


def _cloze_answer(text: str) -> str:
    if _CLOZE_NEEDS_ESCAPE.search(text) is None:
        return text
    # A colon would start a cloze hint (`{{c1::answer::hint}}`).
    return _anki_syntax(str(escape(text))).replace(":", "&#58;").replace("\n", " ")


# ------------------------------------------------------------------------------ the package


@dataclass
class DeckBuild:
    """A built package, the new state file and what changed since the last build."""

    apkg: bytes
    lock: Lock
    notes: int
    cards: int
    new: list[str]
    changed: list[str]
    unchanged: list[str]
    retyped: list[str]
    moved: list[str]
    removed: dict[str, Removed]


def _next_mod(previous: Stamp | None, now: int) -> int:
    # Anki applies an update only if it is strictly newer than what the collection has; with a
    # pinned SOURCE_DATE_EPOCH "now" may not be, so step one second past the previous time.
    if previous is None:
        return now
    return max(now, previous.mod + 1)


def build_deck(
    loaded: LoadedBank, questions: Sequence[Question], previous: Lock | None
) -> DeckBuild:
    """The .apkg for `questions` and the state file for the whole bank, in memory."""
    now: int | None = None

    def clock() -> int:
        nonlocal now
        if now is None:
            now = build_time()
        return now

    old_questions = dict(previous.questions) if previous else {}
    old_removed = dict(previous.removed) if previous else {}
    old_models = dict(previous.models) if previous else {}

    models: dict[str, Stamp] = {}
    for nt in NOTE_TYPES:
        digest = _hash_json(model_json(nt))
        old = old_models.get(nt.name)
        mod = old.mod if old and old.hash == digest else _next_mod(old, clock())
        models[nt.name] = Stamp(hash=digest, mod=mod)

    specs = {q.id: note_spec(loaded, q) for q in loaded.bank.questions}
    stamps: dict[str, QuestionStamp] = {}
    new, changed, unchanged, retyped, moved = [], [], [], [], []
    for qid, spec in specs.items():
        digest = spec.content_hash()
        old = old_questions.get(qid) or old_removed.get(qid)
        if old is not None and old.hash == digest:
            # The previous stamp is kept as it is (a returning removed question sheds its
            # removal time): no new object to validate for each of 10,000 unchanged notes.
            stamps[qid] = (
                old
                if type(old) is QuestionStamp
                else QuestionStamp(hash=digest, mod=old.mod, model=old.model, deck=old.deck)
            )
            unchanged.append(qid)
            continue
        stamps[qid] = QuestionStamp(
            hash=digest, mod=_next_mod(old, clock()), model=spec.note_type.name, deck=spec.deck
        )
        if old is None:
            new.append(qid)
            continue
        changed.append(qid)
        # An update changes a note's fields and tags but never its note type or the deck of
        # its cards; say so rather than let the change go missing.
        if old.model != spec.note_type.name:
            retyped.append(qid)
        elif old.deck != spec.deck:
            moved.append(qid)

    removed = {qid: r for qid, r in old_removed.items() if qid not in specs}
    for qid, old in old_questions.items():
        if qid not in specs:
            removed[qid] = Removed(**old.model_dump(), removed=clock())
    created = previous.created if previous else clock()
    lock = Lock(
        format=LOCK_FORMAT,
        bank=loaded.id,
        created=created,
        models=models,
        questions=stamps,
        removed=dict(sorted(removed.items())),
    )

    chosen = {q.id for q in questions}
    apkg, cards = _package(
        loaded, [specs[q.id] for q in loaded.bank.questions if q.id in chosen], lock
    )
    selected = [qid for qid in specs if qid in chosen]
    keep = set(selected)
    return DeckBuild(
        apkg=apkg,
        lock=lock,
        notes=len(selected),
        cards=cards,
        new=[q for q in new if q in keep],
        changed=[q for q in changed if q in keep],
        unchanged=[q for q in unchanged if q in keep],
        retyped=[q for q in retyped if q in keep],
        moved=[q for q in moved if q in keep],
        removed=lock.removed,
    )


def _hash_json(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _package(loaded: LoadedBank, specs: list[NoteSpec], lock: Lock) -> tuple[bytes, int]:
    info = loaded.bank.bank
    description = deck_description_html(
        info.title, info.source.title, info.source.date or "", info.source.url or ""
    )
    top = genanki.Deck(stable_id("deck", loaded.id), deck_part(info.title), description)
    topic_decks: dict[str, genanki.Deck] = {}
    for topic_id, topic_name in loaded.bank.topics.items():
        topic_decks[topic_id] = genanki.Deck(
            stable_id("deck", loaded.id, topic_id), _deck_name(info.title, topic_name)
        )
    models = {nt.key: _genanki_model(nt, lock.models[nt.name].mod) for nt in NOTE_TYPES}
    for deck in topic_decks.values():
        # Every note type travels in the package, even one no selected question uses, so
        # its templates stay current in the collection.
        for model in models.values():
            deck.add_model(model)
    by_topic: dict[str, list[NoteSpec]] = {topic_id: [] for topic_id in topic_decks}
    for spec in specs:
        by_topic[spec.question.topic].append(spec)
    notes = [(topic_decks[t], group) for t, group in by_topic.items() if group]
    position = {q.id: i + 1 for i, q in enumerate(loaded.bank.questions)}
    collection, cards = _collection(
        [top, *(deck for deck, _ in notes)],
        lambda ids: _note_rows(loaded.id, notes, models, lock, position, ids),
        lock.created,
    )
    return _zip(collection), cards


_NoteRow = tuple[int, str, int, int, int, str, str, str, int, int, str]
_CardRow = tuple[
    int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, str
]
# genanki.Note._cloze_cards: a cloze note has one card per distinct {{cN::...}} number.
_CLOZE_REFERENCE = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)
_CLOZE_FIELD = re.compile(r"{{[^}]*?cloze:(?:[^}]?:)*(.+?)}}")


def _note_rows(
    bank_id: str,
    notes: list[tuple[genanki.Deck, list[NoteSpec]]],
    models: dict[str, _Model],
    lock: Lock,
    position: dict[str, int],
    ids: Iterator[int],
) -> tuple[list[_NoteRow], list[_CardRow]]:
    """The rows genanki.Note.write_to_db and Card.write_to_db would insert, deck by deck.

    Two differences, both on purpose. Each note and its cards carry the time the question
    last changed (genanki stamps everything with one package time, but Anki applies an
    incoming note only if it is newer). And genanki inserts one row at a time, checking every
    field for stray HTML tags on the way (ours are escaped by construction); rows built here
    and inserted with executemany write a 10,000-note deck several times faster. Otherwise the
    rows, their order and their ids are genanki's (tests compare the two collections).
    """
    note_rows: list[_NoteRow] = []
    card_rows: list[_CardRow] = []
    # Per note type, once: the fields a cloze card reads, or genanki's card requirements.
    cloze_fields = {
        key: [
            i
            for i, f in enumerate(model.fields)
            if f["name"] in set(_CLOZE_FIELD.findall(model.templates[0]["qfmt"]))
        ]
        for key, model in models.items()
        if model.model_type == genanki.Model.CLOZE
    }
    requirements = {
        key: [
            (card_ord, any if any_or_all == "any" else all, req)
            for card_ord, any_or_all, req in model._req
        ]
        for key, model in models.items()
        if key not in cloze_fields
    }
    stamps = lock.questions
    for deck, specs in notes:
        deck_id = deck.deck_id
        for spec in specs:
            qid = spec.question.id
            key = spec.note_type.key
            model = models[key]
            fields = [spec.fields[f] for f in spec.note_type.fields]
            mod = stamps[qid].mod
            note_id = next(ids)
            note_rows.append(
                (
                    note_id,
                    note_guid(bank_id, qid),
                    model.model_id,
                    mod,
                    -1,  # usn
                    " " + " ".join(spec.tags) + " ",
                    "\x1f".join(fields),
                    fields[model.sort_field_index],
                    0,  # csum
                    0,  # flags
                    "",  # data
                )
            )
            if key in cloze_fields:
                ords: Iterable[int] = {
                    int(m) - 1
                    for i in cloze_fields[key]
                    for m in _CLOZE_REFERENCE.findall(fields[i])
                    if int(m) > 0
                }
            else:
                ords = [
                    card_ord
                    for card_ord, op, required in requirements[key]
                    if op(fields[i] for i in required)
                ]
            due = position[qid]
            for card_ord in ords:
                # id, nid, did, ord, mod, usn, type, queue, due, ivl, factor, reps, lapses,
                # left, odue, odid, flags, data
                card_rows.append(
                    (
                        next(ids),
                        note_id,
                        deck_id,
                        card_ord,
                        mod,
                        -1,
                        0,
                        0,
                        due,
                        0,
                        0,
                        0,
                        0,
                        0,
                        0,
                        0,
                        0,
                        "",
                    )
                )
    return note_rows, card_rows


def _collection(
    decks: list[genanki.Deck],
    rows: Callable[[Iterator[int]], tuple[list[_NoteRow], list[_CardRow]]],
    created: int,
) -> tuple[bytes, int]:
    try:
        return _write_collection(decks, rows, created)
    except OSError as exc:  # the scratch file lives in the temp folder, which may be full
        raise OutputError(
            f"cannot write the Anki collection in the temp folder: {exc.strerror or exc}"
        ) from None


def _write_collection(
    decks: list[genanki.Deck],
    rows: Callable[[Iterator[int]], tuple[list[_NoteRow], list[_CardRow]]],
    created: int,
) -> tuple[bytes, int]:
    with tempfile.TemporaryDirectory(prefix="kzquiz-anki-") as tmp:
        path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            # Note and card ids are creation times in Anki; counting up from when the deck
            # was first built keeps them fixed from build to build.
            ids = itertools.count(created * 1000)
            # The file is a scratch copy read back once: no journal on disk, no fsync, a page
            # cache that holds a big deck and VACUUM's copy in memory. (These change how
            # SQLite works, not what ends up in the file; tests check the bytes.)
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("PRAGMA journal_mode = MEMORY")
            conn.execute("PRAGMA cache_size = -65536")  # KiB
            conn.execute("PRAGMA temp_store = MEMORY")
            cursor = conn.cursor()
            # genanki writes the schema, the collection and the decks and note types (the
            # decks carry no genanki notes); the notes and cards follow in one batch each.
            genanki.Package(decks).write_to_db(cursor, created, ids)
            note_rows, card_rows = rows(ids)
            cursor.executemany(f"INSERT INTO notes VALUES({','.join('?' * 11)})", note_rows)
            cursor.executemany(f"INSERT INTO cards VALUES({','.join('?' * 18)})", card_rows)
            conn.commit()
            conn.execute("VACUUM")
        finally:
            conn.close()
        return path.read_bytes(), len(card_rows)


def _zip(collection: bytes) -> bytes:
    # Deflate level 1: a 10,000-question collection (11 MB) compresses in 80 ms instead of
    # 215 ms at the default level 6, into a package 15% larger (1.69 MB instead of 1.46 MB).
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in (("collection.anki2", collection), ("media", b"{}")):
            entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.create_system = 3  # ZipInfo defaults to the host OS; pin it
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data, compresslevel=1)
    return buffer.getvalue()


# ------------------------------------------------------------------------------ outputs


def anki_search(question_ids: Sequence[str]) -> str:
    """The Anki search that selects the notes of these questions."""
    terms = " OR ".join(f'"{ID_FIELD}:{qid}"' for qid in question_ids)
    return f'"note:kzquiz *" ({terms})'


def _notes(built: DeckBuild, name: str) -> list[str]:
    notes = [
        f"anki: {name}: {built.notes} notes, {built.cards} cards"
        f" ({len(built.new)} new, {len(built.changed)} changed, {len(built.unchanged)} unchanged)"
    ]
    if built.retyped:
        notes.append(
            "anki: changed question type (Anki will not update these notes; delete them in Anki,"
            f" then import again): {', '.join(built.retyped)}"
        )
        notes.append(f"anki:   search in Anki: {anki_search(built.retyped)}")
    if built.moved:
        notes.append(
            "anki: moved to another topic (Anki updates these notes but leaves their cards in"
            f" the old subdeck; select them and use Change Deck): {', '.join(built.moved)}"
        )
        notes.append(f"anki:   search in Anki: {anki_search(built.moved)}")
    if built.removed:
        notes.append(
            "anki: removed from the bank (a package cannot delete their notes from Anki): "
            + ", ".join(built.removed)
        )
        notes.append(f"anki:   search in Anki: {anki_search(list(built.removed))}")
    return notes


# ------------------------------------------------------------------------------ contract


def state_file_name(bank_id: str) -> str:
    """The state file's name: `<bank-id>.lock.json`."""
    return lock_name(bank_id)


def package_name(bank_id: str) -> str:
    """The package's name: `<bank-id>.apkg`."""
    return apkg_name(bank_id)


def render(job: RenderJob) -> Outputs:
    """The package of `job.questions` and the state file of the whole bank.

    The previous state file comes in as bytes in `job.previous`; nothing is read from disk.
    """
    loaded = job.loaded
    with paused_gc():
        raw = job.previous.get(state_file_name(loaded.id))
        previous = None if raw is None else parse_lock(raw, state_file_name(loaded.id), loaded.id)
        built = build_deck(loaded, job.questions, previous)
        lock_bytes = built.lock.dumps()
    return Outputs(
        files={package_name(loaded.id): built.apkg, lock_name(loaded.id): lock_bytes},
        notes=_notes(built, package_name(loaded.id)),
    )
