"""`kzquiz anki`: the deck as the real Anki sees it (the official `anki` package from PyPI).

Import into fresh collections, re-import after edits, render every note type's card sides
through Anki's own template engine, and check the package and state file byte for byte.
"""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from typer.testing import CliRunner

from browser import needs_webdriver
from conftest import BankFactory
from kzquiz.cli import app
from kzquiz.errors import OutputError, UsageError
from kzquiz.loader import load_bank
from kzquiz.output import write_files
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.anki import fields as kzfields
from kzquiz.render.anki import ids as kzids
from kzquiz.render.anki import models as kzmodels
from kzquiz.render.anki import package as kzpackage
from kzquiz.render.anki import render, state_file_name
from kzquiz.render.anki import state as kzstate
from kzquiz.render.anki.state import parse_state
from kzquiz.select import Selection, select

OUR_NOTE_TYPES = {"kzquiz Choice", "kzquiz Cloze", "kzquiz Answer", "kzquiz Matching"}
# Matching has a card per pair (3), a cloze one per blank (3).
MINI_CARDS = {"kzquiz Choice": 3, "kzquiz Cloze": 3, "kzquiz Answer": 3, "kzquiz Matching": 3}
MINI_PAIRS = [
    ("Ebrahim Raisi", "President of Iran"),
    ("Margarita Simonyan", "Editor-in-chief of RT"),
    ("Vladimir Putin", "President of Russia"),
]
T0 = 1_700_000_000

runner = CliRunner()


@dataclass
class Built:
    """What a build said (its notes, one a line) and what it wrote."""

    output: str
    outputs: Outputs


def render_bank(bank: Path, out: Path, selection: Selection | None = None) -> Outputs:
    """The renderer on a bank, given the state file `out` holds; nothing is written."""
    loaded = load_bank(bank)
    name = state_file_name(loaded.id)
    path = out / name
    previous = {name: path.read_bytes()} if path.exists() else {}
    questions = select(loaded, selection or Selection())
    return render(RenderJob(loaded, questions, previous=previous))


def build(bank: Path, out: Path, selection: Selection | None = None) -> Built:
    """Render the deck of a bank from the state file in `out`, then write both into `out`."""
    outputs = render_bank(bank, out, selection)
    write_files(out, outputs.files)
    return Built("\n".join(outputs.notes), outputs)


def import_apkg(col: Collection, apkg: Path) -> Any:
    """Import with Anki's defaults (update a note only if the incoming one is newer)."""
    request = ImportAnkiPackageRequest(
        package_path=str(apkg), options=ImportAnkiPackageOptions(with_scheduling=False)
    )
    return col.import_anki_package(request).log


def note_of(col: Collection, qid: str) -> Any:
    """The one note of a question, found through its QuestionId field."""
    ids = col.find_notes(f'"QuestionId:{qid}"')
    assert len(ids) == 1, (qid, ids)
    return col.get_note(ids[0])


@pytest.fixture
def col(tmp_path: Path) -> Iterator[Collection]:
    """A fresh, empty Anki collection."""
    collection = Collection(str(tmp_path / "collection.anki2"))
    yield collection
    collection.close()


@pytest.fixture
def epoch(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set SOURCE_DATE_EPOCH for the builds that follow."""

    def set_epoch(value: int) -> None:
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(value))

    set_epoch(T0)
    yield set_epoch


# ---------------------------------------------------------------------------- first import


def test_fresh_import_has_every_note_card_deck_and_tag(
    mini_bank: Path, mini_bank_data: dict[str, Any], tmp_path: Path, col: Collection, epoch: Any
) -> None:
    out = tmp_path / "decks"
    result = build(mini_bank, out)
    assert "8 notes, 12 cards (8 new, 0 changed, 0 unchanged)" in result.output
    log = import_apkg(col, out / "mini.apkg")
    assert (len(log.new), len(log.updated), len(log.duplicate), len(log.conflicting)) == (
        8,
        0,
        0,
        0,
    )

    questions = mini_bank_data["questions"]
    assert col.note_count() == len(questions)
    per_type: dict[str, int] = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        per_type[note.note_type()["name"]] = per_type.get(note.note_type()["name"], 0) + len(
            note.card_ids()
        )
    assert per_type == MINI_CARDS
    assert col.card_count() == 12
    assert len(note_of(col, "forum-number").card_ids()) == 3  # a cloze with 3 blanks
    assert len(note_of(col, "who-is-who").card_ids()) == 3  # a matching with 3 pairs

    names = {d.name for d in col.decks.all_names_and_ids()}
    for topic in mini_bank_data["topics"].values():
        assert f"Mini bank::{topic}" in names
    for q in questions:
        note = note_of(col, q["id"])
        expected = {
            *q["tags"],
            f"topic::{q['topic']}",
            f"difficulty::{q['difficulty']}",
            f"type::{q['type']}",
        }
        assert set(note.tags) == expected
        deck = mini_bank_data["topics"][q["topic"]]
        for card in note.cards():
            assert col.decks.name(card.did) == f"Mini bank::{deck}"
        assert note.guid == kzids.note_guid("mini", q["id"])

    # Only our own note types carry notes; the stock ones were not used or copied.
    used = {col.get_note(n).note_type()["name"] for n in col.find_notes("")}
    assert used == OUR_NOTE_TYPES
    kz_types = [m.name for m in col.models.all_names_and_ids() if "kzquiz" in m.name]
    assert sorted(kz_types) == sorted(OUR_NOTE_TYPES)


def test_note_types_keep_their_fixed_ids_in_anki(
    mini_bank: Path, tmp_path: Path, col: Collection
) -> None:
    build(mini_bank, tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")
    for nt in kzmodels.NOTE_TYPES:
        model = col.models.by_name(nt.name)
        assert model is not None and int(model["id"]) == nt.model_id
        assert [(f["name"], f["id"]) for f in model["flds"]] == [
            (f, nt.field_id(f)) for f in nt.fields
        ]
        assert [(t["name"], t["id"]) for t in model["tmpls"]] == [(nt.card, nt.template_id())]
        assert kzmodels.ID_FIELD in [f["name"] for f in model["flds"]]
    assert kzmodels.CLOZE.model_id != kzmodels.CHOICE.model_id != kzmodels.ANSWER.model_id


# ---------------------------------------------------------------------------- updates


def _answer_once(col: Collection, qid: str) -> Any:
    card = note_of(col, qid).cards()[0]
    card.start_timer()
    col.sched.answerCard(card, 3)
    card.load()
    return card


@pytest.mark.parametrize("second_epoch", [T0 + 3600, T0], ids=["clock-moved", "epoch-pinned"])
def test_edited_question_updates_one_note_and_keeps_its_history(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    col: Collection,
    epoch: Any,
    second_epoch: int,
) -> None:
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    build(bank, out)
    import_apkg(col, out / "mini.apkg")
    reviewed = _answer_once(col, "keosayan")
    history = col.db.list("select id from revlog where cid = ?", reviewed.id)
    assert history and reviewed.reps == 1

    edited = copy.deepcopy(mini_bank_data)
    target = next(q for q in edited["questions"] if q["id"] == "keosayan")
    target["explanation"] = "Tigran Keosayan, a Kremlin-backed journalist, said it on TV."
    make_bank(edited)
    epoch(second_epoch)  # pinned: the edit must still come out newer (previous + 1)
    result = build(bank, out)
    assert "(0 new, 1 changed, 7 unchanged)" in result.output

    log = import_apkg(col, out / "mini.apkg")
    assert len(log.updated) == 1 and len(log.new) == 0 and len(log.conflicting) == 0
    assert len(log.duplicate) == 7  # Anki's word for "same GUID, not newer": skipped
    assert (
        list(log.updated[0].fields)[kzmodels.ANSWER.fields.index("Explanation")]
        == (target["explanation"])
    )
    note = note_of(col, "keosayan")
    assert note["Explanation"] == target["explanation"]
    assert note.mod == (second_epoch if second_epoch > T0 else T0 + 1)
    assert col.note_count() == 8 and col.card_count() == 12

    card = col.get_card(reviewed.id)
    assert card.reps == 1 and card.type == reviewed.type and card.due == reviewed.due
    assert col.db.list("select id from revlog where cid = ?", reviewed.id) == history


def test_unchanged_rebuild_is_byte_identical_and_reimports_as_nothing(
    mini_bank: Path, tmp_path: Path, col: Collection, epoch: Any
) -> None:
    out = tmp_path / "decks"
    build(mini_bank, out)
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(first) == ["mini.apkg", "mini.lock.json"]
    import_apkg(col, out / "mini.apkg")
    mods = {n: col.get_note(n).mod for n in col.find_notes("")}

    epoch(T0 + 600)  # later the same day: byte-identical
    result = build(mini_bank, out)
    assert "(0 new, 0 changed, 8 unchanged)" in result.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first

    def members(apkg: bytes) -> tuple[list[tuple[str, bytes]], set[Any]]:
        with zipfile.ZipFile(io.BytesIO(apkg)) as archive:
            entries = archive.infolist()
            return [(e.filename, archive.read(e)) for e in entries], {e.date_time for e in entries}

    files, dates = members(first["mini.apkg"])
    assert [name for name, _ in files] == ["collection.anki2", "media"]
    assert dates == {(2023, 11, 14, 0, 0, 0)}  # the day of SOURCE_DATE_EPOCH

    # A day later: unchanged questions keep their time all the same; only the archive's
    # date (the day of SOURCE_DATE_EPOCH) moves, the collection inside stays byte-identical.
    epoch(T0 + 86_400)
    result = build(mini_bank, out)
    assert "(0 new, 0 changed, 8 unchanged)" in result.output
    assert (out / "mini.lock.json").read_bytes() == first["mini.lock.json"]
    assert members((out / "mini.apkg").read_bytes()) == (files, {(2023, 11, 15, 0, 0, 0)})

    log = import_apkg(col, out / "mini.apkg")
    assert (len(log.new), len(log.updated), len(log.conflicting)) == (0, 0, 0)
    assert len(log.duplicate) == 8
    assert {n: col.get_note(n).mod for n in col.find_notes("")} == mods


def test_build_without_source_date_epoch_is_also_stable(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    out = tmp_path / "decks"
    build(mini_bank, out)
    first = (out / "mini.apkg").read_bytes()
    build(mini_bank, out)
    assert (out / "mini.apkg").read_bytes() == first
    with zipfile.ZipFile(out / "mini.apkg") as archive:
        assert {e.date_time for e in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.parametrize("year", [2108, 3000])
def test_a_source_date_epoch_past_what_a_zip_holds_is_a_clear_error(
    mini_bank: Path, tmp_path: Path, epoch: Any, year: int
) -> None:
    import calendar

    seconds = calendar.timegm((year, 1, 1, 0, 0, 0))
    epoch(seconds)
    with pytest.raises(UsageError, match=f"SOURCE_DATE_EPOCH {seconds} lies after 2107-12-31"):
        render_bank(mini_bank, tmp_path)


def test_template_change_updates_the_note_type_instead_of_copying_it(
    mini_bank: Path, tmp_path: Path, col: Collection, epoch: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "decks"
    build(mini_bank, out)
    import_apkg(col, out / "mini.apkg")
    # (Not reading the note type here: the anki library caches note types in Python and an
    # import does not refresh that cache.)

    original = kzmodels._template_text

    def restyled(name: str) -> str:
        text = original(name)
        return text + "\n.kz-restyled { color: red; }\n" if name == "cards.css" else text

    monkeypatch.setattr(kzmodels, "_template_text", restyled)
    build(mini_bank, out)  # same epoch: the note types still come out newer
    import_apkg(col, out / "mini.apkg")
    after = col.models.by_name("kzquiz Choice")
    assert after is not None and ".kz-restyled" in after["css"]
    assert after["id"] == kzids.CHOICE_MODEL_ID and after["mod"] == T0 + 1
    kz_types = [m.name for m in col.models.all_names_and_ids() if "kzquiz" in m.name]
    assert sorted(kz_types) == sorted(OUR_NOTE_TYPES)


def _pair_cards(col: Collection) -> list[Any]:
    return sorted(note_of(col, "who-is-who").cards(), key=lambda c: c.ord)


def test_matching_has_a_card_per_pair_and_an_edited_pair_updates_only_that(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    col: Collection,
    epoch: Any,
) -> None:
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    build(bank, out)
    import_apkg(col, out / "mini.apkg")
    note = note_of(col, "who-is-who")
    assert note.note_type()["name"] == "kzquiz Matching"
    cards = _pair_cards(col)
    assert [c.ord for c in cards] == [0, 1, 2]
    assert [visible(c.answer()).count("[...]") for c in cards] == [0, 0, 0]
    for card, (_, right) in zip(cards, MINI_PAIRS, strict=True):
        assert right in visible(card.answer()) and "[...]" in visible(card.question())

    # Each pair is scheduled on its own: answering the second leaves the others new.
    col.sched.answerCard(_started(cards[1]), 3)
    reviewed = col.get_card(cards[1].id)
    assert reviewed.reps == 1 and [col.get_card(c.id).reps for c in cards] == [0, 1, 0]
    history = col.db.list("select id from revlog where cid = ?", reviewed.id)

    edited = copy.deepcopy(mini_bank_data)
    who = next(q for q in edited["questions"] if q["id"] == "who-is-who")
    who["pairs"][0]["right"] = "President of the Islamic Republic of Iran"
    make_bank(edited)
    epoch(T0 + 60)
    result = build(bank, out)
    assert "8 notes, 12 cards (0 new, 1 changed, 7 unchanged)" in result.output
    log = import_apkg(col, out / "mini.apkg")
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 1, 7)
    after = _pair_cards(col)
    assert [c.id for c in after] == [c.id for c in cards]  # the same three cards
    assert "President of the Islamic Republic of Iran" in visible(after[0].answer())
    assert col.get_card(reviewed.id).reps == 1 and col.get_card(reviewed.id).due == reviewed.due
    assert col.db.list("select id from revlog where cid = ?", reviewed.id) == history
    assert col.note_count() == 8 and col.card_count() == 12

    # A pair added at the end adds its card; the others keep theirs.
    who["pairs"].append({"left": "Kassym-Jomart Tokayev", "right": "President of Kazakhstan"})
    make_bank(edited)
    epoch(T0 + 120)
    build(bank, out)
    import_apkg(col, out / "mini.apkg")
    grown = _pair_cards(col)
    assert [c.id for c in grown[:3]] == [c.id for c in cards] and len(grown) == 4
    assert "President of Kazakhstan" in visible(grown[3].answer())


def _started(card: Any) -> Any:
    card.start_timer()
    return card


def test_a_one_card_matching_note_is_reported_with_the_search_to_delete_it(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    col: Collection,
    epoch: Any,
) -> None:
    # A deck built before matching had a card per pair holds a kzquiz Answer note for it;
    # to Anki that is the same note (same GUID) of another note type.
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    before = copy.deepcopy(mini_bank_data)
    who = next(q for q in before["questions"] if q["id"] == "who-is-who")
    del who["pairs"]
    who.update(type="ordering", items=["Ebrahim Raisi", "Margarita Simonyan", "Vladimir Putin"])
    make_bank(before)
    build(bank, out)
    import_apkg(col, out / "mini.apkg")
    assert note_of(col, "who-is-who").note_type()["name"] == "kzquiz Answer"

    make_bank(mini_bank_data)
    epoch(T0 + 60)
    result = build(bank, out)
    search = kzmodels.anki_search(["who-is-who"])
    assert (
        "anki: matching now has a card per pair (kzquiz Matching); Anki will not turn the old"
        " one-card notes (kzquiz Answer) into the new ones: delete them in Anki, then import"
        " again: who-is-who"
    ) in result.output
    assert f"anki:   search in Anki: {search}" in result.output
    assert "changed question type" not in result.output

    # What the message says, as Anki does it: the import leaves the old note as it was...
    import_apkg(col, out / "mini.apkg")
    assert note_of(col, "who-is-who").note_type()["name"] == "kzquiz Answer"
    # ...and after deleting the notes the search finds, importing again brings the new one.
    old = col.find_notes(search)
    assert len(old) == 1
    col.remove_notes(old)
    import_apkg(col, out / "mini.apkg")
    note = note_of(col, "who-is-who")
    assert note.note_type()["name"] == "kzquiz Matching" and len(note.card_ids()) == 3
    assert "matching now has" not in build(bank, out).output  # said once


# ---------------------------------------------------------------------------- removed questions


def test_removed_question_is_listed_kept_in_the_state_file_and_findable(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    col: Collection,
    epoch: Any,
) -> None:
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    build(bank, out)
    import_apkg(col, out / "mini.apkg")

    smaller = copy.deepcopy(mini_bank_data)
    smaller["questions"] = [q for q in smaller["questions"] if q["id"] != "timeline"]
    make_bank(smaller)
    epoch(T0 + 60)
    result = build(bank, out)
    assert "removed from the bank" in result.output and "timeline" in result.output
    search = kzmodels.anki_search(["timeline"])
    assert search in result.output
    assert col.find_notes(search) == [note_of(col, "timeline").id]

    lock = json.loads((out / "mini.lock.json").read_text())
    assert "timeline" not in lock["questions"]
    assert lock["removed"]["timeline"]["removed"] == T0 + 60
    assert lock["removed"]["timeline"]["mod"] == T0

    # Still listed on the next build, with the time it was first found missing.
    epoch(T0 + 120)
    again = build(bank, out)
    assert search in again.output
    assert json.loads((out / "mini.lock.json").read_text()) == lock

    # Back in the bank unchanged: same time as before, so Anki sees nothing new.
    make_bank(mini_bank_data)
    build(bank, out)
    lock = json.loads((out / "mini.lock.json").read_text())
    assert lock["removed"] == {} and lock["questions"]["timeline"]["mod"] == T0
    log = import_apkg(col, out / "mini.apkg")
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 0, 8)


def test_changed_question_type_is_reported(
    make_bank: BankFactory, mini_bank_data: dict[str, Any], tmp_path: Path, epoch: Any
) -> None:
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    build(bank, out)
    retyped = copy.deepcopy(mini_bank_data)
    q = next(q for q in retyped["questions"] if q["id"] == "sanctions-break")
    del q["answer"]
    q.update(type="short", answers=["No"])
    make_bank(retyped)
    result = build(bank, out)
    assert "changed question type" in result.output
    assert kzmodels.anki_search(["sanctions-break"]) in result.output


def test_moved_question_is_reported_because_anki_keeps_its_cards_in_place(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    col: Collection,
    epoch: Any,
) -> None:
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    build(bank, out)
    import_apkg(col, out / "mini.apkg")
    moved = copy.deepcopy(mini_bank_data)
    next(q for q in moved["questions"] if q["id"] == "keosayan")["topic"] = "sovereignty"
    make_bank(moved)
    result = build(bank, out)
    assert "moved to another topic" in result.output and "keosayan" in result.output
    search = kzmodels.anki_search(["keosayan"])
    assert search in result.output

    # What the message warns about, as Anki does it: tags updated, the card left in place.
    log = import_apkg(col, out / "mini.apkg")
    assert len(log.updated) == 1
    note = note_of(col, "keosayan")
    assert "topic::sovereignty" in note.tags
    assert [col.decks.name(c.did) for c in note.cards()] == ["Mini bank::Sanctions and trade"]
    assert col.find_notes(search) == [note.id]
    assert "moved to" not in build(bank, out).output  # said once, at the build that moved it


# ---------------------------------------------------------------------------- state file


def test_state_file_is_deterministic_json(mini_bank: Path, tmp_path: Path, epoch: Any) -> None:
    out = tmp_path / "decks"
    build(mini_bank, out)
    raw = (out / "mini.lock.json").read_text(encoding="utf-8")
    data = json.loads(raw)
    assert raw == json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert data["bank"] == "mini" and data["format"] == 1 and data["created"] == T0
    assert set(data["questions"]) == {
        "un-two-principles",
        "breakaway-regions",
        "sanctions-break",
        "forum-number",
        "keosayan",
        "china-investment",
        "who-is-who",
        "timeline",
    }
    for stamp in data["questions"].values():
        assert re.fullmatch(r"[0-9a-f]{64}", stamp["hash"]) and stamp["mod"] == T0
    assert set(data["models"]) == OUR_NOTE_TYPES


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b'{"format": 1, "bank": "mini"}', "damaged"),
        (b'{"format": 9, "bank": "mini", "created": 1, "models": {}, "questions": {}}', "damaged"),
        (b'{"format": 1, "bank": "other", "created": 1, "models": {}, "questions": {}}', "other"),
    ],
)
def test_damaged_state_file_is_a_clear_error(
    mini_bank: Path, tmp_path: Path, content: bytes, message: str
) -> None:
    out = tmp_path / "decks"
    out.mkdir()
    (out / "mini.lock.json").write_bytes(content)
    result = runner.invoke(app, ["anki", str(mini_bank), "-o", str(out)])
    assert result.exit_code == 1
    assert message in result.output and "mini.lock.json" in result.output
    assert "Traceback" not in result.output
    assert not (out / "mini.apkg").exists()
    with pytest.raises(OutputError, match=message):
        parse_state(content, "mini", "mini.lock.json")


NESTED = [
    b"[" * 100_000,
    b'{"a": ' * 100_000,
    b'{"format": 1, "bank": "mini", "created": 1, "models": {}, "questions": '
    + b'{"q": [' * 50_000,
]


@pytest.mark.parametrize("content", NESTED, ids=["list", "object", "in-questions"])
def test_deeply_nested_state_file_is_a_clear_error(
    mini_bank: Path, tmp_path: Path, content: bytes
) -> None:
    with pytest.raises(OutputError, match="nested too deeply"):
        parse_state(content, "mini", "mini.lock.json")
    out = tmp_path / "decks"
    out.mkdir()
    (out / "mini.lock.json").write_bytes(content)
    result = runner.invoke(app, ["anki", str(mini_bank), "-o", str(out)])
    assert result.exit_code == 1 and "nested too deeply" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not (out / "mini.apkg").exists()


def test_oversized_state_file_is_refused_before_parsing(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, epoch: Any
) -> None:
    out = tmp_path / "decks"
    build(mini_bank, out)
    valid = (out / "mini.lock.json").read_bytes()
    limit = len(valid) + 10
    monkeypatch.setattr(kzstate, "MAX_STATE_BYTES", limit)

    def no_parsing(*args: Any) -> Any:
        raise AssertionError("an oversized state file was parsed")

    padded = valid + b" " * 11  # still valid JSON, one byte over the limit
    with monkeypatch.context() as m:
        m.setattr(kzstate.json, "loads", no_parsing)
        for content in (padded, padded + b" " * 10_000):
            with pytest.raises(OutputError, match=f"over the limit of {limit:,}"):
                parse_state(content, "mini", "mini.lock.json")
    assert parse_state(valid + b" " * 10, "mini", "mini.lock.json").bank == "mini"
    (out / "mini.lock.json").write_bytes(padded)
    result = runner.invoke(app, ["anki", str(mini_bank), "-o", str(out)])
    assert result.exit_code == 1 and "over the limit" in result.output


def _restamp(out: Path, change: Any) -> None:
    path = out / "mini.lock.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


MAX_MOD = 2**40


def _question_at_max(data: dict[str, Any]) -> None:
    data["questions"]["keosayan"].update(mod=MAX_MOD, hash="0" * 64)


def _note_type_at_max(data: dict[str, Any]) -> None:
    data["models"]["kzquiz Choice"].update(mod=MAX_MOD, hash="0" * 64)


def _removed_at_max(data: dict[str, Any]) -> None:
    # A removed question coming back changed.
    stamp = data["questions"].pop("keosayan")
    data["removed"]["keosayan"] = {**stamp, "mod": MAX_MOD, "hash": "0" * 64, "removed": 5}


@pytest.mark.parametrize(
    ("change", "what"),
    [
        (_question_at_max, "question 'keosayan'"),
        (_note_type_at_max, "kzquiz Choice"),
        (_removed_at_max, "question 'keosayan'"),
    ],
)
def test_a_stamp_at_the_latest_time_is_a_clear_error(
    mini_bank: Path, tmp_path: Path, epoch: Any, change: Any, what: str
) -> None:
    out = tmp_path / "decks"
    build(mini_bank, out)
    _restamp(out, change)
    with pytest.raises(OutputError, match=f"stamps {what} at {MAX_MOD}, the latest time"):
        render_bank(mini_bank, out)
    result = runner.invoke(app, ["anki", str(mini_bank), "-o", str(out)])
    assert result.exit_code == 1 and "cannot be stamped newer" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_unchanged_stamp_at_the_latest_time_is_kept(
    mini_bank: Path, tmp_path: Path, epoch: Any
) -> None:
    out = tmp_path / "decks"
    build(mini_bank, out)
    _restamp(out, lambda data: data["questions"]["keosayan"].update(mod=MAX_MOD))
    result = build(mini_bank, out)
    assert "8 unchanged" in result.output
    assert json.loads((out / "mini.lock.json").read_text())["questions"]["keosayan"]["mod"] == (
        MAX_MOD
    )


@pytest.mark.parametrize("previous", [False, True], ids=["fresh", "with-state"])
def test_a_build_time_past_the_latest_stamp_is_a_clear_error(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    epoch: Any,
    previous: bool,
) -> None:
    out = tmp_path / "decks"
    bank = make_bank(mini_bank_data)
    if previous:
        build(bank, out)
        mini_bank_data["questions"].pop()  # a removal is stamped with the build time
        make_bank(mini_bank_data)
    epoch(MAX_MOD + 1)
    # SOURCE_DATE_EPOCH's one parser refuses it first (past what any archive holds).
    with pytest.raises(UsageError, match=f"SOURCE_DATE_EPOCH {MAX_MOD + 1} lies after 2107"):
        render_bank(bank, out)


def _bigger_bank(data: dict[str, Any], copies: int) -> dict[str, Any]:
    """The mini bank with every question repeated under new ids (excludes follow the ids)."""
    bigger = copy.deepcopy(data)
    bigger["questions"] = [
        {
            **copy.deepcopy(q),
            "id": f"{q['id']}-{n}",
            **({"excludes": [f"{x}-{n}" for x in q["excludes"]]} if q.get("excludes") else {}),
        }
        for n in range(copies)
        for q in data["questions"]
    ]
    return bigger


@pytest.mark.parametrize(
    ("copies", "drop", "loud"),
    [
        (1, 5, True),  # 5 of 8
        (1, 8, True),  # all of them (an emptied file keeps one question: see below)
        (3, 6, True),  # 6 of 24 = 25 %
        (3, 5, False),  # 5 of 24: under a quarter
        (1, 4, False),  # 4 of 8: half, but fewer than 5
    ],
)
def test_a_build_that_drops_many_questions_says_so_loudly(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    epoch: Any,
    copies: int,
    drop: int,
    loud: bool,
) -> None:
    out = tmp_path / "decks"
    data = _bigger_bank(mini_bank_data, copies)
    total = len(data["questions"])
    bank = make_bank(data)
    build(bank, out)
    kept = copy.deepcopy(data)
    kept["questions"] = data["questions"][drop:] or [
        {**data["questions"][0], "id": "a-new-question"}
    ]
    ids = {q["id"] for q in kept["questions"]}
    for q in kept["questions"]:
        if q.get("excludes"):
            q["excludes"] = [x for x in q["excludes"] if x in ids] or None
            if q["excludes"] is None:
                del q["excludes"]
    make_bank(kept)
    result = build(bank, out)
    warning = (
        f"anki: warning: {drop} of {total} questions in the previous build are missing from"
        " this bank; if that is a mistake (a truncated file?) do not import this deck"
    )
    assert (warning in result.output) is loud
    assert result.output.startswith(warning) or not loud
    assert ("warning" in result.output) is loud
    # Said once, by the build that drops them: the next build starts from the smaller state.
    assert "warning" not in build(bank, out).output


def test_edited_question_hash_covers_every_shown_part(
    mini_bank: Path, mini_bank_data: dict[str, Any], make_bank: BankFactory
) -> None:
    base = load_bank(mini_bank)
    before = {q.id: kzfields.note_spec(base, q).content_hash() for q in base.bank.questions}
    edits = [
        ("keosayan", "answers", ["Keosayan"]),
        ("keosayan", "tags", ["people", "tv"]),
        ("keosayan", "topic", "sovereignty"),
        ("keosayan", "difficulty", 3),
        ("keosayan", "evidence", "Tigran Keosayan"),
    ]
    for qid, key, value in edits:
        data = copy.deepcopy(mini_bank_data)
        next(q for q in data["questions"] if q["id"] == qid)[key] = value
        loaded = load_bank(make_bank(data, name=f"{key}.yaml"))
        after = {q.id: kzfields.note_spec(loaded, q).content_hash() for q in loaded.bank.questions}
        assert after[qid] != before[qid], key
        assert {k: v for k, v in after.items() if k != qid} == {
            k: v for k, v in before.items() if k != qid
        }


# ---------------------------------------------------------------------------- CLI and build


def test_filters_choose_the_notes_but_the_state_covers_the_bank(
    mini_bank: Path, tmp_path: Path, col: Collection
) -> None:
    out = tmp_path / "decks"
    result = build(mini_bank, out, Selection(topics=("economy",), difficulty=(1, 2)))
    assert "3 notes, 3 cards" in result.output
    import_apkg(col, out / "mini.apkg")
    assert {note.tags[0] for note in map(col.get_note, col.find_notes(""))} >= {"china"}
    assert {col.get_note(n)["QuestionId"] for n in col.find_notes("")} == {
        "sanctions-break",
        "keosayan",
        "china-investment",
    }
    assert len(json.loads((out / "mini.lock.json").read_text())["questions"]) == 8


def test_bad_filter_is_a_usage_error(mini_bank: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["anki", str(mini_bank), "-o", str(tmp_path), "--topic", "nope"])
    assert result.exit_code == 2 and "nope" in result.output
    result = runner.invoke(app, ["anki", str(mini_bank), "-o", str(tmp_path), "--tag", "nope"])
    assert result.exit_code == 1 and "no question matches" in result.output


def test_kzquiz_build_includes_the_deck_and_its_state(mini_bank: Path, tmp_path: Path) -> None:
    from kzquiz.formats import build_formats

    assert "anki" in [f.name for f in build_formats()]
    out = tmp_path / "all"
    result = runner.invoke(app, ["build", str(mini_bank), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (out / "mini.apkg").stat().st_size > 0
    assert json.loads((out / "mini.lock.json").read_text())["bank"] == "mini"
    assert "anki: mini.apkg: 8 notes" in result.output


def test_help_has_examples() -> None:
    result = runner.invoke(app, ["anki", "--help"])
    assert result.exit_code == 0 and "kzquiz anki --topic" in result.output


# ---------------------------------------------------------------------------- card sides


class _Text(HTMLParser):
    """The text a reader sees: no tags, no <style> or <script>, entities decoded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def visible(markup: str) -> str:
    """The visible text of an HTML fragment, whitespace collapsed."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())


def _sides(col: Collection, qid: str, ordinal: int = 0) -> tuple[str, str]:
    cards = sorted(note_of(col, qid).cards(), key=lambda c: c.ord)
    return cards[ordinal].question(), cards[ordinal].answer()


def _after_answer(back: str) -> str:
    return back.split('<hr id="answer">', 1)[1]


def test_choice_sides(mini_bank: Path, tmp_path: Path, col: Collection) -> None:
    build(mini_bank, tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")
    front, back = _sides(col, "breakaway-regions")
    assert "Which regions did Tokayev say Kazakhstan could not recognise?" in front
    # The prompt ends "Select all that apply.": the card says it once, not again below.
    assert visible(front).lower().count("all that apply") == 1
    assert "Choose all that apply." not in front
    for option in ("Taiwan", "Kosovo", "Crimea", "Abkhazia"):
        assert option in front
    options = re.findall(r'<li data-letter="([A-D])">.*?<span class="kz-text">(.*?)</span>', front)
    letters = {text: letter for letter, text in options}
    assert len(letters) == 4
    assert 'class="kz-key"' not in front and "The article lists" not in front
    answer = _after_answer(back)
    correct = sorted(letters[t] for t in ("Taiwan", "Kosovo", "Abkhazia"))
    assert f'data-correct="{" ".join(correct)}"' in answer
    solution = answer.split('class="kz-section kz-solution"', 1)[1].split("</section>", 1)[0]
    assert "Taiwan" in solution and "Kosovo" in solution and "Abkhazia" in solution
    assert "Crimea" not in solution
    assert "The article lists Taiwan, Kosovo, South Ossetia and Abkhazia." in answer
    assert "including Taiwan and Kosovo" in answer and "paragraph" in answer

    front, back = _sides(col, "sanctions-break")
    assert "True or false?" in front and ">True<" in front and ">False<" in front
    assert 'data-correct="B"' in back  # the statement is false


@pytest.mark.parametrize(
    ("qid", "prompt", "instruction"),
    [
        ("breakaway-regions", "Which regions did Tokayev name?", "Choose all that apply."),
        ("breakaway-regions", "Which regions did Tokayev name? Choose ALL that apply", None),
        ("breakaway-regions", "Tick every region Tokayev named.", None),
        ("un-two-principles", "Which two principles conflicted?", "Choose one answer."),
        ("un-two-principles", "Which two principles conflicted? Choose one.", None),
        ("un-two-principles", "Select the best summary of the two principles.", None),
    ],
)
def test_choice_instruction_is_said_once(
    make_bank: BankFactory,
    mini_bank_data: dict[str, Any],
    tmp_path: Path,
    col: Collection,
    qid: str,
    prompt: str,
    instruction: str | None,
) -> None:
    next(q for q in mini_bank_data["questions"] if q["id"] == qid)["prompt"] = prompt
    build(make_bank(mini_bank_data), tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")
    front, _ = _sides(col, qid)
    shown = visible(front)
    assert prompt in shown
    if instruction is None:
        assert 'class="kz-instruction"' not in front
    else:
        assert shown.count(instruction) == 1


def test_cloze_sides(mini_bank: Path, tmp_path: Path, col: Collection) -> None:
    build(mini_bank, tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")
    front, back = _sides(col, "forum-number", 0)
    text = visible(front)
    assert "Tokayev spoke at the [...] St. Petersburg International Economic Forum in June" in text
    assert "25th" not in text and "Fill in the blank." in text
    assert re.search(r'<span class="cloze" data-ordinal="1">25th<span class="kz-alt">', back)
    assert "(also: twenty-fifth)" in back
    assert "It was the 25th SPIEF." in _after_answer(back)
    front, back = _sides(col, "forum-number", 2)
    # Other blanks show their answer; their alternatives are in the markup, hidden by the CSS
    # (the browser test checks that they are not displayed).
    assert re.search(
        r'<span class="cloze-inactive" data-ordinal="1">25th<span class="kz-alt">[^<]*</span>',
        front,
    )
    without_alts = re.sub(r'<span class="kz-alt">[^<]*</span>', "", front)
    assert "25th St. Petersburg International Economic Forum in [...] 2022" in visible(without_alts)
    assert (
        '<span class="cloze" data-ordinal="3">June<span class="kz-alt"> (also: Jun)</span>' in back
    )


def test_answer_sides(mini_bank: Path, tmp_path: Path, col: Collection) -> None:
    build(mini_bank, tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")

    front, back = _sides(col, "keosayan")
    assert "Which Kremlin-backed journalist" in front and "Tigran Keosayan" not in front
    assert "Tigran Keosayan" in _after_answer(back) and "Also accepted: Keosayan" in back

    front, back = _sides(col, "china-investment")
    assert "Give a number (unit: billion USD)." in front and "22 billion" not in front
    assert "22 billion USD" in back and "21.5 to 22.5" in back

    # Matching: a card per pair; its front asks that pair alone (the others are in the markup
    # for the back, hidden on the front by the CSS: the browser test checks that).
    for n, (left, right) in enumerate(MINI_PAIRS):
        front, back = _sides(col, "who-is-who", n)
        assert "Match each person to their role." in front
        pairs = re.findall(r'<li class="kz-pair">(.*?)</li>', front)
        asked = [visible(p) for p in pairs if 'class="cloze"' in p]
        assert asked == [f"{left}→[...]"]
        assert right not in " ".join(p for p in pairs if 'class="cloze"' in p)
        shown = _after_answer(back)
        assert "As the article describes them." in shown
        assert re.search(rf'<span class="cloze" data-ordinal="{n + 1}">{right}</span>', back)
        assert [visible(p) for p in re.findall(r'<li class="kz-pair">(.*?)</li>', back)] == [
            f"{a}→{b}" for a, b in MINI_PAIRS
        ]

    front, back = _sides(col, "timeline")
    answer = _after_answer(back)
    steps = answer.split('<ol class="kz-steps">', 1)[1].split("</ol>", 1)[0]
    items = [visible(i)[1:].strip() for i in re.findall(r"<li>(.*?)</li>", steps)]
    assert items == [
        "Kazakhstan joins the Paris Agreement",
        "Tokayev becomes president",
        "Russia's full-scale war begins",
        "The June 17 plenary session",
    ]
    shown = [visible(t) for t in re.findall(r'<span class="kz-text">(.*?)</span>', front)]
    assert sorted(shown) == sorted(items) and shown != items
    assert 'class="kz-steps"' not in front


HOSTILE = "<script>alert(1)</script> {{c1::leak}} {{Prompt}} [sound:evil.mp3] &amp;"


def test_bank_markup_and_anki_syntax_show_as_text(
    make_bank: BankFactory, mini_bank_data: dict[str, Any], tmp_path: Path, col: Collection
) -> None:
    data = copy.deepcopy(mini_bank_data)
    for q in data["questions"]:
        q["explanation"] = f"Why: {HOSTILE}"
        if "prompt" in q:
            q["prompt"] = f"Prompt {HOSTILE}"
        # Every other kind of bank text that reaches a field, too.
        for choice in q.get("choices", []):
            choice["text"] += " <b>x</b>"
        for pair in q.get("pairs", []):
            pair["left"] += " <b>x</b>"
            pair["right"] += " [sound:x.mp3]"
        if "items" in q:
            q["items"] = [f"{item} <b>x</b>" for item in q["items"]]
        if "answers" in q:
            q["answers"] = [f"{a} <b>x</b>" for a in q["answers"]]
        if "unit" in q:
            q["unit"] = "<b>x</b> {{c1::u}}"
    cloze = next(q for q in data["questions"] if q["type"] == "cloze")
    # Blank answers that look like Anki's own cloze syntax ("c1::x": "::" starts a hint).
    cloze["text"] = "A [sound:a.mp3] <i>b</i> {{c1::x|y::z}} and {{c5::w}} then {{three}} {a}."
    bank = make_bank(data)
    build(bank, tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")

    assert col.card_count() == 12  # no extra cloze cards from bank text
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        for card in note.cards():
            for side in (card.question(), card.answer()):
                assert "<script>alert" not in side and "<b>x</b>" not in side
                assert "[anki:play" not in side
            assert not card.question_av_tags() and not card.answer_av_tags()
            shown = visible(card.answer())
            assert f"Why: {HOSTILE}" in shown
            if note.note_type()["name"] != "kzquiz Cloze":
                assert f"Prompt {HOSTILE}" in shown
            if note["QuestionId"] == "china-investment":
                assert "Give a number (unit: <b>x</b> {{c1::u}})." in visible(card.question())
                assert "22 <b>x</b> {{c1::u}}" in shown
            if note["QuestionId"] == "who-is-who":
                assert "President of Iran [sound:x.mp3]" in shown

    # In the stored fields, too, bank text has no Anki syntax left: the only braces are the
    # cloze deletions kzquiz wrote.
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        for name, value in note.items():
            if name in ("Text", "Pairs"):
                assert len(re.findall(r"\{\{c\d+::", value)) == value.count("{") // 2 == 3
            else:
                assert not set("{}[]") & set(value), (name, value)

    front, back = _sides(col, "forum-number", 0)
    assert "A [sound:a.mp3] <i>b</i> c1::x (also: y::z) and c5::w then three {a}." in visible(back)
    assert "A [sound:a.mp3] <i>b</i> [...] and c5::w then three {a}." in visible(front)
    front, back = _sides(col, "forum-number", 1)
    assert "and c5::w then three {a}." in visible(back)
    without_alts = re.sub(r'<span class="kz-alt">[^<]*</span>', "", front)
    assert "c1::x and [...] then three {a}." in visible(without_alts)


def test_deck_names_cannot_nest_by_accident(
    make_bank: BankFactory, mini_bank_data: dict[str, Any], tmp_path: Path, col: Collection
) -> None:
    data = copy.deepcopy(mini_bank_data)
    data["bank"]["title"] = "Kazakhstan::SPIEF   2022"
    data["topics"]["economy"] = "Trade :: sanctions"
    build(make_bank(data), tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")
    names = {d.name for d in col.decks.all_names_and_ids()}
    assert "Kazakhstan:SPIEF 2022::Trade : sanctions" in names
    assert "Kazakhstan:SPIEF 2022::Sovereignty and international law" in names


# ---------------------------------------------------------------------------- in a browser


def card_page(side: str, *, night: bool = False) -> str:
    """A card side as Anki shows it: the rendered HTML (with its <style>) in a card body."""
    body = "card card1 nightMode night_mode" if night else "card card1"
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"></head>'
        f'<body class="{body}"><div id="qa">{side}</div></body></html>'
    )


@pytest.fixture
def rendered(mini_bank: Path, tmp_path: Path, col: Collection) -> Any:
    """Write a card side, rendered by Anki, to an HTML file and return its file:// URL."""
    build(mini_bank, tmp_path / "decks")
    import_apkg(col, tmp_path / "decks" / "mini.apkg")

    def write(qid: str, side: str, ordinal: int = 0, *, night: bool = False) -> str:
        front, back = _sides(col, qid, ordinal)
        path = tmp_path / f"{qid}-{ordinal}-{side}-{'night' if night else 'light'}.html"
        path.write_text(card_page(front if side == "front" else back, night=night), "utf-8")
        return path.as_uri()

    return write


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """One headless Chromium for this module's browser tests (starting one takes seconds)."""
    from browser import webdriver

    chrome = webdriver()
    yield chrome
    chrome.quit()


@pytest.fixture
def driver(chromium: Any) -> Iterator[Any]:
    """The shared browser, back to a desktop-sized window with scripts on after each test."""
    yield chromium
    chromium.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": False})
    chromium.set_window_size(1200, 900)


def _option(driver: Any, text: str) -> Any:
    from selenium.webdriver.common.by import By

    for item in driver.find_elements(By.CSS_SELECTOR, ".kz-options li"):
        if item.find_element(By.CSS_SELECTOR, ".kz-text").text == text:
            return item
    raise AssertionError(f"no option {text!r}")


def _turn_over(driver: Any, url: str) -> None:
    """Open a card's back in the same tab, as AnkiDroid does, once the pick is stored.

    The front stores the pick in sessionStorage, which Chromium hands to the browser process
    asynchronously; a back opened in the same instant (no person is that fast) may start
    before it arrives and find no pick. Waiting for the front's next frames and a second
    lets the write land first (a quarter of a second was not always enough on a loaded CI
    machine; no person turns a card over faster than that).
    """
    driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 1000)));"
    )
    driver.get(url)


@needs_webdriver
def test_tapping_an_option_marks_it_and_the_back_judges_it(rendered: Any, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(rendered("breakaway-regions", "front"))
    crimea, taiwan = _option(driver, "Crimea"), _option(driver, "Taiwan")
    assert crimea.get_attribute("aria-pressed") == "false"
    assert crimea.get_attribute("role") == "button"
    crimea.click()
    taiwan.click()
    assert crimea.get_attribute("aria-pressed") == "true"
    assert taiwan.get_attribute("aria-pressed") == "true"
    picked = driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", crimea)
    plain = driver.execute_script(
        "return getComputedStyle(arguments[0]).backgroundColor", _option(driver, "Kosovo")
    )
    assert picked != plain  # the pick is visibly marked
    taiwan.click()  # multiple choice: a second tap takes a pick back
    assert taiwan.get_attribute("aria-pressed") == "false"

    _turn_over(driver, rendered("breakaway-regions", "back"))  # same tab, as in AnkiDroid
    assert "kz-wrong" in _option(driver, "Crimea").get_attribute("class")
    for name in ("Taiwan", "Kosovo", "Abkhazia"):
        assert "kz-correct" in _option(driver, name).get_attribute("class")
    verdict = driver.find_element(By.CSS_SELECTOR, ".kz-verdict")
    assert verdict.is_displayed() and verdict.text.startswith("Wrong: you picked")
    # The marked options are the answer; the plain list (the no-script fallback) is hidden.
    assert not driver.find_element(By.CSS_SELECTOR, ".kz-solution").is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, ".kz-explanation").is_displayed()

    driver.get(rendered("un-two-principles", "front"))  # single choice: one pick at a time
    items = driver.find_elements(By.CSS_SELECTOR, ".kz-options li")
    items[0].click()
    items[1].click()
    assert [i.get_attribute("aria-pressed") for i in items] == ["false", "true", "false"]
    right = _option(driver, "Territorial integrity and self-determination")
    right.click()
    assert right.get_attribute("aria-pressed") == "true"
    _turn_over(driver, rendered("un-two-principles", "back"))
    verdict = driver.find_element(By.CSS_SELECTOR, ".kz-verdict")
    assert verdict.text.startswith("Right: you picked")


@needs_webdriver
@pytest.mark.parametrize(
    ("pick", "verdict"),
    [
        ("True", "Wrong: you picked True; the answer is False."),
        ("False", "Right: you picked False."),
        (None, "You did not pick an option."),
    ],
)
def test_true_false_verdict_names_the_word_not_the_letter(
    rendered: Any, driver: Any, pick: str | None, verdict: str
) -> None:
    from selenium.webdriver.common.by import By

    driver.get(rendered("sanctions-break", "front"))
    if pick is not None:
        _option(driver, pick).click()
    _turn_over(driver, rendered("sanctions-break", "back"))
    assert driver.find_element(By.CSS_SELECTOR, ".kz-verdict").text == verdict
    assert not driver.find_element(By.CSS_SELECTOR, ".kz-solution").is_displayed()


def _words(text: str) -> str:
    return " ".join(text.split())


@needs_webdriver
def test_a_matching_card_shows_only_its_pair_on_the_front(rendered: Any, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    for n, (left, right) in enumerate(MINI_PAIRS):
        driver.get(rendered("who-is-who", "front", n))
        pairs = driver.find_elements(By.CSS_SELECTOR, ".kz-pair")
        assert len(pairs) == 3
        assert [_words(p.text) for p in pairs if p.is_displayed()] == [f"{left} → [...]"]
        driver.get(rendered("who-is-who", "back", n))
        pairs = driver.find_elements(By.CSS_SELECTOR, ".kz-pair")
        assert [_words(p.text) for p in pairs if p.is_displayed()] == [
            f"{a} → {b}" for a, b in MINI_PAIRS
        ]
        asked = driver.find_element(By.CSS_SELECTOR, ".kz-pairs .cloze")
        assert asked.text == right


@needs_webdriver
def test_without_javascript_the_cards_still_work(rendered: Any, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.execute_cdp_cmd("Emulation.setScriptExecutionDisabled", {"value": True})
    driver.get(rendered("breakaway-regions", "front"))
    items = driver.find_elements(By.CSS_SELECTOR, ".kz-options li")
    assert len(items) == 4 and all(i.is_displayed() for i in items)
    assert all(i.get_attribute("role") is None for i in items)  # really no script ran
    assert [i.find_element(By.CSS_SELECTOR, ".kz-letter").text for i in items] == list("ABCD")

    driver.get(rendered("breakaway-regions", "back"))
    solution = driver.find_element(By.CSS_SELECTOR, ".kz-solution")
    assert solution.is_displayed()
    shown = {e.text for e in solution.find_elements(By.CSS_SELECTOR, ".kz-text")}
    assert shown == {"Taiwan", "Kosovo", "Abkhazia"}
    assert not driver.find_element(By.CSS_SELECTOR, ".kz-verdict").is_displayed()
    assert driver.find_element(By.CSS_SELECTOR, ".kz-explanation").is_displayed()


@needs_webdriver
def test_cloze_alternatives_show_only_for_the_asked_blank(rendered: Any, driver: Any) -> None:
    from selenium.webdriver.common.by import By

    driver.get(rendered("forum-number", "back", 0))
    alts = {
        a.get_attribute("textContent"): a.is_displayed()
        for a in driver.find_elements(By.CSS_SELECTOR, ".kz-alt")
    }
    assert alts == {" (also: twenty-fifth)": True, " (also: Jun)": False}
    driver.get(rendered("forum-number", "front", 2))
    assert not any(a.is_displayed() for a in driver.find_elements(By.CSS_SELECTOR, ".kz-alt"))
    assert "25th" in driver.find_element(By.CSS_SELECTOR, ".kz-cloze-text").text


def _luminance(css_colour: str) -> float:
    r, g, b = (int(v) for v in re.findall(r"\d+", css_colour)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


@needs_webdriver
@pytest.mark.parametrize("qid", ["breakaway-regions", "who-is-who", "timeline", "forum-number"])
def test_night_mode_and_phone_width(rendered: Any, driver: Any, qid: str) -> None:
    from selenium.webdriver.common.by import By

    for night in (False, True):
        driver.set_window_size(1000, 900)
        driver.get(rendered(qid, "back", night=night))
        body = driver.find_element(By.TAG_NAME, "body")
        background = _luminance(body.value_of_css_property("background-color"))
        text = _luminance(
            driver.find_element(By.CSS_SELECTOR, ".kz-back").value_of_css_property("color")
        )
        if night:
            assert background < 0.2 and text > 0.8
        else:
            assert background > 0.9 and text < 0.3
    # A 375px phone: nothing sticks out sideways.
    driver.set_window_size(375, 800)
    for side in ("front", "back"):
        driver.get(rendered(qid, side))
        width = driver.execute_script("return window.innerWidth")
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width


def test_a_failure_while_writing_the_collection_is_a_clear_error(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(*args: Any) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(kzpackage, "_write_collection", full_disk)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["anki", str(mini_bank), "-o", str(out)])
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "cannot write the Anki collection in the temp folder: No space left on device",
    )
    assert not out.exists() or list(out.iterdir()) == []
