"""The reading passage: its paragraphs, and where an evidence quote sits in it."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

# Typographic characters a teacher may or may not have typed the same way as the article
# (kzquiz.grading folds a student's typed answers with the same table).
TYPOGRAPHY = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u00a0": " ",
        "\u2026": "...",
    }
)
# The characters TYPOGRAPHY folds, to find them without looking at every other character.
_TYPOGRAPHIC = re.compile("[" + re.escape("".join(map(chr, TYPOGRAPHY))) + "]")
_SPACES = re.compile(r"\s+")
# Paragraph separator that no normalised quote can contain, so a quote never spans two.
_SEP = "\x00"


def normalise(text: str) -> str:
    """Fold case, typographic quotes/dashes/ellipses and runs of whitespace for comparison."""
    # Most bank text is ASCII: nothing typographic to fold, and lower() suffices.
    if text.isascii():
        return " ".join(text.split()).lower()
    # Same as text.translate(TYPOGRAPHY), but str.translate with a dict looks up every
    # character (a tenth of a 10,000-question check); the regex replaces only the few.
    return " ".join(_TYPOGRAPHIC.sub(_fold, text).split()).casefold()


def _fold(match: re.Match[str]) -> str:
    return str(TYPOGRAPHY[ord(match.group())])


def _is_heading(block: str) -> bool:
    # A section heading is a short single line without closing punctuation.
    return (
        "\n" not in block
        and len(block) <= 80
        and not block.rstrip().endswith((".", "!", "?", "\u201d", '"', "\u2026", ":", ";", ","))
    )


@dataclass
class SourceText:
    """The article: title, numbered paragraphs and section headings, with a quote index."""

    title: str
    paragraphs: list[str]
    # heading text keyed by the number of the paragraph it precedes
    headings: dict[int, str] = field(default_factory=dict)
    _haystack: str = field(default="", repr=False)
    _starts: list[int] = field(default_factory=list, repr=False)
    # Quotes already looked up: a big bank about one article quotes the same sentences often.
    _located: dict[str, int | None] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = [normalise(p) for p in self.paragraphs]
        starts, pos = [], 0
        for part in parts:
            starts.append(pos)
            pos += len(part) + len(_SEP)
        self._haystack = _SEP.join(parts)
        self._starts = starts

    @classmethod
    def parse(cls, text: str) -> SourceText:
        """Split a plain-text article into title, headings and numbered paragraphs."""
        blocks = [b.strip() for b in re.split(r"\n\s*\n", text.replace("\r\n", "\n")) if b.strip()]
        if not blocks:
            return cls(title="", paragraphs=[])
        title, paragraphs, headings = blocks[0], list[str](), dict[int, str]()
        for block in blocks[1:]:
            if _is_heading(block):
                headings[len(paragraphs) + 1] = block
            else:
                paragraphs.append(_SPACES.sub(" ", block))
        return cls(title=title, paragraphs=paragraphs, headings=headings)

    @property
    def title_looks_like_paragraph(self) -> bool:
        """Whether the first block, taken as the title, is more likely a paragraph.

        Titles may be long, but rarely end a sentence and never run to several sentences.
        """
        title = self.title.rstrip()
        ends_sentence = title.endswith((".", "!", "?", "\u2026", "\u201d", '"'))
        return (ends_sentence and len(title) > 40) or len(title) > 200

    def in_title(self, quote: str) -> bool:
        """Whether the quote is in the title block (where evidence does not count)."""
        needle = normalise(quote)
        return bool(needle) and needle in normalise(self.title)

    def locate(self, quote: str) -> int | None:
        """Return the 1-based number of the paragraph containing the quote, or None."""
        if quote in self._located:
            return self._located[quote]
        needle = normalise(quote)
        at = self._haystack.find(needle) if needle else -1
        found = bisect.bisect_right(self._starts, at) if at >= 0 else None
        self._located[quote] = found
        return found
