"""Fixed Anki ids: note types, fields, templates and decks by name, notes by bank and question id."""

from __future__ import annotations

import hashlib

# Fixed forever: Anki identifies our note types by these ids. (Derived once from
# sha256("kzquiz/model/<kind>")[:6] + 10**12; never recompute or change them.)
CHOICE_MODEL_ID = 95174190684992
CLOZE_MODEL_ID = 48029149304556
ANSWER_MODEL_ID = 254364170374754
MATCHING_MODEL_ID = 180351080690188
# The note types of the other languages (kzquiz.i18n), fixed forever in the same way
# (stable_id("model", <kind>, <language>)): a deck built in Russian never takes over the
# English note types, so switching a bank's language cannot clash with imported notes.
LANGUAGE_MODEL_IDS: dict[str, dict[str, int]] = {
    "ru": {
        "choice": 78018801828026,
        "cloze": 159976382910636,
        "answer": 252541014458893,
        "matching": 69858921745760,
    },
    "kk": {
        "choice": 242834003608743,
        "cloze": 8181785978993,
        "answer": 157017688498639,
        "matching": 182761544596157,
    },
}

# genanki.util.BASE91_TABLE, Anki's alphabet for GUIDs.
_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


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
