"""Canvas QTI export: golden XML, a deterministic zip, answers and escaping, text2qti's layout."""

from __future__ import annotations

import hashlib
import io
import os
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import defaultdict
from html.parser import HTMLParser
from typing import Any

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from export_helpers import check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.loader import load_bank
from kzquiz.model import (
    QUESTION_TYPES,
    Cloze,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Short,
    Single,
    TrueFalse,
)
from kzquiz.render import qti
from kzquiz.render.export_common import feedback_text, numeric_prompt
from kzquiz.render.qti import render_qti, stable_id

EPOCH = "1700000000"  # 2023-11-14 UTC


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _assessment_name(names: list[str]) -> str:
    (name,) = [n for n in names if n.count("/") == 1 and not n.endswith(("/", "meta.xml"))]
    return name


@pytest.fixture
def exported(make_bank: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[LoadedBank, bytes]:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    loaded = load_export_bank(make_bank)
    data, notes = render_qti(loaded, loaded.bank.questions)
    assert notes == []
    return loaded, data


def test_golden(exported: tuple[LoadedBank, bytes], request: pytest.FixtureRequest) -> None:
    _, data = exported
    members = _members(data)
    assessment = _assessment_name(list(members))
    ident = assessment.split("/")[0]
    check_golden(request, "export-bank.qti/imsmanifest.xml", members["imsmanifest.xml"])
    check_golden(
        request, "export-bank.qti/assessment_meta.xml", members[f"{ident}/assessment_meta.xml"]
    )
    check_golden(request, "export-bank.qti/assessment.xml", members[assessment])


def test_zip_is_deterministic(exported: tuple[LoadedBank, bytes], monkeypatch: Any) -> None:
    loaded, data = exported
    assert render_qti(loaded, loaded.bank.questions)[0] == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert zf.testzip() is None
    names = [i.filename for i in infos]
    ident = stable_id("export-test", "assessment", *(q.id for q in loaded.bank.questions))
    assert (
        names
        == sorted(names)
        == [
            f"{ident}/assessment_meta.xml",
            f"{ident}/{ident}.xml",
            "imsmanifest.xml",
            "non_cc_assessments/",
        ]
    )
    assert {i.date_time for i in infos} == {(2023, 11, 14, 0, 0, 0)}
    assert {i.create_system for i in infos} == {3}
    assert [i.compress_type for i in infos] == [zipfile.ZIP_DEFLATED] * 3 + [zipfile.ZIP_STORED]
    # The build date is the only thing SOURCE_DATE_EPOCH changes.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1718582400")  # 2024-06-17
    later = render_qti(loaded, loaded.bank.questions)[0]
    assert later != data
    old, new = _members(data), _members(later)
    assert old.keys() == new.keys()
    for name in old:
        assert old[name].replace(b"2023-11-14", b"2024-06-17") == new[name], name


def test_without_source_date_epoch_the_date_is_fixed_not_today(
    exported: tuple[LoadedBank, bytes], monkeypatch: Any
) -> None:
    loaded, _ = exported
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    monkeypatch.setattr("time.time", lambda: 1_900_000_000.0)  # a day in 2030
    first = render_qti(loaded, loaded.bank.questions)[0]
    monkeypatch.setattr("time.time", lambda: 1_700_000_000.0)  # a day in 2023
    assert render_qti(loaded, loaded.bank.questions)[0] == first
    with zipfile.ZipFile(io.BytesIO(first)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_every_xml_file_parses(exported: tuple[LoadedBank, bytes]) -> None:
    _, data = exported
    members = _members(data)
    for name, content in members.items():
        if name.endswith(".xml"):
            assert content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<')
            ET.fromstring(content)
    manifest = ET.fromstring(members["imsmanifest.xml"])
    hrefs = {el.get("href") for el in manifest.iter() if _local(el.tag) == "file"}
    assert hrefs == {n for n in members if n.endswith(".xml") and "/" in n}


class _Text(HTMLParser):
    """The text a browser shows for our HTML: paragraphs apart by a blank line, <br> a newline."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def _items(data: bytes) -> dict[str, ET.Element]:
    members = _members(data)
    root = ET.fromstring(members[_assessment_name(list(members))])
    return {item.get("title", ""): item for item in root.iter() if _local(item.tag) == "item"}


def _find(el: ET.Element, path: str) -> list[ET.Element]:
    ns = "{http://www.imsglobal.org/xsd/ims_qtiasiv1p2}"
    return el.findall("/".join(ns + p if p not in (".", "..") else p for p in path.split("/")))


def _field(item: ET.Element, label: str) -> str:
    for f in _find(item, "itemmetadata/qtimetadata/qtimetadatafield"):
        if _find(f, "fieldlabel")[0].text == label:
            return _find(f, "fieldentry")[0].text or ""
    raise KeyError(label)


def _conditions(item: ET.Element) -> list[ET.Element]:
    return [
        c for c in _find(item, "resprocessing/respcondition") if not _find(c, "conditionvar/other")
    ]


def test_questions_answers_and_feedback(exported: tuple[LoadedBank, bytes]) -> None:
    """Read back as Canvas would: type, points, text, choices and what scores 100."""
    loaded, data = exported
    items = _items(data)
    assert list(items) == [q.id for q in loaded.bank.questions]
    for q in loaded.bank.questions:
        item = items[q.id]
        assert item.get("ident") == stable_id("export-test", q.id)
        assert _field(item, "points_possible") == str(q.score)
        (question_html,) = _find(item, "presentation/material/mattext")
        (fb,) = _find(item, "itemfeedback/flow_mat/material/mattext")
        assert html_text(fb.text or "") == feedback_text(loaded, q)
        conditions = _conditions(item)
        text = html_text(question_html.text or "")
        qtype = _field(item, "question_type")
        if isinstance(q, (Single, TrueFalse, Multiple)):
            labels = _find(item, "presentation/response_lid/render_choice/response_label")
            shown = [html_text(_find(lab, "material/mattext")[0].text or "") for lab in labels]
            if isinstance(q, TrueFalse):
                assert qtype == "true_false_question"
                assert shown == ["True", "False"]
                correct = [q.answer, not q.answer]
            else:
                assert shown == [c.text for c in q.choices]
                correct = [c.correct for c in q.choices]
            ids = [lab.get("ident") for lab in labels]
            (cond,) = conditions
            if isinstance(q, Multiple):
                assert qtype == "multiple_answers_question"
                wanted = {i for i, c in zip(ids, correct, strict=True) if c}
                assert {v.text for v in _find(cond, "conditionvar/and/varequal")} == wanted
                assert {v.text for v in _find(cond, "conditionvar/and/not/varequal")} == (
                    set(ids) - wanted
                )
            else:
                assert qtype in ("multiple_choice_question", "true_false_question")
                assert [v.text for v in _find(cond, "conditionvar/varequal")] == [
                    i for i, c in zip(ids, correct, strict=True) if c
                ]
            assert _find(cond, "setvar")[0].text == "100"
            assert text == q.stem
        elif isinstance(q, Short):
            assert qtype == "short_answer_question"
            (cond,) = conditions
            assert [v.text for v in _find(cond, "conditionvar/varequal")] == list(q.answers)
            assert text == q.stem
        elif isinstance(q, Numeric):
            assert qtype == "numerical_question"
            assert text == numeric_prompt(q)
            exact = conditions[0]
            assert float(_find(exact, "conditionvar/or/varequal")[0].text or "") == q.answer
            lo = float(_find(exact, "conditionvar/or/and/vargte")[0].text or "")
            hi = float(_find(exact, "conditionvar/or/and/varlte")[0].text or "")
            if q.range is None:
                assert (lo, hi) == q.bounds
                assert len(conditions) == 1
            else:
                (rng,) = conditions[1:]
                assert (lo, hi) == (q.answer, q.answer)
                bounds = (
                    float(_find(rng, "conditionvar/vargte")[0].text or ""),
                    float(_find(rng, "conditionvar/varlte")[0].text or ""),
                )
                assert bounds == q.range
        elif isinstance(q, (Matching, Ordering)):
            assert qtype == "matching_question"
            pairs = (
                [(p.left, p.right) for p in q.pairs]
                if isinstance(q, Matching)
                else [(f"Position {i}", item) for i, item in enumerate(q.items, 1)]
            )
            lids = _find(item, "presentation/response_lid")
            lefts = [_find(lid, "material/mattext")[0].text for lid in lids]
            assert lefts == [left for left, _ in pairs]
            options = {
                lab.get("ident"): _find(lab, "material/mattext")[0].text
                for lab in _find(lids[0], "render_choice/response_label")
            }
            assert sorted(options.values()) == sorted(right for _, right in pairs)
            chosen = {
                _find(c, "conditionvar/varequal")[0].get("respident"): _find(
                    c, "conditionvar/varequal"
                )[0].text
                for c in conditions
            }
            assert [options[chosen[lid.get("ident")]] for lid in lids] == [
                right for _, right in pairs
            ]
            assert text == q.stem
        elif isinstance(q, Cloze):
            assert qtype == "fill_in_multiple_blanks_question"
            lids = _find(item, "presentation/response_lid")
            names = [_find(lid, "material/mattext")[0].text or "" for lid in lids]
            shown = text
            for name in names:
                assert f"[{name}]" in shown
                shown = shown.replace(f"[{name}]", "_____", 1)
            assert shown == q.stem
            accepted = [
                [
                    _find(lab, "material/mattext")[0].text
                    for lab in _find(lid, "render_choice/response_label")
                ]
                for lid in lids
            ]
            assert accepted == q.blanks
        else:  # pragma: no cover
            raise AssertionError(q.type)


def test_escaping_is_by_construction(exported: tuple[LoadedBank, bytes]) -> None:
    """Markup characters in bank text arrive as text: no element or entity comes from the bank."""
    _, data = exported
    item = _items(data)["esc-single"]
    (question_html,) = _find(item, "presentation/material/mattext")
    html = question_html.text or ""
    assert "&lt;b&gt;g&lt;/b&gt;" in html and "<b>" not in html
    assert "& <b>" not in html and " &amp; " in html
    raw = _members(data)
    assessment = raw[_assessment_name(list(raw))].decode("utf-8")
    # In the file itself the HTML is escaped once more for XML.
    assert "&amp;lt;b&amp;gt;g&amp;lt;/b&amp;gt;" in assessment
    assert 'title="Exports: {GIFT} &amp; &lt;QTI&gt; &quot;test&quot;"' in assessment


def test_ids_are_stable_across_selections(exported: tuple[LoadedBank, bytes]) -> None:
    loaded, data = exported
    subset = [q for q in loaded.bank.questions if q.topic == "economy"]
    sub_items = _items(render_qti(loaded, subset)[0])
    all_items = _items(data)
    assert list(sub_items) == [q.id for q in subset]
    for qid, item in sub_items.items():
        assert item.get("ident") == all_items[qid].get("ident")
        assert item.get("ident") == "g" + hashlib.sha1(f"export-test:{qid}".encode()).hexdigest()
    # A different selection is a different quiz, so a re-import cannot overwrite the other.
    assert _assessment_name(list(_members(data))) != _assessment_name(
        list(_members(render_qti(loaded, subset)[0]))
    )


def test_characters_xml_cannot_hold_are_removed_and_reported(
    make_bank: Any, mini_bank_data: dict[str, Any]
) -> None:
    mini_bank_data["questions"][0]["explanation"] = "Ends here\uffff and here\ufffe."
    loaded = load_bank(make_bank(mini_bank_data))
    data, notes = render_qti(loaded, loaded.bank.questions)
    assert notes == [
        "questions[0] (id: un-two-principles): QTI: removed 2 character(s) XML cannot hold "
        "(U+FFFE, U+FFFF)"
    ]
    (fb,) = _find(_items(data)["un-two-principles"], "itemfeedback/flow_mat/material/mattext")
    assert html_text(fb.text or "").startswith("Ends here and here.")


# --- the same quiz through text2qti -------------------------------------------------------


def _text2qti_source(questions: list[Any]) -> str:
    """The questions in text2qti's plain-text quiz format (supported types only)."""
    out = ["Quiz title: Equivalent quiz", "Quiz description: The same questions.", ""]
    for n, q in enumerate(questions, start=1):
        out += [f"Title: {q.id}", f"Points: {q.score}", f"{n}.  {q.stem}", f"... {q.explanation}"]
        if isinstance(q, Single):
            out += [
                f"{'*' if c.correct else ''}{chr(97 + j)}) {c.text}"
                for j, c in enumerate(q.choices)
            ]
        elif isinstance(q, TrueFalse):
            out += [f"{'*' if q.answer else ''}a) True", f"{'' if q.answer else '*'}b) False"]
        elif isinstance(q, Multiple):
            out += [f"[{'*' if c.correct else ' '}] {c.text}" for c in q.choices]
        elif isinstance(q, Short):
            out += [f"*   {a}" for a in q.answers]
        elif isinstance(q, Numeric) and q.range is not None:
            out += [f"=   [{q.range[0]}, {q.range[1]}]"]
        elif isinstance(q, Numeric):
            out += [f"=   {q.answer} +- {q.tolerance or 0}"]
        out.append("")
    return "\n".join(out)


def _paths(el: ET.Element, prefix: str = "") -> set[str]:
    """Element paths with their attribute names: structure without ids, text or values."""
    path = f"{prefix}/{_local(el.tag)}"
    out = {f"{path}[{','.join(sorted(_local(a) for a in el.attrib))}]"}
    for child in el:
        out |= _paths(child, path)
    return out


def _structure(data: bytes) -> tuple[set[str], dict[str, set[str]], dict[str, set[str]]]:
    """(zip layout, element paths per file outside items, element paths per question type)."""
    members = _members(data)
    assessment = _assessment_name(list(members))
    ident = assessment.split("/")[0]
    layout = {name.replace(ident, "ASSESSMENT") for name in members}
    files: dict[str, set[str]] = {}
    by_type: dict[str, set[str]] = defaultdict(set)
    for name, content in members.items():
        if not name.endswith(".xml"):
            continue
        root = ET.fromstring(content)
        if name == assessment:
            # Items are compared per question type; the rest of the file as a whole.
            (section,) = root.findall(".//{*}section")
            for item in section.findall("{*}item"):
                section.remove(item)
                (entry,) = [
                    f.findtext("{*}fieldentry")
                    for f in item.findall(".//{*}qtimetadatafield")
                    if f.findtext("{*}fieldlabel") == "question_type"
                ]
                by_type[entry or ""] |= _paths(item)
        files[name.replace(ident, "ASSESSMENT")] = _paths(root)
    return layout, files, by_type


def test_same_layout_and_element_paths_as_text2qti(
    make_bank: Any, mini_bank_data: dict[str, Any]
) -> None:
    """text2qti's QTI imports into Canvas; ours has its zip layout and, per question type,
    exactly its element paths (ids, text and attribute values aside)."""
    from text2qti.config import Config
    from text2qti.qti import QTI
    from text2qti.quiz import Quiz

    range_question = {
        "id": "self-determination-states",
        "type": "numeric",
        "topic": "sovereignty",
        "difficulty": 2,
        "tags": ["un-charter"],
        "prompt": "How many states would there be, by Tokayev's estimate?",
        "answer": 500,
        "range": [500, 600],
        "explanation": "Over 500 or 600.",
        "evidence": "there would be over 500 or 600 states on Earth",
    }
    mini_bank_data["questions"].append(range_question)
    loaded = load_bank(make_bank(mini_bank_data))
    supported = [
        q
        for q in loaded.bank.questions
        if q.type in ("single", "multiple", "truefalse", "short", "numeric")
    ]
    assert {q.type for q in supported} == {"single", "multiple", "truefalse", "short", "numeric"}
    # Config() with its defaults: without .load() text2qti never reads or writes
    # ~/.text2qti.bespon (only LaTeX needs a setting from it, and these questions have none).
    quiz = Quiz(_text2qti_source(supported), config=Config(), source_name="quiz.txt")
    theirs = QTI(quiz).zip_bytes()
    ours, _ = render_qti(loaded, supported)

    their_layout, their_files, their_types = _structure(theirs)
    our_layout, our_files, our_types = _structure(ours)
    assert (
        our_layout
        == their_layout
        == {
            "imsmanifest.xml",
            "non_cc_assessments/",
            "ASSESSMENT/assessment_meta.xml",
            "ASSESSMENT/ASSESSMENT.xml",
        }
    )
    assert our_files == their_files
    assert (
        set(our_types)
        == set(their_types)
        == {
            "multiple_choice_question",
            "multiple_answers_question",
            "true_false_question",
            "short_answer_question",
            "numerical_question",
        }
    )
    for qtype, paths in their_types.items():
        assert our_types[qtype] == paths, qtype


# ---------------------------------------------------------------- the direct item writer


def _plain_item_text(loaded: LoadedBank, q: Any, level: int = 3) -> str:
    """An item the plain way: ElementTree elements, ET.indent, ET.tostring."""
    tree = qti._item(loaded, q, qti._Text(qti.Notes(loaded, qti.FORMAT)))
    ET.indent(tree, "  ", level=level)
    return ET.tostring(tree, encoding="unicode")


def _direct_item_text(loaded: LoadedBank, q: Any, level: int = 3) -> tuple[str, list[str]]:
    notes = qti.Notes(loaded, qti.FORMAT)
    return qti.item_text(loaded, q, qti._Text(notes), level), notes.items


@pytest.mark.parametrize("level", [0, 3])
def test_direct_items_equal_element_tree_items_for_every_kind(
    exported: tuple[LoadedBank, bytes], level: int
) -> None:
    loaded, _ = exported
    kinds = {q.type for q in loaded.bank.questions}
    assert kinds == set(QUESTION_TYPES)  # every item kind, hostile text included
    for q in loaded.bank.questions:
        notes = qti.Notes(loaded, qti.FORMAT)
        plain = qti.indented_xml(qti._item(loaded, q, qti._Text(notes)), level)
        assert _direct_item_text(loaded, q, level) == (plain, notes.items), q.id
        assert plain == _plain_item_text(loaded, q, level), q.id


# Text rich in what XML escaping and indenting look at, and in what the loader lets through.
_HOSTILE = st.text(
    alphabet=st.sampled_from("&<>\"'\n\r\t ]]>{}[]|x\u00e9\u2028\ufffe\U0001f600")
    | st.characters(codec="utf-8", exclude_categories=["Cc", "Cs"]),
    min_size=1,
    max_size=30,
).filter(lambda s: s.strip() and "{{" not in s and "}}" not in s and "|" not in s)


def _with_text(q: Any, text: str) -> Any:
    """The question with hostile text in every text field it has (revalidated, so it is real)."""
    data = q.model_dump()
    data["explanation"] = f"{text} {data['explanation']}"
    if q.type == "cloze":
        data["text"] = f"{text} {{{{{text.strip()}|b{text.strip()}}}}} and {{{{{text.strip()}}}}}"
    else:
        data["prompt"] = text
    if q.type in ("single", "multiple"):
        data["choices"][0]["text"] = text
    elif q.type == "short":
        data["answers"] = [text, f"{text} 2"]
    elif q.type == "matching":
        data["pairs"][0] = {"left": text, "right": text}
    elif q.type == "ordering":
        data["items"][1] = text
    elif q.type == "numeric":
        data["unit"] = text
    return type(q).model_validate(data)


@seed(int(os.environ["KZQUIZ_HYPOTHESIS_SEED"]))
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_HOSTILE, kind=st.sampled_from(QUESTION_TYPES), level=st.integers(0, 4))
def test_direct_items_equal_element_tree_items_on_hostile_text(
    exported: tuple[LoadedBank, bytes], text: str, kind: str, level: int
) -> None:
    loaded, _ = exported
    q = _with_text(next(q for q in loaded.bank.questions if q.type == kind), text)
    notes = qti.Notes(loaded, qti.FORMAT)
    plain = qti.indented_xml(qti._item(loaded, q, qti._Text(notes)), level)
    assert _direct_item_text(loaded, q, level) == (plain, notes.items)
    assert plain == _plain_item_text(loaded, q, level)


def test_zip_deflates_every_file_at_level_1(exported: tuple[LoadedBank, bytes]) -> None:
    # Raw deflate at level 1 gives these exact sizes; level 6 (zlib's default) gives others.
    _, data = exported
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if info.compress_type != zipfile.ZIP_DEFLATED:
                continue
            content = zf.read(info)
            level1 = zlib.compressobj(1, zlib.DEFLATED, -15)
            level6 = zlib.compressobj(6, zlib.DEFLATED, -15)
            size1 = len(level1.compress(content) + level1.flush())
            size6 = len(level6.compress(content) + level6.flush())
            assert size1 != size6, info.filename
            assert info.compress_size == size1, info.filename
