"""Injection: a bank whose every text field is hostile produces outputs where none of it is live.

The payload tries script tags, event handlers, javascript: links, Jinja and Anki template
syntax, cloze markers, and GIFT/XML specials. The pages are opened in headless Chromium, which
would run any script that leaked into the markup; the other formats are parsed back.
"""

from __future__ import annotations

import copy
import io
import sqlite3
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from browser import needs_webdriver, webdriver
from conftest import MINI_BANK, BankFactory
from kzquiz.cli import app

PAYLOAD = (
    "<script>window.__pwned = 'script'</script>"
    "<img src=x onerror=\"window.__pwned = 'img'\">"
    "<a href=\"javascript:window.__pwned='link'\">link</a>"
    "<svg onload=\"window.__pwned='svg'\"></svg>"
    "{{ 7 * 7 }} {% raw %} {{c1::leak}} {{Prompt}} [sound:x.mp3]"
    " ~ = # { } : \\ & \" ' ]]> <!-- -->"
)
# Fields whose text is checked against the article or must match a pattern stay as they are.
SKIP = {
    "language",
    "id",
    "type",
    "topic",
    "difficulty",
    "tags",
    "evidence",
    "answer",
    "tolerance",
    "range",
    "correct",
}


def _poison(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _poison(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_poison(v, key) for i, v in enumerate(value)]
    if isinstance(value, str) and key not in SKIP:
        return f"{value} {PAYLOAD}"
    return value


@pytest.fixture(scope="module")
def hostile_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`kzquiz build` of a bank with the payload in every free-text field."""
    data = _poison(copy.deepcopy(MINI_BANK))
    data["bank"]["id"] = "hostile"
    data["bank"]["title"] = f"Hostile {PAYLOAD}"
    data["bank"]["source"]["text"] = "article.txt"
    data["topics"] = {k: f"{v} {PAYLOAD}" for k, v in MINI_BANK["topics"].items()}
    for q in data["questions"]:
        # (a cloze's text gains three more blanks: "7 * 7", "c1::leak" and "Prompt")
        if q["type"] == "numeric":
            q["unit"] = f"units {PAYLOAD}"
    folder = tmp_path_factory.mktemp("hostile")
    import shutil

    import yaml

    root = Path(__file__).resolve().parent.parent
    shutil.copyfile(root / "sources" / "article.txt", folder / "article.txt")
    (folder / "bank.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["build", str(folder / "bank.yaml"), "-o", str(folder / "out")]
    )
    assert result.exit_code == 0, result.output
    return folder / "out"


def _page_is_inert(driver: Any, path: Path) -> None:
    driver.get(path.as_uri())
    pwned = driver.execute_script("return window.__pwned === undefined ? null : window.__pwned;")
    assert pwned is None, f"{path.name}: bank script ran ({pwned})"
    leaked = driver.execute_script(
        """
        const bad = [];
        for (const el of document.querySelectorAll('*')) {
          for (const attr of el.attributes) {
            if (/^on/i.test(attr.name) || /^\\s*javascript:/i.test(attr.value)) bad.push(el.tagName + ' ' + attr.name);
          }
        }
        for (const s of document.scripts) if (s.textContent.includes('__pwned')) bad.push('script');
        if (document.querySelector('svg[onload], img[onerror]')) bad.push('handler element');
        return bad;
        """
    )
    assert leaked == [], f"{path.name}: live markup from the bank: {leaked}"
    # and the payload is still there, shown as text
    assert "<script>window.__pwned" in driver.execute_script("return document.body.innerText;")


@needs_webdriver
def test_worksheet_key_and_selfcheck_run_no_bank_script(hostile_build: Path) -> None:
    driver = webdriver()
    try:
        for name in ("hostile-worksheet-A.html", "hostile-key.html"):
            _page_is_inert(driver, hostile_build / name)
        page = hostile_build / "hostile-selfcheck.html"
        _page_is_inert(driver, page)
        # Checking reveals explanations and answers: still inert afterwards.
        driver.find_element("css selector", "#check").click()
        assert driver.execute_script("return window.__pwned === undefined;")
        text = driver.execute_script("return document.body.innerText;")
        assert "{{ 7 * 7 }}" in text and "49" not in text.replace("2049", "")
    finally:
        driver.quit()


def test_anki_fields_are_escaped(hostile_build: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(hostile_build / "hostile.apkg") as zf:
        (tmp_path / "c.db").write_bytes(zf.read("collection.anki2"))
    con = sqlite3.connect(tmp_path / "c.db")
    fields = [f for (flds,) in con.execute("select flds from notes") for f in flds.split("\x1f")]
    con.close()
    joined = "\n".join(fields)
    # Anki fields are HTML: tags and attribute quotes from the bank must be character references
    assert "<script" not in joined and "<img" not in joined and 'onerror="' not in joined
    assert "&lt;script&gt;" in joined
    assert "{{c1::leak}}" not in joined and "{{Prompt}}" not in joined and "[sound:" not in joined


def test_gift_escapes_every_special(hostile_build: Path) -> None:
    gift = (hostile_build / "hostile.gift.txt").read_text(encoding="utf-8")
    # Comment and $CATEGORY lines are not question text: Moodle reads them verbatim to the
    # end of the line. In question text the payload's specials only ever appear escaped.
    body = "\n".join(line for line in gift.splitlines() if not line.startswith(("//", "$CATEGORY")))
    assert r"\{\{ 7 * 7 \}\}" in body
    assert r"\~ \= \# \{ \} \: \\" in body
    assert "{{ 7" not in body.replace(r"\{\{ 7", "")


def test_qti_xml_parses_and_holds_the_payload_as_text(hostile_build: Path) -> None:
    with zipfile.ZipFile(hostile_build / "hostile.qti.zip") as zf:
        xml_files = {n: zf.read(n) for n in zf.namelist() if n.endswith(".xml")}
    assert xml_files
    for name, data in xml_files.items():
        root = ET.parse(io.BytesIO(data)).getroot()
        tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
        assert not {"script", "img", "svg", "a"} & tags, name
    assessment = next(d for n, d in xml_files.items() if n.count("/") == 1 and "meta" not in n)
    html = [
        el.text or ""
        for el in ET.parse(io.BytesIO(assessment)).getroot().iter()
        if el.tag.endswith("mattext")
        and el.get("texttype") == "text/html"
        and "__pwned" in (el.text or "")
    ]
    assert html, "the payload is present in HTML text"
    # HTML mattext must still be HTML-escaped after XML parsing. (Other mattext is
    # text/plain, QTI's default, which Canvas shows as it is.)
    assert all("<script>" not in t and "&lt;script&gt;" in t for t in html)


def test_control_characters_are_refused(make_bank: BankFactory) -> None:
    data = copy.deepcopy(MINI_BANK)
    data["questions"][0]["prompt"] = "Bell \x07 and escape \x1b[31m red"
    path = make_bank(data)
    result = CliRunner().invoke(app, ["build", str(path), "-o", str(path.parent / "out")])
    assert result.exit_code == 1
    assert "prompt contains the control character U+0007; remove it" in result.stderr
    assert not (path.parent / "out").exists()
