"""Common Cartridge 1.3 export: golden files, determinism, the CC QTI profile, notes.

No PyPI package ships the CC 1.3 XSDs; the cartridge is parsed with ElementTree and checked
for the profile's rules on what kzquiz writes: the manifest's CC 1.3 namespace, schema and
version and a question-bank resource whose file is in the zip; every item with a cc_profile
of the profile's list and its weighting; unique item ids and answer ids unique within each item; every correct answer
naming one of the item's choices.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pytest

from export_helpers import check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.model import Cloze, Matching, Numeric, Ordering
from kzquiz.render.cc import BANK_TYPE, CC_PROFILE, CP_NS, QTI_NS, render_cc

EPOCH = "1700000000"
NS = {"cp": CP_NS, "q": QTI_NS}
PROFILES = {
    "cc.multiple_choice.v0p1",
    "cc.multiple_response.v0p1",
    "cc.true_false.v0p1",
    "cc.fib.v0p1",
    "cc.pattern_match.v0p1",
    "cc.essay.v0p1",
}


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


@pytest.fixture
def exported(
    make_bank: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[LoadedBank, bytes, list[str]]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    loaded = load_export_bank(make_bank)
    data, notes = render_cc(loaded, loaded.bank.questions)
    return loaded, data, notes


def _bank_file(members: dict[str, bytes]) -> tuple[str, ET.Element]:
    (name,) = [n for n in members if n != "imsmanifest.xml"]
    return name, ET.fromstring(members[name])


def test_golden(
    exported: tuple[LoadedBank, bytes, list[str]], request: pytest.FixtureRequest
) -> None:
    _, data, _ = exported
    members = _members(data)
    name, _ = _bank_file(members)
    check_golden(request, "export-bank.cc/imsmanifest.xml", members["imsmanifest.xml"])
    check_golden(request, "export-bank.cc/question-bank.xml", members[name])


def test_deterministic(exported: tuple[LoadedBank, bytes, list[str]], monkeypatch: Any) -> None:
    loaded, data, _ = exported
    assert render_cc(loaded, loaded.bank.questions)[0] == data
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1718582400")
    later = render_cc(loaded, loaded.bank.questions)[0]
    assert later != data and _members(later) == _members(data)


def test_manifest_is_cc_1_3_with_the_question_bank(
    exported: tuple[LoadedBank, bytes, list[str]],
) -> None:
    _, data, _ = exported
    members = _members(data)
    manifest = ET.fromstring(members["imsmanifest.xml"])
    assert manifest.tag == f"{{{CP_NS}}}manifest"
    assert manifest.findtext("cp:metadata/cp:schema", namespaces=NS) == "IMS Common Cartridge"
    assert manifest.findtext("cp:metadata/cp:schemaversion", namespaces=NS) == "1.3.0"
    (resource,) = manifest.findall("cp:resources/cp:resource", NS)
    assert resource.get("type") == BANK_TYPE
    (file,) = resource.findall("cp:file", NS)
    name, bank = _bank_file(members)
    assert file.get("href") == name
    assert bank.tag == f"{{{QTI_NS}}}questestinterop"
    (objectbank,) = bank.findall("q:objectbank", NS)
    assert objectbank.get("ident") == resource.get("identifier")


def _field(item: ET.Element, label: str) -> str | None:
    for field in item.findall("q:itemmetadata/q:qtimetadata/q:qtimetadatafield", NS):
        if field.findtext("q:fieldlabel", namespaces=NS) == label:
            return field.findtext("q:fieldentry", namespaces=NS)
    return None


def test_items_follow_the_cc_profile(exported: tuple[LoadedBank, bytes, list[str]]) -> None:
    loaded, data, _ = exported
    _, bank = _bank_file(_members(data))
    items = bank.findall(".//q:item", NS)
    idents = [i.get("ident") for i in items]
    assert len(idents) == len(set(idents))
    for item in items:
        labels = [el.get("ident") for el in item.iter(f"{{{QTI_NS}}}response_label")]
        assert labels and all(labels) and len(labels) == len(set(labels))
    by_title = {i.get("title"): i for i in items}
    for q in loaded.bank.questions:
        mine = [i for t, i in by_title.items() if t and (t == q.id or t.startswith(q.id + " ("))]
        if isinstance(q, (Matching, Ordering)):
            assert mine == [], q.id
            continue
        expected = len(q.blanks) if isinstance(q, Cloze) else 1
        assert len(mine) == expected, q.id
        for item in mine:
            profile = _field(item, "cc_profile")
            assert profile in PROFILES and profile == CC_PROFILE[q.type]
            assert _field(item, "cc_weighting") == str(q.score)
            choices = {el.get("ident") for el in item.iter(f"{{{QTI_NS}}}response_label")}
            for var in item.iter(f"{{{QTI_NS}}}varequal"):
                if profile != "cc.fib.v0p1":
                    assert var.text in choices, q.id
            assert item.find("q:itemfeedback", NS) is not None


def test_short_cloze_and_numeric_accept_their_answers(
    exported: tuple[LoadedBank, bytes, list[str]],
) -> None:
    loaded, data, _ = exported
    _, bank = _bank_file(_members(data))
    accepted = {
        i.get("title"): [v.text for v in i.iter(f"{{{QTI_NS}}}varequal")]
        for i in bank.findall(".//q:item", NS)
    }
    for q in loaded.bank.questions:
        if isinstance(q, Cloze):
            for b, alts in enumerate(q.blanks):
                title = q.id if len(q.blanks) == 1 else f"{q.id} (blank {b + 1})"
                assert accepted[title] == alts
        elif isinstance(q, Numeric):
            assert accepted[q.id][0] == f"{q.answer:g}"


def test_notes_name_exactly_what_cc_cannot_hold(
    exported: tuple[LoadedBank, bytes, list[str]],
) -> None:
    loaded, _, notes = exported
    noted = {q.id for q in loaded.bank.questions if q.type in {"numeric", "matching", "ordering"}}
    assert {n.split("(id: ")[1].split(")")[0] for n in notes} == noted
    assert all(": Common Cartridge: has no " in n for n in notes)
