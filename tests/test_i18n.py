"""Translations: complete catalogs, the language chosen, no English left, numbers and plurals."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from typer.testing import CliRunner

from browser import CHROMEDRIVER, CHROMIUM, webdriver
from kzquiz import i18n
from kzquiz.cli import app
from kzquiz.grading import grade, parse_number
from kzquiz.loader import load_bank
from kzquiz.model import Numeric
from kzquiz.render.anki.ids import (
    ANSWER_MODEL_ID,
    CHOICE_MODEL_ID,
    CLOZE_MODEL_ID,
    LANGUAGE_MODEL_IDS,
    MATCHING_MODEL_ID,
)
from kzquiz.render.anki.models import model_json, note_types
from kzquiz.render.selfcheck import page_text

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "src" / "kzquiz" / "locale"
BANKS = Path(__file__).resolve().parent / "banks"
RU_BANK = BANKS / "ru-mini.yaml"
KAZAKH = "ӘҒҚҢӨҰҮҺІ"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
# Words of English messages that stay as they are in every language, by design: the program's
# name, key names on a keyboard, and the answer letters a student types.
SAME_IN_EVERY_LANGUAGE = {"kzquiz", "JavaScript", "Tab", "Enter", "AC"}

runner = CliRunner()


def _catalog(lang: str) -> Catalog:
    with (LOCALE / lang / "LC_MESSAGES" / "kzquiz.po").open("rb") as f:
        return read_po(f, locale=lang)


def _template() -> Catalog:
    with (LOCALE / "kzquiz.pot").open("rb") as f:
        return read_po(f)


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


# ---- the catalogs ------------------------------------------------------------------------


def test_the_template_holds_every_message_of_the_code(tmp_path: Path) -> None:
    # Extracted again with the documented command: a message added to the code or a
    # template without updating the catalogs fails here.
    out = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "N_",
            "-k",
            "forms:1,2",
            "--no-location",
            "--sort-output",
            "-o",
            str(out),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with out.open("rb") as f:
        fresh = read_po(f)
    assert _ids(fresh) == _ids(_template())


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_catalog_is_complete_and_checks(lang: str) -> None:
    catalog = _catalog(lang)
    template = _template()
    assert _ids(catalog) == _ids(template), "run pybabel update (see the README)"
    assert not catalog.fuzzy
    # The header's plural rule is Babel's (CLDR's) for the language.
    plural = get_plural(lang)
    assert catalog.num_plurals == plural.num_plurals
    assert catalog.plural_expr == plural.plural_expr
    for message in catalog:
        if not message.id:
            continue
        assert "fuzzy" not in message.flags, message.id
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        assert len(strings) == (catalog.num_plurals if isinstance(message.id, tuple) else 1)
        wanted = {name for text in ids for name in PLACEHOLDER.findall(text)}
        for text in strings:
            assert text, f"{lang}: {message.id!r} is not translated"
            assert set(PLACEHOLDER.findall(text)) == wanted, (lang, message.id, text)
            assert text.count("<strong>") == ids[0].count("<strong>"), (lang, message.id)
        assert not list(catalog.check()), lang


def test_english_catalog_is_the_message_ids() -> None:
    for message in _catalog("en"):
        if message.id:
            assert message.string == message.id


@pytest.mark.parametrize(
    ("n", "form"),
    [
        (1, "вопрос"),
        (2, "вопроса"),
        (5, "вопросов"),
        (11, "вопросов"),
        (21, "вопрос"),
        (22, "вопроса"),
        (0, "вопросов"),
    ],
)
def test_russian_plurals(n: int, form: str) -> None:
    text = i18n.translator("ru").ngettext("%(num)s question", "%(num)s questions", n)
    assert text % {"num": n} == f"{n} {form}"


def test_kazakh_numbers_take_the_singular() -> None:
    tr = i18n.translator("kk")
    for n in (1, 2, 5, 21):
        assert tr.ngettext("%(num)s question", "%(num)s questions", n) % {"num": n} == f"{n} сұрақ"


# ---- choosing the language -----------------------------------------------------------------


def test_language_of_a_bank() -> None:
    assert i18n.choose(None, "ru-RU") == ("ru", None)
    assert i18n.choose(None, "kk") == ("kk", None)
    assert i18n.choose("kk", "ru") == ("kk", None)
    assert i18n.choose("RU", "en") == ("ru", None)
    lang, note = i18n.choose(None, "de")
    assert lang == "en"
    assert note is not None and "'de'" in note and "en, ru, kk" in note


def test_unknown_language_is_a_usage_error(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["worksheet", str(RU_BANK), "--language", "xx", "-o", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "--language 'xx'" in result.output and "en, ru, kk" in result.output
    assert not list(tmp_path.iterdir())


def test_a_bank_language_without_a_catalog_gets_english_and_a_note(
    make_bank: Any, mini_bank_data: dict[str, Any], tmp_path: Path
) -> None:
    mini_bank_data["bank"]["language"] = "de"
    result = runner.invoke(
        app, ["selfcheck", str(make_bank(mini_bank_data)), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "no translation for the bank's language 'de'" in result.output
    page = next((tmp_path / "o").glob("*-selfcheck.html")).read_text(encoding="utf-8")
    assert '<html lang="en" data-language="de"' in page


# ---- the Russian bank builds everything ----------------------------------------------------


@pytest.fixture(scope="module")
def ru_outputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Russian bank copied with its article, built (and every export) into out-ru/."""
    base = tmp_path_factory.mktemp("ru")
    for name in ("ru-mini.yaml", "ru-article.txt"):
        shutil.copyfile(BANKS / name, base / name)
    out = base / "out-ru"
    result = runner.invoke(app, ["build", str(base / "ru-mini.yaml"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    for fmt in (
        "gift",
        "qti",
        "moodle",
        "quizlet",
        "csv",
        "kahoot",
        "blooket",
        "quizizz",
        "gimkit",
    ):
        result = runner.invoke(app, ["export", fmt, str(base / "ru-mini.yaml"), "-o", str(out)])
        assert result.exit_code == 0, (fmt, result.output)
    kk = base / "out-kk"
    result = runner.invoke(
        app, ["build", str(base / "ru-mini.yaml"), "--language", "kk", "-o", str(kk)]
    )
    assert result.exit_code == 0, result.output
    return base


def test_the_russian_bank_passes_check_strict() -> None:
    result = runner.invoke(app, ["check", str(RU_BANK), "--strict"])
    assert result.exit_code == 0, result.output


def test_the_russian_bank_builds_every_output(ru_outputs: Path) -> None:
    names = {p.name for p in (ru_outputs / "out-ru").iterdir()}
    for name in (
        "ru-mini-worksheet-A.html",
        "ru-mini-key.html",
        "ru-mini-selfcheck.html",
        "ru-mini.apkg",
        "ru-mini.gift.txt",
        "ru-mini.qti.zip",
        "ru-mini.moodle.xml",
        "ru-mini.quizlet.txt",
        "ru-mini.csv",
        "ru-mini.kahoot.xlsx",
        "ru-mini.blooket.csv",
        "ru-mini.quizizz.xlsx",
        "ru-mini.gimkit.csv",
    ):
        assert name in names


class _Visible(HTMLParser):
    """The text a reader meets: text nodes outside script/style, and the labelling attributes."""

    ATTRS = ("alt", "title", "aria-label", "placeholder")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        self.parts += [v for k, v in attrs if k in self.ATTRS and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def _visible(page: str) -> str:
    parser = _Visible()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _english_fragments() -> list[str]:
    """The English text of every message: each run between placeholders with a real word."""
    out = set()
    for message in _catalog("en"):
        if not message.id:
            continue
        for text in message.id if isinstance(message.id, tuple) else (message.id,):
            for piece in PLACEHOLDER.split(text)[::2]:
                piece = re.sub(r"<[^>]+>", " ", piece).strip(" .,;:()–—“”↑↩✓✗·")
                words = set(re.findall(r"[A-Za-z]{2,}", piece))
                if words - SAME_IN_EVERY_LANGUAGE and re.search(r"[A-Za-z]{3,}", piece):
                    out.add(piece)
    return sorted(out, key=len, reverse=True)


def _english_left(text: str) -> list[str]:
    # Placeholders (%(right)s) are names the script fills in, not text anyone reads.
    text = PLACEHOLDER.sub(" ", text)
    return [
        f
        for f in _english_fragments()
        if re.search(rf"(?<![A-Za-z]){re.escape(f)}(?![A-Za-z])", text)
    ]


def _page_texts(folder: Path) -> dict[str, str]:
    out = {}
    for name in ("ru-mini-worksheet-A.html", "ru-mini-key.html", "ru-mini-selfcheck.html"):
        page = (folder / name).read_text(encoding="utf-8")
        text = _visible(page)
        # The footer "page N of M" lives in the @page CSS, not in the body.
        footers = re.findall(r"content: ([^;]*counter\(pages\)[^;]*);", page)
        text += " " + re.sub(r"counter\(pages?\)", " ", " ".join(footers))
        match = re.search(r'<script type="application/json" id="kzq-text">(.*?)</script>', page)
        if match:
            text += " " + " ".join(_strings(json.loads(match.group(1))))
        out[name] = text
    return out


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_no_english_left_in_the_pages(ru_outputs: Path, lang: str) -> None:
    for name, text in _page_texts(ru_outputs / f"out-{lang}").items():
        assert not _english_left(_css_unescaped(text)), (lang, name, _english_left(text))


def _css_unescaped(text: str) -> str:
    return re.sub(r"\\([0-9a-f]{1,6}) ?", lambda m: chr(int(m.group(1), 16)), text)


def test_the_scan_finds_english(ru_outputs: Path) -> None:
    # The same scan on the English pages finds the interface text: it is not vacuous.
    en = ru_outputs / "out-en"
    result = runner.invoke(
        app, ["build", str(ru_outputs / "ru-mini.yaml"), "--language", "en", "-o", str(en)]
    )
    assert result.exit_code == 0, result.output
    found = set()
    for text in _page_texts(en).values():
        found |= set(_english_left(_css_unescaped(text)))
    for fragment in ("Answer key", "Tick the one correct answer", "Check", "Name", "page"):
        assert fragment in found


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_no_english_left_in_the_anki_templates(lang: str) -> None:
    for nt in note_types(lang):
        data = model_json(nt)
        for template in data["templates"]:
            for side in (template["qfmt"], template["afmt"]):
                scripts = re.findall(r"<script>(.*?)</script>", side, re.S)
                text = _visible(re.sub(r"\{\{[^}]*\}\}", " ", side))
                # The script's string literals that are words for people (class names such
                # as "kz-right" and selectors have no space).
                literals = [
                    json.loads(s)
                    for code in scripts
                    for s in re.findall(r'"(?:[^"\\]|\\.)*"', code)
                ]
                text += " " + " ".join(s for s in literals if " " in s.strip())
                assert not _english_left(text), (lang, nt.name, _english_left(text))


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_no_english_left_in_the_anki_fields(lang: str) -> None:
    from kzquiz.render.anki.fields import deck_description_html, note_spec

    loaded = load_bank(RU_BANK)
    import dataclasses

    loaded = dataclasses.replace(loaded, ui_language=lang)
    texts = [value for q in loaded.bank.questions for value in note_spec(loaded, q).fields.values()]
    texts.append(deck_description_html("T", "S", "2022", "", i18n.translator(lang)))
    text = _visible(" ".join(texts))
    # Field values carry the question kind ("single") as data, not as text.
    text = re.sub(r"\b(?:single|multiple|truefalse)\b", " ", text)
    assert not _english_left(text), _english_left(text)


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_no_english_left_in_practice(
    lang: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # Nonsense first (every question's hint), then "?" (the answer shown), to the end.
    answers = "zzz\n?\n" * 40
    result = runner.invoke(
        app, ["practice", str(RU_BANK), "--seed", "3", "--language", lang], input=answers
    )
    assert result.exit_code == 0, result.output
    assert "%(" not in result.output
    # Not the ids, tags and the "?" key (they are data), only the words around them.
    assert not _english_left(result.output), _english_left(result.output)


def test_practice_in_russian_accepts_a_decimal_comma(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    result = runner.invoke(
        app,
        ["practice", str(RU_BANK), "--type", "numeric", "--seed", "1"],
        input="18,9\n193\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("✓ Верно!") == 2
    assert "верно 2 из 2 (100%)" in result.output


# ---- numbers -------------------------------------------------------------------------------


def test_numbers_in_the_language() -> None:
    assert i18n.format_number(1234.5, "ru") == "1\u00a0234,5"
    assert i18n.format_number(0.5, "kk") == "0,5"
    assert i18n.format_number(1234.5, "en") == "1234.5"  # English as it always was
    assert i18n.format_number(193.0, "ru") == "193"


def test_the_russian_key_writes_decimal_commas(ru_outputs: Path) -> None:
    key = (ru_outputs / "out-ru" / "ru-mini-key.html").read_text(encoding="utf-8")
    assert "18,7 (± 0,5) млн" in html.unescape(key)


# The rule where a language writes a decimal comma: the comma is the decimal sign, a point is
# accepted too, thousands are grouped with spaces. English keeps its rule: "1,500" is 1500.
COMMA_CASES: list[tuple[str, float | None]] = [
    ("3,5", 3.5),
    ("3.5", 3.5),
    ("-0,25", -0.25),
    (",5", 0.5),
    ("1,500", 1.5),
    ("1 500", 1500.0),
    ("1\u00a0500,5", 1500.5),
    ("1\u202f234\u202f567", 1234567.0),
    ("12 34", None),
    ("1,2,3", None),
    ("1.000,5", None),
    ("2e3", 2000.0),
    ("\u22123,5", -3.5),
    ("abc", None),
]


@pytest.mark.parametrize(("text", "expected"), COMMA_CASES)
def test_decimal_comma_rule(text: str, expected: float | None) -> None:
    assert parse_number(text, "comma") == expected


def test_the_english_rule_is_unchanged() -> None:
    assert parse_number("1,500") == 1500.0
    assert parse_number("1,93") == 1.93
    assert parse_number("1 500") is None


def test_grading_in_russian_takes_the_comma() -> None:
    q = next(q for q in load_bank(RU_BANK).bank.questions if q.id == "ru-population")
    assert isinstance(q, Numeric)
    assert grade(q, "18,7", language="ru", decimal="comma").correct
    assert grade(q, "18.7", language="ru", decimal="comma").correct
    assert not grade(q, "1,87", language="ru", decimal="comma").correct


# ---- Anki note types per language ------------------------------------------------------------


def test_english_note_types_keep_their_ids() -> None:
    assert [nt.model_id for nt in note_types("en")] == [
        CHOICE_MODEL_ID,
        CLOZE_MODEL_ID,
        ANSWER_MODEL_ID,
        MATCHING_MODEL_ID,
    ]
    assert [nt.name for nt in note_types("en")] == [
        "kzquiz Choice",
        "kzquiz Cloze",
        "kzquiz Answer",
        "kzquiz Matching",
    ]


def test_each_language_has_note_types_of_its_own() -> None:
    seen: set[int] = set()
    for lang in i18n.LANGUAGES:
        types = note_types(lang)
        ids = {nt.model_id for nt in types}
        fields = {nt.field_id(f) for nt in types for f in nt.fields}
        templates = {nt.template_id() for nt in types}
        assert len(ids) == 4 and not ids & seen
        seen |= ids | fields | templates
        if lang != "en":
            assert [nt.model_id for nt in types] == list(LANGUAGE_MODEL_IDS[lang].values())
            assert all(nt.name.endswith(f" ({lang})") for nt in types)
            # The QuestionId search finds the notes of every language.
            assert all(nt.name.startswith("kzquiz ") for nt in types)


# ---- the PDF -------------------------------------------------------------------------------


def test_kazakh_letters_come_back_from_the_pdf(tmp_path: Path) -> None:
    from kzquiz.render import pdf

    if pdf.missing() is not None or shutil.which("pdftotext") is None:
        pytest.skip(f"PDF tools missing: {pdf.missing() or 'pdftotext'}")
    for name in ("ru-mini.yaml", "ru-article.txt"):
        shutil.copyfile(BANKS / name, tmp_path / name)
    bank = tmp_path / "ru-mini.yaml"
    text = bank.read_text(encoding="utf-8").replace("Казахстан на ПМЭФ-2022", f"Қазақстан {KAZAKH}")
    bank.write_text(text, encoding="utf-8")
    texts = {}
    for lang in ("ru", "kk"):
        out = tmp_path / lang
        result = runner.invoke(
            app,
            ["worksheet", str(bank), "--language", lang, "--seed", "1", "--pdf", "-o", str(out)],
        )
        assert result.exit_code == 0, result.output
        for name in ("ru-mini-worksheet-A.pdf", "ru-mini-key.pdf"):
            extracted = subprocess.run(
                ["pdftotext", "-enc", "UTF-8", str(out / name), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            texts[lang, name] = " ".join(extracted.split())
    assert KAZAKH in texts["kk", "ru-mini-worksheet-A.pdf"]
    for word in ("Аты-жөні", "Сынып", "Күні", "Нұсқа", "Сұрақтар", "бет 1 / "):
        assert word in texts["kk", "ru-mini-worksheet-A.pdf"], word
    for word in ("Фамилия, имя", "Класс", "Вариант", "стр. 1 из "):
        assert word in texts["ru", "ru-mini-worksheet-A.pdf"], word
    assert "Жауаптар" in texts["kk", "ru-mini-key.pdf"]
    assert "Ответы" in texts["ru", "ru-mini-key.pdf"]
    for (lang, name), text in texts.items():
        assert not _english_left(text), (lang, name, _english_left(text))


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_no_english_left_on_the_answer_sheet(tmp_path: Path, lang: str) -> None:
    from kzquiz.render import pdf

    for name in ("ru-mini.yaml", "ru-article.txt"):
        shutil.copyfile(BANKS / name, tmp_path / name)
    out = tmp_path / lang
    pdf_wanted = pdf.missing() is None and shutil.which("pdftotext") is not None
    result = runner.invoke(
        app,
        [
            "worksheet",
            str(tmp_path / "ru-mini.yaml"),
            "--language",
            lang,
            "--answer-sheet",
            "--seed",
            "1",
            *(["--pdf"] if pdf_wanted else []),
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    texts = {"html": _visible((out / "ru-mini-answersheet-A.html").read_text(encoding="utf-8"))}
    if pdf_wanted:
        texts["pdf"] = " ".join(
            subprocess.run(
                ["pdftotext", "-enc", "UTF-8", str(out / "ru-mini-answersheet-A.pdf"), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.split()
        )
    words = {
        "ru": ("Бланк ответов", "Вариант A", "стр. 1 из 1", "Фамилия, имя", "Номер", "ученика"),
        "kk": ("Жауап парағы", "A нұсқасы", "бет 1 / 1", "Аты-жөні", "Оқушы", "нөмірі"),
        "en": ("Answer sheet", "Version A", "page 1 of 1", "Name", "Student", "number"),
    }[lang]
    for kind, text in texts.items():
        for word in words:
            assert word in text, (kind, word)
        if lang == "en":
            # The control: the same scan finds the English sheet's text.
            assert "Fill each bubble fully with a dark pen" in _english_left(text), kind
        else:
            assert not _english_left(text), (lang, kind, _english_left(text))


# ---- the self-check page in a browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One headless Chromium for the module."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "Chromium and its driver are needed (apt-get install -y chromium chromium-driver)"
        )
    d = webdriver()
    yield d
    d.quit()


def test_the_russian_page_takes_a_decimal_comma_like_practice(
    driver: Any, ru_outputs: Path
) -> None:
    page = ru_outputs / "out-ru" / "ru-mini-selfcheck.html"
    driver.get(page.resolve().as_uri())
    texts = [t for t, _ in COMMA_CASES] + ["1,000", "1,93", "12,345.5"]
    got = driver.execute_script(
        "return arguments[0].map(function (t) { return window.kzquizSelfcheck.parseNumber(t); });",
        texts,
    )
    assert got == [parse_number(t, "comma") for t in texts]
    # And the English rule where the page says so.
    english = driver.execute_script(
        "return arguments[0].map(function (t) { return window.kzquizSelfcheck.parseNumber(t, 'point'); });",
        texts,
    )
    assert english == [parse_number(t) for t in texts]


def test_the_russian_page_grades_a_typed_decimal_comma(driver: Any, ru_outputs: Path) -> None:
    from selenium.webdriver.common.by import By

    page = ru_outputs / "out-ru" / "ru-mini-selfcheck.html"
    driver.get(page.resolve().as_uri())
    driver.execute_script("localStorage.clear()")
    driver.get(page.resolve().as_uri())
    driver.find_element(By.ID, "q-ru-population-answer").send_keys("18,9")
    driver.find_element(By.ID, "check").click()
    card = driver.find_element(By.ID, "q-ru-population")
    assert "✓ Верно" in card.text
    assert "верно 1 из 1 (100%)" in driver.find_element(By.ID, "score-total").text


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_the_page_plurals_agree_with_the_catalog(driver: Any, ru_outputs: Path, lang: str) -> None:
    folder = ru_outputs / ("out-ru" if lang == "ru" else "out-kk" if lang == "kk" else "out-en")
    if not folder.exists():
        result = runner.invoke(
            app, ["build", str(ru_outputs / "ru-mini.yaml"), "--language", lang, "-o", str(folder)]
        )
        assert result.exit_code == 0, result.output
    driver.get((folder / "ru-mini-selfcheck.html").resolve().as_uri())
    numbers = list(range(0, 130))
    got = driver.execute_script(
        "return arguments[0].map(function (n) { return window.kzquizSelfcheck.plural('retrying', n); });",
        numbers,
    )
    tr = i18n.translator(lang)
    expected = [
        tr.ngettext(
            "Retrying %(num)s question answered wrong",
            "Retrying %(num)s questions answered wrong",
            n,
        )
        % {"num": n}
        for n in numbers
    ]
    assert got == expected
    assert page_text(lang)["messages"]["retrying"] == i18n.plural_forms(
        lang,
        "Retrying %(num)s question answered wrong",
        "Retrying %(num)s questions answered wrong",
    )


def test_the_page_text_keeps_its_placeholders() -> None:
    for lang in i18n.LANGUAGES:
        en = page_text("en")["messages"]
        for key, value in page_text(lang)["messages"].items():
            for a, b in zip(_strings(value), _strings(en[key]), strict=False):
                assert set(PLACEHOLDER.findall(a)) == set(PLACEHOLDER.findall(b)), (lang, key)


def test_english_outputs_need_no_catalog() -> None:
    # English is the message ids: no .po is read (so an English build costs what it did).
    assert type(i18n.translations("en")).__name__ == "NullTranslations"


def test_switching_a_deck_to_russian_in_anki(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the README promises: importing the Russian deck over the English one adds the
    # Russian note types and touches no note (Anki skips a GUID it holds under another note
    # type); after Change Note Type, the Russian deck updates every note in place.
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    for name in ("ru-mini.yaml", "ru-article.txt"):
        shutil.copyfile(BANKS / name, tmp_path / name)

    def deck(lang: str, out: str) -> Path:
        args = [
            "anki",
            str(tmp_path / "ru-mini.yaml"),
            "--language",
            lang,
            "-o",
            str(tmp_path / out),
        ]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        return tmp_path / out / "ru-mini.apkg"

    col = Collection(str(tmp_path / "collection.anki2"))
    try:

        def imported(apkg: Path) -> dict[str, int]:
            options = ImportAnkiPackageOptions(with_scheduling=False)
            log = col.import_anki_package(
                ImportAnkiPackageRequest(package_path=str(apkg), options=options)
            ).log
            return {k: len(getattr(log, k)) for k in ("new", "updated", "duplicate", "conflicting")}

        notes = len(load_bank(RU_BANK).bank.questions)
        assert imported(deck("en", "en")) == {
            "new": notes,
            "updated": 0,
            "duplicate": 0,
            "conflicting": 0,
        }
        assert imported(deck("ru", "ru")) == {
            "new": 0,
            "updated": 0,
            "duplicate": 0,
            "conflicting": notes,
        }
        assert col.note_count() == notes
        uses = {m.name: m.use_count for m in col.models.all_use_counts()}
        assert uses["kzquiz Choice"] == 5 and uses["kzquiz Choice (ru)"] == 0
        for kind in ("Choice", "Cloze", "Answer", "Matching"):
            old = col.models.by_name(f"kzquiz {kind}")
            new = col.models.by_name(f"kzquiz {kind} (ru)")
            assert old is not None and new is not None
            info = col.models.change_notetype_info(
                old_notetype_id=old["id"], new_notetype_id=new["id"]
            )
            info.input.note_ids.extend(col.models.nids(old["id"]))
            col.models.change_notetype_of_notes(info.input)
        # Built later than the change (Anki updates a note only from a newer one).
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(time.time()) + 60))
        assert imported(deck("ru", "ru-again")) == {
            "new": 0,
            "updated": notes,
            "duplicate": 0,
            "conflicting": 0,
        }
        note = col.get_note(col.find_notes('"QuestionId:ru-sanctions"')[0])
        assert note.note_type()["name"] == "kzquiz Choice (ru)"
        assert "Неверно" in note["Options"]
    finally:
        col.close()


def test_an_english_build_does_not_load_babel(tmp_path: Path) -> None:
    # English is the message ids, so `kzquiz build` of an English bank costs what it did
    # before the catalogs (no Babel import, no .po read).
    code = (
        "import sys; from kzquiz import pipeline;"
        f" pipeline.build(None, __import__('pathlib').Path({str(tmp_path / 'out')!r}));"
        " print(sorted(m for m in sys.modules if m.split('.')[0] == 'babel'))"
    )
    env = {**__import__("os").environ, "PYTHONPATH": str(ROOT / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stdout


@pytest.mark.parametrize("lang", ["ru", "kk"])
def test_no_english_left_on_the_checked_page(driver: Any, ru_outputs: Path, lang: str) -> None:
    # What the script writes once answers are checked (verdicts, tags, expected answers,
    # the score), scanned in the browser itself.
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.select import Select

    page = ru_outputs / f"out-{lang}" / "ru-mini-selfcheck.html"
    driver.get(page.resolve().as_uri())
    driver.execute_script("localStorage.clear()")
    driver.get(page.resolve().as_uri())
    # The questions' boxes (the Hand in name box appears only after Check).
    for box in driver.find_elements(By.CSS_SELECTOR, "#quiz input[type=text]"):
        box.send_keys("1,2,3")
    for choice in driver.find_elements(By.CSS_SELECTOR, "input[type=radio], input[type=checkbox]"):
        driver.execute_script("arguments[0].click()", choice)
    for select in driver.find_elements(By.CSS_SELECTOR, "select"):
        Select(select).select_by_index(1)
    down = driver.find_elements(By.CSS_SELECTOR, "button.move[data-dir=down]:not([disabled])")
    driver.execute_script("arguments[0].click()", down[0])
    status = driver.find_element(By.ID, "status").get_attribute("textContent")
    driver.find_element(By.ID, "check").click()
    text = driver.execute_script(
        "var out = [document.body.innerText, document.title];"
        "document.querySelectorAll('[aria-label],[title],[placeholder],[alt]').forEach("
        "function (e) { ['aria-label', 'title', 'placeholder', 'alt'].forEach("
        "function (a) { if (e.getAttribute(a)) { out.push(e.getAttribute(a)); } }); });"
        "return out.join(' ');"
    )
    assert "%(" not in text + status
    assert not _english_left(text + " " + status), _english_left(text + " " + status)
    assert "✗" in text  # the wrong answers were marked


def test_no_english_left_in_the_exports(ru_outputs: Path) -> None:
    # Feedback ("Evidence (paragraph N): …"), the unit, ordering positions and true/false
    # words are the exports' own text; the rest is the bank's (and the formats' syntax).
    out = ru_outputs / "out-ru"
    for name in (
        "ru-mini.gift.txt",
        "ru-mini.quizlet.txt",
        "ru-mini.blooket.csv",
        "ru-mini.gimkit.csv",
    ):
        text = (out / name).read_text(encoding="utf-8-sig")
        # GIFT's // comments are notes for whoever opens the file; Moodle never shows them.
        text = re.sub(r"(?m)^//.*$", " ", text)
        # The game templates' header rows are the platforms' own column names, which their
        # importers require as they are: only the rows after them are ours.
        if name.endswith(".csv"):
            rows = list(csv.reader(io.StringIO(text)))
            header = next(i for i, row in enumerate(rows) if row and row[0].startswith("Question"))
            text = " ".join(cell for row in rows[header + 1 :] for cell in row)
        assert not _english_left(text), (name, _english_left(text))
    gift = (out / "ru-mini.gift.txt").read_text(encoding="utf-8")
    assert "Цитата (абзац 3)\\: «" in gift and "Место 1" in gift
    for name in ("ru-mini.moodle.xml",):
        text = html.unescape((out / name).read_text(encoding="utf-8"))
        for english in ("Evidence", "Position ", "(unit:", "True or false"):
            assert english not in text, (name, english)
    import zipfile

    with zipfile.ZipFile(out / "ru-mini.qti.zip") as z:
        text = html.unescape(" ".join(z.read(n).decode("utf-8") for n in z.namelist()))
    for english in ("Evidence", "Position ", "(unit:", ">True<", ">False<"):
        assert english not in text, english
    assert "Верно" in text and "Цитата" in text


@pytest.mark.parametrize("lang", ["ru", "kk", "en"])
def test_no_english_left_in_the_grade_report(tmp_path: Path, lang: str) -> None:
    # The teacher's report and review page, for a class of two Russian hand-ins.
    import csv as csvlib
    import io

    from kzquiz import pipeline
    from kzquiz.grade import handin
    from kzquiz.grade.run import missing
    from kzquiz.model import Single, TrueFalse
    from kzquiz.render.answersheet import question_hash

    if missing() is not None:
        pytest.skip(missing() or "")
    loaded = pipeline.load(RU_BANK)
    digest = question_hash([q.id for q in loaded.bank.questions])
    single = next(q for q in loaded.bank.questions if isinstance(q, Single))
    tf = next(q for q in loaded.bank.questions if isinstance(q, TrueFalse))
    files = []
    for who, letter, truth in (("Айгерим", "A", "T"), ("Борис", "B", "F")):
        body = [
            ["kzquiz-responses", loaded.id, digest, "comma"],
            [who, single.id, letter],
            [who, tf.id, truth],
        ]
        body.append(["kzquiz-end", "2", handin.checksum(body)])
        out = io.StringIO()
        csvlib.writer(out).writerows(body)
        files += ["--responses", str(tmp_path / f"{who}.csv")]
        (tmp_path / f"{who}.csv").write_text(out.getvalue(), encoding="utf-8")
    result = runner.invoke(
        app,
        ["grade", "--bank", str(RU_BANK), *files, "--language", lang]
        + ["--review", str(tmp_path / "review.html"), "-o", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    for name in (f"{loaded.id}-grade-report.html", "review.html"):
        page = (tmp_path / name).read_text(encoding="utf-8")
        assert f'<html lang="{lang}">' in page
        # <code> holds names to type as they are: the CSV's `answer` column, the command.
        text = _visible(re.sub(r"<code>[^<]*</code>", " ", page))
        if lang == "en":  # the control: the scan finds the English report's words
            assert {"Marks to review", "Results"} & set(_english_left(text)), name
        else:
            assert not _english_left(text), (lang, name, _english_left(text))
