"""Our Anki note types: fixed ids and names, their templates, and what a question is shown as."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import genanki
from typing_extensions import assert_never

from kzquiz.i18n import N_, translator
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
from kzquiz.render.anki.ids import (
    ANSWER_MODEL_ID,
    CHOICE_MODEL_ID,
    CLOZE_MODEL_ID,
    LANGUAGE_MODEL_IDS,
    MATCHING_MODEL_ID,
    stable_id,
)

# The field on every note type that holds the question id; the removed-questions search uses it.
ID_FIELD = "QuestionId"


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
    lang: str = "en"  # the language of its templates' own words (kzquiz.i18n)

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
# A cloze-like note type with one card per pair, so each pair is scheduled on its own: the
# card for pair N asks for the match of item N. (One note per question keeps the state file,
# the GUID and the QuestionId search per question.)
MATCHING = NoteType(
    key="matching",
    name="kzquiz Matching",
    model_id=MATCHING_MODEL_ID,
    fields=("Prompt", "Pairs", "Explanation", "Evidence", "Source", ID_FIELD),
    card="Pair",
    front="matching_front.html",
    back="matching_back.html",
    cloze=True,
)
# New note types go at the end: the order fixes the rows of every package.
NOTE_TYPES: tuple[NoteType, ...] = (CHOICE, CLOZE, ANSWER, MATCHING)


@cache
def note_types(lang: str = "en") -> tuple[NoteType, ...]:
    """Our note types in a language: English's are NOTE_TYPES, each other language has its own.

    Their own ids, names ("kzquiz Choice (ru)"), field and template ids: notes built in one
    language never rewrite the note types of another. Field names stay English, so the
    QuestionId search works the same in every language.
    """
    if lang == "en":
        return NOTE_TYPES
    ids = LANGUAGE_MODEL_IDS[lang]
    return tuple(
        dataclasses.replace(
            nt, key=f"{nt.key}-{lang}", name=f"{nt.name} ({lang})", model_id=ids[nt.key], lang=lang
        )
        for nt in NOTE_TYPES
    )


def note_type_of(q: Question, lang: str = "en") -> NoteType:
    """The note type a question is shown as."""
    choice, cloze, answer, matching = note_types(lang)
    if isinstance(q, (Single, Multiple, TrueFalse)):
        return choice
    if isinstance(q, Cloze):
        return cloze
    if isinstance(q, Matching):
        return matching
    if isinstance(q, (Short, Numeric, Ordering)):
        return answer
    assert_never(q)


def anki_search(question_ids: Sequence[str]) -> str:
    """The Anki search that selects the notes of these questions."""
    terms = " OR ".join(f'"{ID_FIELD}:{qid}"' for qid in question_ids)
    return f'"note:kzquiz *" ({terms})'


def _template_text(name: str) -> str:
    return (resources.files("kzquiz") / "templates" / "anki" / name).read_text(encoding="utf-8")


# The words of the card templates (templates/anki), as they stand there in English: another
# language's note types get them replaced by the catalog's, between tags (HTML) or as
# string literals (choice.js). English templates are used exactly as they are.
TEMPLATE_WORDS: tuple[str, ...] = (
    N_("Answer"),
    N_("Why"),
    N_("Fill in the blank."),
    N_("What does this item match?"),
)
SCRIPT_WORDS: tuple[str, ...] = (
    N_("You did not pick an option."),
    N_("Right: you picked "),
    N_("Partly right: you picked "),
    N_("; the answer is "),
    N_("Wrong: you picked "),
)


def _translated(text: str, lang: str) -> str:
    """A card template with its own words in `lang`."""
    if lang == "en":
        return text
    _ = translator(lang).gettext
    for word in TEMPLATE_WORDS:
        text = text.replace(f">{word}<", f">{_(word)}<")
    for word in SCRIPT_WORDS:
        text = text.replace(json.dumps(word), json.dumps(_(word), ensure_ascii=False))
    return text


def _templates(nt: NoteType) -> tuple[str, str]:
    explain = _template_text("explain.html")
    front = _template_text(nt.front)
    if nt.front == CHOICE.front:
        # The tap-to-pick script lives in the front; {{FrontSide}} carries it to the back.
        front += "<script>\n" + _template_text("choice.js") + "</script>\n"
    back = _template_text(nt.back).replace("<!-- kzquiz:explain -->\n", explain)
    return _translated(front, nt.lang), _translated(back, nt.lang)


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


def genanki_model(nt: NoteType, mod: int) -> genanki.Model:
    """The genanki Model of a note type, stamped with its modification time."""
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
