"""HTML pages to PDF with WeasyPrint: the same templates as the HTML, not a second layout.

WeasyPrint and the fonts are the optional extra `kzquiz[pdf]`; WeasyPrint also needs the
system's Pango. `missing()` says what is absent, so the command line can turn it into a
usage error naming what to install before anything is rendered.

The PDF embeds PT Serif and PT Sans (SIL Open Font Licence, from the fontpkg packages),
which cover Latin and Cyrillic including the Kazakh letters, so a sheet prints the same on
any machine. They are static fonts on purpose: WeasyPrint turns a variable font into a
static one with a timestamp of the current time, which would make every PDF different.
Output is deterministic: WeasyPrint writes no dates unless the page asks for them, and the
document identifier is derived from the content.
"""

from __future__ import annotations

import atexit
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import weasyprint

INSTALL_HINT = (
    "PDF output needs WeasyPrint and its fonts: pip install 'kzquiz[pdf]'"
    " (and the system's Pango library, e.g. apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
)


def missing() -> str | None:
    """Why PDF output is not available here, or None when it is."""
    try:
        import fontpkg_pt_sans  # noqa: F401
        import fontpkg_pt_serif  # noqa: F401
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        # OSError: WeasyPrint is installed but the system's Pango could not be loaded.
        return f"{INSTALL_HINT}; {type(exc).__name__}: {exc}"
    return None


@lru_cache(maxsize=1)
def _fonts() -> tuple[weasyprint.CSS, object]:
    """The stylesheet that puts the embedded fonts in place of the page's system fonts."""
    import fontpkg_pt_sans
    import fontpkg_pt_serif
    import weasyprint
    from weasyprint.text.fonts import FontConfiguration

    config = FontConfiguration()
    # Let go of the configuration before the interpreter tears its modules down: its
    # finaliser needs them.
    atexit.register(_fonts.cache_clear)
    faces = []
    for family, package in (("KZ Serif", fontpkg_pt_serif), ("KZ Sans", fontpkg_pt_sans)):
        for path in sorted((package.ROOT / "files").glob("*.ttf")):
            style = "italic" if "Italic" in path.name else "normal"
            weight = "bold" if "Bold" in path.name else "normal"
            faces.append(
                f'@font-face {{ font-family: "{family}"; src: url("{path.as_uri()}");'
                f" font-weight: {weight}; font-style: {style}; }}"
            )
    # The page names its fonts as lists of system families; in the PDF every text uses the
    # embedded serif, and the elements the page sets in sans-serif use the embedded sans.
    css = "\n".join(faces) + (
        '\nhtml, body { font-family: "KZ Serif", serif !important; }'
        "\nh1, h2, h3, .q-num, .q-pts, .letter, .pn, .grid b, .refs, .meta, .fields,"
        ' .version-badge, .legend b, .gap-no { font-family: "KZ Sans", sans-serif !important; }'
        '\n@page { @bottom-center { font-family: "KZ Sans", sans-serif !important; } }'
    )
    return weasyprint.CSS(string=css, font_config=config, url_fetcher=_fetcher()), config


@lru_cache(maxsize=1)
def _fetcher() -> weasyprint.URLFetcher:
    """A fetcher for the embedded fonts and `data:` URIs only: a page never reaches the disk
    or the network, whatever its text says."""
    import weasyprint

    allowed = _font_urls()

    class _Fetcher(weasyprint.URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: object = None) -> object:
            if url.startswith("data:") or url in allowed:
                return super().fetch(url, headers)
            raise ValueError(f"not fetched: {url[:80]}")

    return _Fetcher(allowed_protocols=("file", "data"))


@lru_cache(maxsize=1)
def _font_urls() -> frozenset[str]:
    import fontpkg_pt_sans
    import fontpkg_pt_serif

    return frozenset(
        path.as_uri()
        for package in (fontpkg_pt_serif, fontpkg_pt_sans)
        for path in (package.ROOT / "files").glob("*.ttf")
    )


def _document(html: bytes) -> weasyprint.Document:
    import weasyprint

    stylesheet, config = _fonts()
    return weasyprint.HTML(
        string=html.decode("utf-8"), base_url=None, url_fetcher=_fetcher()
    ).render(stylesheets=[stylesheet], font_config=config)


def html_to_pdf(html: bytes) -> bytes:
    """One HTML page (UTF-8) as PDF bytes."""
    return _write(_document(html))


def combined_pdf(pages: Sequence[bytes]) -> bytes:
    """Several HTML pages as one PDF, in order (one print job for every version)."""
    documents = [_document(html) for html in pages]
    first = documents[0]
    return _write(first.copy([page for document in documents for page in document.pages]))


def _write(document: weasyprint.Document) -> bytes:
    data = document.write_pdf()
    if data is None:  # pragma: no cover - write_pdf returns bytes when given no target
        raise RuntimeError("WeasyPrint returned no PDF")
    return bytes(data)
