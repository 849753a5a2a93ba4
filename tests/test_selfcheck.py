"""The self-check page: a self-contained file, answers hidden from the source, and a student
answering it in headless Chromium (Selenium on the system browser and driver)."""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from browser import needs_webdriver, webdriver
from conftest import BankFactory
from grading_cases import (
    ANSWER_KEY_CASES,
    CASES,
    LANGUAGE_CASES,
    NORMALISE_CASES,
    NUMBER_CASES,
    question,
)
from kzquiz import pipeline
from kzquiz.bank import LoadedBank
from kzquiz.cli import app
from kzquiz.formats import build_formats
from kzquiz.grading import fold_case, grade
from kzquiz.loader import load_bank
from kzquiz.model import Cloze, Matching, Multiple, Ordering, Short, Single, TrueFalse
from kzquiz.render.answersheet import question_hash
from kzquiz.render.selfcheck import (
    DEFAULT_SEED,
    decode_data,
    page_question,
    render_page,
    script_json,
    state_key,
)

runner = CliRunner()
DATA = re.compile(r'<script type="text/plain" id="kzq-data">([^<]*)</script>')

# ---- the file itself ----------------------------------------------------------------------


def _page(loaded: LoadedBank, **kw: Any) -> str:
    return render_page(loaded, loaded.bank.questions, **kw).decode("utf-8")


def _secrets(loaded: LoadedBank) -> list[str]:
    """Every answer, explanation and evidence text in the bank that must not be readable."""
    out: list[str] = []
    for q in loaded.bank.questions:
        out += [q.explanation, q.evidence]
        if not isinstance(q, TrueFalse):  # "True" and "False" are the options on screen
            out.append(q.answer_text())
        if isinstance(q, (Single, Multiple)):
            out += [c.text for c in q.choices if c.correct]
        elif isinstance(q, Cloze):
            out += [alt for alts in q.blanks for alt in alts]
        elif isinstance(q, Short):
            out += list(q.answers)
        elif isinstance(q, Matching):
            out += [p.right for p in q.pairs]
        elif isinstance(q, Ordering):
            out += list(q.items)
    # Very short strings ("22", "Jun") could occur by chance in the CSS or the base64 text,
    # and an answer may be a word of the titles the page shows on purpose ("Tokayev").
    shown = " ".join([loaded.title, loaded.source.title, loaded.bank.bank.source.title])
    return [s for s in out if len(s) >= 5 and s not in shown]


def test_no_answer_or_explanation_is_readable_in_the_source(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    html = _page(loaded)
    secrets = _secrets(loaded)
    assert len(secrets) > 20
    for secret in secrets:
        assert secret not in html, secret
        assert secret.casefold() not in html.casefold(), secret
    # ...yet every one of them is in the page's data, for the script to show after Check.
    match = DATA.search(html)
    assert match is not None
    decoded = json.dumps(decode_data(match.group(1), loaded.id), ensure_ascii=False)
    for secret in secrets:
        assert secret in decoded, secret


def test_the_shipped_bank_hides_its_answers_too() -> None:
    root = Path(__file__).resolve().parent.parent
    loaded = load_bank(root / "questions.yaml")
    html = _page(loaded)
    leaks = [s for s in _secrets(loaded) if s in html]
    assert leaks == []


def test_self_contained_no_external_references(mini_bank: Path) -> None:
    html = _page(load_bank(mini_bank))
    assert "http://" not in html and "https://" not in html
    # Nothing is loaded from anywhere: no src/href except the empty inline icon and the
    # in-page skip link, and a Content-Security-Policy that refuses any fetch.
    refs = re.findall(r'\b(?:src|href)\s*=\s*"([^"]*)"', html)
    assert sorted(refs) == ["#actions", "data:,"]
    assert "default-src &#39;none&#39;" in html
    assert "<style>" in html and "<script>" in html


def test_same_bank_same_bytes(mini_bank: Path, tmp_path: Path) -> None:
    loaded = load_bank(mini_bank)
    assert render_page(loaded, loaded.bank.questions) == render_page(
        load_bank(mini_bank), load_bank(mini_bank).bank.questions
    )
    one, two = tmp_path / "one", tmp_path / "two"
    for out in (one, two):
        # Without --seed a seed is drawn (and printed), as by every command.
        result = runner.invoke(app, ["selfcheck", str(mini_bank), "-o", str(out), "--seed", "7"])
        assert result.exit_code == 0, result.output
    assert (one / "mini-selfcheck.html").read_bytes() == (two / "mini-selfcheck.html").read_bytes()
    # A different seed shuffles the choices differently.
    other = _page(loaded, seed=12345)
    assert other != _page(loaded)


def test_build_includes_the_page(mini_bank: Path, tmp_path: Path) -> None:
    assert "selfcheck" in [f.name for f in build_formats()]
    loaded = load_bank(mini_bank)
    written = pipeline.build(mini_bank, tmp_path / "decks").written
    page = tmp_path / "decks" / "mini-selfcheck.html"
    assert page in written
    assert page.read_bytes() == render_page(loaded, loaded.bank.questions)


def test_cli_selection_and_errors(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = runner.invoke(app, ["selfcheck", str(mini_bank), "-o", str(out), "--topic", "economy"])
    assert result.exit_code == 0, result.output
    assert "4 questions" in result.output
    html = (out / "mini-selfcheck.html").read_text(encoding="utf-8")
    data = decode_data(DATA.search(html).group(1), "mini")  # type: ignore[union-attr]
    assert [q["id"] for q in data["questions"]] == [
        "sanctions-break",
        "keosayan",
        "china-investment",
        "who-is-who",
    ]
    assert [t["id"] for t in data["topics"]] == ["economy"]

    result = runner.invoke(app, ["selfcheck", str(mini_bank), "-o", str(out), "-n", "3"])
    assert result.exit_code == 0 and "3 questions" in result.output

    bad = runner.invoke(app, ["selfcheck", str(mini_bank), "-o", str(out), "--topic", "nope"])
    assert bad.exit_code == 2 and "not a topic" in bad.output
    none = runner.invoke(
        app, ["selfcheck", str(mini_bank), "-o", str(out), "--type", "short", "--difficulty", "3"]
    )
    assert none.exit_code == 1 and "no question matches" in none.output

    helped = runner.invoke(app, ["selfcheck", "--help"])
    assert helped.exit_code == 0 and "kzquiz selfcheck --topic sovereignty" in helped.output


def test_script_json_cannot_close_the_script() -> None:
    text = script_json({"t": "</script><!-- & \u2028\u2029"})
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and "\u2029" not in text
    assert json.loads(text) == {"t": "</script><!-- & \u2028\u2029"}


def test_hostile_title_is_escaped(mini_bank_data: dict[str, Any], make_bank: BankFactory) -> None:
    mini_bank_data["bank"]["title"] = "</script><script>alert(1)</script>"
    html = _page(load_bank(make_bank(mini_bank_data)))
    assert "<script>alert(1)" not in html
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html


# ---- in the browser --------------------------------------------------------------------


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One headless Chromium for the module; each test opens its own page."""
    if not _webdriver_available():
        pytest.skip(
            "Chromium and its driver are needed (apt-get install -y chromium chromium-driver)"
        )
    d = webdriver()
    d.set_window_size(1200, 900)
    yield d
    d.quit()


def _webdriver_available() -> bool:
    from browser import CHROMEDRIVER, CHROMIUM

    return CHROMIUM is not None and CHROMEDRIVER is not None


def _open(d: Any, page: Path) -> str:
    """Open the page with no saved progress; return its URL."""
    url = page.resolve().as_uri()
    d.get(url)
    d.execute_script("localStorage.clear()")
    d.get_log("performance")  # the network record starts with the load below
    d.get(url)
    return url


def _saved(d: Any, key: str) -> Any:
    """The progress a page keeps under this localStorage key, or None."""
    raw = d.execute_script("return localStorage.getItem(arguments[0])", key)
    return None if raw is None else json.loads(raw)


def _requests(d: Any) -> list[str]:
    """URLs of every request the browser made since the last call (Chrome performance log)."""
    urls = []
    for entry in d.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _by(css: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    return (By.CSS_SELECTOR, css)


def _card(d: Any, qid: str) -> Any:
    return d.find_element(*_by(f"#q-{qid}"))


def _choose(d: Any, qid: str, texts: list[str]) -> None:
    """Click the options with these texts (and leave the others alone)."""
    for label in _card(d, qid).find_elements(*_by("label.option")):
        if label.find_element(*_by(".text")).text in texts:
            label.click()


def _type(d: Any, element_id: str, text: str) -> None:
    box = d.find_element(*_by(f"#{element_id}"))
    box.clear()
    box.send_keys(text)


def _blanks(d: Any, qid: str, texts: list[str]) -> None:
    for i, text in enumerate(texts):
        _type(d, f"q-{qid}-b{i}", text)


def _match(d: Any, qid: str, rights: list[str]) -> None:
    from selenium.webdriver.support.select import Select

    for i, text in enumerate(rights):
        Select(d.find_element(*_by(f"#q-{qid}-m{i}"))).select_by_visible_text(text)


def _order_texts(d: Any, qid: str) -> list[str]:
    return [e.text for e in _card(d, qid).find_elements(*_by("ol.order .text"))]


def _arrange(d: Any, qid: str, target: list[str]) -> None:
    """Put the items in this order with the keyboard: Enter on the items' Up buttons."""
    from selenium.webdriver.common.keys import Keys

    for i, text in enumerate(target):
        while (pos := _order_texts(d, qid).index(text)) > i:
            up = (
                _card(d, qid)
                .find_elements(*_by("ol.order li"))[pos]
                .find_element(*_by("button[data-dir=up]"))
            )
            up.send_keys(Keys.ENTER)
            # Focus follows the item that moved, so the next press moves it again.
            assert text in d.switch_to.active_element.get_attribute("aria-label")
    assert _order_texts(d, qid) == target


def _snapshot(d: Any) -> dict[str, Any]:
    """What the student sees answered in each question."""
    result: dict[str, Any] = d.execute_script(
        """
        var out = {};
        document.querySelectorAll("section.q").forEach(function (c) {
          out[c.id.slice(2)] = {
            hidden: c.hidden,
            checked: Array.from(c.querySelectorAll("input:checked")).map(function (i) {
              return i.closest("label").querySelector(".text").textContent; }),
            texts: Array.from(c.querySelectorAll("input[type=text]")).map(function (i) { return i.value; }),
            selects: Array.from(c.querySelectorAll("select")).map(function (s) {
              return s.selectedOptions[0].textContent; }),
            order: Array.from(c.querySelectorAll("ol.order .text")).map(function (s) {
              return s.textContent; })
          };
        });
        return out;
        """
    )
    return result


RIGHT_ORDER = [
    "Kazakhstan joins the Paris Agreement",
    "Tokayev becomes president",
    "Russia's full-scale war begins",
    "The June 17 plenary session",
]
WRONG_ORDER = list(reversed(RIGHT_ORDER))
RIGHT_MATCH = ["President of Iran", "Editor-in-chief of RT", "President of Russia"]
WRONG_MATCH = ["President of Russia", "Editor-in-chief of RT", "President of Iran"]


def _answer_right(d: Any, only: set[str] | None = None) -> None:
    """Answer correctly, in the ways students type: other case, spaces, alternatives."""
    steps = {
        "un-two-principles": lambda: _choose(
            d, "un-two-principles", ["Territorial integrity and self-determination"]
        ),
        "breakaway-regions": lambda: _choose(
            d, "breakaway-regions", ["Taiwan", "Kosovo", "Abkhazia"]
        ),
        "sanctions-break": lambda: _choose(d, "sanctions-break", ["False"]),
        "forum-number": lambda: _blanks(d, "forum-number", ["Twenty–Fifth", " ECONOMIC ", "Jun."]),
        "keosayan": lambda: _type(d, "q-keosayan-answer", "tigran   KEOSAYAN."),
        "china-investment": lambda: _type(d, "q-china-investment-answer", "22.4"),
        "who-is-who": lambda: _match(d, "who-is-who", RIGHT_MATCH),
        "timeline": lambda: _arrange(d, "timeline", RIGHT_ORDER),
    }
    for qid, step in steps.items():
        if only is None or qid in only:
            step()


def _answer_wrong(d: Any, only: set[str] | None = None) -> None:
    """Answer every question wrongly (the cloze and matching partly right)."""
    steps = {
        "un-two-principles": lambda: _choose(
            d, "un-two-principles", ["Non-interference and collective security"]
        ),
        "breakaway-regions": lambda: _choose(d, "breakaway-regions", ["Crimea", "Taiwan"]),
        "sanctions-break": lambda: _choose(d, "sanctions-break", ["True"]),
        "forum-number": lambda: _blanks(d, "forum-number", ["26th", "Economic", "June"]),
        "keosayan": lambda: _type(d, "q-keosayan-answer", "Margarita Simonyan"),
        "china-investment": lambda: _type(d, "q-china-investment-answer", "30"),
        "who-is-who": lambda: _match(d, "who-is-who", WRONG_MATCH),
        "timeline": lambda: _arrange(d, "timeline", WRONG_ORDER),
    }
    for qid, step in steps.items():
        if only is None or qid in only:
            step()


def _click(d: Any, element_id: str) -> None:
    d.find_element(*_by(f"#{element_id}")).click()


def _score_rows(d: Any) -> list[list[str]]:
    rows = d.find_elements(*_by("#score-topics tbody tr"))
    return [[c.text for c in r.find_elements(*_by("th, td"))] for r in rows]


def _verdict(d: Any, qid: str) -> str:
    text: str = _card(d, qid).find_element(*_by(".verdict")).text
    return text


def _visible_cards(d: Any) -> list[str]:
    return [
        c.get_attribute("id")[2:] for c in d.find_elements(*_by("section.q")) if c.is_displayed()
    ]


ALL = [
    "un-two-principles",
    "breakaway-regions",
    "sanctions-break",
    "forum-number",
    "keosayan",
    "china-investment",
    "who-is-who",
    "timeline",
]


@needs_webdriver
def test_student_answers_every_type_right_then_wrong(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    d = driver
    loaded = load_bank(mini_bank)
    questions = {q.id: q for q in loaded.bank.questions}
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    key = state_key(loaded.id, loaded.bank.questions, DEFAULT_SEED)
    url = _open(d, page)
    assert d.find_element(*_by("#progress")).text == "Answered 0 of 8."
    assert _visible_cards(d) == ALL

    # Every type answered right; a reload keeps every answer.
    _answer_right(d)
    assert d.find_element(*_by("#progress")).text == "Answered 8 of 8."
    before = _snapshot(d)
    assert before["timeline"]["order"] == RIGHT_ORDER
    assert before["who-is-who"]["selects"] == RIGHT_MATCH
    assert before["forum-number"]["texts"] == ["Twenty–Fifth", " ECONOMIC ", "Jun."]
    assert sorted(before["breakaway-regions"]["checked"]) == ["Abkhazia", "Kosovo", "Taiwan"]
    d.refresh()
    assert _snapshot(d) == before
    assert _saved(d, key) is not None

    _click(d, "check")
    assert d.find_element(*_by("#score-total")).text == "8 of 8 answered right (100%)"
    assert _score_rows(d) == [
        ["Sovereignty and international law", "4", "4", "0"],
        ["Sanctions and trade", "4", "4", "0"],
    ]
    assert d.switch_to.active_element.get_attribute("id") == "score"
    for qid, q in questions.items():
        card = _card(d, qid).text
        assert _verdict(d, qid) == "✓ Right", qid
        assert q.explanation in card
        assert f"“{q.evidence}”" in card
        assert f"paragraph {loaded.paragraph_of[qid]}" in card
        assert "Answer:" not in card
    assert not d.find_element(*_by("#retry")).is_displayed()
    assert not d.find_element(*_by("#check")).is_displayed()
    # Checked answers are locked, and the checked state survives a reload.
    assert d.find_element(*_by("#q-keosayan-answer")).get_attribute("disabled") is not None
    d.refresh()
    assert d.find_element(*_by("#score-total")).text == "8 of 8 answered right (100%)"
    assert _verdict(d, "timeline") == "✓ Right"

    # Start over clears everything, in the page and in storage.
    _click(d, "reset")
    d.switch_to.alert.accept()
    assert _saved(d, key) is None
    cleared = _snapshot(d)
    assert all(not v["checked"] and not any(v["texts"]) for v in cleared.values())
    assert cleared["who-is-who"]["selects"] == ["Choose…"] * 3
    assert not d.find_element(*_by("#score")).is_displayed()
    assert d.find_element(*_by("#progress")).text == "Answered 0 of 8."

    # Every type answered wrong.
    _answer_wrong(d)
    _click(d, "check")
    assert d.find_element(*_by("#score-total")).text == "0 of 8 answered right (0%)"
    assert _score_rows(d) == [
        ["Sovereignty and international law", "0", "4", "0"],
        ["Sanctions and trade", "0", "4", "0"],
    ]
    for qid, q in questions.items():
        card = _card(d, qid).text
        assert _verdict(d, qid).startswith("✗ Wrong"), qid
        assert f"Answer: {q.answer_text()}" in card, qid
        assert q.explanation in card and f"“{q.evidence}”" in card
    assert _verdict(d, "forum-number") == "✗ Wrong (2 of 3 blanks right)"
    assert _verdict(d, "who-is-who") == "✗ Wrong (1 of 3 matches right)"
    assert "(answer: 25th)" in _card(d, "forum-number").text
    regions = _card(d, "breakaway-regions").text
    assert "Crimea\n✗ your answer, wrong" in regions
    assert "Taiwan\n✓ your answer, right" in regions
    assert "Kosovo\ncorrect answer" in regions

    # Retry re-asks all eight with empty answers; four right this time.
    _click(d, "retry")
    assert _visible_cards(d) == ALL
    assert (
        d.find_element(*_by("#progress")).text
        == "Retrying 8 questions answered wrong · Answered 0 of 8."
    )
    assert _snapshot(d)["keosayan"]["texts"] == [""]
    right_now = {"un-two-principles", "sanctions-break", "keosayan", "china-investment"}
    _answer_right(d, right_now)
    _answer_wrong(d, set(ALL) - right_now)
    _click(d, "check")
    assert d.find_element(*_by("#score-total")).text == "This round: 4 of 8 answered right (50%)"
    assert _score_rows(d) == [
        ["Sovereignty and international law", "1", "4", "0"],
        ["Sanctions and trade", "3", "4", "0"],
    ]
    overall = "Over all rounds: 4 of 8 questions answered right at least once."
    assert d.find_element(*_by("#score-overall")).text == overall

    # Retry again: exactly the four still missed, also after a reload.
    _click(d, "retry")
    missed = [qid for qid in ALL if qid not in right_now]
    assert _visible_cards(d) == missed
    d.refresh()
    assert _visible_cards(d) == missed
    assert (
        d.find_element(*_by("#progress")).text
        == "Retrying 4 questions answered wrong · Answered 0 of 4."
    )
    _answer_right(d, set(missed))
    _click(d, "check")
    assert d.find_element(*_by("#score-total")).text == "This round: 4 of 4 answered right (100%)"
    assert d.find_element(*_by("#score-overall")).text == (
        "Over all rounds: 8 of 8 questions answered right at least once."
    )
    assert not d.find_element(*_by("#retry")).is_displayed()

    # In all of this the page asked for nothing but itself.
    requests = _requests(d)
    assert requests, "the performance log recorded no request at all"
    assert set(requests) == {url}
    assert d.get_log("browser") == []


@needs_webdriver
def test_network_check_would_see_an_outside_request(driver: Any, tmp_path: Path) -> None:
    # The control for the assertion above: a page with an outside image is caught.
    page = tmp_path / "leaky.html"
    page.write_text('<!DOCTYPE html><img src="http://127.0.0.1:9/x.png">', encoding="utf-8")
    url = _open(driver, page)
    assert "http://127.0.0.1:9/x.png" in set(_requests(driver)) - {url}


@needs_webdriver
def test_page_grading_matches_python(driver: Any, mini_bank: Path, tmp_path: Path) -> None:
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(driver, page)
    cases = []
    for key, response, right, parts in CASES:
        q = question(key)
        py = grade(q, response)
        assert py.correct is right
        cases.append(
            [page_question(q, None, random.Random(0)), response, right, parts, list(py.parts)]
        )
    results = driver.execute_script(
        """
        var g = window.kzquizSelfcheck.grade;
        return arguments[0].map(function (c) { return g(c[0], c[1]); });
        """,
        cases,
    )
    for (q, response, right, parts, py_parts), js in zip(cases, results, strict=True):
        where = f"{q['id']} {response!r}"
        assert js["correct"] is right, where
        assert js["parts"] == py_parts, where
        if parts is not None:
            assert tuple(js["parts"]) == parts, where

    normalised = driver.execute_script(
        "return arguments[0].map(window.kzquizSelfcheck.normaliseAnswer);",
        [text for text, _ in NORMALISE_CASES],
    )
    assert normalised == [expected for _, expected in NORMALISE_CASES]
    numbers = driver.execute_script(
        "return arguments[0].map(function (t) { return window.kzquizSelfcheck.parseNumber(t); });",
        [text for text, _ in NUMBER_CASES],
    )
    assert numbers == [expected for _, expected in NUMBER_CASES]
    keys = driver.execute_script(
        "return arguments[0].map(function (c) {"
        " return window.kzquizSelfcheck.answerKey(c[1], c[0]); });",
        [[language, text] for language, text, _ in ANSWER_KEY_CASES],
    )
    assert keys == [expected for _, _, expected in ANSWER_KEY_CASES]
    by_language = driver.execute_script(
        """
        var g = window.kzquizSelfcheck.grade;
        return arguments[0].map(function (c) { return g(c[0], c[1], c[2]).correct; });
        """,
        [
            [page_question(question(key), None, random.Random(0)), response, language]
            for key, response, language, _ in LANGUAGE_CASES
        ],
    )
    assert by_language == [right for *_, right in LANGUAGE_CASES]
    for key, response, language, right in LANGUAGE_CASES:
        assert grade(question(key), response, language=language).correct is right


@needs_webdriver
def test_page_grades_in_the_bank_language(
    driver: Any, mini_bank_data: dict[str, Any], make_bank: BankFactory, tmp_path: Path
) -> None:
    # Without a language argument the page grades in the language it declares (the bank's,
    # on data-language: lang is the language of the page's own text, English for "de").
    script = """
        var q = arguments[0];
        return [arguments[1].map(function (t) { return window.kzquizSelfcheck.grade(q, t).correct; }),
                document.documentElement.getAttribute("data-language")];
    """
    typed = ["the Keosayan", "KEOSAYAN", "Feb the 24th"]
    for language, expected in (("en", [True, True, False]), ("de", [False, True, False])):
        mini_bank_data["bank"]["language"] = language
        loaded = load_bank(make_bank(mini_bank_data))
        page = tmp_path / f"{language}-selfcheck.html"
        page.write_bytes(render_page(loaded, loaded.bank.questions))
        _open(driver, page)
        short = next(q for q in loaded.bank.questions if q.id == "keosayan")
        js = page_question(short, None, random.Random(0))
        assert driver.execute_script(script, js, typed) == [expected, language]
        py = [grade(short, t, language=language).correct for t in typed]
        assert py == expected


@needs_webdriver
def test_page_and_python_fold_every_letter_alike(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    # Every BMP character Python's Unicode tables know, folded by grading.fold_case and by
    # the page: one folding, so `KIZIL` is `Kızıl` in the terminal and in the browser.
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(driver, page)
    chars = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) not in ("Cn", "Cs")]
    # The characters where the usual foldings disagree are all among them.
    tricky = {c for c in chars if c.casefold() != c.lower().upper().lower()}
    assert {"\u0131", "\u13a0", "\uab70"} <= tricky
    page_fold = driver.execute_script(
        "return arguments[0].map(window.kzquizSelfcheck.foldCase);", chars
    )
    differ = [
        f"U+{ord(c):04X} {fold_case(c)!r} {js!r}"
        for c, js in zip(chars, page_fold, strict=True)
        if fold_case(c) != js
    ]
    assert differ == []
    # Whole words too, where a letter's case depends on its neighbours (final sigma).
    words = ["ΟΔΟΣ ΟΔΟΣ.", "Kızıl KIZIL", "İSTANBUL", "STRAẞE", "ǰ J̌", "ΐ Ϊ́"]
    assert driver.execute_script(
        "return arguments[0].map(window.kzquizSelfcheck.foldCase);", words
    ) == [fold_case(w) for w in words]


@needs_webdriver
def test_page_decodes_what_python_encoded(driver: Any, mini_bank: Path, tmp_path: Path) -> None:
    from kzquiz.render.selfcheck import encode_data

    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(driver, page)
    value = {"text": "Ünïcödé “quotes” </script> \u2028 😀", "n": [1, 2.5, None, True]}
    for bank_id in ("mini", "kz-spief-2022", "a"):
        blob = encode_data(value, bank_id)
        decoded = driver.execute_script(
            "return window.kzquizSelfcheck.decode(arguments[0], arguments[1]);", blob, bank_id
        )
        assert decoded == value
    # The wrong key does not give the data back.
    with pytest.raises(Exception, match=r"JSON|Unexpected|SyntaxError"):
        driver.execute_script(
            "return window.kzquizSelfcheck.decode(arguments[0], 'other');",
            encode_data(value, "mini"),
        )


@needs_webdriver
def test_hostile_bank_text_stays_text(
    driver: Any, mini_bank_data: dict[str, Any], make_bank: BankFactory, tmp_path: Path
) -> None:
    evil = '<img src=x onerror="window.pwned=1"><b>bold</b></script>'
    mini_bank_data["bank"]["title"] = "Title </script><script>window.pwned=2</script>"
    q = mini_bank_data["questions"][0]
    q["prompt"] = "Which? " + evil
    q["choices"][1]["text"] = "Choice " + evil
    q["explanation"] = "Because " + evil
    loaded = load_bank(make_bank(mini_bank_data))
    page = tmp_path / "evil.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(driver, page)
    assert driver.execute_script("return window.pwned === undefined")
    assert driver.find_elements(*_by("img, b")) == []
    card = _card(driver, "un-two-principles")
    assert f"Which? {evil}" in card.text
    assert f"Choice {evil}" in card.text
    assert driver.find_element(*_by("h1")).text == "Title </script><script>window.pwned=2</script>"
    _click(driver, "check")
    assert f"Because {evil}" in _card(driver, "un-two-principles").text
    assert driver.execute_script("return window.pwned === undefined")
    assert driver.find_elements(*_by("img, b")) == []


# ---- accessibility -----------------------------------------------------------------------

_CONTRAST_JS = """
function rgb(text) {
  var m = text.match(/rgba?\\(([^)]+)\\)/);
  var p = m[1].split(",").map(function (v) { return parseFloat(v); });
  return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
}
function lum(c) {
  function ch(v) { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }
  return 0.2126 * ch(c.r) + 0.7152 * ch(c.g) + 0.0722 * ch(c.b);
}
function background(el) {
  for (; el; el = el.parentElement) {
    var c = rgb(getComputedStyle(el).backgroundColor);
    if (c.a > 0) { return c; }
  }
  return { r: 255, g: 255, b: 255, a: 1 };
}
var bad = [], seen = 0;
document.querySelectorAll("body *").forEach(function (el) {
  var own = Array.from(el.childNodes).some(function (n) {
    return n.nodeType === 3 && n.textContent.trim() !== ""; });
  if (!own || !el.getClientRects().length || getComputedStyle(el).visibility === "hidden") { return; }
  if (el.closest(".visually-hidden, .skip")) { return; }
  seen++;
  var fg = lum(rgb(getComputedStyle(el).color)), bg = lum(background(el));
  var ratio = (Math.max(fg, bg) + 0.05) / (Math.min(fg, bg) + 0.05);
  if (ratio < 4.5) { bad.push([el.tagName, el.className, el.textContent.slice(0, 40), ratio]); }
});
return [seen, bad];
"""


@needs_webdriver
def test_accessible_labels_contrast_and_phone_width(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    d = driver
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(d, page)
    # Every control has a name a screen reader can say.
    unnamed = d.execute_script(
        """
        return Array.from(document.querySelectorAll("input, select, button")).filter(function (el) {
          var named = (el.labels && el.labels.length && el.labels[0].textContent.trim()) ||
                      el.getAttribute("aria-label") || (el.tagName === "BUTTON" && el.textContent.trim());
          return !named;
        }).map(function (el) { return el.outerHTML; });
        """
    )
    assert unnamed == []
    assert d.find_element(*_by("html")).get_attribute("lang") == "en"

    # Readable contrast before and after Check (right and wrong colours both shown), the
    # article open.
    d.execute_script("document.getElementById('passage').open = true")
    seen, bad = d.execute_script(_CONTRAST_JS)
    assert seen > 60 and bad == []
    _answer_right(d, {"un-two-principles", "keosayan"})
    _answer_wrong(d, {"breakaway-regions", "forum-number", "who-is-who"})
    _click(d, "check")
    seen, bad = d.execute_script(_CONTRAST_JS)
    assert seen > 80 and bad == []

    # A 375px phone: nothing wider than the screen, buttons big enough for a thumb.
    try:
        d.set_window_size(375, 800)
        d.refresh()
        assert d.execute_script("return window.innerWidth") == 375
        # clientWidth is the viewport without a scrollbar; scrollWidth grows with any overflow.
        view, wide = d.execute_script(
            "var e = document.documentElement; return [e.clientWidth, e.scrollWidth];"
        )
        assert wide <= view
        small = d.execute_script(
            """
            return Array.from(document.querySelectorAll("button")).filter(function (b) {
              var r = b.getBoundingClientRect();
              return r.width > 0 && (r.height < 44 || r.width < 44);
            }).map(function (b) { return b.textContent; });
            """
        )
        assert small == []
    finally:
        d.set_window_size(1200, 900)


@needs_webdriver
def test_keyboard_alone_with_visible_focus(driver: Any, mini_bank: Path, tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    d = driver
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(d, page)

    def press(*keys: str) -> Any:
        ActionChains(d).send_keys(*keys).perform()
        return d.switch_to.active_element

    def outline(el: Any) -> tuple[str, float]:
        style, width = d.execute_script(
            "var s = getComputedStyle(arguments[0]); return [s.outlineStyle, s.outlineWidth];", el
        )
        return style, float(width.rstrip("px"))

    # Tab: the skip link first, the folded article, then the first question's options; Space
    # picks one.
    focused = press(Keys.TAB)
    assert focused.get_attribute("class") == "skip" and focused.is_displayed()
    focused = press(Keys.TAB)
    assert focused.tag_name == "summary"
    style, width = outline(focused)
    assert style != "none" and width >= 2
    focused = press(Keys.TAB)
    assert focused.get_attribute("type") == "radio"
    style, width = outline(focused)
    assert style != "none" and width >= 2
    focused = press(Keys.SPACE)
    assert focused.is_selected()
    # Arrow keys move the choice within the group.
    focused = press(Keys.ARROW_DOWN)
    assert focused.is_selected() and focused.get_attribute("type") == "radio"
    chosen = focused.get_attribute("value")

    # Tab on to the checkboxes, pick one with Space.
    focused = press(Keys.TAB)
    assert focused.get_attribute("type") == "checkbox"
    press(Keys.SPACE)
    assert focused.is_selected()

    # Tab through to the ordering buttons and move an item with Enter.
    for _ in range(60):
        focused = press(Keys.TAB)
        if focused.get_attribute("data-dir") == "down":
            break
    assert focused.get_attribute("data-dir") == "down"
    style, width = outline(focused)
    assert style != "none" and width >= 2
    before = _order_texts(d, "timeline")
    moved = before[0]
    press(Keys.ENTER)
    assert _order_texts(d, "timeline")[1] == moved
    assert moved in d.switch_to.active_element.get_attribute("aria-label")
    # The move is announced for screen readers.
    d.implicitly_wait(0)
    assert moved in d.execute_script(
        "return new Promise(function (r) { setTimeout(function () {"
        " r(document.getElementById('status').textContent); }, 120); });"
    )

    # Check with the keyboard: focus goes to the score.
    for _ in range(20):
        focused = press(Keys.TAB)
        if focused.get_attribute("id") == "check":
            break
    assert focused.get_attribute("id") == "check"
    focused = press(Keys.ENTER)
    assert focused.get_attribute("id") == "score"
    # Three answered (the choice, the checkboxes, the moved order); five left blank.
    assert re.search(r"\b\d of 3 answered right \(\d+%\); 5 left blank", focused.text), focused.text
    state = _saved(d, state_key(loaded.id, loaded.bank.questions, DEFAULT_SEED))
    assert state["answers"]["un-two-principles"] == int(chosen)
    assert state["checked"] is True


# ---- one page's progress, blanks, the passage, phones and dark mode -----------------------


def test_each_page_has_its_own_storage_key(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    qs = loaded.bank.questions
    sovereignty = [q for q in qs if q.topic == "sovereignty"]
    economy = [q for q in qs if q.topic == "economy"]
    keys = {
        state_key("mini", qs, 0),
        state_key("mini", sovereignty, 0),
        state_key("mini", economy, 0),
        state_key("mini", qs, 1),  # same questions, other choice orders
        state_key("mini", list(reversed(qs)), 0),
    }
    assert len(keys) == 5 and all(k.startswith("kzquiz:mini:") for k in keys)
    assert state_key("mini", qs, 0) == state_key("mini", list(qs), 0)
    html = _page(loaded)
    meta = json.loads(re.search(r'id="kzq-meta">([^<]*)<', html).group(1))  # type: ignore[union-attr]
    # "set": the question set a hand-in names, as `kzquiz grade` checks it (bank order).
    assert meta == {
        "bank": "mini",
        "store": state_key("mini", qs, DEFAULT_SEED),
        "set": question_hash([q.id for q in loaded.bank.questions]),
    }


@needs_webdriver
def test_two_pages_of_one_bank_keep_their_own_progress(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    d = driver
    loaded = load_bank(mini_bank)
    pages = {}
    for topic in ("sovereignty", "economy"):
        page = tmp_path / f"mini-{topic}.html"
        page.write_bytes(
            render_page(loaded, [q for q in loaded.bank.questions if q.topic == topic])
        )
        pages[topic] = page
    _open(d, pages["sovereignty"])  # clears localStorage: every file:// page shares it
    _answer_right(d, {"un-two-principles", "breakaway-regions", "forum-number", "timeline"})
    _click(d, "check")
    assert d.find_element(*_by("#score-total")).text.startswith("4 of 4 ")

    # The other topic's page opens unanswered and unchecked.
    d.get(pages["economy"].as_uri())
    assert d.find_element(*_by("#progress")).text == "Answered 0 of 4."
    assert d.find_element(*_by("#check")).is_displayed()
    assert not d.find_element(*_by("#score")).is_displayed()
    assert not any(c.is_displayed() for c in d.find_elements(*_by(".feedback")))
    _answer_right(d, {"keosayan"})
    _click(d, "reset")
    d.switch_to.alert.accept()

    # Start over on the second page left the first one checked.
    d.get(pages["sovereignty"].as_uri())
    assert d.find_element(*_by("#score-total")).text.startswith("4 of 4 ")
    assert _verdict(d, "timeline") == "✓ Right"


def _in_view(d: Any, element: Any) -> bool:
    top, bottom = d.execute_script(
        "var r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom];", element
    )
    height = d.execute_script("return window.innerHeight")
    return bool(-1 < top < height and bottom > 0)  # subpixel scrolling may leave -0.2


@needs_webdriver
def test_blanks_are_not_wrong_and_the_score_links_to_each_wrong_answer(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    d = driver
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    try:
        d.set_window_size(375, 800)  # a phone: the wrong answers are far down the page
        _open(d, page)
        # The unit is named as a unit, which reads right whatever it is.
        hint = d.find_element(*_by("#q-china-investment-answer-hint")).text
        assert hint == (
            "Give the number (unit: billion USD) in digits, with a point or a comma for decimals."
        )
        _answer_right(d, {"keosayan"})
        _answer_wrong(d, {"breakaway-regions", "timeline"})
        _click(d, "check")
        total = "1 of 3 answered right (33%); 5 left blank"
        assert d.find_element(*_by("#score-total")).text == total
        assert d.find_element(*_by("#progress")).text == f"Checked: {total}."
        assert _score_rows(d) == [
            ["Sovereignty and international law", "0", "2", "2"],
            ["Sanctions and trade", "1", "1", "3"],
        ]
        for qid in ("un-two-principles", "forum-number", "china-investment"):
            assert _verdict(d, qid) == "– Not answered (not counted)", qid
            assert "is-blank" in _card(d, qid).get_attribute("class")
        assert _verdict(d, "timeline").startswith("✗ Wrong")

        # Under the score, a link to each wrong question, in page order; and back again.
        links = d.find_elements(*_by("#score-wrong li a"))
        assert [a.text for a in links] == ["Question 2", "Question 8"]
        assert (
            "Question 2 · Which regions did Tokayev say"
            in d.find_element(*_by("#score-wrong")).text
        )
        links[1].click()
        card = _card(d, "timeline")
        assert d.switch_to.active_element == card
        assert _in_view(d, card)
        back = card.find_element(*_by(".feedback a.to-score"))
        assert back.text == "↑ Back to the score"
        back.click()
        assert d.switch_to.active_element.get_attribute("id") == "score"
        assert _in_view(d, d.find_element(*_by("#score")))

        # Retry asks again only what was answered wrong, not what was left blank.
        _click(d, "retry")
        assert _visible_cards(d) == ["breakaway-regions", "timeline"]
        progress = d.find_element(*_by("#progress")).text
        assert progress == "Retrying 2 questions answered wrong · Answered 0 of 2."
    finally:
        d.set_window_size(1200, 900)


@needs_webdriver
def test_the_article_is_on_the_page_and_feedback_links_to_its_paragraph(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    from kzquiz.render.worksheet import passage

    d = driver
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    _open(d, page)
    d.get_log("browser")  # drop what earlier tests left in the log: only this page counts
    box = d.find_element(*_by("details#passage"))
    assert box.get_attribute("open") is None  # folded until wanted
    summary = box.find_element(*_by("summary")).text
    assert loaded.source.title in summary and "25 numbered paragraphs" in summary
    # The worksheet's paragraphs and numbers, which the feedback and the key cite.
    shown = d.execute_script(
        "return Array.from(document.querySelectorAll('#passage .para')).map(function (p) {"
        " return [p.id, p.querySelector('.pn').textContent, p.querySelector('.ptext').textContent];"
        "});"
    )
    expected = passage(loaded).paragraphs
    assert shown == [[f"para-{n}", f"Paragraph {n}", text] for n, _, text in expected]
    headings = [h.get_attribute("textContent") for h in box.find_elements(*_by("h3"))]
    assert headings == [h for _, h, _ in expected if h]

    _answer_right(d, {"keosayan"})
    _click(d, "check")
    n = loaded.paragraph_of["keosayan"]
    link = _card(d, "keosayan").find_element(*_by(".cite a"))
    assert link.text == f"paragraph {n}"
    link.click()
    assert box.get_attribute("open") is not None
    para = d.switch_to.active_element
    assert para.get_attribute("id") == f"para-{n}" and _in_view(d, para)
    assert loaded.bank.questions[4].evidence in para.text  # keosayan's quote is in it
    back = para.find_element(*_by("a.back-to-question"))
    assert back.text == "↩ Back to question 5"
    back.click()
    assert d.switch_to.active_element == _card(d, "keosayan")
    assert _in_view(d, _card(d, "keosayan"))
    assert d.get_log("browser") == []


@needs_webdriver
def test_a_long_matching_choice_is_readable_on_a_phone(
    driver: Any, mini_bank_data: dict[str, Any], make_bank: BankFactory, tmp_path: Path
) -> None:
    d = driver
    matching = next(q for q in mini_bank_data["questions"] if q["type"] == "matching")
    long = "Editor-in-chief of the RT television network and of the Rossiya Segodnya agency"
    matching["pairs"][1]["right"] = long
    loaded = load_bank(make_bank(mini_bank_data))
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    try:
        d.set_window_size(375, 800)
        _open(d, page)
        _match(d, "who-is-who", ["President of Iran", long, "President of Russia"])
        select = d.find_element(*_by("#q-who-is-who-m1"))
        # The select itself cuts the text: it is wider than the select's box.
        text_width, box_width = d.execute_script(
            "var s = arguments[0], c = document.createElement('canvas').getContext('2d');"
            "var st = getComputedStyle(s); c.font = st.fontWeight + ' ' + st.fontSize + ' '"
            " + st.fontFamily; return [c.measureText(s.selectedOptions[0].text).width,"
            " s.clientWidth];",
            select,
        )
        assert text_width > box_width
        # ...so the full text is shown beside it, unclipped.
        full = d.find_element(*_by("#q-who-is-who-m1 ~ .chosen"))
        assert full.is_displayed() and full.text == long
        clipped = d.execute_script(
            "return arguments[0].scrollWidth > arguments[0].clientWidth", full
        )
        assert clipped is False
        d.refresh()  # the text comes back with the saved answer
        full = d.find_element(*_by("#q-who-is-who-m1 ~ .chosen"))
        assert full.text == long
    finally:
        d.set_window_size(1200, 900)


@needs_webdriver
def test_dark_mode_is_dark_and_readable(driver: Any, mini_bank: Path, tmp_path: Path) -> None:
    d = driver
    loaded = load_bank(mini_bank)
    page = tmp_path / "mini-selfcheck.html"
    page.write_bytes(render_page(loaded, loaded.bank.questions))
    scheme = {"features": [{"name": "prefers-color-scheme", "value": "dark"}]}
    d.execute_cdp_cmd("Emulation.setEmulatedMedia", scheme)
    try:
        _open(d, page)
        background, text = d.execute_script(
            "var s = getComputedStyle(document.body); return [s.backgroundColor, s.color];"
        )

        def lightness(css: str) -> float:
            r, g, b = (int(x) for x in re.findall(r"\d+", css)[:3])
            return (r + g + b) / 765

        assert lightness(background) < 0.15 and lightness(text) > 0.85, (background, text)
        d.execute_script("document.getElementById('passage').open = true")
        seen, bad = d.execute_script(_CONTRAST_JS)
        assert seen > 60 and bad == []
        _answer_right(d, {"un-two-principles", "keosayan"})
        _answer_wrong(d, {"breakaway-regions", "forum-number", "who-is-who"})
        _click(d, "check")
        seen, bad = d.execute_script(_CONTRAST_JS)
        assert seen > 100 and bad == []
    finally:
        d.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
