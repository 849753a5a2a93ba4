"""PDF worksheets (WeasyPrint): paper size, footers, embedded fonts, no split question, bytes.

Each PDF is read back with poppler (pdfinfo, pdffonts, pdftotext), as a print room would see it.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from kzquiz.loader import load_bank
from kzquiz.render import pdf
from kzquiz.render.worksheet import WorksheetOptions, render_worksheets

ROOT = Path(__file__).resolve().parent.parent
KAZAKH = "ӘҒҚҢӨҰҮҺІ әғқңөұүһі"

pytestmark = [
    pytest.mark.skipif(pdf.missing() is not None, reason=str(pdf.missing())),
    pytest.mark.skipif(
        shutil.which("pdftotext") is None,
        reason="poppler is needed (apt-get install poppler-utils)",
    ),
]


def _tool(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def _info(path: Path) -> dict[str, str]:
    return dict(
        (key.strip(), value.strip())
        for key, _, value in (
            line.partition(":") for line in _tool("pdfinfo", str(path)).splitlines()
        )
    )


def _pages(path: Path) -> list[str]:
    count = int(_info(path)["Pages"])
    return [
        _flat(_tool("pdftotext", "-raw", "-f", str(i), "-l", str(i), str(path), "-"))
        for i in range(1, count + 1)
    ]


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


class _Articles(HTMLParser):
    """The text of every <article> (one question each) in a worksheet."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._current: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self._current = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._current is not None:
            self.texts.append(_flat(" ".join(self._current)))
            self._current = None

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self._current.append(data)


def _split_questions(html: bytes, pdf_path: Path) -> list[str]:
    """Questions whose first and last words do not stand on one page of the PDF."""
    parser = _Articles()
    parser.feed(html.decode("utf-8"))
    assert parser.texts, "the worksheet has no questions"
    pages = _pages(pdf_path)
    split = []
    for text in parser.texts:
        words = text.split(" ")
        head, tail = " ".join(words[:3]), " ".join(words[-3:])
        on_head = {i for i, page in enumerate(pages) if head in page}
        on_tail = {i for i, page in enumerate(pages) if tail in page}
        if not on_head & on_tail:
            split.append(f"{head} … {tail}")
    return split


@pytest.fixture(scope="module")
def shipped() -> Any:
    return load_bank(ROOT / "questions.yaml")


@pytest.fixture(scope="module")
def sheets(shipped: Any) -> dict[str, bytes]:
    options = WorksheetOptions(versions=2, paper="a4", reading=True, seed=5)
    return render_worksheets(shipped, shipped.bank.questions, options, random.Random(5))


@pytest.fixture(scope="module")
def pdfs(sheets: dict[str, bytes]) -> dict[str, bytes]:
    """Each version's PDF, rendered once for the tests that read them."""
    return {
        letter: pdf.html_to_pdf(sheets[f"kz-spief-2022-worksheet-{letter}.html"]) for letter in "AB"
    }


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_worksheet_pdf_is_a4_with_a_footer_on_every_page(
    pdfs: dict[str, bytes], tmp_path: Path
) -> None:
    path = _write(tmp_path, "a.pdf", pdfs["A"])
    info = _info(path)
    assert info["Page size"].startswith("595.276 x 841.89 pts (A4)")
    pages = _pages(path)
    assert len(pages) > 5
    for number, text in enumerate(pages, start=1):
        assert f"Kazakhstan at SPIEF 2022 · Version A · page {number} of {len(pages)}" in text


def test_letter_paper(shipped: Any, tmp_path: Path) -> None:
    options = WorksheetOptions(versions=1, paper="letter", reading=False, seed=1)
    files = render_worksheets(shipped, shipped.bank.questions[:10], options, random.Random(1))
    path = _write(tmp_path, "l.pdf", pdf.html_to_pdf(files["kz-spief-2022-worksheet-A.html"]))
    assert _info(path)["Page size"].startswith("612 x 792 pts (letter)")


def test_no_question_is_split_across_pages(
    sheets: dict[str, bytes], pdfs: dict[str, bytes], tmp_path: Path
) -> None:
    for letter in "AB":
        path = _write(tmp_path, f"{letter}.pdf", pdfs[letter])
        assert _split_questions(sheets[f"kz-spief-2022-worksheet-{letter}.html"], path) == []


def test_the_split_check_catches_a_split_question(sheets: dict[str, bytes], tmp_path: Path) -> None:
    # Without the page's rule that keeps a question on one page, long questions do break
    # across pages: the check above would see it.
    html = sheets["kz-spief-2022-worksheet-A.html"].replace(
        b"</head>", b"<style>article { break-inside: auto !important; }</style></head>", 1
    )
    path = _write(tmp_path, "split.pdf", pdf.html_to_pdf(html))
    assert _split_questions(html, path) != []


def test_fonts_are_embedded_and_cover_kazakh_letters(shipped: Any, tmp_path: Path) -> None:
    options = WorksheetOptions(title=f"Тест {KAZAKH}", versions=1, reading=False, seed=1)
    files = render_worksheets(shipped, shipped.bank.questions[:5], options, random.Random(1))
    path = _write(tmp_path, "kk.pdf", pdf.html_to_pdf(files["kz-spief-2022-worksheet-A.html"]))
    rows = _tool("pdffonts", str(path)).splitlines()[2:]
    assert rows
    for row in rows:
        assert re.search(r"\byes yes yes\b", row), row  # embedded, subset, with a Unicode map
        assert "KZ-" in row, f"a system font was used: {row}"
    assert f"Тест {KAZAKH}" in _pages(path)[0]


def test_combined_pdf_has_every_version_in_order(
    sheets: dict[str, bytes], pdfs: dict[str, bytes], tmp_path: Path
) -> None:
    a = _write(tmp_path, "a.pdf", pdfs["A"])
    b = _write(tmp_path, "b.pdf", pdfs["B"])
    both = _write(
        tmp_path,
        "all.pdf",
        pdf.combined_pdf(
            [sheets["kz-spief-2022-worksheet-A.html"], sheets["kz-spief-2022-worksheet-B.html"]]
        ),
    )
    pages_a, pages_b, pages = _pages(a), _pages(b), _pages(both)
    assert pages == pages_a + pages_b
    assert "Version A · page 1 of" in pages[0]
    assert "Version B · page 1 of" in pages[len(pages_a)]


def test_pdf_bytes_are_identical_on_rebuild(
    sheets: dict[str, bytes], pdfs: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another day, another clock: fonts subset at render time must not carry the time.
    monkeypatch.setattr("time.time", lambda: 2_000_000_000.0)
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    assert pdf.html_to_pdf(sheets["kz-spief-2022-worksheet-A.html"]) == pdfs["A"]


def test_a_page_cannot_reach_the_disk_or_the_network(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET LINE", encoding="utf-8")
    html = (
        f'<html><head><link rel="stylesheet" href="{secret.as_uri()}"></head><body>'
        f'<p>visible</p><img src="{secret.as_uri()}" alt="">'
        '<img src="http://127.0.0.1:9/x.png" alt=""></body></html>'
    ).encode()
    path = _write(tmp_path, "evil.pdf", pdf.html_to_pdf(html))
    text = " ".join(_pages(path))
    assert "visible" in text and "TOP SECRET" not in text


def _word_heights(path: Path) -> list[float]:
    """The height of every word on the PDF's first page, from pdftotext's bounding boxes."""
    xml = _tool("pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-")
    return [
        float(m.group(2)) - float(m.group(1))
        for m in re.finditer(r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)"', xml)
    ]


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from kzquiz.cli import app

    return CliRunner().invoke(app, list(args))


def test_worksheet_pdf_option_writes_each_page_and_one_for_every_version(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    result = _cli(
        "worksheet", str(ROOT / "questions.yaml"), "-n", "8", "--seed", "3", "--versions", "2",
        "--pdf", "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "kz-spief-2022-key.html",
        "kz-spief-2022-key.pdf",
        "kz-spief-2022-worksheet-A.html",
        "kz-spief-2022-worksheet-A.pdf",
        "kz-spief-2022-worksheet-B.html",
        "kz-spief-2022-worksheet-B.pdf",
        "kz-spief-2022-worksheets.pdf",
    ]
    combined = _pages(out / "kz-spief-2022-worksheets.pdf")
    assert combined == _pages(out / "kz-spief-2022-worksheet-A.pdf") + _pages(
        out / "kz-spief-2022-worksheet-B.pdf"
    )
    # Without --pdf the set is HTML again: the PDFs of the earlier run are stale and go.
    result = _cli(
        "worksheet", str(ROOT / "questions.yaml"), "-n", "8", "--seed", "3", "--versions", "2",
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert sorted(p.suffix for p in out.iterdir()) == [".html"] * 3


def test_large_print_makes_the_type_larger(tmp_path: Path) -> None:
    sizes = {}
    for flag in ("", "--large-print"):
        out = tmp_path / (flag or "normal")
        args = ["worksheet", str(ROOT / "questions.yaml"), "-n", "6", "--seed", "1", "--pdf"]
        result = _cli(*args, "--no-reading", "-o", str(out), *([flag] if flag else []))
        assert result.exit_code == 0, result.output
        heights = sorted(_word_heights(out / "kz-spief-2022-worksheet-A.pdf"))
        sizes[flag] = heights[len(heights) // 2]  # the median word: body text
        if flag:
            html = (out / "kz-spief-2022-worksheet-A.html").read_text(encoding="utf-8")
            assert "font-size: 16pt" in html
    assert sizes["--large-print"] > 1.2 * sizes[""], sizes


def test_pdf_without_weasyprint_is_a_usage_error_naming_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf, "missing", lambda: f"{pdf.INSTALL_HINT}; ImportError: weasyprint")
    result = _cli("worksheet", str(ROOT / "questions.yaml"), "--pdf", "-o", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "--pdf: PDF output needs WeasyPrint and its fonts: pip install 'kzquiz[pdf]'" in (
        result.stderr
    )
    assert not (tmp_path / "o").exists()
