"""The package writer: the notes and cards of a deck in genanki's collection, zipped as .apkg.

Every note's GUID is a function of the bank id and the question id only, so Anki matches a
question to the note it made before, however the question's text changes. A package cannot
delete notes, so questions removed from the bank are kept in the state file and reported.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import genanki

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.errors import OutputError
from kzquiz.images import media as question_media
from kzquiz.model import Question
from kzquiz.render import build_time
from kzquiz.render.anki.fields import (
    NoteSpec,
    deck_description_html,
    deck_name,
    deck_part,
    note_spec,
)
from kzquiz.render.anki.ids import note_guid, stable_id
from kzquiz.render.anki.models import genanki_model, model_json, note_types
from kzquiz.render.anki.state import (
    LOCK_FORMAT,
    MAX_MOD,
    Lock,
    QuestionStamp,
    Removed,
    Stamp,
    check_time,
    next_mod,
)
from kzquiz.render.archive import zip_bytes

# The latest year a zip entry's date can hold.


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
    retyped: dict[str, tuple[str, str]]  # question id -> (old, new) note type name
    moved: list[str]
    removed: dict[str, Removed]


def build_deck(
    loaded: LoadedBank, questions: Sequence[Question], previous: Lock | None
) -> DeckBuild:
    """The .apkg for `questions` and the state file for the whole bank, in memory."""
    now: int | None = None

    def clock() -> int:
        nonlocal now
        if now is None:
            now = build_time()
            if now > MAX_MOD:
                raise OutputError(check_time(now))
        return now

    old_questions = dict(previous.questions) if previous else {}
    old_removed = dict(previous.removed) if previous else {}
    old_models = dict(previous.models) if previous else {}

    models: dict[str, Stamp] = {}
    for nt in note_types(i18n.of(loaded)):
        digest = _hash_json(model_json(nt))
        old = old_models.get(nt.name)
        mod = old.mod if old and old.hash == digest else next_mod(old, clock(), nt.name)
        models[nt.name] = Stamp(hash=digest, mod=mod)

    specs = {q.id: note_spec(loaded, q) for q in loaded.bank.questions}
    stamps: dict[str, QuestionStamp] = {}
    new, changed, unchanged, moved = [], [], [], []
    retyped: dict[str, tuple[str, str]] = {}
    for qid, spec in specs.items():
        digest = spec.content_hash()
        old = old_questions.get(qid) or old_removed.get(qid)
        if old is not None and old.hash == digest:
            # The previous stamp is kept as it is (a returning removed question sheds its
            # removal time): no new object to validate for every unchanged note of a big bank.
            stamps[qid] = (
                old
                if type(old) is QuestionStamp
                else QuestionStamp(hash=digest, mod=old.mod, model=old.model, deck=old.deck)
            )
            unchanged.append(qid)
            continue
        stamps[qid] = QuestionStamp(
            hash=digest,
            mod=next_mod(old, clock(), f"question {qid!r}"),
            model=spec.note_type.name,
            deck=spec.deck,
        )
        if old is None:
            new.append(qid)
            continue
        changed.append(qid)
        # An update changes a note's fields and tags but never its note type or the deck of
        # its cards; say so rather than let the change go missing.
        if old.model != spec.note_type.name:
            retyped[qid] = (old.model, spec.note_type.name)
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
        retyped={q: names for q, names in retyped.items() if q in keep},
        moved=[q for q in moved if q in keep],
        removed=lock.removed,
    )


def _hash_json(data: Any) -> str:
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _package(loaded: LoadedBank, specs: list[NoteSpec], lock: Lock) -> tuple[bytes, int]:
    info = loaded.bank.bank
    description = deck_description_html(
        info.title,
        info.source.title,
        info.source.date or "",
        info.source.url or "",
        i18n.translator(i18n.of(loaded)),
    )
    top = genanki.Deck(stable_id("deck", loaded.id), deck_part(info.title), description)
    topic_decks: dict[str, genanki.Deck] = {}
    for topic_id, topic_name in loaded.bank.topics.items():
        topic_decks[topic_id] = genanki.Deck(
            stable_id("deck", loaded.id, topic_id), deck_name(info.title, topic_name)
        )
    models = {
        nt.key: genanki_model(nt, lock.models[nt.name].mod) for nt in note_types(i18n.of(loaded))
    }
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
    return apkg_zip(collection, question_media(loaded, (s.question for s in specs))), cards


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
    models: dict[str, genanki.Model],
    lock: Lock,
    position: dict[str, int],
    ids: Iterator[int],
) -> tuple[list[_NoteRow], list[_CardRow]]:
    """The rows genanki.Note.write_to_db and Card.write_to_db would insert, deck by deck.

    Two differences, both on purpose. Each note and its cards carry the time the question
    last changed (genanki stamps everything with one package time, but Anki applies an
    incoming note only if it is newer). And genanki inserts one row at a time, checking every
    field for stray HTML tags on the way (ours are escaped by construction); rows built here
    and inserted with executemany write a big deck several times faster. Otherwise the
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


def apkg_zip(collection: bytes, media: Mapping[str, bytes] | None = None) -> bytes:
    """The .apkg archive around a collection and its media files, by the one zip writer."""
    # Deflate level 1: on a big collection several times faster than the default level 6,
    # for a package only somewhat larger (benchmarks/ has the figures). The date is the day of
    # archive_time(), never "now", so the package depends only on SOURCE_DATE_EPOCH.
    return zip_bytes(
        {"collection.anki2": collection, **media_entries(media or {})}, compresslevel=1
    )


def media_entries(media: Mapping[str, bytes]) -> dict[str, bytes]:
    """An .apkg's media: files named "0", "1", ... and the `media` map of number -> file name.

    Names are sorted, so the numbering (and the package's bytes) depends only on the files.
    """
    names = sorted(media)
    entries = {str(i): media[name] for i, name in enumerate(names)}
    index = {str(i): name for i, name in enumerate(names)}
    entries["media"] = json.dumps(index, separators=(",", ":")).encode("utf-8")
    return entries
