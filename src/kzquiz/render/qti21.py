"""IMS QTI 2.1: a content package for Blackboard, Brightspace/D2L, OpenOlat, ILIAS, TAO.

The package (a .zip) holds:

    imsmanifest.xml          IMS Content Packaging 1.1: one resource per item, one for the test
    items/<question id>.xml  one assessmentItem per question
    test.xml                 the assessmentTest: a section per topic (or per pool)
    images/<name>            each picture the questions show, once

Pictures: the `image:` is an XHTML `<img src="../images/<name>" alt="...">` (relative to the
item's file) after the question text, in the interaction's prompt (which holds inline
content only: a line break, the image, a line break and the caption and credit as text) or
in paragraphs of the itemBody; the `explanation_image:` is in paragraphs of the
modalFeedback. Each picture is a `<file>` of the resource of every item that shows it.

Question types and their interactions:
single, truefalse -> choiceInteraction (maxChoices 1; true/false as the choices True and
False), match_correct template; multiple -> choiceInteraction (maxChoices 0), map_response
template (each right choice 1/k, each wrong -1/w, bounded to 0..1, as Moodle weighs them);
short -> textEntryInteraction, map_response with a case-insensitive mapping of every accepted
answer; numeric -> textEntryInteraction of baseType float, custom responseProcessing with
`<equal toleranceMode="absolute">` for a tolerance, `<gte>`/`<lte>` for a range; cloze ->
one textEntryInteraction per blank in the text, each blank a case-insensitive mapping and
the score the share of blanks right; matching -> matchInteraction of directedPairs,
map_response; ordering -> orderInteraction, match_correct.

Every item scores 0..1 (SCORE); the test weighs each item by its points (`<weight>` on the
item reference) and sums them. The explanation and evidence are a modalFeedback shown after
every attempt: the FEEDBACK outcome's default value names it, so the standard templates,
which never touch FEEDBACK, still show it. Item titles are the question ids.

Pools (the bank's `pools:`) become assessmentSections with `<selection select="N"/>`, so
the delivery system draws N per candidate.

Files are ElementTree elements written by qti.indented_xml: all bank text is element text
or attribute values, escaped by construction; characters XML cannot hold are removed with a
note (qti._Text). The zip is deterministic (render/archive.zip_bytes, the archive date).
"""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal

from typing_extensions import assert_never

from kzquiz.bank import LoadedBank
from kzquiz.images import image_of, media
from kzquiz.model import (
    Cloze,
    Image,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
)
from kzquiz.pools import Pool, job_pools
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.archive import archive_date, zip_bytes
from kzquiz.render.export_common import Notes, bank_order, feedback_text, numeric_prompt
from kzquiz.render.qti import (
    DEFLATE_LEVEL,
    XSI_NS,
    _decimal,
    _sub,
    _Text,
    indented_xml,
    stable_id,
)

FORMAT = "QTI 2.1"
QTI_NS = "http://www.imsglobal.org/xsd/imsqti_v2p1"
QTI_XSD = "http://www.imsglobal.org/xsd/qti/qtiv2p1/imsqti_v2p1.xsd"
CP_NS = "http://www.imsglobal.org/xsd/imscp_v1p1"
CP_XSD = "http://www.imsglobal.org/xsd/imscp_v1p1.xsd"
TEMPLATES = "http://www.imsglobal.org/question/qti_v2p1/rptemplates/"
TOOL = "kzquiz"
IMAGES = "images"  # the package's folder of pictures
ALT_MAX = 256  # QTI 2.1's img alt is a string256


def item_identifier(q: Question) -> str:
    """The item's identifier: the question id, made a valid NCName (ids may start with a digit)."""
    return f"q-{q.id}"


def item_href(q: Question) -> str:
    """Where the item's file is in the package."""
    return f"items/{q.id}.xml"


def _flow(parent: ET.Element, text: str) -> None:
    """Plain bank text as XHTML paragraphs under `parent`, line breaks as <br/>."""
    for para in text.split("\n\n"):
        p = _sub(parent, "p")
        _lines(p, para.strip("\n"))


def _lines(p: ET.Element, text: str) -> None:
    """`text` appended to `p` (after its last child), each newline a <br/>."""
    for j, line in enumerate(text.split("\n")):
        if j:
            ET.SubElement(p, "br")
        if len(p):
            p[-1].tail = (p[-1].tail or "") + line
        else:
            p.text = (p.text or "") + line


class _Item:
    """Builds one assessmentItem; the methods follow the order of an item's parts."""

    def __init__(self, loaded: LoadedBank, q: Question, text: _Text) -> None:
        self.loaded, self.q, self.t = loaded, q, text
        self.root = ET.Element(
            "assessmentItem",
            {
                "xmlns": QTI_NS,
                "xmlns:xsi": XSI_NS,
                "xsi:schemaLocation": f"{QTI_NS} {QTI_XSD}",
                "identifier": item_identifier(q),
                "title": text(q.id),
                "adaptive": "false",
                "timeDependent": "false",
                "toolName": TOOL,
            },
        )
        self.body: ET.Element | None = None

    def response(
        self, ident: str, cardinality: str, base: str, correct: Sequence[str]
    ) -> ET.Element:
        """A responseDeclaration with its correct response."""
        decl = _sub(
            self.root,
            "responseDeclaration",
            identifier=ident,
            cardinality=cardinality,
            baseType=base,
        )
        values = _sub(decl, "correctResponse")
        for value in correct:
            _sub(values, "value", value)
        return decl

    def outcomes(self) -> None:
        """SCORE (0..1) and FEEDBACK, whose default shows the general feedback every time."""
        score = _sub(
            self.root,
            "outcomeDeclaration",
            identifier="SCORE",
            cardinality="single",
            baseType="float",
            normalMaximum="1",
            normalMinimum="0",
        )
        _sub(_sub(score, "defaultValue"), "value", "0")
        feedback = _sub(
            self.root,
            "outcomeDeclaration",
            identifier="FEEDBACK",
            cardinality="single",
            baseType="identifier",
        )
        _sub(_sub(feedback, "defaultValue"), "value", "general")

    def item_body(self) -> ET.Element:
        """The itemBody, opened once."""
        self.body = _sub(self.root, "itemBody")
        return self.body

    def prompt(self, interaction: ET.Element, text: str) -> None:
        """The question as the interaction's prompt, its picture after it."""
        prompt = _sub(interaction, "prompt")
        _lines(prompt, self.t(text))
        if (img := self.img(self.q.image)) is not None:
            ET.SubElement(prompt, "br")
            prompt.append(img)
            if note := self.caption(self.q.image):
                ET.SubElement(prompt, "br")
                _lines(prompt, note)

    def img(self, image: Image | None) -> ET.Element | None:
        """The picture as an <img> (None without one)."""
        found = image_of(self.loaded, image)
        if image is None or found is None:
            return None
        alt = self.t(image.alt)
        if len(alt) > ALT_MAX:
            self.t.notes.add(
                self.q, f"has a picture alt text over {ALT_MAX} characters; it is shortened"
            )
            alt = alt[: ALT_MAX - 1] + "\u2026"
        return ET.Element("img", src=f"../{IMAGES}/{found.name}", alt=alt)

    def caption(self, image: Image | None) -> str:
        """The picture's caption and credit as one line of text ("" without either)."""
        if image is None:
            return ""
        return self.t(" \u2014 ".join(t for t in (image.caption, image.credit) if t))

    def figure(self, parent: ET.Element, image: Image | None) -> None:
        """The picture (and its caption) as paragraphs under `parent`, if there is one."""
        if (img := self.img(image)) is None:
            return
        _sub(parent, "p").append(img)
        if note := self.caption(image):
            _lines(_sub(parent, "p"), note)

    def template(self, name: str) -> None:
        """responseProcessing by one of the standard templates."""
        _sub(self.root, "responseProcessing", template=TEMPLATES + name)

    def finish(self) -> ET.Element:
        """The modalFeedback (explanation and evidence) closes the item."""
        fb = _sub(
            self.root,
            "modalFeedback",
            outcomeIdentifier="FEEDBACK",
            identifier="general",
            showHide="show",
        )
        _flow(fb, self.t(feedback_text(self.loaded, self.q)))
        self.figure(fb, self.q.explanation_image)
        return self.root


def _share(parts: int) -> str:
    """1/parts rounded up to six decimals: all the parts add up to at least 1 (the mapping's
    upper bound then makes it exactly 1), where 0.333333 three times would be 0.999999."""
    return str(
        (Decimal(1) / parts).quantize(Decimal("0.000001"), rounding=ROUND_CEILING).normalize()
    )


def _choices(item: _Item, choices: list[tuple[str, bool]], multiple: bool) -> None:
    ids = [f"C{j}" for j in range(1, len(choices) + 1)]
    right = [i for i, (_, correct) in zip(ids, choices, strict=True) if correct]
    decl = item.response("RESPONSE", "multiple" if multiple else "single", "identifier", right)
    if multiple:
        wrong = len(choices) - len(right)
        mapping = _sub(decl, "mapping", lowerBound="0", upperBound="1", defaultValue="0")
        for ident, (_, correct) in zip(ids, choices, strict=True):
            value = _share(len(right)) if correct else "-" + _share(wrong)
            _sub(mapping, "mapEntry", mapKey=ident, mappedValue=value, caseSensitive="true")
    item.outcomes()
    interaction = _sub(
        item.item_body(),
        "choiceInteraction",
        responseIdentifier="RESPONSE",
        shuffle="false" if isinstance(item.q, TrueFalse) else "true",
        maxChoices="0" if multiple else "1",
    )
    item.prompt(interaction, item.q.stem)
    for ident, (text, _) in zip(ids, choices, strict=True):
        _lines(_sub(interaction, "simpleChoice", identifier=ident), item.t(text))
    item.template("map_response" if multiple else "match_correct")


def _text_mapping(item: _Item, ident: str, answers: Sequence[str]) -> None:
    """A string response accepting any of `answers`, case-insensitively."""
    accepted: dict[str, str] = {}
    for answer in answers:
        # Keys equal but for case would be duplicates of a case-insensitive mapping.
        accepted.setdefault(item.t(answer).casefold(), item.t(answer))
    decl = item.response(ident, "single", "string", [item.t(answers[0])])
    mapping = _sub(decl, "mapping", defaultValue="0")
    for answer in accepted.values():
        _sub(mapping, "mapEntry", mapKey=answer, mappedValue="1", caseSensitive="false")


def _short(item: _Item, q: Short) -> None:
    _text_mapping(item, "RESPONSE", q.answers)
    item.outcomes()
    body = item.item_body()
    p = _sub(body, "p")
    _lines(p, item.t(q.stem))
    item.figure(body, q.image)
    _sub(
        _sub(body, "p"),
        "textEntryInteraction",
        responseIdentifier="RESPONSE",
        expectedLength=str(max(10, min(60, max(len(a) for a in q.answers)))),
    )
    item.template("map_response")


def _numeric(item: _Item, q: Numeric) -> None:
    item.response("RESPONSE", "single", "float", [str(_decimal(q.answer))])
    item.outcomes()
    body = item.item_body()
    _lines(_sub(body, "p"), item.t(numeric_prompt(q)))
    item.figure(body, q.image)
    _sub(_sub(body, "p"), "textEntryInteraction", responseIdentifier="RESPONSE")
    rp = _sub(item.root, "responseProcessing")
    cond = _sub(rp, "responseCondition")
    when = _sub(cond, "responseIf")
    if q.range is not None:
        test = _sub(when, "and")
        lo, hi = (str(_decimal(x)) for x in q.range)
        for op, bound in (("gte", lo), ("lte", hi)):
            compare = _sub(test, op)
            _sub(compare, "variable", identifier="RESPONSE")
            _sub(compare, "baseValue", bound, baseType="float")
    else:
        tolerance = str(_decimal(q.tolerance or 0))
        attrs = (
            {"toleranceMode": "absolute", "tolerance": f"{tolerance} {tolerance}"}
            if q.tolerance
            else {"toleranceMode": "exact"}
        )
        test = _sub(when, "equal", **attrs)
        _sub(test, "variable", identifier="RESPONSE")
        _sub(test, "correct", identifier="RESPONSE")
    _set_score(when, "1")
    _set_score(_sub(cond, "responseElse"), "0")


def _set_score(parent: ET.Element, value: str) -> None:
    _sub(_sub(parent, "setOutcomeValue", identifier="SCORE"), "baseValue", value, baseType="float")


def _cloze(item: _Item, q: Cloze) -> None:
    names = [f"RESPONSE_{i}" for i in range(1, len(q.blanks) + 1)]
    for name, alts in zip(names, q.blanks, strict=True):
        _text_mapping(item, name, alts)
    item.outcomes()
    body = item.item_body()
    p = _sub(body, "p")
    for seg in q.segments:
        if isinstance(seg, int):
            longest = max(len(a) for a in q.blanks[seg])
            _sub(
                p,
                "textEntryInteraction",
                responseIdentifier=names[seg],
                expectedLength=str(max(5, min(40, longest))),
            )
        else:
            _lines(p, item.t(seg))
    item.figure(body, q.image)
    # The share of blanks answered right: each blank's mapping gives 1 or 0.
    total = _sub(
        _sub(_sub(item.root, "responseProcessing"), "setOutcomeValue", identifier="SCORE"), "divide"
    )
    added = _sub(total, "sum")
    for name in names:
        _sub(added, "mapResponse", identifier=name)
    _sub(total, "baseValue", f"{len(names)}", baseType="float")


def _matching(item: _Item, q: Matching) -> None:
    lefts = [f"L{j}" for j in range(1, len(q.pairs) + 1)]
    rights: dict[str, str] = {}
    uses: dict[str, int] = {}
    for row in q.pairs:
        ident = rights.setdefault(row.right, f"R{len(rights) + 1}")
        uses[ident] = uses.get(ident, 0) + 1
    pairs = [f"{left} {rights[p.right]}" for left, p in zip(lefts, q.pairs, strict=True)]
    decl = item.response("RESPONSE", "multiple", "directedPair", pairs)
    mapping = _sub(decl, "mapping", lowerBound="0", upperBound="1", defaultValue="0")
    for key in pairs:
        _sub(
            mapping,
            "mapEntry",
            mapKey=key,
            mappedValue=_share(len(pairs)),
            caseSensitive="true",
        )
    item.outcomes()
    interaction = _sub(
        item.item_body(),
        "matchInteraction",
        responseIdentifier="RESPONSE",
        shuffle="true",
        maxAssociations=str(len(pairs)),
    )
    item.prompt(interaction, q.stem)
    source = _sub(interaction, "simpleMatchSet")
    for ident, row in zip(lefts, q.pairs, strict=True):
        _lines(
            _sub(source, "simpleAssociableChoice", identifier=ident, matchMax="1"),
            item.t(row.left),
        )
    target = _sub(interaction, "simpleMatchSet")
    # Listed alphabetically: in bank order the options would line up with their left items.
    for right, ident in sorted(rights.items(), key=lambda kv: (kv[0].casefold(), kv[0])):
        _lines(
            _sub(target, "simpleAssociableChoice", identifier=ident, matchMax=str(uses[ident])),
            item.t(right),
        )
    item.template("map_response")


def _ordering(item: _Item, q: Ordering) -> None:
    ids = [f"O{j}" for j in range(1, len(q.items) + 1)]
    item.response("RESPONSE", "ordered", "identifier", ids)
    item.outcomes()
    interaction = _sub(
        item.item_body(), "orderInteraction", responseIdentifier="RESPONSE", shuffle="true"
    )
    item.prompt(interaction, q.stem)
    # Written out of order (a fixed draw per question): a player that ignores `shuffle`
    # must not show the answer.
    order = list(range(len(ids)))
    rng = random.Random(f"{item.loaded.id}:{q.id}")
    while order == sorted(order):
        rng.shuffle(order)
    for j in order:
        _lines(_sub(interaction, "simpleChoice", identifier=ids[j]), item.t(q.items[j]))
    item.template("match_correct")


def assessment_item(loaded: LoadedBank, q: Question, text: _Text) -> ET.Element:
    """One question as an assessmentItem element."""
    text.q = q
    item = _Item(loaded, q, text)
    if isinstance(q, Single):
        _choices(item, [(c.text, c.correct) for c in q.choices], multiple=False)
    elif isinstance(q, Multiple):
        _choices(item, [(c.text, c.correct) for c in q.choices], multiple=True)
    elif isinstance(q, TrueFalse):
        _choices(item, [("True", q.answer), ("False", not q.answer)], multiple=False)
    elif isinstance(q, Short):
        _short(item, q)
    elif isinstance(q, Numeric):
        _numeric(item, q)
    elif isinstance(q, Matching):
        _matching(item, q)
    elif isinstance(q, Ordering):
        _ordering(item, q)
    elif isinstance(q, Cloze):
        _cloze(item, q)
    else:
        assert_never(q)
    root = item.finish()
    text.q = None
    return root


@dataclass(frozen=True)
class _Section:
    ident: str
    title: str
    questions: list[Question]
    select: int | None = None  # a pool: the delivery draws this many


def sections(
    loaded: LoadedBank, questions: Sequence[Question], pools: Sequence[Pool]
) -> list[_Section]:
    """The test's sections: one per topic for the questions outside pools, then one per pool
    (the order the Canvas package and Moodle XML have too)."""
    # Grouped in one pass each: a scan of every question per topic or pool was quadratic on a
    # bank of many topics or pools.
    pool_of = {i: j for j, pool in enumerate(pools) for i in pool.question_ids}
    by_topic: dict[str, list[Question]] = {}
    for q in bank_order(loaded, questions):
        if q.id not in pool_of:
            by_topic.setdefault(q.topic, []).append(q)
    by_pool: list[list[Question]] = [[] for _ in pools]
    for q in questions:
        if q.id in pool_of:
            by_pool[pool_of[q.id]].append(q)
    out: list[_Section] = []
    for topic, name in loaded.bank.topics.items():
        if mine := by_topic.get(topic):
            out.append(_Section(f"topic-{topic}", name, mine))
    for pool, members in zip(pools, by_pool, strict=True):
        if members:
            out.append(_Section(f"pool-{pool.id}", pool.title, members, pool.draw))
    return out


def assessment_test(
    loaded: LoadedBank,
    questions: Sequence[Question],
    pools: Sequence[Pool],
    ident: str,
    text: _Text,
) -> ET.Element:
    """The assessmentTest: sections of item references, each weighed by its points."""
    root = ET.Element(
        "assessmentTest",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {QTI_XSD}",
            "identifier": ident,
            "title": text(loaded.title),
            "toolName": TOOL,
        },
    )
    score = _sub(
        root, "outcomeDeclaration", identifier="SCORE", cardinality="single", baseType="float"
    )
    _sub(_sub(score, "defaultValue"), "value", "0")
    part = _sub(
        root,
        "testPart",
        identifier="part-1",
        navigationMode="nonlinear",
        submissionMode="individual",
    )
    for section in sections(loaded, questions, pools):
        el = _sub(
            part,
            "assessmentSection",
            identifier=section.ident,
            title=text(section.title),
            visible="true",
        )
        if section.select is not None:
            _sub(el, "selection", select=str(section.select))
        for q in section.questions:
            ref = _sub(el, "assessmentItemRef", identifier=item_identifier(q), href=item_href(q))
            _sub(ref, "weight", identifier="W", value=str(q.score))
    total = _sub(
        _sub(_sub(root, "outcomeProcessing"), "setOutcomeValue", identifier="SCORE"), "sum"
    )
    _sub(total, "testVariables", variableIdentifier="SCORE", weightIdentifier="W")
    return root


def manifest(
    loaded: LoadedBank, questions: Sequence[Question], ident: str, text: _Text
) -> ET.Element:
    """imsmanifest.xml: the test and every item as resources, the test depending on its items."""
    root = ET.Element(
        "manifest",
        {
            "xmlns": CP_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{CP_NS} {CP_XSD} {QTI_NS} {QTI_XSD}",
            "identifier": stable_id(loaded.id, ident, "manifest"),
        },
    )
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", "QTIv2.1 Package")
    _sub(metadata, "schemaversion", "1.0.0")
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    test = _sub(
        resources, "resource", identifier=ident, type="imsqti_test_xmlv2p1", href="test.xml"
    )
    _sub(test, "file", href="test.xml")
    for q in questions:
        _sub(test, "dependency", identifierref=item_identifier(q))
    for q in questions:
        res = _sub(
            resources,
            "resource",
            identifier=item_identifier(q),
            type="imsqti_item_xmlv2p1",
            href=item_href(q),
        )
        _sub(res, "file", href=item_href(q))
        for name in media(loaded, [q]):
            _sub(res, "file", href=f"{IMAGES}/{name}")
    return root


def _xml(root: ET.Element) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{indented_xml(root)}\n'.encode()


def render_qti21(
    loaded: LoadedBank, questions: Sequence[Question], pools: Sequence[Pool] = ()
) -> tuple[bytes, list[str]]:
    """The questions as a QTI 2.1 content package (zip) and notes on anything it cannot hold."""
    notes = Notes(loaded, FORMAT)
    text = _Text(notes)
    ident = "t" + stable_id(loaded.id, "qti21", *(q.id for q in questions))[1:]
    ordered = bank_order(loaded, questions)
    files: dict[str, bytes] = {}
    for q in ordered:
        files[item_href(q)] = _xml(assessment_item(loaded, q, text))
    files["test.xml"] = _xml(assessment_test(loaded, ordered, pools, ident, text))
    files["imsmanifest.xml"] = _xml(manifest(loaded, ordered, ident, text))
    files.update((f"{IMAGES}/{name}", data) for name, data in media(loaded, ordered).items())
    return zip_bytes(files, archive_date(), compresslevel=DEFLATE_LEVEL), notes.items


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.qti21.zip` of `job.questions`."""
    data, notes = render_qti21(job.loaded, job.questions, job_pools(job))
    return Outputs(files={job.loaded.id + ".qti21.zip": data}, notes=notes)
