"""Canvas QTI 1.2: a .zip that Canvas imports (Settings > Import Course Content > QTI .zip file).

The package has the layout Canvas and text2qti use:

    imsmanifest.xml
    non_cc_assessments/
    <assessment id>/assessment_meta.xml      Canvas quiz settings
    <assessment id>/<assessment id>.xml      the questions (questestinterop)

Question types, written the way Canvas's own exporter writes them:
single -> multiple_choice_question, multiple -> multiple_answers_question, truefalse ->
true_false_question, short -> short_answer_question, numeric -> numerical_question (a range
also keeps the model answer as an exact answer), matching and ordering -> matching_question
(ordering as Position 1..n -> item), cloze -> fill_in_multiple_blanks_question. Every item
carries its points and has the explanation and evidence as general feedback.

A question pool (kzquiz.pools) is a <section> inside the quiz's section with
<selection_ordering><selection><selection_number>N, which Canvas reads as a question group
drawing N per student; its points per question are the pool's highest (noted when they
differ), and the quiz's points count each pool by its draw.

Ids are stable: "g" + sha1 of the bank id and the question id, so a re-import can update the
same questions. The package files are ElementTree elements written by `indented_xml`; the
items, most of the bytes, are written directly by `item_text`, which gives the same bytes as
`indented_xml(_item(...))` (tests compare them on every item kind and on hostile text). Both
escape every text and attribute, so bank text is escaped by construction; the bank's text
is plain, so it is HTML-escaped inside the HTML `mattext` as well. The zip is
deterministic: sorted entries, fixed compression, and the date of `archive_time()`.

Pictures (`image:`, `explanation_image:`) travel as text2qti packs them for Canvas: each file
at `images/kzquiz-<hash>.<ext>` in the zip, listed in the manifest as a `webcontent`
resource of its own (its `href` and `<file>`), and referred to from the item's HTML as
`%24IMS-CC-FILEBASE%24/images/<name>`, which Canvas's importer resolves to the imported file.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from functools import lru_cache

from typing_extensions import assert_never

from kzquiz import i18n
from kzquiz.bank import LoadedBank
from kzquiz.images import image_of
from kzquiz.images import media as question_media
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
    format_number,
)
from kzquiz.pools import Pool, job_pools
from kzquiz.render import Outputs, RenderJob, archive_time
from kzquiz.render.archive import zip_bytes
from kzquiz.render.export_common import (
    Notes,
    feedback_text,
    numeric_prompt,
    ordering_pairs,
)

FORMAT = "QTI"
QTI_NS = "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"
CANVAS_NS = "http://canvas.instructure.com/xsd/cccv1p0"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"
MD_NS = "http://www.imsglobal.org/xsd/imsmd_v1p2"
LOM_NS = "http://ltsc.ieee.org/xsd/imsccv1p1/LOM/resource"

QUESTION_TYPE = {
    "single": "multiple_choice_question",
    "multiple": "multiple_answers_question",
    "truefalse": "true_false_question",
    "short": "short_answer_question",
    "numeric": "numerical_question",
    "matching": "matching_question",
    "ordering": "matching_question",
    "cloze": "fill_in_multiple_blanks_question",
}

# Characters XML 1.0 cannot hold (the loader already refuses control characters).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_PARAGRAPHS = re.compile(r"\n[ \t]*\n")


def stable_id(bank_id: str, *parts: str) -> str:
    """'g' + sha1 of the bank id and the parts: the same question always gets the same id."""
    return "g" + hashlib.sha1(":".join((bank_id, *parts)).encode("utf-8")).hexdigest()


class _Text:
    """Makes bank text safe for XML for one question, noting anything it had to remove."""

    def __init__(self, notes: Notes) -> None:
        self.notes = notes
        self.q: Question | None = None

    def __call__(self, text: str) -> str:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        bad = _NOT_XML.findall(text)
        if bad:
            codes = ", ".join(sorted({f"U+{ord(c):04X}" for c in bad}))
            message = f"removed {len(bad)} character(s) XML cannot hold ({codes})"
            if self.q is None:
                self.notes.add_bank(message)
            else:
                self.notes.add(self.q, message)
        return _NOT_XML.sub("", text)

    def html(self, text: str) -> str:
        """Plain text as HTML: escaped, blank lines to paragraphs, newlines to <br>."""
        paragraphs = _PARAGRAPHS.split(self(text))
        return "".join(
            "<p>" + html.escape(p.strip("\n"), quote=False).replace("\n", "<br>") + "</p>"
            for p in paragraphs
        )


IMAGES = "images"  # the zip's folder of pictures
_FILEBASE = "%24IMS-CC-FILEBASE%24"


PICTURES = f"{_FILEBASE}/{IMAGES}"  # where an item's HTML finds the pictures


def picture_html(loaded: LoadedBank, image: Image | None, text: _Text, base: str = PICTURES) -> str:
    """A picture's HTML in an item (empty without one), its file under `base`."""
    found = image_of(loaded, image)
    if image is None or found is None:
        return ""
    alt = html.escape(text(image.alt), quote=True)
    out = f'<p><img src="{base}/{found.name}" alt="{alt}"></p>'
    note = " \u2014 ".join(t for t in (image.caption, image.credit) if t)
    return out + (f"<p><small>{html.escape(text(note), quote=False)}</small></p>" if note else "")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    if text is not None:
        el.text = text
    return el


def _field(parent: ET.Element, label: str, entry: str) -> None:
    field = _sub(parent, "qtimetadatafield")
    _sub(field, "fieldlabel", label)
    _sub(field, "fieldentry", entry)


def _mattext(parent: ET.Element, text: str, texttype: str | None = "text/html") -> None:
    material = _sub(parent, "material")
    if texttype is None:
        _sub(material, "mattext", text)
    else:
        _sub(material, "mattext", text, texttype=texttype)


def _setvar(parent: ET.Element, value: str, action: str = "Set") -> None:
    if action == "Set":
        _sub(parent, "setvar", value, action="Set", varname="SCORE")
    else:
        _sub(parent, "setvar", value, varname="SCORE", action=action)


def _blank_names(q: Cloze) -> list[str]:
    """Blank ids for Canvas's [blank] placeholders that the text itself never contains."""
    prefix = "blank"
    while any(f"[{prefix}" in s for s in q.segments if isinstance(s, str)):
        prefix = "k" + prefix
    return [f"{prefix}{i}" for i in range(1, len(q.blanks) + 1)]


def _decimal(x: float) -> Decimal:
    # Through format_number, so 0.1 stays 0.1 and bounds are computed without float noise.
    return Decimal(format_number(x))


class _Item:
    """Builds one <item>; the methods follow the order of an item's parts."""

    pictures = PICTURES  # a Common Cartridge keeps them elsewhere

    def __init__(self, loaded: LoadedBank, q: Question, text: _Text) -> None:
        self.loaded, self.q, self.t = loaded, q, text
        self.ident = stable_id(loaded.id, q.id)
        self.el = ET.Element("item", ident=self.ident, title=text(q.id))

    def aid(self, *parts: str) -> str:
        """A stable id for an answer (choice, match, blank) of this question."""
        return stable_id(self.loaded.id, self.q.id, *parts)

    def metadata(self, answer_ids: list[str]) -> None:
        meta = _sub(_sub(self.el, "itemmetadata"), "qtimetadata")
        _field(meta, "question_type", QUESTION_TYPE[self.q.type])
        _field(meta, "points_possible", format_number(self.q.score))
        _field(meta, "original_answer_ids", ",".join(answer_ids))
        _field(meta, "assessment_question_identifierref", self.aid("ref"))

    def presentation(self, question_html: str) -> ET.Element:
        pres = _sub(self.el, "presentation")
        _mattext(
            pres, question_html + picture_html(self.loaded, self.q.image, self.t, self.pictures)
        )
        return pres

    def resprocessing(self) -> ET.Element:
        res = _sub(self.el, "resprocessing")
        _sub(
            _sub(res, "outcomes"),
            "decvar",
            maxvalue="100",
            minvalue="0",
            varname="SCORE",
            vartype="Decimal",
        )
        # General feedback shows whatever the answer, as text2qti and Canvas write it.
        cond = _sub(res, "respcondition", **{"continue": "Yes"})
        _sub(_sub(cond, "conditionvar"), "other")
        _sub(cond, "displayfeedback", feedbacktype="Response", linkrefid="general_fb")
        return res

    def feedback(self) -> None:
        fb = _sub(self.el, "itemfeedback", ident="general_fb")
        _mattext(
            _sub(fb, "flow_mat"),
            self.t.html(feedback_text(self.loaded, self.q))
            + picture_html(self.loaded, self.q.explanation_image, self.t, self.pictures),
        )


def _choice_item(item: _Item, choices: list[tuple[str, bool]], multiple: bool) -> None:
    q, t = item.q, item.t
    ids = [item.aid("choice", str(j)) for j in range(len(choices))]
    item.metadata(ids)
    pres = item.presentation(t.html(q.stem))
    lid = _sub(
        pres, "response_lid", ident="response1", rcardinality="Multiple" if multiple else "Single"
    )
    render = _sub(lid, "render_choice")
    for ident, (text, _) in zip(ids, choices, strict=True):
        _mattext(_sub(render, "response_label", ident=ident), t.html(text))
    res = item.resprocessing()
    cond = _sub(res, "respcondition", **{"continue": "No"})
    var = _sub(cond, "conditionvar")
    if multiple:
        both = _sub(var, "and")
        for ident, (_, correct) in zip(ids, choices, strict=True):
            target = both if correct else _sub(both, "not")
            _sub(target, "varequal", ident, respident="response1")
    else:
        right = next(i for i, (_, correct) in zip(ids, choices, strict=True) if correct)
        _sub(var, "varequal", right, respident="response1")
    _setvar(cond, "100")


def _short_item(item: _Item, q: Short) -> None:
    t = item.t
    item.metadata([item.aid("answer", str(j)) for j in range(len(q.answers))])
    pres = item.presentation(t.html(q.stem))
    fib = _sub(_sub(pres, "response_str", ident="response1", rcardinality="Single"), "render_fib")
    _sub(fib, "response_label", ident="answer1", rshuffle="No")
    cond = _sub(item.resprocessing(), "respcondition", **{"continue": "No"})
    var = _sub(cond, "conditionvar")
    for answer in q.answers:
        _sub(var, "varequal", t(answer), respident="response1")
    _setvar(cond, "100")


def _numeric_item(item: _Item, q: Numeric) -> None:
    item.metadata([item.aid("numeric")])
    pres = item.presentation(item.t.html(numeric_prompt(q, i18n.of(item.loaded))))
    fib = _sub(
        _sub(pres, "response_str", ident="response1", rcardinality="Single"),
        "render_fib",
        fibtype="Decimal",
    )
    _sub(fib, "response_label", ident="answer1")
    res = item.resprocessing()
    exact = _decimal(q.answer)
    margin = _decimal(q.tolerance or 0) if q.range is None else Decimal(0)
    # The exact answer (with its tolerance) first: Canvas shows it as the correct answer.
    cond = _sub(res, "respcondition", **{"continue": "No"})
    either = _sub(_sub(cond, "conditionvar"), "or")
    _sub(either, "varequal", str(exact), respident="response1")
    both = _sub(either, "and")
    _sub(both, "vargte", str(exact - margin), respident="response1")
    _sub(both, "varlte", str(exact + margin), respident="response1")
    _setvar(cond, "100")
    if q.range is not None:
        lo, hi = (_decimal(x) for x in q.range)
        cond = _sub(res, "respcondition", **{"continue": "No"})
        var = _sub(cond, "conditionvar")
        _sub(var, "vargte", str(lo), respident="response1")
        _sub(var, "varlte", str(hi), respident="response1")
        _setvar(cond, "100")


def _matching_item(item: _Item, pairs: list[tuple[str, str]]) -> None:
    q, t = item.q, item.t
    ids = [item.aid("pair", str(j)) for j in range(len(pairs))]
    # One id per distinct right-hand text, so the drop-down lists each option once.
    rights: dict[str, str] = {}
    for _, right in pairs:
        rights.setdefault(right, item.aid("match", str(len(rights))))
    item.metadata(ids)
    pres = item.presentation(t.html(q.stem))
    for ident, (left, _) in zip(ids, pairs, strict=True):
        lid = _sub(pres, "response_lid", ident=f"response_{ident}")
        _mattext(lid, t(left), "text/plain")
        render = _sub(lid, "render_choice")
        # Listed alphabetically: in bank order the options would give the answer away.
        for right, match_id in sorted(rights.items(), key=lambda kv: (kv[0].casefold(), kv[0])):
            _mattext(_sub(render, "response_label", ident=match_id), t(right), None)
    res = item.resprocessing()
    share = f"{100 / len(pairs):.2f}"
    for ident, (_, right) in zip(ids, pairs, strict=True):
        cond = _sub(res, "respcondition")
        _sub(_sub(cond, "conditionvar"), "varequal", rights[right], respident=f"response_{ident}")
        _setvar(cond, share, "Add")


def _cloze_item(item: _Item, q: Cloze) -> None:
    t = item.t
    names = _blank_names(q)
    answer_ids = [
        [item.aid("blank", str(b), str(j)) for j in range(len(alts))]
        for b, alts in enumerate(q.blanks)
    ]
    item.metadata([i for ids in answer_ids for i in ids])
    # Canvas marks each blank in the question text as [blank id].
    marked = "".join(f"[{names[s]}]" if isinstance(s, int) else s for s in q.segments)
    pres = item.presentation(t.html(marked))
    for name, alts, ids in zip(names, q.blanks, answer_ids, strict=True):
        lid = _sub(pres, "response_lid", ident=f"response_{name}")
        _mattext(lid, name, None)
        render = _sub(lid, "render_choice")
        for ident, alt in zip(ids, alts, strict=True):
            _mattext(_sub(render, "response_label", ident=ident), t(alt), "text/plain")
    res = item.resprocessing()
    share = f"{100 / len(names):.2f}"
    for name, ids in zip(names, answer_ids, strict=True):
        cond = _sub(res, "respcondition")
        _sub(_sub(cond, "conditionvar"), "varequal", ids[0], respident=f"response_{name}")
        _setvar(cond, share, "Add")


def _item(loaded: LoadedBank, q: Question, text: _Text) -> ET.Element:
    text.q = q
    item = _Item(loaded, q, text)
    if isinstance(q, Single):
        _choice_item(item, [(c.text, c.correct) for c in q.choices], multiple=False)
    elif isinstance(q, Multiple):
        _choice_item(item, [(c.text, c.correct) for c in q.choices], multiple=True)
    elif isinstance(q, TrueFalse):
        _ = i18n.translator(i18n.of(loaded)).gettext
        _choice_item(item, [(_("True"), q.answer), (_("False"), not q.answer)], multiple=False)
    elif isinstance(q, Short):
        _short_item(item, q)
    elif isinstance(q, Numeric):
        _numeric_item(item, q)
    elif isinstance(q, Matching):
        _matching_item(item, [(p.left, p.right) for p in q.pairs])
    elif isinstance(q, Ordering):
        _matching_item(item, ordering_pairs(q, i18n.of(loaded)))
    elif isinstance(q, Cloze):
        _cloze_item(item, q)
    else:
        assert_never(q)
    item.feedback()
    return item.el


# --- Items written directly -------------------------------------------------------------
#
# `_item` above builds an item as ElementTree elements, the plain way; `item_text` writes the
# same bytes as indented_xml(_item(...), level) straight from the question, with no element
# objects (building and walking about 57 elements per question was most of a build's time).
# Tests compare the two on every item kind and on hostile text.


class _Lines:
    """The pieces of one item's text, with the line breaks and indents of each depth."""

    def __init__(self, level: int) -> None:
        self.out: list[str] = []
        self.nl = ["\n" + "  " * (level + d) for d in range(8)]

    def leaf(self, depth: int, tag: str, text: str, attributes: str = "") -> None:
        """A line holding an element without children: `<tag a="v">text</tag>` or `<tag />`."""
        if text:
            self.out.append(f"{self.nl[depth]}<{tag}{attributes}>{_escape_text(text)}</{tag}>")
        else:
            self.out.append(f"{self.nl[depth]}<{tag}{attributes} />")

    def open(self, depth: int, tag: str, attributes: str = "") -> None:
        """A line opening an element whose children follow."""
        self.out.append(f"{self.nl[depth]}<{tag}{attributes}>")

    def close(self, depth: int, tag: str) -> None:
        """A line closing an element opened at `depth`."""
        self.out.append(f"{self.nl[depth]}</{tag}>")

    def material(self, depth: int, text: str, texttype: str | None = "text/html") -> None:
        """<material><mattext texttype=...>text</mattext></material>."""
        kind = f' texttype="{texttype}"' if texttype is not None else ""
        nl, inner = self.nl[depth], self.nl[depth + 1]
        mattext = f"<mattext{kind}>{_escape_text(text)}</mattext>" if text else f"<mattext{kind} />"
        self.out.append(f"{nl}<material>{inner}{mattext}{nl}</material>")

    def setvar(self, depth: int, value: str, action: str = "Set") -> None:
        """The <setvar> of a condition, attributes in the order _setvar writes them."""
        if action == "Set":
            self.leaf(depth, "setvar", value, ' action="Set" varname="SCORE"')
        else:
            self.leaf(depth, "setvar", value, f' varname="SCORE" action="{action}"')


def _attr(value: str) -> str:
    return _escape_attribute(value)


@lru_cache(maxsize=8)
def _resprocessing_start(nl0: str) -> str:
    """The end of <presentation> and the start of <resprocessing>: the same in every item."""
    nl = [nl0 + "  " * d for d in range(5)]
    return (
        f"{nl[1]}</presentation>{nl[1]}<resprocessing>{nl[2]}<outcomes>"
        f'{nl[3]}<decvar maxvalue="100" minvalue="0" varname="SCORE" vartype="Decimal" />'
        f'{nl[2]}</outcomes>{nl[2]}<respcondition continue="Yes">{nl[3]}<conditionvar>'
        f"{nl[4]}<other />{nl[3]}</conditionvar>"
        f'{nl[3]}<displayfeedback feedbacktype="Response" linkrefid="general_fb" />'
        f"{nl[2]}</respcondition>"
    )


class _ItemText:
    """Writes one <item> as text; the methods follow the order of an item's parts."""

    pictures = PICTURES  # as _Item.pictures

    def __init__(self, loaded: LoadedBank, q: Question, text: _Text, level: int) -> None:
        self.loaded, self.q, self.t = loaded, q, text
        self.w = _Lines(level)
        ident = stable_id(loaded.id, q.id)
        # The item's own start tag has no line break before it (the caller places it).
        self.w.out.append(f'<item ident="{ident}" title="{_attr(text(q.id))}">')

    def aid(self, *parts: str) -> str:
        """A stable id for an answer (choice, match, blank) of this question."""
        return stable_id(self.loaded.id, self.q.id, *parts)

    def metadata(self, answer_ids: list[str]) -> None:
        nl = self.w.nl
        parts = [f"{nl[1]}<itemmetadata>{nl[2]}<qtimetadata>"]
        for label, entry in (
            ("question_type", QUESTION_TYPE[self.q.type]),
            ("points_possible", format_number(self.q.score)),
            ("original_answer_ids", ",".join(answer_ids)),
            ("assessment_question_identifierref", self.aid("ref")),
        ):
            # (entries are type names, numbers and ids: nothing to escape, never empty)
            parts.append(
                f"{nl[3]}<qtimetadatafield>{nl[4]}<fieldlabel>{label}</fieldlabel>"
                f"{nl[4]}<fieldentry>{entry}</fieldentry>{nl[3]}</qtimetadatafield>"
            )
        parts.append(f"{nl[2]}</qtimetadata>{nl[1]}</itemmetadata>")
        self.w.out.append("".join(parts))

    def presentation(self, question_html: str) -> None:
        self.w.open(1, "presentation")
        self.w.material(
            2, question_html + picture_html(self.loaded, self.q.image, self.t, self.pictures)
        )

    def resprocessing(self) -> None:
        self.w.out.append(_resprocessing_start(self.w.nl[0]))

    def finish(self) -> str:
        w = self.w
        w.close(1, "resprocessing")
        w.open(1, "itemfeedback", ' ident="general_fb"')
        w.open(2, "flow_mat")
        w.material(
            3,
            self.t.html(feedback_text(self.loaded, self.q))
            + picture_html(self.loaded, self.q.explanation_image, self.t, self.pictures),
        )
        w.close(2, "flow_mat")
        w.close(1, "itemfeedback")
        w.close(0, "item")
        return "".join(w.out)


def _choice_text(item: _ItemText, choices: list[tuple[str, bool]], multiple: bool) -> None:
    q, t, w = item.q, item.t, item.w
    ids = [item.aid("choice", str(j)) for j in range(len(choices))]
    item.metadata(ids)
    item.presentation(t.html(q.stem))
    cardinality = "Multiple" if multiple else "Single"
    w.open(2, "response_lid", f' ident="response1" rcardinality="{cardinality}"')
    w.open(3, "render_choice")
    for ident, (text, _) in zip(ids, choices, strict=True):
        w.open(4, "response_label", f' ident="{ident}"')
        w.material(5, t.html(text))
        w.close(4, "response_label")
    w.close(3, "render_choice")
    w.close(2, "response_lid")
    item.resprocessing()
    w.open(2, "respcondition", ' continue="No"')
    w.open(3, "conditionvar")
    if multiple:
        w.open(4, "and")
        for ident, (_, correct) in zip(ids, choices, strict=True):
            if correct:
                w.leaf(5, "varequal", ident, ' respident="response1"')
            else:
                w.open(5, "not")
                w.leaf(6, "varequal", ident, ' respident="response1"')
                w.close(5, "not")
        w.close(4, "and")
    else:
        right = next(i for i, (_, correct) in zip(ids, choices, strict=True) if correct)
        w.leaf(4, "varequal", right, ' respident="response1"')
    w.close(3, "conditionvar")
    w.setvar(3, "100")
    w.close(2, "respcondition")


def _short_text(item: _ItemText, q: Short) -> None:
    t, w = item.t, item.w
    item.metadata([item.aid("answer", str(j)) for j in range(len(q.answers))])
    item.presentation(t.html(q.stem))
    w.open(2, "response_str", ' ident="response1" rcardinality="Single"')
    w.open(3, "render_fib")
    w.leaf(4, "response_label", "", ' ident="answer1" rshuffle="No"')
    w.close(3, "render_fib")
    w.close(2, "response_str")
    item.resprocessing()
    w.open(2, "respcondition", ' continue="No"')
    w.open(3, "conditionvar")
    for answer in q.answers:
        w.leaf(4, "varequal", t(answer), ' respident="response1"')
    w.close(3, "conditionvar")
    w.setvar(3, "100")
    w.close(2, "respcondition")


def _numeric_text(item: _ItemText, q: Numeric) -> None:
    w = item.w
    item.metadata([item.aid("numeric")])
    item.presentation(item.t.html(numeric_prompt(q, i18n.of(item.loaded))))
    w.open(2, "response_str", ' ident="response1" rcardinality="Single"')
    w.open(3, "render_fib", ' fibtype="Decimal"')
    w.leaf(4, "response_label", "", ' ident="answer1"')
    w.close(3, "render_fib")
    w.close(2, "response_str")
    item.resprocessing()
    exact = _decimal(q.answer)
    margin = _decimal(q.tolerance or 0) if q.range is None else Decimal(0)
    response1 = ' respident="response1"'
    w.open(2, "respcondition", ' continue="No"')
    w.open(3, "conditionvar")
    w.open(4, "or")
    w.leaf(5, "varequal", str(exact), response1)
    w.open(5, "and")
    w.leaf(6, "vargte", str(exact - margin), response1)
    w.leaf(6, "varlte", str(exact + margin), response1)
    w.close(5, "and")
    w.close(4, "or")
    w.close(3, "conditionvar")
    w.setvar(3, "100")
    w.close(2, "respcondition")
    if q.range is not None:
        lo, hi = (_decimal(x) for x in q.range)
        w.open(2, "respcondition", ' continue="No"')
        w.open(3, "conditionvar")
        w.leaf(4, "vargte", str(lo), response1)
        w.leaf(4, "varlte", str(hi), response1)
        w.close(3, "conditionvar")
        w.setvar(3, "100")
        w.close(2, "respcondition")


def _matching_text(item: _ItemText, pairs: list[tuple[str, str]]) -> None:
    q, t, w = item.q, item.t, item.w
    ids = [item.aid("pair", str(j)) for j in range(len(pairs))]
    rights: dict[str, str] = {}
    for _, right in pairs:
        rights.setdefault(right, item.aid("match", str(len(rights))))
    item.metadata(ids)
    item.presentation(t.html(q.stem))
    options = sorted(rights.items(), key=lambda kv: (kv[0].casefold(), kv[0]))
    choices = ""
    for ident, (left, _) in zip(ids, pairs, strict=True):
        w.open(2, "response_lid", f' ident="response_{ident}"')
        w.material(3, t(left), "text/plain")
        if not choices:
            # The same options under every left item: written once (after the first left
            # item, so any note on their text comes in the order the plain writer gives).
            mark = len(w.out)
            w.open(3, "render_choice")
            for right, match_id in options:
                w.open(4, "response_label", f' ident="{match_id}"')
                w.material(5, t(right), None)
                w.close(4, "response_label")
            w.close(3, "render_choice")
            choices = "".join(w.out[mark:])
            del w.out[mark:]
        w.out.append(choices)
        w.close(2, "response_lid")
    item.resprocessing()
    share = f"{100 / len(pairs):.2f}"
    for ident, (_, right) in zip(ids, pairs, strict=True):
        w.open(2, "respcondition")
        w.open(3, "conditionvar")
        w.leaf(4, "varequal", rights[right], f' respident="response_{ident}"')
        w.close(3, "conditionvar")
        w.setvar(3, share, "Add")
        w.close(2, "respcondition")


def _cloze_text(item: _ItemText, q: Cloze) -> None:
    t, w = item.t, item.w
    names = _blank_names(q)
    answer_ids = [
        [item.aid("blank", str(b), str(j)) for j in range(len(alts))]
        for b, alts in enumerate(q.blanks)
    ]
    item.metadata([i for ids in answer_ids for i in ids])
    marked = "".join(f"[{names[s]}]" if isinstance(s, int) else s for s in q.segments)
    item.presentation(t.html(marked))
    for name, alts, ids in zip(names, q.blanks, answer_ids, strict=True):
        w.open(2, "response_lid", f' ident="response_{name}"')
        w.material(3, name, None)
        w.open(3, "render_choice")
        for ident, alt in zip(ids, alts, strict=True):
            w.open(4, "response_label", f' ident="{ident}"')
            w.material(5, t(alt), "text/plain")
            w.close(4, "response_label")
        w.close(3, "render_choice")
        w.close(2, "response_lid")
    item.resprocessing()
    share = f"{100 / len(names):.2f}"
    for name, ids in zip(names, answer_ids, strict=True):
        w.open(2, "respcondition")
        w.open(3, "conditionvar")
        w.leaf(4, "varequal", ids[0], f' respident="response_{name}"')
        w.close(3, "conditionvar")
        w.setvar(3, share, "Add")
        w.close(2, "respcondition")


def item_text(loaded: LoadedBank, q: Question, text: _Text, level: int = 3) -> str:
    """indented_xml(_item(loaded, q, text), level), written without building the elements."""
    text.q = q
    item = _ItemText(loaded, q, text, level)
    if isinstance(q, Single):
        _choice_text(item, [(c.text, c.correct) for c in q.choices], multiple=False)
    elif isinstance(q, Multiple):
        _choice_text(item, [(c.text, c.correct) for c in q.choices], multiple=True)
    elif isinstance(q, TrueFalse):
        _ = i18n.translator(i18n.of(loaded)).gettext
        _choice_text(item, [(_("True"), q.answer), (_("False"), not q.answer)], multiple=False)
    elif isinstance(q, Short):
        _short_text(item, q)
    elif isinstance(q, Numeric):
        _numeric_text(item, q)
    elif isinstance(q, Matching):
        _matching_text(item, [(p.left, p.right) for p in q.pairs])
    elif isinstance(q, Ordering):
        _matching_text(item, ordering_pairs(q, i18n.of(loaded)))
    elif isinstance(q, Cloze):
        _cloze_text(item, q)
    else:
        assert_never(q)
    return item.finish()


def _assessment(
    loaded: LoadedBank,
    questions: Sequence[Question],
    ident: str,
    text: _Text,
    pools: Sequence[Pool] = (),
) -> Iterator[bytes]:
    """The assessment XML in pieces, serialised one item at a time.

    Building one tree of every item and indenting it held the whole quiz in memory several
    times over (300 MB for 10,000 questions); items are made and written one by one into
    the zip instead, with exactly the bytes the whole-tree serialisation gave.
    """
    root = ET.Element(
        "questestinterop",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} http://www.imsglobal.org/xsd/ims_qtiasiv1p2p1.xsd",
        },
    )
    assessment = _sub(root, "assessment", ident=ident, title=text(loaded.title))
    meta = _sub(assessment, "qtimetadata")
    _field(meta, "cc_maxattempts", "1")
    section = _sub(assessment, "section", ident="root_section")
    if not questions:
        yield _xml(root)
        return
    _sub(section, _ITEMS_MARK)
    before, after = indented_xml(root).split(f"<{_ITEMS_MARK} />")
    yield f'<?xml version="1.0" encoding="UTF-8"?>\n{before}'.encode()
    pooled = {i for pool in pools for i in pool.question_ids}
    loose = [q for q in questions if q.id not in pooled]
    for i, q in enumerate(loose):
        # questestinterop > assessment > section > item
        item = item_text(loaded, q, text, level=3)
        yield (("\n      " if i else "") + item).encode()
    by_id = {q.id: q for q in questions}
    for j, pool in enumerate(pools):
        members = [by_id[i] for i in pool.question_ids if i in by_id]
        head = _pool_head(loaded, pool, members, text)
        yield (("\n      " if loose or j else "") + head).encode()
        for q in members:
            # ... > section > section (the pool) > item
            yield ("\n        " + item_text(loaded, q, text, level=4)).encode()
        yield b"\n      </section>"
    text.q = None
    yield f"{after}\n".encode()


def _points(questions: Sequence[Question], pools: Sequence[Pool]) -> int:
    """The quiz's points: every question outside a pool, and each pool's draw at its points."""
    by_id = {q.id: q for q in questions}
    pooled = {i for pool in pools for i in pool.question_ids}
    total = sum(q.score for q in questions if q.id not in pooled)
    for pool in pools:
        members = [by_id[i].score for i in pool.question_ids if i in by_id]
        total += pool.draw * max(members, default=0)
    return total


def _pool_head(loaded: LoadedBank, pool: Pool, members: list[Question], text: _Text) -> str:
    """A pool's <section> start: Canvas makes it a question group drawing `pool.draw`."""
    points = max(q.score for q in members)
    if len({q.score for q in members}) > 1:
        text.notes.add_bank(
            f"pool '{pool.id}': a Canvas question group gives each question the same points: "
            f"{points} each"
        )
    ident = stable_id(loaded.id, "pool", pool.id)
    nl = ["\n" + "  " * (4 + d) for d in range(4)]
    return (
        f'<section ident="{ident}" title="{_escape_attribute(text(pool.title))}">'
        f"{nl[0]}<selection_ordering>{nl[1]}<selection>"
        f"{nl[2]}<selection_number>{pool.draw}</selection_number>"
        f"{nl[2]}<selection_extension>{nl[3]}<points_per_item>{points}</points_per_item>"
        f"{nl[2]}</selection_extension>{nl[1]}</selection>{nl[0]}</selection_ordering>"
    )


_ITEMS_MARK = "kzquiz-items"


def indented_xml(element: ET.Element, level: int = 0) -> str:
    """What ET.indent(element, "  ", level) and then ET.tostring(element, "unicode") give.

    The same text, written in one pass and without changing the element: ElementTree's
    serialiser first walks the whole tree for namespaces (ours have none) and indenting is
    another walk; for the 570,000 elements of a 10,000-question quiz that was most of a
    build's time. It writes every file of the package. Elements here are plain: tags and
    attribute names are plain strings (`xmlns:xsi` included, never `{namespace}name`), with
    no comments or processing instructions. Tests compare the two on every item type and on
    text full of markup and whitespace.
    """
    out: list[str] = []
    _write_element(element, level, out)
    return "".join(out)


def _write_element(element: ET.Element, level: int, out: list[str]) -> None:
    tag, attrib, text = element.tag, element.attrib, element.text
    attributes = (
        "".join([f' {k}="{_escape_attribute(v)}"' for k, v in attrib.items()]) if attrib else ""
    )
    if not len(element):
        if text:
            out.append(f"<{tag}{attributes}>{_escape_text(text)}</{tag}>")
        else:
            out.append(f"<{tag}{attributes} />")
        return
    inner = "\n" + "  " * (level + 1)
    # ET.indent keeps text and tails that hold more than whitespace, and replaces the rest.
    out.append(f"<{tag}{attributes}>{_escape_text(text) if text and text.strip() else inner}")
    last = len(element) - 1
    for i, child in enumerate(element):
        _write_element(child, level + 1, out)
        tail = child.tail
        if tail and tail.strip():
            out.append(_escape_text(tail))
        else:
            out.append(inner if i < last else "\n" + "  " * level)
    out.append(f"</{tag}>")


# ElementTree's escaping, replacement by replacement: of character data, and of attribute
# values (line breaks and tabs too, as character references, so that they survive
# attribute-value normalisation).
_TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
_ATTRIBUTE_ESCAPES = (
    *_TEXT_ESCAPES,
    ('"', "&quot;"),
    ("\r", "&#13;"),
    ("\n", "&#10;"),
    ("\t", "&#09;"),
)


def _escape_text(text: str, escapes: tuple[tuple[str, str], ...] = _TEXT_ESCAPES) -> str:
    for char, reference in escapes:
        if char in text:
            text = text.replace(char, reference)
    return text


def _escape_attribute(text: str) -> str:
    return _escape_text(text, _ATTRIBUTE_ESCAPES)


def _meta(
    loaded: LoadedBank,
    questions: Sequence[Question],
    ident: str,
    text: _Text,
    pools: Sequence[Pool] = (),
) -> ET.Element:
    """assessment_meta.xml: the Canvas quiz settings, as text2qti writes them."""
    root = ET.Element(
        "quiz",
        {
            "identifier": ident,
            "xmlns": CANVAS_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": f"{CANVAS_NS} https://canvas.instructure.com/xsd/cccv1p0.xsd",
        },
    )
    title = text(loaded.title)
    points = f"{float(_points(questions, pools)):.1f}"
    source = loaded.bank.bank.source.title
    description = text.html(f"Questions on \u201c{source}\u201d, exported by kzquiz.")
    settings = [
        ("title", title),
        ("description", description),
        ("shuffle_answers", "true"),
        ("scoring_policy", "keep_highest"),
        ("hide_results", ""),
        ("quiz_type", "assignment"),
        ("points_possible", points),
        ("require_lockdown_browser", "false"),
        ("require_lockdown_browser_for_results", "false"),
        ("require_lockdown_browser_monitor", "false"),
        ("lockdown_browser_monitor_data", None),
        ("show_correct_answers", "true"),
        ("anonymous_submissions", "false"),
        ("could_be_locked", "false"),
        ("allowed_attempts", "1"),
        ("one_question_at_a_time", "false"),
        ("cant_go_back", "false"),
        ("available", "false"),
        ("one_time_results", "false"),
        ("show_correct_answers_last_attempt", "false"),
        ("only_visible_to_overrides", "false"),
        ("module_locked", "false"),
    ]
    for tag, value in settings:
        _sub(root, tag, value)
    assignment = _sub(root, "assignment", identifier=stable_id(loaded.id, ident, "assignment"))
    for tag, value in [
        ("title", title),
        ("due_at", None),
        ("lock_at", None),
        ("unlock_at", None),
        ("module_locked", "false"),
        ("workflow_state", "unpublished"),
        ("assignment_overrides", ""),
        ("quiz_identifierref", ident),
        ("allowed_extensions", ""),
        ("has_group_category", "false"),
        ("points_possible", points),
        ("grading_type", "points"),
        ("all_day", "false"),
        ("submission_types", "online_quiz"),
        ("position", "1"),
        ("turnitin_enabled", "false"),
        ("vericite_enabled", "false"),
        ("peer_review_count", "0"),
        ("peer_reviews", "false"),
        ("automatic_peer_reviews", "false"),
        ("anonymous_peer_reviews", "false"),
        ("grade_group_students_individually", "false"),
        ("freeze_on_copy", "false"),
        ("omit_from_final_grade", "false"),
        ("intra_group_peer_reviews", "false"),
        ("only_visible_to_overrides", "false"),
        ("post_to_sis", "false"),
        ("moderated_grading", "false"),
        ("grader_count", "0"),
        ("grader_comments_visible_to_graders", "true"),
        ("anonymous_grading", "false"),
        ("graders_anonymous_to_graders", "false"),
        ("grader_names_visible_to_final_grader", "true"),
        ("anonymous_instructor_annotations", "false"),
    ]:
        _sub(assignment, tag, value)
    _sub(_sub(assignment, "post_policy"), "post_manually", "false")
    _sub(root, "assignment_group_identifierref", stable_id(loaded.id, ident, "assignment-group"))
    _sub(root, "assignment_overrides", "")
    return root


def _manifest(
    loaded: LoadedBank, ident: str, date: str, text: _Text, pictures: Sequence[str] = ()
) -> ET.Element:
    """imsmanifest.xml: the package's table of contents."""
    root = ET.Element(
        "manifest",
        {
            "identifier": stable_id(loaded.id, ident, "manifest"),
            "xmlns": CP_NS,
            "xmlns:lom": LOM_NS,
            "xmlns:imsmd": MD_NS,
            "xmlns:xsi": XSI_NS,
            "xsi:schemaLocation": (
                f"{CP_NS} http://www.imsglobal.org/xsd/imscp_v1p1.xsd "
                f"{LOM_NS} http://www.imsglobal.org/profile/cc/ccv1p1/LOM/ccv1p1_lomresource_v1p0.xsd "
                f"{MD_NS} http://www.imsglobal.org/xsd/imsmd_v1p2p2.xsd"
            ),
        },
    )
    metadata = _sub(root, "metadata")
    _sub(metadata, "schema", "IMS Content")
    _sub(metadata, "schemaversion", "1.1.3")
    lom = _sub(metadata, "imsmd:lom")
    _sub(_sub(_sub(lom, "imsmd:general"), "imsmd:title"), "imsmd:string", text(loaded.title))
    contribute = _sub(_sub(lom, "imsmd:lifeCycle"), "imsmd:contribute")
    _sub(_sub(contribute, "imsmd:date"), "imsmd:dateTime", date)
    rights = _sub(lom, "imsmd:rights")
    _sub(_sub(rights, "imsmd:copyrightAndOtherRestrictions"), "imsmd:value", "yes")
    _sub(
        _sub(rights, "imsmd:description"),
        "imsmd:string",
        "Private (Copyrighted) - http://en.wikipedia.org/wiki/Copyright",
    )
    _sub(root, "organizations")
    resources = _sub(root, "resources")
    dependency = stable_id(loaded.id, ident, "dependency")
    res = _sub(resources, "resource", identifier=ident, type="imsqti_xmlv1p2")
    _sub(res, "file", href=f"{ident}/{ident}.xml")
    _sub(res, "dependency", identifierref=dependency)
    res = _sub(
        resources,
        "resource",
        identifier=dependency,
        type="associatedcontent/imscc_xmlv1p1/learning-application-resource",
        href=f"{ident}/assessment_meta.xml",
    )
    _sub(res, "file", href=f"{ident}/assessment_meta.xml")
    for name in pictures:
        href = f"{IMAGES}/{name}"
        res = _sub(
            resources,
            "resource",
            identifier=stable_id(loaded.id, ident, "image", name),
            type="webcontent",
            href=href,
        )
        _sub(res, "file", href=href)
    return root


def _xml(root: ET.Element) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{indented_xml(root)}\n'.encode()


# Deflate level 1, as the .apkg: half the compression time of level 6, for a zip about a
# third larger (a size any LMS upload takes).
DEFLATE_LEVEL = 1


def render_qti(
    loaded: LoadedBank, questions: Sequence[Question], pools: Sequence[Pool] = ()
) -> tuple[bytes, list[str]]:
    """The questions as a Canvas QTI 1.2 zip and notes on anything it cannot hold."""
    notes = Notes(loaded, FORMAT)
    text = _Text(notes)
    ident = stable_id(loaded.id, "assessment", *(q.id for q in questions))
    # The zip's dates and the manifest's date: SOURCE_DATE_EPOCH's day, else a fixed date,
    # so an unchanged bank rebuilt on another day gives the same bytes.
    year, month, mday = time.gmtime(archive_time())[:3]
    pictures = question_media(loaded, questions)
    files: dict[str, bytes | Iterable[bytes]] = {
        "imsmanifest.xml": _xml(
            _manifest(loaded, ident, f"{year:04d}-{month:02d}-{mday:02d}", text, list(pictures))
        ),
        **{f"{IMAGES}/{name}": data for name, data in pictures.items()},
        "non_cc_assessments/": b"",
        f"{ident}/assessment_meta.xml": _xml(_meta(loaded, questions, ident, text, pools)),
        f"{ident}/{ident}.xml": _assessment(loaded, questions, ident, text, pools),
    }
    return zip_bytes(files, (year, month, mday, 0, 0, 0), compresslevel=DEFLATE_LEVEL), notes.items


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.qti.zip` of `job.questions`, with a note on anything QTI cannot hold."""
    data, notes = render_qti(job.loaded, job.questions, job_pools(job))
    return Outputs(files={job.loaded.id + ".qti.zip": data}, notes=notes)
