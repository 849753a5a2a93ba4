"""Headless Chromium for tests: print to PDF, read PDFs back, and drive pages with Selenium.

Tests that need these skip with a clear reason where Chromium or poppler is absent;
CI installs them (see .ci/run).
"""

from __future__ import annotations

import base64
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = (
    shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
)
CHROMEDRIVER = shutil.which("chromedriver")
PDFTOTEXT = shutil.which("pdftotext")
PDFINFO = shutil.which("pdfinfo")

needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed (apt-get install -y chromium)"
)
needs_pdf_tools = pytest.mark.skipif(
    CHROMIUM is None or PDFTOTEXT is None or PDFINFO is None,
    reason="Chromium and poppler-utils are needed (apt-get install -y chromium poppler-utils)",
)
needs_webdriver_and_pdf_tools = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None or PDFTOTEXT is None,
    reason="Chromium, its driver and poppler-utils are needed"
    " (apt-get install -y chromium chromium-driver poppler-utils)",
)
needs_webdriver = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="Chromium and its driver are needed (apt-get install -y chromium chromium-driver)",
)

CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
]


def print_to_pdf(html: Path, pdf: Path) -> Path:
    """Print an HTML file to PDF with headless Chromium, as a teacher's Print button would."""
    assert CHROMIUM is not None
    subprocess.run(
        [
            CHROMIUM,
            *CHROME_FLAGS,
            "--no-pdf-header-footer",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert pdf.exists() and pdf.stat().st_size > 0, f"Chromium wrote no PDF for {html}"
    return pdf


def print_with_browser_headers(driver: Any, html: Path, pdf: Path) -> Path:
    """Print as Chrome does with its "Headers and footers" box ticked (the default).

    DevTools' Page.printToPDF with displayHeaderFooter draws Chrome's own header (date,
    title) and footer (URL, page number) in the page margins, as the print dialog does.
    """
    driver.get(html.resolve().as_uri())
    result = driver.execute_cdp_cmd(
        "Page.printToPDF",
        {"displayHeaderFooter": True, "preferCSSPageSize": True, "printBackground": False},
    )
    pdf.write_bytes(base64.b64decode(result["data"]))
    assert pdf.stat().st_size > 0, f"Chromium wrote no PDF for {html}"
    return pdf


def pdf_text(pdf: Path, *, layout: bool = False) -> str:
    """The PDF's text via pdftotext; pages are separated by form feeds."""
    assert PDFTOTEXT is not None
    args = [PDFTOTEXT, *(["-layout"] if layout else []), str(pdf), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True, timeout=60).stdout


def pdf_pages(pdf: Path) -> int:
    """The page count from pdfinfo."""
    assert PDFINFO is not None
    out = subprocess.run(
        [PDFINFO, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    for line in out.splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo gave no page count:\n{out}")


def pdf_page_size(pdf: Path) -> tuple[float, float]:
    """Page width and height in points from pdfinfo."""
    assert PDFINFO is not None
    out = subprocess.run(
        [PDFINFO, str(pdf)], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    for line in out.splitlines():
        if line.startswith("Page size:"):
            parts = line.split()
            return float(parts[2]), float(parts[4])
    raise AssertionError(f"pdfinfo gave no page size:\n{out}")


def webdriver():  # type: ignore[no-untyped-def]
    """A headless Chrome WebDriver on the system Chromium (no browser download)."""
    from selenium import webdriver as wd
    from selenium.webdriver.chrome.service import Service

    options = wd.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument("--window-size=1200,900")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return wd.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
