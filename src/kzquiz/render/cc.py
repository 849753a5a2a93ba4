"""IMS Common Cartridge 1.3: a .imscc (zip) that Canvas, Schoology and Brightspace import.

The cartridge holds:

    imsmanifest.xml              CC 1.3 manifest: the question bank and its pictures
    <bank id>/<bank id>.xml      the question bank (imsqti_xmlv1p2/imscc_xmlv1p3/question-bank)
    web_resources/images/<name>  each picture the exported questions show, once

Pictures (`image:`, `explanation_image:`) are `webcontent` resources, one per file, on which
the question bank resource depends; the item HTML refers to them as
`$IMS-CC-FILEBASE$../web_resources/images/<name>`, relative to the bank's own folder, the
form Moodle's CC exporter writes and its importer resolves (it drops the token and
normalises the path from the resource's folder).

A question bank, not a quiz: each platform files it in its own question store (Canvas: a
question bank; Schoology: Resources; Brightspace: the Question Library), from which the
teacher builds quizzes. A cartridge with an assessment as well would give every question
twice in Canvas (the quiz's own bank and this one).

Items are in the CC QTI 1.2 profile, named by their `cc_profile` field: single ->
cc.multiple_choice.v0p1, multiple -> cc.multiple_response.v0p1, truefalse ->
cc.true_false.v0p1, short -> cc.fib.v0p1 (every accepted answer), cloze -> one cc.fib.v0p1
item per blank with the other blanks filled in. The profile has no numeric, matching or
ordering question: numeric becomes cc.fib.v0p1 accepting the answer as written (and, for a
whole-number answer within a whole-number interval of at most 50 values, each of them),
with a note; matching and ordering are left out with a note each.

The item parts are QTI 1.2's (render/qti.py builds them); only the item metadata differs.
Escaping, ids and the deterministic zip are qti.py's.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from typing_extensions import assert_never

from kzquiz.bank import LoadedBank
from kzquiz.images import media
from kzquiz.model import (
    Cloze,
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
from kzquiz.render import Outputs, RenderJob
from kzquiz.render import qti as q12
from kzquiz.render.archive import archive_date, zip_bytes
from kzquiz.render.export_common import Notes, bank_order, cloze_with_one_blank, numeric_prompt

FORMAT = "Common Cartridge"
CP_NS = "http://www.imsglobal.org/xsd/imsccv1p3/imscp_v1p1"
LOMM_NS = "http://ltsc.ieee.org/xsd/imsccv1p3/LOM/manifest"
# The profile's schema (ccv1p3_qtiasiv1p2p1_v1p0.xsd) keeps QTI 1.2's own namespace.
QTI_NS = q12.QTI_NS
PROFILE = "http://www.imsglobal.org/profile/cc/ccv1p3/"
BANK_TYPE = "imsqti_xmlv1p2/imscc_xmlv1p3/question-bank"

CC_PROFILE = {
    "single": "cc.multiple_choice.v0p1",
    "multiple": "cc.multiple_response.v0p1",
    "truefalse": "cc.true_false.v0p1",
    "short": "cc.fib.v0p1",
    "cloze": "cc.fib.v0p1",
    "numeric": "cc.fib.v0p1",
}
_MAX_ALTERNATIVES = 50
IMAGES = "web_resources/images"  # the cartridge's folder of pictures
# Unescaped: Moodle's importer replaces the literal token (a %24 form would stay a path).
PICTURES = "$IMS-CC-FILEBASE$../" + IMAGES


class _CCItem(q12._Item):
    """A QTI 1.2 item with the CC profile's metadata; `part` tells a cloze's blanks apart."""

    pictures = PICTURES

    def __init__(self, loaded: LoadedBank, q: Question, text: q12._Text, part: str = "") -> None:
        super().__init__(loaded, q, text)
        self.part = part
        if part:
            self.el.set("ident", q12.stable_id(loaded.id, q.id, part))
            self.el.set("title", text(f"{q.id} ({part})"))

    def aid(self, *parts: str) -> str:
        """A stable id for an answer, distinct per blank of a cloze."""
        return super().aid(*((self.part, *parts) if self.part else parts))

    def metadata(self, answer_ids: list[str]) -> None:
        """cc_profile and cc_weighting, the fields the CC QTI profile defines."""
        del answer_ids
        meta = q12._sub(q12._sub(self.el, "itemmetadata"), "qtimetadata")
        q12._field(meta, "cc_profile", CC_PROFILE[self.q.type])
        q12._field(meta, "cc_weighting", format_number(self.q.score))


def _as_short(q: Question, prompt: str, answers: list[str]) -> Short:
    """`q` as a short-answer question with this prompt and these answers (nothing validated)."""
    # Every field given: a field left to its default_factory makes model_construct inspect
    # the factory's signature, a millisecond a question.
    own = {"type", "prompt", "answers"}
    fields = {k: getattr(q, k) for k in Short.model_fields if k not in own}
    return Short.model_construct(type="short", prompt=prompt, answers=answers, **fields)


def _numeric_answers(q: Numeric) -> list[str]:
    """The answers a fill-in-the-blank can accept for a numeric question."""
    lo, hi = q.bounds
    whole = all(float(x).is_integer() for x in (q.answer, lo, hi))
    if whole and lo < hi and hi - lo < _MAX_ALTERNATIVES:
        first = format_number(q.answer)
        return [first, *(str(n) for n in range(int(lo), int(hi) + 1) if str(n) != first)]
    return [format_number(q.answer)]


# What one question becomes: for each item, its part (a cloze's blank, else "") and either
# its choices (and whether several are right) or the short-answer question it asks.
_Spec = tuple[str, "tuple[list[tuple[str, bool]], bool] | Short"]


def _specs(q: Question, notes: Notes) -> list[_Spec]:
    """The items `q` becomes (none when the profile cannot hold it, with a note)."""
    if isinstance(q, (Single, Multiple)):
        return [("", ([(c.text, c.correct) for c in q.choices], isinstance(q, Multiple)))]
    if isinstance(q, TrueFalse):
        return [("", ([("True", q.answer), ("False", not q.answer)], False))]
    if isinstance(q, Short):
        return [("", q)]
    if isinstance(q, Cloze):
        specs: list[_Spec] = []
        for b, alts in enumerate(q.blanks):
            before, after = cloze_with_one_blank(q, b)
            part = f"blank {b + 1}" if len(q.blanks) > 1 else ""
            specs.append((part, _as_short(q, f"{before}_____{after}", alts)))
        return specs
    if isinstance(q, Numeric):
        answers = _numeric_answers(q)
        accepted = (
            f"the whole numbers {answers[0]} and {len(answers) - 1} more in its interval"
            if len(answers) > 1
            else f"only {answers[0]} as written"
        )
        notes.add(q, "has no numeric question: exported as fill-in-the-blank accepting " + accepted)
        return [("", _as_short(q, numeric_prompt(q), answers))]
    if isinstance(q, Matching):
        notes.add(q, "has no matching question; left out")
        return []
    if isinstance(q, Ordering):
        notes.add(q, "has no ordering question; left out")
        return []
    assert_never(q)


def items(loaded: LoadedBank, q: Question, text: q12._Text, notes: Notes) -> list[ET.Element]:
    """`q` as CC item elements (none when the profile cannot hold it, with a note)."""
    text.q = q
    made: list[_CCItem] = []
    for part, spec in _specs(q, notes):
        made.append(_CCItem(loaded, q, text, part))
        if isinstance(spec, Short):
            q12._short_item(made[-1], spec)
        else:
            q12._choice_item(made[-1], spec[0], multiple=spec[1])
        made[-1].feedback()
    text.q = None
    return [item.el for item in made]


class _CCItemText(q12._ItemText):
    """_CCItem written as text (QTI 1.2's fast writer), with the same bytes."""

    pictures = PICTURES

    def __init__(
        self, loaded: LoadedBank, q: Question, text: q12._Text, level: int, part: str = ""
    ) -> None:
        super().__init__(loaded, q, text, level)
        self.part = part
        if part:
            ident = q12.stable_id(loaded.id, q.id, part)
            title = q12._escape_attribute(text(f"{q.id} ({part})"))
            self.w.out[0] = f'<item ident="{ident}" title="{title}">'

    def aid(self, *parts: str) -> str:
        """A stable id for an answer, distinct per blank of a cloze."""
        return super().aid(*((self.part, *parts) if self.part else parts))

    def metadata(self, answer_ids: list[str]) -> None:
        """cc_profile and cc_weighting, as _CCItem.metadata writes them."""
        del answer_ids
        nl = self.w.nl
        fields = [
            f"{nl[3]}<qtimetadatafield>{nl[4]}<fieldlabel>{label}</fieldlabel>"
            f"{nl[4]}<fieldentry>{entry}</fieldentry>{nl[3]}</qtimetadatafield>"
            # (profile names and a number: nothing to escape, never empty)
            for label, entry in (
                ("cc_profile", CC_PROFILE[self.q.type]),
                ("cc_weighting", format_number(self.q.score)),
            )
        ]
        self.w.out.append(
            f"{nl[1]}<itemmetadata>{nl[2]}<qtimetadata>{''.join(fields)}"
            f"{nl[2]}</qtimetadata>{nl[1]}</itemmetadata>"
        )


def item_texts(
    loaded: LoadedBank, q: Question, text: q12._Text, notes: Notes, level: int = 2
) -> list[str]:
    """[indented_xml(el, level) for el in items(...)], written without building elements."""
    text.q = q
    out = []
    for part, spec in _specs(q, notes):
        item = _CCItemText(loaded, q, text, level, part)
        if isinstance(spec, Short):
            q12._short_text(item, spec)
        else:
            q12._choice_text(item, spec[0], multiple=spec[1])
        out.append(item.finish())
    text.q = None
    return out


def _questestinterop(ident: str, item_xml: list[str]) -> bytes:
    """The question bank file around the items' text (each indented for objectbank's child)."""
    root = ET.Element(
        "questestinterop",
        {
            "xmlns": QTI_NS,
            "xmlns:xsi": q12.XSI_NS,
            "xsi:schemaLocation": f"{QTI_NS} {PROFILE}ccv1p3_qtiasiv1p2p1_v1p0.xsd",
        },
    )
    holder = q12._sub(root, "objectbank", ident=ident)
    if not item_xml:
        return _xml(root)
    q12._sub(holder, q12._ITEMS_MARK)
    before, after = _xml(root).decode().split(f"<{q12._ITEMS_MARK} />")
    # questestinterop > objectbank > item
    return (before + "\n    ".join(item_xml) + after).encode()


def _manifest(
    loaded: LoadedBank, bank_id: str, text: q12._Text, pictures: Sequence[str] = ()
) -> bytes:
    schemas = (
        f"{CP_NS} {PROFILE}ccv1p3_imscp_v1p2_v1p0.xsd "
        f"{LOMM_NS} {PROFILE}LOM/ccv1p3_lommanifest_v1p0.xsd"
    )
    root = ET.Element(
        "manifest",
        {
            "identifier": q12.stable_id(loaded.id, bank_id, "cc-manifest"),
            "xmlns": CP_NS,
            "xmlns:lomimscc": LOMM_NS,
            "xmlns:xsi": q12.XSI_NS,
            "xsi:schemaLocation": schemas,
        },
    )
    title = text(loaded.title)
    metadata = q12._sub(root, "metadata")
    q12._sub(metadata, "schema", "IMS Common Cartridge")
    q12._sub(metadata, "schemaversion", "1.3.0")
    general = q12._sub(q12._sub(metadata, "lomimscc:lom"), "lomimscc:general")
    q12._sub(
        q12._sub(general, "lomimscc:title"),
        "lomimscc:string",
        title,
        language=loaded.bank.bank.language,
    )
    # A question bank is not course content: it has no place in the organization.
    q12._sub(root, "organizations")
    resources = q12._sub(root, "resources")
    res = q12._sub(resources, "resource", identifier=bank_id, type=BANK_TYPE)
    q12._sub(res, "file", href=f"{bank_id}/{bank_id}.xml")
    ids = [q12.stable_id(loaded.id, bank_id, "image", name) for name in pictures]
    for ident in ids:
        q12._sub(res, "dependency", identifierref=ident)
    for ident, name in zip(ids, pictures, strict=True):
        href = f"{IMAGES}/{name}"
        picture = q12._sub(resources, "resource", identifier=ident, type="webcontent", href=href)
        q12._sub(picture, "file", href=href)
    return _xml(root)


def _xml(root: ET.Element) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{q12.indented_xml(root)}\n'.encode()


def render_cc(loaded: LoadedBank, questions: Sequence[Question]) -> tuple[bytes, list[str]]:
    """The questions as a Common Cartridge 1.3 and notes on what the CC profile cannot hold."""
    notes = Notes(loaded, FORMAT)
    text = q12._Text(notes)
    ordered = bank_order(loaded, questions)
    item_xml: list[str] = []
    exported: list[Question] = []  # those the profile holds: only their pictures travel
    for q in ordered:
        made = item_texts(loaded, q, text, notes)
        item_xml += made
        if made:
            exported.append(q)
    bank_id = q12.stable_id(loaded.id, "cc-bank", *(q.id for q in ordered))
    pictures = media(loaded, exported)
    files = {
        "imsmanifest.xml": _manifest(loaded, bank_id, text, list(pictures)),
        f"{bank_id}/{bank_id}.xml": _questestinterop(bank_id, item_xml),
        **{f"{IMAGES}/{name}": data for name, data in pictures.items()},
    }
    return zip_bytes(files, archive_date(), compresslevel=q12.DEFLATE_LEVEL), notes.items


def render(job: RenderJob) -> Outputs:
    """`<bank-id>.imscc` of `job.questions`, with a note per question CC cannot hold."""
    data, notes = render_cc(job.loaded, job.questions)
    return Outputs(files={job.loaded.id + ".imscc": data}, notes=notes)
