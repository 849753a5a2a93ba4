"""The language of everything kzquiz prints around the questions: catalogs, plurals, numbers.

Messages live in gettext catalogs, `locale/<lang>/LC_MESSAGES/kzquiz.po`, the English text
being the message id. English needs no catalog at run time (the ids are the text), so an
English build never loads Babel. Other languages are read from their `.po` with Babel once
per process and kept (`translations`), so there is no compiled `.mo` that could go stale.

The bank's `bank.language` chooses the catalog (`ru-RU` falls back to `ru`); `--language`
overrides it. A bank language without a catalog gets English and a note (see `choose`).
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from kzquiz.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    from kzquiz.bank import LoadedBank
    from kzquiz.model import Question

DOMAIN = "kzquiz"
SOURCE_LANGUAGE = "en"
# Every language with a complete catalog; the order is the one error messages list.
LANGUAGES: tuple[str, ...] = ("en", "ru", "kk")
# Languages that write a decimal comma (and group thousands with a space).
DECIMAL_COMMA: frozenset[str] = frozenset({"ru", "kk"})


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now (module-level tables)."""
    return message


def base(tag: str) -> str:
    """The language part of a tag: `ru-RU` -> `ru`, `kk_KZ` -> `kk`."""
    return tag.replace("_", "-").split("-")[0].lower()


def available(tag: str) -> str | None:
    """The catalog for a language tag, or None when kzquiz has none for it."""
    lang = base(tag)
    return lang if lang in LANGUAGES else None


def requested(tag: str) -> str:
    """The catalog `--language TAG` asks for; a UsageError listing the others when none."""
    lang = available(tag)
    if lang is None:
        raise UsageError(
            f"language {tag!r}: kzquiz has no translation for it; use one of"
            f" {', '.join(LANGUAGES)}",
            field="language",
        )
    return lang


def choose(override: str | None, bank_language: str) -> tuple[str, str | None]:
    """The interface language and a note: `--language` if given, else the bank's, else English.

    A bank language without a catalog is not an error (the questions are still the bank's
    own text); the outputs get English around them and the note says so.
    """
    if override is not None:
        return requested(override), None
    lang = available(bank_language)
    if lang is not None:
        return lang, None
    return SOURCE_LANGUAGE, (
        f"note: no translation for the bank's language {bank_language!r}; the worksheet,"
        f" self-check, Anki and practice texts are in English (--language picks one of"
        f" {', '.join(LANGUAGES)})"
    )


def of(loaded: LoadedBank) -> str:
    """The interface language of a loaded bank: the pipeline's choice, else the bank's."""
    if loaded.ui_language is not None:
        return loaded.ui_language
    return available(loaded.bank.bank.language) or SOURCE_LANGUAGE


def decimal_style(lang: str) -> str:
    """How a student of this language types decimals: "comma" (3,5) or "point" (3.5)."""
    return "comma" if lang in DECIMAL_COMMA else "point"


def plural_forms(lang: str, singular: str, plural: str) -> list[str]:
    """Every plural form of a message in a language, in the catalog's order (for scripts)."""
    tr = translations(lang)
    if not isinstance(tr, gettext.GNUTranslations):
        return [singular, plural]
    count = int(tr._info.get("plural-forms", "nplurals=2").split("nplurals=")[1].split(";")[0])  # type: ignore[attr-defined]
    # The smallest n that takes each form picks it out of the catalog.
    samples: dict[int, int] = {}
    for n in range(1000):
        samples.setdefault(tr.plural(n), n)  # type: ignore[attr-defined]
        if len(samples) == count:
            break
    return [tr.ngettext(singular, plural, samples[i]) for i in sorted(samples)]


def catalog_path(lang: str) -> str:
    """The `.po` file of a language, relative to the package."""
    return f"locale/{lang}/LC_MESSAGES/{DOMAIN}.po"


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The language's messages: read from its `.po` with Babel once, then kept."""
    if lang == SOURCE_LANGUAGE:
        return gettext.NullTranslations()
    if lang not in LANGUAGES:
        raise UsageError(f"language {lang!r}: use one of {', '.join(LANGUAGES)}")
    from io import BytesIO

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    text = (resources.files("kzquiz") / catalog_path(lang)).read_bytes()
    catalog = read_po(BytesIO(text), locale=lang, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def format_number(x: float, lang: str) -> str:
    """A number as the language writes it: 193, 0.5 in English; 0,5 and 1 234,5 in Russian."""
    from kzquiz.model import format_number as plain

    text = plain(x)
    if lang == SOURCE_LANGUAGE or "e" in text or "n" in text:
        # English keeps exactly the digits it always showed; inf/nan/1e+20 stay as they are.
        return text
    from babel.numbers import format_decimal

    return format_decimal(Decimal(text), locale=lang, decimal_quantization=False)


@dataclass(frozen=True)
class Translator:
    """The messages and number format of one language, for code outside templates."""

    lang: str

    def gettext(self, message: str) -> str:
        """The translation of a message."""
        return translations(self.lang).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of a message for `n` (Russian has three, English two)."""
        return translations(self.lang).ngettext(singular, plural, n)

    def number(self, x: float) -> str:
        """A number in the language's form."""
        return format_number(x, self.lang)

    def answer_text(self, q: Question) -> str:
        """The correct answer in plain text, with True/False and numbers in this language."""
        from kzquiz.model import Numeric, TrueFalse

        _ = self.gettext
        if isinstance(q, TrueFalse):
            return _("True") if q.answer else _("False")
        if isinstance(q, Numeric):
            text = self.number(q.answer)
            if q.range is not None:
                low, high = self.number(q.range[0]), self.number(q.range[1])
                text += _(" (accepted %(low)s–%(high)s)") % {"low": low, "high": high}
            elif q.tolerance:
                text += f" (± {self.number(q.tolerance)})"
            return f"{text} {q.unit}" if q.unit else text
        return q.answer_text()


@cache
def translator(lang: str) -> Translator:
    """The Translator of a language."""
    return Translator(lang)


def gettext_for(lang: str) -> Callable[[str], str]:
    """The language's gettext function."""
    return translator(lang).gettext
