"""The renderer contract, checked for every format in the registry (kzquiz.formats).

A format added to FORMATS is covered here the day it is added: its render must give the
same bytes for the same job, write the file names it declares, hold hostile bank text as
text (it needs an entry in HOSTILE_READERS below, or this file fails), report a note for
each question of a type it cannot hold, and touch no file while it renders.
"""

from __future__ import annotations

import builtins
import copy
import csv
import io
import os
import pathlib
import shutil
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ARTICLE, MINI_BANK
from export_helpers import moodle_read_file
from kzquiz.bank import LoadedBank
from kzquiz.formats import (
    ALL_TYPES,
    BY_NAME,
    FORMATS,
    Format,
    build_formats,
    export_names,
    markdown_list,
)
from kzquiz.loader import load_bank
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.selfcheck import decode_data
from test_injection import PAYLOAD, _poison
from test_selfcheck import DATA

NAMES = [f.name for f in FORMATS]
PACKAGE = Path(__import__("kzquiz").__file__).resolve().parent


def _job(loaded: LoadedBank, fmt: Format, previous: dict[str, bytes] | None = None) -> RenderJob:
    return RenderJob(
        loaded,
        loaded.bank.questions,
        seed=fmt.build_seed,
        previous=previous or {},
        whole_bank=True,
    )


def _render(loaded: LoadedBank, name: str) -> Outputs:
    fmt = BY_NAME[name]
    return fmt.render(_job(loaded, fmt))


@pytest.fixture(autouse=True)
def _fixed_date(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


# ---------------------------------------------------------------------------- the registry


def test_registry_is_well_formed() -> None:
    assert len(set(NAMES)) == len(NAMES)
    for fmt in FORMATS:
        assert fmt.name == fmt.name.lower() and fmt.summary and "\n" not in fmt.summary
        assert fmt.native | fmt.converted | fmt.noted == ALL_TYPES, fmt.name
        assert not (fmt.native & fmt.converted or fmt.native & fmt.noted), fmt.name
        assert not fmt.converted & fmt.noted, fmt.name
        if fmt.text:
            assert len(fmt.files) == 1, f"{fmt.name}: a text format is one file"
    assert export_names() == [f.name for f in FORMATS if f.export]
    assert build_formats() == [f for f in FORMATS if f.in_build]


@pytest.mark.parametrize("name", NAMES)
def test_render_writes_the_declared_files(mini_bank: Path, name: str) -> None:
    fmt = BY_NAME[name]
    outputs = _render(load_bank(mini_bank), name)
    assert sorted(outputs.files) == sorted(fmt.file_names("mini"))
    assert all(isinstance(data, bytes) and data for data in outputs.files.values())
    if fmt.text:
        (data,) = outputs.files.values()
        data.decode("utf-8")


@pytest.mark.parametrize("name", NAMES)
def test_same_job_same_bytes(mini_bank: Path, name: str) -> None:
    first = _render(load_bank(mini_bank), name)
    second = _render(load_bank(mini_bank), name)
    assert first.files == second.files
    assert first.notes == second.notes


@pytest.mark.parametrize("name", [f.name for f in FORMATS if f.state_files("x")])
def test_state_is_passed_back_as_data(mini_bank: Path, name: str) -> None:
    """A format's state file, given back in `previous`, gives the same outputs again."""
    fmt = BY_NAME[name]
    loaded = load_bank(mini_bank)
    first = fmt.render(_job(loaded, fmt))
    previous = {n: first.files[n] for n in fmt.state_files(loaded.id)}
    again = fmt.render(_job(loaded, fmt, previous))
    assert again.files == first.files
    damaged = {n: b"{not json" for n in fmt.state_files(loaded.id)}
    from kzquiz.errors import OutputError

    with pytest.raises(OutputError, match=r"lock\.json"):
        fmt.render(_job(loaded, fmt, damaged))


# ---------------------------------------------------------------------------- notes


@pytest.mark.parametrize("name", NAMES)
def test_a_note_for_every_question_a_format_cannot_hold(mini_bank: Path, name: str) -> None:
    fmt = BY_NAME[name]
    loaded = load_bank(mini_bank)
    assert {q.type for q in loaded.bank.questions} == ALL_TYPES
    notes = _render(loaded, name).notes
    for q in loaded.bank.questions:
        named = [n for n in notes if f"(id: {q.id})" in n]
        if q.type in fmt.noted:
            assert named, f"{name}: no note for {q.type} question {q.id}"
        else:
            assert not named, f"{name}: holds {q.type} but notes {named}"


# ---------------------------------------------------------------------------- no file access


@pytest.mark.parametrize("name", NAMES)
def test_render_touches_no_file(
    make_bank: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """While rendering, no file outside kzquiz's own package data and a private scratch
    folder is opened: not the bank's folder, not the current folder, not an output folder."""
    fmt = BY_NAME[name]
    loaded = load_bank(make_bank())
    _render(loaded, name)  # warm up: templates and lazy imports load once
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    cwd = tmp_path / "cwd"
    (cwd / "decks").mkdir(parents=True)
    for state in fmt.state_files(loaded.id):
        (cwd / state).write_bytes(b"{not json")
        (cwd / "decks" / state).write_bytes(b"{not json")
        (tmp_path / state).write_bytes(b"{not json")
    monkeypatch.chdir(cwd)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    opened: list[str] = []
    allowed = (str(PACKAGE) + os.sep, str(scratch) + os.sep)

    def guard(real: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(file: Any, *args: Any, **kwargs: Any) -> Any:
            if isinstance(file, int):
                return real(file, *args, **kwargs)
            path = os.path.abspath(os.fsdecode(file))
            if not path.startswith(allowed):
                opened.append(path)
                raise PermissionError(f"render opened {path}")
            return real(file, *args, **kwargs)

        return wrapper

    monkeypatch.setattr(builtins, "open", guard(builtins.open))
    monkeypatch.setattr(io, "open", guard(io.open))
    monkeypatch.setattr(os, "open", guard(os.open))
    monkeypatch.setattr(sqlite3, "connect", guard(sqlite3.connect))
    real_path_open = pathlib.Path.open

    def path_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        return guard(lambda _f, *a, **k: real_path_open(self, *a, **k))(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "open", path_open)
    outputs = _render(loaded, name)
    assert outputs.files
    assert opened == []
    monkeypatch.undo()
    assert sorted(p.name for p in cwd.iterdir()) == sorted(
        ["decks", *fmt.state_files(loaded.id)]
    ), "render wrote into the current folder"
    assert sorted(p.name for p in (cwd / "decks").iterdir()) == sorted(fmt.state_files(loaded.id))


# ---------------------------------------------------------------------------- hostile text


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> LoadedBank:
    """A bank with the injection payload in every free-text field."""
    data = _poison(copy.deepcopy(MINI_BANK))
    data["bank"]["id"] = "hostile"
    data["bank"]["title"] = f"Hostile {PAYLOAD}"
    data["bank"]["source"]["text"] = "article.txt"
    data["topics"] = {k: f"{v} {PAYLOAD}" for k, v in MINI_BANK["topics"].items()}
    folder = tmp_path_factory.mktemp("contract-hostile")
    shutil.copyfile(ARTICLE, folder / "article.txt")
    (folder / "bank.yaml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return load_bank(folder / "bank.yaml")


class _Markup(HTMLParser):
    """Collects what a browser would treat as live: script text and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.live: list[str] = []
        self.text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_script = tag == "script"
        for key, value in attrs:
            if key.startswith("on") or (value or "").strip().lower().startswith("javascript:"):
                self.live.append(f"{tag} {key}")
        if tag in {"img", "svg"}:
            self.live.append(tag)

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and "__pwned" in data:
            self.live.append("script")
        elif not self._in_script:
            self.text.append(data)


def _inert_html(data: bytes) -> str:
    parser = _Markup()
    parser.feed(data.decode("utf-8"))
    assert parser.live == [], parser.live
    return "".join(parser.text)


def _html_pages(outputs: Outputs) -> None:
    for name, data in outputs.files.items():
        if name.endswith(".html"):
            assert "<script>window.__pwned" in _inert_html(data), name


def _selfcheck(outputs: Outputs) -> None:
    ((name, data),) = outputs.files.items()
    shown = _inert_html(data)
    assert "<script>window.__pwned" in shown  # the title, as text
    found = DATA.search(data.decode("utf-8"))
    assert found, name
    decoded = decode_data(found.group(1), "hostile")
    assert any(PAYLOAD in q["prompt"] for q in decoded["questions"])


def _anki(outputs: Outputs) -> None:
    apkg = next(d for n, d in outputs.files.items() if n.endswith(".apkg"))
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(io.BytesIO(apkg)) as zf:
            Path(tmp, "c.db").write_bytes(zf.read("collection.anki2"))
        con = sqlite3.connect(Path(tmp, "c.db"))
        fields = "\n".join(flds for (flds,) in con.execute("select flds from notes"))
        con.close()
    assert "<script" not in fields and 'onerror="' not in fields
    assert "&lt;script&gt;" in fields
    assert "{{c1::leak}}" not in fields and "[sound:" not in fields


def _gift(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    questions = [q for q in moodle_read_file(data) if q.qtype != "category"]
    assert questions and any("<script>window.__pwned" in q.text for q in questions)


def _qti(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                root = ET.parse(io.BytesIO(zf.read(name))).getroot()
                tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
                assert not {"script", "img", "svg", "a"} & tags, name


def _xml_package(outputs: Outputs) -> None:
    """QTI 2.1 and Common Cartridge: every XML file parses, holds no markup, keeps the text."""
    (data,) = outputs.files.values()
    texts: list[str] = []
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.endswith(".xml"):
                root = ET.parse(io.BytesIO(zf.read(name))).getroot()
                tags = {el.tag.rsplit("}", 1)[-1] for el in root.iter()}
                assert not {"script", "img", "svg", "a", "object", "iframe"} & tags, name
                texts += ["".join(el.itertext()) for el in root.iter()]
                texts += [v for el in root.iter() for v in el.attrib.values()]
    # QTI 2.1 holds the text as XHTML elements' text, CC as escaped HTML in mattext: either
    # way the payload reads back as text (escaped once more inside CC's HTML).
    assert any("<script>window.__pwned" in t or "&lt;script&gt;window.__pwned" in t for t in texts)


def _moodle(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    root = ET.fromstring(data)
    shown = []
    for parent in root.iter():
        text = parent.find("text")
        # Moodle shows format="html" text as HTML: it must hold no live markup. Short answers
        # and matching choices are plain text there (compared or shown as typed).
        if text is not None and parent.get("format") == "html":
            shown.append(_inert_html((text.text or "").encode("utf-8")))
    assert any("<script>window.__pwned" in t for t in shown)
    assert not [el.tag for el in root.iter() if el.tag in {"script", "img", "svg", "a"}]


def _quizlet(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    lines = data.decode("utf-8").splitlines()
    assert lines and all(line.count("\t") == 1 for line in lines)
    assert any(PAYLOAD in line for line in lines)


def _csv(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(MINI_BANK["questions"])
    assert any(PAYLOAD in row["prompt"] for row in rows)


def _xlsx_cells(data: bytes) -> list[str]:
    """Every text cell of a workbook as openpyxl reads it; no cell may be a formula."""
    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    return [c.value for c in cells if isinstance(c.value, str)]


def _kahoot(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    cells = _xlsx_cells(data)
    # Kahoot's 120 / 75 character limits cut the payload, but what is kept is plain text.
    assert any("<script>window.__pwned = 'script'</script>" in c for c in cells)


def _quizizz(outputs: Outputs) -> None:
    (data,) = outputs.files.values()
    assert any(PAYLOAD in c for c in _xlsx_cells(data))


def _game_csv(columns: int) -> Callable[[Outputs], None]:
    def check(outputs: Outputs) -> None:
        (data,) = outputs.files.values()
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
        assert rows and all(len(row) == columns for row in rows)
        assert any(PAYLOAD in cell for row in rows[2:] for cell in row)

    return check


# How each format's consumer reads hostile text back. A new format needs its own entry.
HOSTILE_READERS: dict[str, Callable[[Outputs], None]] = {
    "anki": _anki,
    "worksheet": _html_pages,
    "selfcheck": _selfcheck,
    "gift": _gift,
    "qti": _qti,
    "qti21": _xml_package,
    "cc": _xml_package,
    "moodle": _moodle,
    "quizlet": _quizlet,
    "csv": _csv,
    "kahoot": _kahoot,
    "blooket": _game_csv(8),
    "quizizz": _quizizz,
    "gimkit": _game_csv(5),
}


def test_every_format_has_a_hostile_text_check() -> None:
    assert sorted(HOSTILE_READERS) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_hostile_text_stays_text(hostile: LoadedBank, name: str) -> None:
    outputs = _render(hostile, name)
    HOSTILE_READERS[name](outputs)


def test_readme_lists_the_registry() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- formats:", 1)[1].split("-->\n", 1)[1].split("<!-- /formats -->")[0]
    assert block == markdown_list(), "README's format list is stale: paste markdown_list()"
