"""The fast paths give exactly what the straightforward code they replace gives.

Each speed-up in the loader and the Anki renderer has a slow, obvious reference here (the
code it replaced, or the library function it stands in for), and the two are compared on
generated text full of the characters that matter, and on whole decks byte for byte.
"""

from __future__ import annotations

import copy
import hashlib
import io
import itertools
import json
import os
import re
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import genanki
import pytest
import yaml
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from markupsafe import escape

from conftest import ARTICLE, MINI_BANK, BankFactory
from kzquiz import quality, read, source
from kzquiz.loader import load_bank
from kzquiz.model import Cloze, Matching
from kzquiz.render import cc, moodle, qti
from kzquiz.render.anki import fields as anki_fields
from kzquiz.render.anki import ids as anki_ids
from kzquiz.render.anki import models as anki_models
from kzquiz.render.anki import package as anki_package
from kzquiz.render.anki import state as anki_state
from kzquiz.render.cc import CC_PROFILE as CC_TYPES

HYPOTHESIS_SEED = int(os.environ["KZQUIZ_HYPOTHESIS_SEED"])  # chosen in conftest.py

# Text rich in what the escapes and scanners look at: markup, Anki syntax, JSON escapes,
# YAML tag starts, Unicode spaces and line breaks, control characters, astral characters.
SPECIAL = "&<>\"'{}[]:!\\,\n\r\t\x00\x1f\x7f\u00a0\u2028\u3000 aZ9é€😀"
texts = st.text(alphabet=st.sampled_from(SPECIAL) | st.characters(codec="utf-8"), max_size=60)


def _property(test: Any) -> Any:
    return seed(HYPOTHESIS_SEED)(
        settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])(
            test
        )
    )


# ---------------------------------------------------------------------------- loader


_OLD_TAG_HINT = re.compile(r"(?:^|[\s\[{,])!", re.MULTILINE)


@_property
@given(text=texts)
def test_tag_hint_finds_what_the_regex_found(text: str) -> None:
    note(f"hypothesis seed: {HYPOTHESIS_SEED}")
    assert read.may_have_tags(text) == bool(_OLD_TAG_HINT.search(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("!tag x", True),
        ("a: !!python/object x", True),
        ("a:\n  - !x", True),
        ("[1,!x]", True),
        ("{a: 1,!x}", True),
        ("a:\u3000!x", True),
        ("Wow! Great!", False),
        ("", False),
        ("no bang", False),
    ],
)
def test_tag_hint_examples(text: str, expected: bool) -> None:
    assert read.may_have_tags(text) is expected


def test_valid_bank_loads_without_pyyaml(mini_bank: Path) -> None:
    # PyYAML is imported only to locate problems or read tags; check in a fresh interpreter.
    code = (
        "import sys; from pathlib import Path; from kzquiz.loader import load_bank;"
        f"load_bank(Path({str(mini_bank)!r})); print('yaml' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


@_property
@given(text=texts | st.text(alphabet=st.sampled_from("‘’‚‛′“”„‟″«»‐‑‒–—―−\u00a0… aÉ"), max_size=30))
def test_normalise_folds_as_the_translate_table_did(text: str) -> None:
    old = (
        " ".join(text.split()).lower()
        if text.isascii()
        else " ".join(text.translate(source.TYPOGRAPHY).split()).casefold()
    )
    assert source.normalise(text) == old


@_property
@given(text=texts | st.text(alphabet=st.sampled_from("09.,aZé_- \u00a0‘’–\u0660ǅ"), max_size=30))
def test_tokens_of_ascii_text_are_those_of_the_unicode_pattern(text: str) -> None:
    assert quality.tokens(text) == quality._TOKEN.findall(source.normalise(text))


def test_located_quotes_are_remembered_not_changed() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    fresh = source.SourceText.parse(text)
    quotes = [p[10:60] for p in fresh.paragraphs] + ["not in the article", "", "  "]
    first = [fresh.locate(q) for q in quotes]
    again = [fresh.locate(q) for q in reversed(quotes)][::-1]
    expected = [source.SourceText.parse(text).locate(q) for q in quotes]  # a cold cache each
    assert first == again == expected
    assert first[: len(fresh.paragraphs)] == [
        fresh.paragraphs.index(p) + 1 for p in fresh.paragraphs
    ]
    assert first[-3:] == [None, None, None]


# ---------------------------------------------------------------------------- Moodle XML


def _old_moodle_html(text: str) -> str:
    return "".join(
        f"<p>{moodle._html_inline(p.strip())}</p>" for p in moodle._PARAGRAPHS.split(text)
    )


@_property
@given(
    text=texts
    | st.text(alphabet=st.sampled_from(" \t\x0b\x0c\x85\u2028\u2029\r\naé{&"), max_size=20)
)
def test_moodle_html_is_the_paragraph_split_one(text: str) -> None:
    assert moodle._html(text) == _old_moodle_html(text)


# ---------------------------------------------------------------------------- Anki fields

_OLD_ANKI = str.maketrans({"{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;"})
_OLD_CLOZE = str.maketrans({"{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;", ":": "&#58;"})


@_property
@given(text=texts)
def test_anki_text_escapes_as_before(text: str) -> None:
    assert anki_fields.anki_text(text) == str(escape(text)).translate(_OLD_ANKI).replace(
        "\n", "<br>"
    )


@_property
@given(text=texts)
def test_cloze_answer_escapes_as_before(text: str) -> None:
    assert anki_fields._cloze_answer(text) == str(escape(text)).translate(_OLD_CLOZE).replace(
        "\n", " "
    )


@_property
@given(bank_id=texts, question_id=texts)
def test_note_guid_is_genankis(bank_id: str, question_id: str) -> None:
    assert anki_ids.note_guid(bank_id, question_id) == genanki.guid_for(bank_id, question_id)


def test_note_guid_of_many_ids_is_genankis() -> None:
    for i in range(5000):
        assert anki_ids.note_guid("kz-spief-2022", f"q-{i}") == genanki.guid_for(
            "kz-spief-2022", f"q-{i}"
        )


def _old_content_hash(spec: anki_fields.NoteSpec) -> str:
    canonical = json.dumps(
        {
            "model": spec.note_type.name,
            "fields": [spec.fields[f] for f in spec.note_type.fields],
            "tags": list(spec.tags),
            "deck": spec.deck,
        },
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_content_hash_of_every_note_type_is_the_json_one(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    for q in loaded.bank.questions:
        spec = anki_fields.note_spec(loaded, q)
        assert spec.content_hash() == _old_content_hash(spec), q.id


@_property
@given(values=st.lists(texts, min_size=11, max_size=11), tags=st.lists(texts, max_size=4))
def test_content_hash_of_any_text_is_the_json_one(
    mini_bank_question: Any, values: list[str], tags: list[str]
) -> None:
    for nt in anki_models.NOTE_TYPES:
        fields = dict(zip(nt.fields, values, strict=False))
        spec = anki_fields.NoteSpec(mini_bank_question, nt, fields, tuple(tags), values[-1])
        assert spec.content_hash() == _old_content_hash(spec)


@pytest.fixture(scope="module")
def mini_bank_question(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("bank")
    (folder / "article.txt").write_bytes(ARTICLE.read_bytes())
    (folder / "bank.yaml").write_text(yaml.safe_dump(MINI_BANK), encoding="utf-8")
    return load_bank(folder / "bank.yaml").bank.questions[0]


@_property
@given(bank=texts, deck=texts, qid=texts)
def test_lock_dumps_is_the_json_one(bank: str, deck: str, qid: str) -> None:
    stamp = anki_state.QuestionStamp(
        hash="a" * 64, mod=1655424000, model="kzquiz Choice", deck=deck or "-"
    )
    lock = anki_state.Lock(
        format=1,
        bank=bank,
        created=1655424000,
        models={"kzquiz Choice": anki_state.Stamp(hash="b" * 64, mod=7)},
        questions={qid: stamp, "z": stamp, "a-1": stamp},
        removed={qid: anki_state.Removed(**stamp.model_dump(), removed=2**40)},
    )
    old = json.dumps(lock.model_dump(), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert lock.dumps() == old.encode("utf-8")


# ---------------------------------------------------------------------------- whole decks


class _GenankiNote(genanki.Note):  # type: ignore[misc]
    """genanki's own note writing, stamped with the note's time as kzquiz's rows are."""

    def __init__(self, mod: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mod = mod

    def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
        super().write_to_db(cursor, self.mod, deck_id, id_gen)


def _genanki_package(loaded: Any, lock: anki_state.Lock) -> bytes:
    """The package written note by note through genanki, with SQLite's default settings."""
    info = loaded.bank.bank
    top = genanki.Deck(
        anki_ids.stable_id("deck", loaded.id),
        anki_fields.deck_part(info.title),
        anki_fields.deck_description_html(
            info.title, info.source.title, info.source.date or "", info.source.url or ""
        ),
    )
    decks = {
        t: genanki.Deck(
            anki_ids.stable_id("deck", loaded.id, t),
            f"{anki_fields.deck_part(info.title)}::{anki_fields.deck_part(name)}",
        )
        for t, name in loaded.bank.topics.items()
    }
    models = {
        nt.key: anki_models.genanki_model(nt, lock.models[nt.name].mod)
        for nt in anki_models.NOTE_TYPES
    }
    for i, q in enumerate(loaded.bank.questions):
        spec = anki_fields.note_spec(loaded, q)
        decks[q.topic].add_note(
            _GenankiNote(
                lock.questions[q.id].mod,
                model=models[spec.note_type.key],
                fields=[spec.fields[f] for f in spec.note_type.fields],
                tags=list(spec.tags),
                guid=genanki.guid_for(loaded.id, q.id),
                due=i + 1,
            )
        )
    for deck in decks.values():
        for model in models.values():
            deck.add_model(model)
    path = Path(str(loaded.path) + ".anki2")
    conn = sqlite3.connect(path)
    try:
        ids = itertools.count(lock.created * 1000)
        genanki.Package([top, *(d for d in decks.values() if d.notes)]).write_to_db(
            conn.cursor(), lock.created, ids
        )
        conn.commit()
        conn.execute("VACUUM")
    finally:
        conn.close()
    return anki_package.apkg_zip(path.read_bytes())


def _cloze_heavy(data: dict[str, Any]) -> dict[str, Any]:
    # Cloze notes make a card per blank; give one many blanks, repeated ones and markup.
    data["questions"].append(
        {
            "id": "many-blanks",
            "type": "cloze",
            "topic": "economy",
            "difficulty": 2,
            "tags": ["forum"],
            "text": " ".join(f"{{{{b{i}|<i>alt</i>}}}} [x]" for i in range(12)),
            "explanation": "{{c1::not a cloze}} & <b>bold</b>",
            "evidence": "25th St. Petersburg International Economic Forum",
        }
    )
    return data


@pytest.mark.parametrize("variant", ["mini", "many-blanks"])
def test_deck_is_byte_identical_to_genankis_own_writing(
    make_bank: BankFactory, mini_bank_data: dict[str, Any], variant: str
) -> None:
    data = _cloze_heavy(mini_bank_data) if variant == "many-blanks" else mini_bank_data
    loaded = load_bank(make_bank(data))
    built = anki_package.build_deck(loaded, loaded.bank.questions, None)
    assert built.cards == sum(
        len(q.blanks) if isinstance(q, Cloze) else len(q.pairs) if isinstance(q, Matching) else 1
        for q in loaded.bank.questions
    )
    assert built.apkg == _genanki_package(loaded, built.lock)
    with zipfile.ZipFile(io.BytesIO(built.apkg)) as archive:
        assert archive.namelist() == ["collection.anki2", "media"]


# ---------------------------------------------------------------------------- QTI items


def _element_tree_text(element: ET.Element, level: int) -> str:
    """The straightforward way: indent a copy in place, then let ElementTree serialise it."""
    tree = copy.deepcopy(element)  # indent() changes the tree; keep the original as it was
    ET.indent(tree, "  ", level=level)
    return ET.tostring(tree, encoding="unicode")


@pytest.mark.parametrize("variant", ["mini", "many-blanks", "markup"])
def test_qti_items_are_written_as_element_tree_writes_them(
    make_bank: BankFactory, mini_bank_data: dict[str, Any], variant: str
) -> None:
    data = _cloze_heavy(mini_bank_data) if variant == "many-blanks" else mini_bank_data
    if variant == "markup":
        for q in data["questions"]:
            q["explanation"] += ' <b a="1">&amp; "quotes"</b>\n\n  indented\tline ]]> &#10;'
    loaded = load_bank(make_bank(data))
    text = qti._Text(qti.Notes(loaded, qti.FORMAT))
    for q in loaded.bank.questions:
        item = qti._item(loaded, q, text)
        assert qti.indented_xml(item, level=3) == _element_tree_text(item, 3), q.id


@pytest.mark.parametrize("variant", ["mini", "many-blanks", "markup"])
def test_cc_items_are_written_as_element_tree_writes_them(
    make_bank: BankFactory, mini_bank_data: dict[str, Any], variant: str
) -> None:
    data = _cloze_heavy(mini_bank_data) if variant == "many-blanks" else mini_bank_data
    if variant == "markup":
        for q in data["questions"]:
            q["explanation"] += ' <b a="1">&amp; "quotes"</b>\n\n  indented\tline ]]> &#10;'
    loaded = load_bank(make_bank(data))
    kinds = {q.type for q in loaded.bank.questions}
    assert kinds == set(CC_TYPES) | {"matching", "ordering"}  # every kind the profile holds
    slow_notes, fast_notes = qti.Notes(loaded, cc.FORMAT), qti.Notes(loaded, cc.FORMAT)
    slow_text, fast_text = qti._Text(slow_notes), qti._Text(fast_notes)
    written = 0
    for q in loaded.bank.questions:
        slow = [_element_tree_text(el, 2) for el in cc.items(loaded, q, slow_text, slow_notes)]
        assert cc.item_texts(loaded, q, fast_text, fast_notes) == slow, q.id
        written += len(slow)
    assert written >= len(CC_TYPES)
    assert fast_notes.items == slow_notes.items


_tags = st.sampled_from(["item", "mattext", "a", "response_label"])
_xml_text = st.text(
    alphabet=st.sampled_from("&<>\"'\n\r\t ]]>x\u00e9\u2028") | st.characters(codec="utf-8"),
    max_size=12,
).map(lambda s: qti._NOT_XML.sub("", s))


@st.composite
def _trees(draw: Any, depth: int = 0) -> ET.Element:
    attrib = draw(st.dictionaries(st.sampled_from(["ident", "title", "k"]), _xml_text, max_size=2))
    element = ET.Element(draw(_tags), attrib)
    element.text = draw(st.none() | _xml_text | st.sampled_from(["", " ", "\n  "]))
    if depth < 3:
        for child in draw(st.lists(_trees(depth + 1), max_size=3)):
            child.tail = draw(st.none() | _xml_text | st.sampled_from(["", "\n    "]))
            element.append(child)
    return element


@_property
@given(tree=_trees(), level=st.integers(min_value=0, max_value=4))
def test_indented_xml_matches_element_tree_on_any_plain_tree(tree: ET.Element, level: int) -> None:
    note(f"hypothesis seed: {HYPOTHESIS_SEED}")
    assert qti.indented_xml(tree, level) == _element_tree_text(tree, level)
