"""The floor for `kzquiz anki`: parse the same YAML with the fastest parser and write the same
number of notes with bare genanki, with no validation, escaping or templates.

Usage: python benchmarks/floor_anki.py BANK.yaml OUT.apkg
"""

from __future__ import annotations

import sys

import genanki
import yaml_rs

MODEL = genanki.Model(
    1607392319,
    "floor",
    fields=[{"name": n} for n in ("Id", "Front", "Back", "Explanation", "Evidence", "Extra")],
    templates=[
        {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}
    ],
)


def main(bank: str, out: str) -> None:
    """Parse and write every question as one note in one deck per topic."""
    with open(bank, encoding="utf-8") as fh:
        data = yaml_rs.loads(fh.read(), parse_datetime=False)
    decks = {t: genanki.Deck(2059400110 + i, f"floor::{t}") for i, t in enumerate(data["topics"])}
    for q in data["questions"]:
        front = q.get("prompt") or q.get("text") or ""
        back = str(
            q.get("choices")
            or q.get("answers")
            or q.get("answer")
            or q.get("pairs")
            or q.get("items")
        )
        note = genanki.Note(
            model=MODEL,
            fields=[q["id"], front, back, q["explanation"], q["evidence"], ""],
            guid=genanki.guid_for(data["bank"]["id"], q["id"]),
            tags=list(q.get("tags") or []),
        )
        decks[q["topic"]].add_note(note)
    genanki.Package(list(decks.values())).write_to_file(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
