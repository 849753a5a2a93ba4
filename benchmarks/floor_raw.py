"""The raw floor for `kzquiz anki`: the least work that still gives an importable deck.

Read the bytes, parse them with yaml-rs, write an Anki collection with sqlite3 and zipfile
(deflate level 1): one note per question, one card per note, but one per cloze blank and one
per matching pair (kzquiz shows matching as a cloze note, a card per pair). No
genanki, no validation, no escaping, no templates beyond `{{Front}}` and `{{cloze:Text}}`.

Usage:
    python benchmarks/floor_raw.py BANK.yaml OUT.apkg
    python benchmarks/floor_raw.py BANK.yaml OUT.apkg --check [KZQUIZ.apkg]

`--check` imports OUT.apkg into a new collection with the `anki` library and verifies the
notes and cards it holds (and, given kzquiz's deck of the same bank, that both import as the
same number of notes and cards); it exits 1 if not. The timed run is the one without it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

import yaml_rs

SCHEMA = """
CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null,
  scm integer not null, ver integer not null, dty integer not null, usn integer not null,
  ls integer not null, conf text not null, models text not null, decks text not null,
  dconf text not null, tags text not null);
CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null,
  mod integer not null, usn integer not null, tags text not null, flds text not null,
  sfld integer not null, csum integer not null, flags integer not null, data text not null);
CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null,
  ord integer not null, mod integer not null, usn integer not null, type integer not null,
  queue integer not null, due integer not null, ivl integer not null, factor integer not null,
  reps integer not null, lapses integer not null, left integer not null, odue integer not null,
  odid integer not null, flags integer not null, data text not null);
CREATE TABLE revlog (id integer primary key, cid integer not null, usn integer not null,
  ease integer not null, ivl integer not null, lastIvl integer not null,
  factor integer not null, time integer not null, type integer not null);
CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null);
CREATE INDEX ix_notes_usn on notes (usn);
CREATE INDEX ix_cards_usn on cards (usn);
CREATE INDEX ix_revlog_usn on revlog (usn);
CREATE INDEX ix_cards_nid on cards (nid);
CREATE INDEX ix_cards_sched on cards (did, queue, due);
CREATE INDEX ix_revlog_cid on revlog (cid);
CREATE INDEX ix_notes_csum on notes (csum);
"""
MOD = 1_655_424_000  # a fixed date: the floor is deterministic too
BASIC_ID, CLOZE_ID = 1_700_000_001, 1_700_000_002
_BLANK = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def _field(name: str, ord_: int) -> dict[str, object]:
    return {"name": name, "ord": ord_, "font": "Arial", "media": [], "rtl": False,
            "size": 20, "sticky": False}  # fmt: skip


def _template(name: str, qfmt: str, afmt: str) -> dict[str, object]:
    return {"name": name, "ord": 0, "qfmt": qfmt, "afmt": afmt, "bqfmt": "", "bafmt": "",
            "bfont": "", "bsize": 0, "did": None}  # fmt: skip


def _model(mid: int, name: str, kind: int, fields: list[str], qfmt: str, afmt: str) -> dict:
    return {
        "id": str(mid), "name": name, "type": kind, "mod": MOD, "usn": -1, "sortf": 0,
        "did": 1, "tags": [], "vers": [], "css": "", "latexPre": "", "latexPost": "",
        "latexsvg": False, "req": [[0, "any", [0]]],
        "flds": [_field(f, i) for i, f in enumerate(fields)],
        "tmpls": [_template("Card", qfmt, afmt)],
    }  # fmt: skip


def _deck(did: int, name: str) -> dict:
    return {"id": did, "name": name, "conf": 1, "desc": "", "dyn": 0, "collapsed": False,
            "extendNew": 0, "extendRev": 50, "mod": MOD, "usn": -1, "lrnToday": [0, 0],
            "newToday": [0, 0], "revToday": [0, 0], "timeToday": [0, 0]}  # fmt: skip


DCONF = {
    "1": {"id": 1, "name": "Default", "mod": 0, "usn": 0, "maxTaken": 60, "autoplay": True,
          "timer": 0, "replayq": True, "dyn": False,
          "new": {"bury": True, "delays": [1, 10], "initialFactor": 2500, "ints": [1, 4, 7],
                  "order": 1, "perDay": 20, "separate": True},
          "lapse": {"delays": [10], "leechAction": 0, "leechFails": 8, "minInt": 1, "mult": 0},
          "rev": {"bury": True, "ease4": 1.3, "fuzz": 0.05, "ivlFct": 1, "maxIvl": 36500,
                  "minSpace": 1, "perDay": 100}}
}  # fmt: skip


def _cloze(text: str) -> tuple[str, int]:
    """`{{a|b}}` blanks as Anki's `{{c1::a}}`, and how many there were."""
    count = 0

    def one(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"{{{{c{count}::{m.group(1).split('|')[0].strip()}}}}}"

    return _BLANK.sub(one, text), count


def write(bank: str, out: str) -> tuple[int, int]:
    """Write the deck; return (notes, cards) written."""
    data = yaml_rs.loads(Path(bank).read_bytes().decode("utf-8"), parse_datetime=False)
    bank_id = data["bank"]["id"]
    deck_ids = {t: 1_800_000_000 + i for i, t in enumerate(data["topics"])}
    decks = {"1": _deck(1, "Default")} | {
        str(did): _deck(did, f"floor::{t}") for t, did in deck_ids.items()
    }
    models = {
        str(BASIC_ID): _model(BASIC_ID, "floor", 0, ["Front", "Back"], "{{Front}}",
                              "{{FrontSide}}<hr id=answer>{{Back}}"),
        str(CLOZE_ID): _model(CLOZE_ID, "floor cloze", 1, ["Text", "Back"],
                              "{{cloze:Text}}", "{{cloze:Text}}<br>{{Back}}"),
    }  # fmt: skip
    notes, cards = [], []
    nid = cid = 1_600_000_000_000
    for q in data["questions"]:
        nid += 1
        back = f"{q['explanation']}<br>{q['evidence']}"
        if q["type"] == "cloze":
            text, blanks = _cloze(q["text"])
            mid, fields, ords = CLOZE_ID, f"{text}\x1f{back}", range(blanks)
        elif q["type"] == "matching":
            pairs = [
                f"{p['left']}: {{{{c{k}::{p['right']}}}}}" for k, p in enumerate(q["pairs"], 1)
            ]
            mid, fields, ords = CLOZE_ID, f"{'<br>'.join(pairs)}\x1f{back}", range(len(pairs))
        else:
            answer = q.get("choices") or q.get("answers") or q.get("answer")
            answer = answer or q.get("pairs") or q.get("items")
            mid, fields, ords = BASIC_ID, f"{q['prompt']}\x1f{answer}<br>{back}", range(1)
        guid = hashlib.sha1(f"{bank_id}:{q['id']}".encode()).hexdigest()[:20]
        tags = " " + " ".join(q.get("tags") or []) + " "
        notes.append((nid, guid, mid, MOD, -1, tags, fields, q["id"], 0, 0, ""))
        did = deck_ids[q["topic"]]
        for ord_ in ords:
            cid += 1
            cards.append((cid, nid, did, ord_, MOD, -1, 0, 0, nid, 0, 0, 0, 0, 0, 0, 0, 0, ""))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "collection.anki2")
        db = sqlite3.connect(path)
        db.executescript(SCHEMA)
        db.execute(
            "INSERT INTO col VALUES(1,?,?,?,11,0,0,0,?,?,?,?,'{}')",
            (MOD, MOD * 1000, MOD * 1000, json.dumps({"nextPos": 1}), json.dumps(models),
             json.dumps(decks), json.dumps(DCONF)),
        )  # fmt: skip
        db.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", notes)
        db.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards)
        db.commit()
        db.close()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            zf.write(path, "collection.anki2")
            zf.writestr("media", "{}")
    return len(notes), len(cards)


def imported(apkg: str) -> tuple[int, int]:
    """(notes, cards) after importing `apkg` into a new collection with the anki library."""
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    with tempfile.TemporaryDirectory() as tmp:
        col = Collection(os.path.join(tmp, "check.anki2"))
        try:
            request = ImportAnkiPackageRequest(
                package_path=os.path.abspath(apkg),
                options=ImportAnkiPackageOptions(with_scheduling=False),
            )
            col.import_anki_package(request)
            return col.note_count(), col.card_count()
        finally:
            col.close()


def main(argv: list[str]) -> int:
    """Write the floor deck; with --check, import it (and kzquiz's) and compare."""
    bank, out, *rest = argv
    notes, cards = write(bank, out)
    if not rest or rest[0] != "--check":
        return 0
    got = imported(out)
    ok = got == (notes, cards)
    print(f"floor: wrote {notes} notes and {cards} cards; Anki imported {got[0]} and {got[1]}")
    if len(rest) > 1:
        theirs = imported(rest[1])
        print(f"kzquiz deck: Anki imported {theirs[0]} notes and {theirs[1]} cards")
        ok = ok and theirs == got
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
