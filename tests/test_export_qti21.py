"""QTI 2.1 export: golden files, a deterministic zip, the package's structure, and scoring.

No PyPI package ships the IMS QTI 2.1 XSDs (imsqti_v2p1.xsd), so the files are not
validated against them here; instead every file is parsed with ElementTree and checked for
what the schema and the spec require of the parts kzquiz writes (see the tests' names), and
the response processing is run, by a small evaluator of the operators used, on the right
answer and on wrong ones.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

import pytest

from export_helpers import EXPORT_BANK, check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.loader import load_bank
from kzquiz.model import Cloze, Matching, Multiple, Numeric, Ordering, Short, Single, TrueFalse
from kzquiz.pools import bank_pools
from kzquiz.render.qti21 import QTI_NS, TEMPLATES, item_href, item_identifier, render_qti21

EPOCH = "1700000000"
NS = {"q": QTI_NS, "cp": "http://www.imsglobal.org/xsd/imscp_v1p1"}
STANDARD = {TEMPLATES + "match_correct", TEMPLATES + "map_response"}


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _q(tag: str) -> str:
    return f"{{{QTI_NS}}}{tag}"


@pytest.fixture
def exported(make_bank: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[LoadedBank, bytes]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    loaded = load_export_bank(make_bank)
    data, notes = render_qti21(loaded, loaded.bank.questions)
    assert notes == []
    return loaded, data


def test_golden(exported: tuple[LoadedBank, bytes], request: pytest.FixtureRequest) -> None:
    _, data = exported
    for name, content in sorted(_members(data).items()):
        check_golden(request, f"export-bank.qti21/{name}", content)


def test_zip_is_deterministic(exported: tuple[LoadedBank, bytes], monkeypatch: Any) -> None:
    loaded, data = exported
    assert render_qti21(loaded, loaded.bank.questions)[0] == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
    names = [i.filename for i in infos]
    assert names == sorted(names)
    assert {i.date_time for i in infos} == {(2023, 11, 14, 0, 0, 0)}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1718582400")
    later = render_qti21(loaded, loaded.bank.questions)[0]
    assert later != data and _members(later) == _members(data)  # only the zip's dates


def test_manifest_lists_every_file_and_the_test_depends_on_every_item(
    exported: tuple[LoadedBank, bytes],
) -> None:
    loaded, data = exported
    members = _members(data)
    manifest = ET.fromstring(members["imsmanifest.xml"])
    assert manifest.tag == f"{{{NS['cp']}}}manifest"
    resources = manifest.findall("cp:resources/cp:resource", NS)
    files = [f.get("href") for r in resources for f in r.findall("cp:file", NS)]
    assert sorted(files) == sorted(n for n in members if n != "imsmanifest.xml")
    by_id = {r.get("identifier"): r for r in resources}
    assert len(by_id) == len(resources)
    (test,) = [r for r in resources if r.get("type") == "imsqti_test_xmlv2p1"]
    items = [r for r in resources if r.get("type") == "imsqti_item_xmlv2p1"]
    assert len(items) == len(loaded.bank.questions)
    deps = [d.get("identifierref") for d in test.findall("cp:dependency", NS)]
    assert sorted(deps) == sorted(r.get("identifier") for r in items)
    for r in resources:
        assert r.get("href") in members
        root = ET.fromstring(members[r.get("href") or ""])
        # The resource's identifier is the file's own identifier.
        assert root.get("identifier") == r.get("identifier")


def test_the_test_references_every_item_by_identifier_and_weighs_it_by_points(
    exported: tuple[LoadedBank, bytes],
) -> None:
    loaded, data = exported
    members = _members(data)
    test = ET.fromstring(members["test.xml"])
    refs = test.findall(".//q:assessmentItemRef", NS)
    by_id = {q.id: q for q in loaded.bank.questions}
    assert sorted(r.get("identifier") for r in refs) == sorted(
        item_identifier(q) for q in by_id.values()
    )
    for ref in refs:
        item = ET.fromstring(members[ref.get("href") or ""])
        assert item.get("identifier") == ref.get("identifier")
        q = by_id[(ref.get("identifier") or "")[2:]]
        (weight,) = ref.findall("q:weight", NS)
        assert weight.get("value") == str(q.score)
    assert test.find("q:outcomeProcessing//q:testVariables", NS) is not None
    # Sections by topic, titled with the topic's name (escaped text survives).
    titles = [s.get("title") for s in test.findall(".//q:assessmentSection", NS)]
    assert titles == list(loaded.bank.topics.values())


def _items(loaded: LoadedBank, data: bytes) -> list[tuple[Any, ET.Element]]:
    members = _members(data)
    return [(q, ET.fromstring(members[item_href(q)])) for q in loaded.bank.questions]


def test_every_item_is_consistent(exported: tuple[LoadedBank, bytes]) -> None:
    loaded, data = exported
    for q, item in _items(loaded, data):
        assert item.tag == _q("assessmentItem")
        assert item.get("title") == q.id  # never "Question"
        declared = {d.get("identifier"): d for d in item.findall("q:responseDeclaration", NS)}
        interactions = [
            el
            for el in item.iter()
            if el.tag.endswith("Interaction") and el.get("responseIdentifier")
        ]
        used = [el.get("responseIdentifier") for el in interactions]
        # Every interaction's response is declared, and every declaration has an interaction.
        assert sorted(used) == sorted(declared), q.id
        # Every variable the response processing reads is declared.
        rp = item.find("q:responseProcessing", NS)
        assert rp is not None
        if rp.get("template"):
            assert rp.get("template") in STANDARD and not len(rp)
        read = {
            el.get("identifier")
            for el in rp.iter()
            if el.tag in {_q("variable"), _q("correct"), _q("mapResponse")}
        }
        assert read <= set(declared), q.id
        outcomes = {o.get("identifier"): o for o in item.findall("q:outcomeDeclaration", NS)}
        assert set(outcomes) == {"SCORE", "FEEDBACK"}
        # The feedback is shown: its identifier is FEEDBACK's default value.
        (fb,) = item.findall("q:modalFeedback", NS)
        default = outcomes["FEEDBACK"].find("q:defaultValue/q:value", NS)
        assert default is not None and fb.get("identifier") == default.text
        assert fb.get("showHide") == "show" and q.explanation.replace("\n", "") in "".join(
            fb.itertext()
        )
        # Choice identifiers are unique in the item, and every correct value and mapping key
        # names a choice (or a pair of them).
        choices = [
            el.get("identifier")
            for el in item.iter()
            if el.tag in {_q("simpleChoice"), _q("simpleAssociableChoice")}
        ]
        assert len(choices) == len(set(choices)), q.id
        for ident, decl in declared.items():
            values = [v.text or "" for v in decl.findall("q:correctResponse/q:value", NS)]
            keys = [e.get("mapKey") or "" for e in decl.findall("q:mapping/q:mapEntry", NS)]
            assert values, (q.id, ident)
            base = decl.get("baseType")
            for value in values + keys:
                if base == "identifier":
                    assert value in choices, (q.id, value)
                elif base == "directedPair":
                    left, right = value.split(" ")
                    assert left in choices and right in choices, (q.id, value)
            if decl.find("q:mapping", NS) is not None:
                assert all(
                    e.get("caseSensitive") in {"true", "false"}
                    for e in decl.findall("q:mapping/q:mapEntry", NS)
                )


def _interaction(item: ET.Element, name: str) -> ET.Element:
    found = item.find(f".//q:{name}", NS)
    assert found is not None, name
    return found


def test_each_type_uses_its_interaction(exported: tuple[LoadedBank, bytes]) -> None:
    loaded, data = exported
    for q, item in _items(loaded, data):
        if isinstance(q, (Single, TrueFalse)):
            assert _interaction(item, "choiceInteraction").get("maxChoices") == "1"
        elif isinstance(q, Multiple):
            assert _interaction(item, "choiceInteraction").get("maxChoices") == "0"
        elif isinstance(q, Short):
            decl = item.find("q:responseDeclaration", NS)
            assert decl is not None and decl.get("baseType") == "string"
            keys = [e.get("mapKey") for e in decl.findall("q:mapping/q:mapEntry", NS)]
            assert {k.casefold() for k in keys if k} == {a.casefold() for a in q.answers}
            assert all(e.get("caseSensitive") == "false" for e in decl.findall(".//q:mapEntry", NS))
        elif isinstance(q, Numeric):
            _interaction(item, "textEntryInteraction")
            decl = item.find("q:responseDeclaration", NS)
            assert decl is not None and decl.get("baseType") == "float"
        elif isinstance(q, Cloze):
            blanks = item.findall(".//q:textEntryInteraction", NS)
            assert len(blanks) == len(q.blanks)
        elif isinstance(q, Matching):
            sets = _interaction(item, "matchInteraction").findall("q:simpleMatchSet", NS)
            assert len(sets) == 2
        elif isinstance(q, Ordering):
            choices = _interaction(item, "orderInteraction").findall("q:simpleChoice", NS)
            shown = ["".join(c.itertext()) for c in choices]
            assert sorted(shown) == sorted(q.items) and shown != q.items  # not the answer


# --- A small evaluator of the response processing kzquiz writes --------------------------


def _value(el: ET.Element, item: ET.Element, response: dict[str, Any]) -> Any:
    tag = el.tag.rsplit("}", 1)[-1]
    kids = list(el)
    if tag == "baseValue":
        return float(el.text or "0") if el.get("baseType") == "float" else el.text
    if tag == "variable":
        return response.get(el.get("identifier") or "")
    if tag == "correct":
        return _correct(item, el.get("identifier") or "")
    if tag == "mapResponse":
        return _map(item, el.get("identifier") or "", response)
    args = [_value(k, item, response) for k in kids]
    if tag == "sum":
        return sum(args)
    if tag == "divide":
        return args[0] / args[1]
    if tag == "and":
        return all(args)
    if tag in {"gte", "lte"}:
        if args[0] is None:
            return False
        return float(args[0]) >= args[1] if tag == "gte" else float(args[0]) <= args[1]
    if tag == "equal":
        if args[0] is None:
            return False
        tolerance = float((el.get("tolerance") or "0").split()[0])
        return abs(float(args[0]) - float(args[1])) <= tolerance
    raise AssertionError(f"operator {tag} not evaluated")


def _decl(item: ET.Element, ident: str) -> ET.Element:
    (decl,) = [d for d in item.findall("q:responseDeclaration", NS) if d.get("identifier") == ident]
    return decl


def _correct(item: ET.Element, ident: str) -> Any:
    decl = _decl(item, ident)
    values = [v.text for v in decl.findall("q:correctResponse/q:value", NS)]
    return values[0] if decl.get("cardinality") == "single" else values


def _map(item: ET.Element, ident: str, response: dict[str, Any]) -> float:
    mapping = _decl(item, ident).find("q:mapping", NS)
    assert mapping is not None
    given = response.get(ident)
    answers = given if isinstance(given, list) else [given]
    total = 0.0
    for answer in answers:
        for entry in mapping.findall("q:mapEntry", NS):
            key = entry.get("mapKey") or ""
            same = (
                key == answer
                if entry.get("caseSensitive") == "true"
                else key.casefold() == str(answer).casefold()
            )
            if same:
                total += float(entry.get("mappedValue") or "0")
                break
        else:
            total += float(mapping.get("defaultValue") or "0")
    lo, hi = mapping.get("lowerBound"), mapping.get("upperBound")
    total = max(total, float(lo)) if lo else total
    return min(total, float(hi)) if hi else total


def score(item: ET.Element, response: dict[str, Any]) -> float:
    """SCORE after response processing, by the template or the item's own rules."""
    rp = item.find("q:responseProcessing", NS)
    assert rp is not None
    template = (rp.get("template") or "").rsplit("/", 1)[-1]
    if template == "match_correct":
        return 1.0 if response.get("RESPONSE") == _correct(item, "RESPONSE") else 0.0
    if template == "map_response":
        return _map(item, "RESPONSE", response)
    for rule in rp:
        if rule.tag == _q("setOutcomeValue"):
            return float(_value(rule[0], item, response))
        branch_if, branch_else = list(rule)
        condition, action = list(branch_if)
        chosen = action if _value(condition, item, response) else branch_else[0]
        return float(_value(chosen[0], item, response))
    raise AssertionError("no rule set SCORE")


def test_the_right_answer_scores_1_and_wrong_ones_less(
    exported: tuple[LoadedBank, bytes],
) -> None:
    loaded, data = exported
    for q, item in _items(loaded, data):
        declared = [d.get("identifier") or "" for d in item.findall("q:responseDeclaration", NS)]
        right = {i: _correct(item, i) for i in declared}
        assert score(item, right) == pytest.approx(1.0), q.id
        wrong = {i: ([] if isinstance(v, list) else "nothing like it") for i, v in right.items()}
        if isinstance(q, Numeric):
            wrong = {"RESPONSE": str(q.bounds[1] + 1)}
        assert score(item, wrong) == 0.0, q.id
        if isinstance(q, Short):
            assert score(item, {"RESPONSE": q.answers[-1].upper()}) == 1.0  # any case
        if isinstance(q, Numeric):
            assert score(item, {"RESPONSE": str(q.bounds[0])}) == 1.0  # the interval's edge
        if isinstance(q, Cloze) and len(q.blanks) > 1:
            half = {**right, declared[0]: "wrong"}
            assert 0 < score(item, half) < 1
        if isinstance(q, Multiple):
            assert score(item, {"RESPONSE": _correct(item, "RESPONSE")[:1]}) < 1


def test_a_pool_is_a_section_with_a_selection(make_bank: Any) -> None:
    loaded = load_bank(make_bank(export_bank_with_pool()))
    (pool,) = bank_pools(loaded.bank)
    data, _ = render_qti21(loaded, loaded.bank.questions, [pool])
    test = ET.fromstring(_members(data)["test.xml"])
    sections = test.findall(".//q:assessmentSection", NS)
    (pooled,) = [s for s in sections if s.find("q:selection", NS) is not None]
    selection = pooled.find("q:selection", NS)
    assert selection is not None and selection.get("select") == "2"
    refs = [r.get("identifier") for r in pooled.findall("q:assessmentItemRef", NS)]
    assert refs == [f"q-{i}" for i in pool.question_ids]
    others = [
        r.get("identifier")
        for s in sections
        if s is not pooled
        for r in s.iter(_q("assessmentItemRef"))
    ]
    assert not set(refs) & set(others)
    assert len(refs) + len(others) == len(loaded.bank.questions)


def export_bank_with_pool() -> str:
    """The export bank with a pool of three of its questions, drawing two."""
    text = EXPORT_BANK.read_text(encoding="utf-8")
    return text + (
        "pools:\n"
        "  - id: principles\n"
        "    title: Three of the first questions\n"
        "    questions: [un-two-principles, breakaway-regions, forum-number]\n"
        "    draw: 2\n"
    )
