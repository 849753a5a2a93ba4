"""Moodle XML export: golden file, Moodle's own cloze parser, a PyPI reader, hostile text.

What is checked: the file parses as XML (no CDATA, no DOCTYPE); one <question> per bank
question in Moodle's type for it, under a category question per topic; names, id numbers,
marks, tags and general feedback; each type's answers read back to the bank's (fractions
included); embedded answers parsed with a transcription of Moodle's own
qtype_multianswer_extract_question, so hostile bank text never forms a live blank and
escaped answers come back as the bank has them; and the multichoice and simple cloze
questions read back by moodle-xml-parser (PyPI), an independent reader.
"""

from __future__ import annotations

import html
import os
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, seed, settings
from hypothesis import strategies as st
from moodle_xml_parser import parser as moodle_parser

from export_helpers import check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.loader import load_bank
from kzquiz.model import Cloze, Matching, Multiple, Numeric, Ordering, Short, Single, TrueFalse
from kzquiz.render import RenderJob
from kzquiz.render.export_common import feedback_text
from kzquiz.render.moodle import category_path, cloze_text, render, render_moodle

QTYPE = {
    "single": "multichoice",
    "multiple": "multichoice",
    "truefalse": "truefalse",
    "short": "shortanswer",
    "numeric": "numerical",
    "matching": "matching",
    "ordering": "ordering",
    "cloze": "cloze",
}


@pytest.fixture
def exported(make_bank: Any) -> tuple[LoadedBank, bytes, list[str]]:
    loaded = load_export_bank(make_bank)
    data, notes = render_moodle(loaded, loaded.bank.questions)
    return loaded, data, notes


def _questions(data: bytes) -> list[ET.Element]:
    assert b"<![CDATA[" not in data and b"<!DOCTYPE" not in data
    root = ET.fromstring(data)
    assert root.tag == "quiz"
    return list(root)


def _text(el: ET.Element, path: str) -> str:
    found = el.find(path)
    assert found is not None, path
    return found.text or ""


class _Visible(HTMLParser):
    """What a browser shows of an HTML text, and every tag it would make."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.tags.append(tag)
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible(markup: str) -> tuple[str, set[str]]:
    parser = _Visible()
    parser.feed(markup)
    parser.close()
    return "".join(parser.parts), set(parser.tags)


# --- Moodle's embedded-answers parser, transcribed (question/type/multianswer/questiontype.php)

_FRACTION = r"=|%(-?[0-9]+)%"
# PHP's (?<!\\|&|&amp;) as three fixed-width look-behinds (Python needs fixed widths).
_ANSWER = r".+?(?<!\\)(?<!&)(?<!&amp;)(?=[~#}]|$)"
_FEEDBACK = r".*?(?<!\\)(?=[~}]|$)"
_ALTERNATIVE = f"({_FRACTION})?({_ANSWER})(#({_FEEDBACK}))?"
_TYPES = (
    r"(NUMERICAL|NM)|(MULTICHOICE|MC)|(MULTICHOICE_V|MCV)|(MULTICHOICE_H|MCH)|"
    r"(SHORTANSWER|SA|MW)|(SHORTANSWER_C|SAC|MWC)"
)
_EMBEDDED = re.compile(
    r"\{([0-9]*):(" + _TYPES + "):(" + _ALTERNATIVE + "(~" + _ALTERNATIVE + r")*)\}", re.S
)
_ONE_ALTERNATIVE = re.compile("~?" + _ALTERNATIVE, re.S)


def moodle_extract(text: str) -> tuple[str, list[tuple[int, list[tuple[str, float]]]]]:
    """The question text with {#k} for each blank, and each blank's (weight, answers)."""
    blanks = []
    k = 1
    while m := _EMBEDDED.search(text):
        weight = int(m.group(1) or "1")
        assert m.group(7), "only SHORTANSWER blanks are written"
        answers = []
        remaining = m.group(9)
        while alt := _ONE_ALTERNATIVE.search(remaining):
            fraction = 1.0 if alt.group(1) == "=" else float(alt.group(2) or 0) / 100
            answer = html.unescape(alt.group(3)).replace("\\}", "}").replace("\\#", "#")
            answers.append((answer, fraction))
            remaining = remaining.split(alt.group(0), 1)[1]
        blanks.append((weight, answers))
        text = text.replace(m.group(0), f"{{#{k}}}", 1)
        k += 1
    return text, blanks


def _short_answer_literal(answer: str) -> str:
    """What a shortanswer answer matches: '\\*' is a literal asterisk (no wildcard written)."""
    assert not re.search(r"(?<!\\)\*", answer), f"a live wildcard in {answer!r}"
    return answer.replace("\\*", "*")


# --- tests --------------------------------------------------------------------------------


def test_golden(exported: tuple[LoadedBank, bytes, list[str]], request: Any) -> None:
    _, data, notes = exported
    check_golden(request, "export-bank.moodle.xml", data)
    assert notes == []


def test_one_question_per_bank_question_in_moodles_types(
    exported: tuple[LoadedBank, bytes, list[str]],
) -> None:
    loaded, data, _ = exported
    elements = _questions(data)
    by_id = {q.id: q for q in loaded.bank.questions}
    seen: list[str] = []
    category = ""
    for el in elements:
        qtype = el.get("type")
        if qtype == "category":
            category = _text(el, "category/text")
            continue
        name = _text(el, "name/text")
        q = by_id[name]
        seen.append(name)
        assert qtype == QTYPE[q.type], name
        assert category == category_path(loaded, q.topic), name
        assert _text(el, "idnumber") == q.id
        assert el.find("questiontext").get("format") == "html"  # type: ignore[union-attr]
        if q.type != "cloze":
            assert float(_text(el, "defaultgrade")) == q.score, name
        tags = [t.text for t in el.iterfind("tags/tag/text")]
        assert tags == [*q.tags, f"difficulty-{q.difficulty}"], name
        shown, _ = visible(_text(el, "generalfeedback/text"))
        assert shown == feedback_text(loaded, q), name
    assert sorted(seen) == sorted(by_id)  # each once, none left out
    assert len(seen) == len(by_id)
    assert category_path(loaded, "sovereignty") == (
        '$course$/top/Exports: {GIFT} & <QTI> "test"/Sovereignty // international law'
    )


def test_answers_read_back_as_the_bank_has_them(
    exported: tuple[LoadedBank, bytes, list[str]],
) -> None:
    loaded, data, _ = exported
    elements = {
        _text(el, "name/text"): el for el in _questions(data) if el.get("type") != "category"
    }
    for q in loaded.bank.questions:
        el = elements[q.id]
        shown, tags = visible(_text(el, "questiontext/text"))
        assert tags <= {"p", "br"}, q.id  # bank text never becomes markup
        answers = el.findall("answer")
        if isinstance(q, (Single, Multiple)):
            assert _text(el, "single") == ("true" if isinstance(q, Single) else "false")
            assert shown == q.stem
            got = [(visible(_text(a, "text"))[0], float(a.get("fraction", ""))) for a in answers]
            right = sum(c.correct for c in q.choices)
            wrong = len(q.choices) - right
            for (text, fraction), c in zip(got, q.choices, strict=True):
                assert text == c.text
                if isinstance(q, Single):
                    assert fraction == (100 if c.correct else 0)
                else:
                    expected = 100 / right if c.correct else -100 / wrong
                    assert fraction == pytest.approx(expected, abs=1e-5)
            assert sum(f for _, f in got if f > 0) == pytest.approx(100, abs=1e-4)
        elif isinstance(q, TrueFalse):
            got = {_text(a, "text"): a.get("fraction") for a in answers}
            assert got == {"true": "100" if q.answer else "0", "false": "0" if q.answer else "100"}
        elif isinstance(q, Short):
            assert [_short_answer_literal(_text(a, "text")) for a in answers] == q.answers
            assert {a.get("fraction") for a in answers} == {"100"}
            assert _text(el, "usecase") == "0"
        elif isinstance(q, Numeric):
            values = [
                (float(_text(a, "text")), float(_text(a, "tolerance")), a.get("fraction"))
                for a in answers
            ]
            assert values[0][0] == q.answer  # the bank's answer is the one Moodle shows
            lo, hi = q.bounds
            assert any(
                v - t == pytest.approx(lo) and v + t == pytest.approx(hi) for v, t, _ in values
            )
            assert {f for _, _, f in values} == {"100"}
            assert [u.text for u in el.iterfind("units/unit/unit_name")] == [q.unit]
        elif isinstance(q, Matching):
            pairs = [
                (visible(_text(s, "text"))[0], _text(s, "answer/text"))
                for s in el.iterfind("subquestion")
            ]
            assert pairs == [(p.left, " ".join(p.right.splitlines())) for p in q.pairs]
        elif isinstance(q, Ordering):
            items = sorted(answers, key=lambda a: float(a.get("fraction", "")))
            assert [visible(_text(a, "text"))[0] for a in items] == q.items
            assert _text(el, "gradingtype") == "ALL_OR_NOTHING"
        elif isinstance(q, Cloze):
            text, blanks = moodle_extract(_text(el, "questiontext/text"))
            assert [[_short_answer_literal(a) for a, _ in b] for _, b in blanks] == q.blanks
            assert all(f == 1.0 for _, b in blanks for _, f in b)
            assert sum(w for w, _ in blanks) == q.score
            marked = "".join(f"{{#{s + 1}}}" if isinstance(s, int) else s for s in q.segments)
            assert visible(text)[0] == marked
        else:  # pragma: no cover
            raise AssertionError(q.type)


def test_a_moodle_xml_reader_from_pypi_reads_it(
    exported: tuple[LoadedBank, bytes, list[str]],
) -> None:
    loaded, data, _ = exported
    parsed = moodle_parser.parse_bytes(data)
    choice = [q for q in loaded.bank.questions if isinstance(q, (Single, Multiple))]
    assert [m.name for m in parsed["multichoice"]] == [q.id for q in choice]
    for m, q in zip(parsed["multichoice"], choice, strict=True):
        assert m.single == isinstance(q, Single)
        assert [visible(o.answer)[0] for o in m.options] == [c.text for c in q.choices]
        assert [o.score_fraction > 0 for o in m.options] == [c.correct for c in q.choices]
        # (the reader decodes references once more than XML does, as if the text were CDATA,
        # so a feedback holding "<" or "&" reads back changed there)
        if not set("<>&") & set(feedback_text(loaded, q)):
            assert visible(m.general_feedback or "")[0] == feedback_text(loaded, q)
    (forum,) = [c for c in parsed["cloze"] if c.name == "forum-number"]
    assert [[o.answer for o in g.options] for g in forum.gaps] == [
        ["25th", "twenty-fifth"],
        ["Economic"],
        ["June", "Jun"],
    ]
    assert {g.sub_type for g in forum.gaps} == {"SHORTANSWER"}
    assert {o.score for g in forum.gaps for o in g.options} == {100}


def test_deterministic_and_render_job(exported: tuple[LoadedBank, bytes, list[str]]) -> None:
    loaded, data, _ = exported
    assert render_moodle(loaded, loaded.bank.questions)[0] == data
    out = render(RenderJob(loaded, loaded.bank.questions))
    assert out.files == {"export-test.moodle.xml": data}
    assert out.notes == []


HOSTILE = """\
bank:
  id: hostile
  title: "T ]]> <script>alert(1)</script> {1:SHORTANSWER:=x}"
  source: {title: S, text: article.txt}
topics:
  t: "a/b ]]>"
questions:
  - id: h-cloze
    type: cloze
    topic: t
    difficulty: 1
    text: "Live? {1:SHORTANSWER:=x} ]]> <script>alert(1)</script> {{a~b=c#d{e}f\\\\g*h&amp;|&|x&#35;}} end {{%50%y}}"
    explanation: "<script>alert(2)</script> ]]> {1:SHORTANSWER:=z}"
    evidence: two UN principles came into conflict
  - id: h-single
    type: single
    topic: t
    difficulty: 1
    prompt: "<img src=x onerror=alert(1)> ]]> {1:MULTICHOICE:=a~b}"
    choices:
      - {text: "<script>x</script> ]]>", correct: true}
      - {text: "{2:SA:=b}"}
    explanation: E
    evidence: two UN principles came into conflict
  - id: h-short
    type: short
    topic: t
    difficulty: 1
    prompt: P
    answers: ["a*b", "]]> & <x>", "\\\\*"]
    explanation: E
    evidence: two UN principles came into conflict
  - id: h-matching
    type: matching
    topic: t
    difficulty: 1
    prompt: P
    pairs:
      - {left: "<b>l</b> ]]>", right: "<script>r</script> ]]>"}
      - {left: "{1:SA:=q}", right: "&amp;"}
    explanation: E
    evidence: two UN principles came into conflict
  - id: h-numeric
    type: numeric
    topic: t
    difficulty: 1
    prompt: P
    answer: 1.5
    tolerance: 0.25
    unit: "<u>% ]]>"
    explanation: E
    evidence: two UN principles came into conflict
"""


def test_hostile_text_stays_text(make_bank: Any) -> None:
    loaded = load_bank(Path(make_bank(HOSTILE)))
    data, notes = render_moodle(loaded, loaded.bank.questions)
    assert notes == []
    elements = _questions(data)
    assert b"<script" not in data and b"]]>" not in data.replace(b"]]&gt;", b"")
    by_name = {_text(el, "name/text"): el for el in elements if el.get("type") != "category"}
    # The category holds the title and topic as written ('/' doubled, as Moodle splits it).
    (category,) = [el for el in elements if el.get("type") == "category"]
    assert _text(category, "category/text") == (
        "$course$/top/T ]]> <script>alert(1)<//script> {1:SHORTANSWER:=x}/a//b ]]>"
    )
    for name, el in by_name.items():
        for node in el.iter("text"):
            if node.text and el.find("questiontext/text") is node:
                _, tags = visible(node.text)
                assert tags <= {"p", "br"}, name
        _, tags = visible(_text(el, "generalfeedback/text"))
        assert tags <= {"p", "br"}, name
    # Only the bank's two blanks are live; their answers come back exactly.
    q = next(q for q in loaded.bank.questions if q.id == "h-cloze")
    text, blanks = moodle_extract(_text(by_name["h-cloze"], "questiontext/text"))
    assert [[_short_answer_literal(a) for a, _ in b] for _, b in blanks] == q.blanks
    assert q.blanks == [["a~b=c#d{e}f\\g*h&amp;", "&", "x&#35;"], ["%50%y"]]
    shown, _ = visible(text)
    assert shown == "Live? {1:SHORTANSWER:=x} ]]> <script>alert(1)</script> {#1} end {#2}"
    # No embedded answer anywhere else: prompts, choices and feedback keep their braces.
    for name, el in by_name.items():
        if name != "h-cloze":
            assert moodle_extract(_text(el, "questiontext/text"))[1] == [], name
        assert moodle_extract(_text(el, "generalfeedback/text"))[1] == [], name
    single = by_name["h-single"]
    assert [visible(_text(a, "text"))[0] for a in single.findall("answer")] == [
        "<script>x</script> ]]>",
        "{2:SA:=b}",
    ]
    short = by_name["h-short"]
    assert [_short_answer_literal(_text(a, "text")) for a in short.findall("answer")] == [
        "a*b",
        "]]> & <x>",
        "\\*",
    ]
    matching = by_name["h-matching"]
    assert [_text(s, "answer/text") for s in matching.iterfind("subquestion")] == [
        "<script>r</script> ]]>",
        "&amp;",
    ]
    assert [u.text for u in by_name["h-numeric"].iterfind("units/unit/unit_name")] == ["<u>% ]]>"]


def test_unlisted_multiple_answer_weights_are_reported(make_bank: Any) -> None:
    choices = [{"text": f"c{i}", "correct": i < 11} for i in range(12)]
    data = {
        "bank": {"id": "w", "title": "W", "source": {"title": "S", "text": "article.txt"}},
        "topics": {"t": "T"},
        "questions": [
            {
                "id": "many",
                "type": "multiple",
                "topic": "t",
                "difficulty": 1,
                "prompt": "P",
                "choices": choices,
                "explanation": "E",
                "evidence": "two UN principles came into conflict",
            }
        ],
    }
    loaded = load_bank(Path(make_bank(data)))
    _, notes = render_moodle(loaded, loaded.bank.questions)
    assert notes == [
        "questions[0] (id: many): Moodle XML: 11 correct options weigh 9.09091% each, a grade "
        "Moodle does not list; import with 'Match grades: nearest' or edit the weights"
    ]


_ANSWER_TEXT = st.text(
    alphabet=st.sampled_from("~=#{}\\*&;<>%:\"' ax1é") | st.characters(codec="utf-8"),
    min_size=1,
    max_size=20,
).filter(lambda s: s == s.strip() and s and "|" not in s and "{{" not in s and "}}" not in s)


@seed(int(os.environ["KZQUIZ_HYPOTHESIS_SEED"]))
@settings(max_examples=300, deadline=None)
@given(answers=st.lists(_ANSWER_TEXT, min_size=1, max_size=3), before=_ANSWER_TEXT)
def test_embedded_answers_come_back_from_moodles_parser(answers: list[str], before: str) -> None:
    text = f"{before} {{{{{'|'.join(answers)}}}}} after"
    try:
        q = Cloze.model_validate(
            {"id": "c", "type": "cloze", "topic": "t", "difficulty": 1, "text": text}
            | {"explanation": "e", "evidence": "e"}
        )
    except ValueError:
        return  # not a valid bank text (e.g. a control character): the loader refuses it
    shown, blanks = moodle_extract(cloze_text(q))
    # A blank's answer is one line (a line break cannot be typed into a blank).
    one_line = [[re.sub("\r\n|\r|\n|\u2028|\u2029", " ", a) for a in b] for b in q.blanks]
    assert [[_short_answer_literal(a) for a, _ in b] for _, b in blanks] == one_line
    assert visible(shown)[0] == "".join("{#1}" if isinstance(s, int) else s for s in q.segments)
