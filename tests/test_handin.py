"""Self-check "Hand in": the page writes the student's answers by question id, and
`kzquiz grade --responses` grades them (grade/handin.py) with the page's own rules."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from browser import CHROMEDRIVER, CHROMIUM, webdriver
from kzquiz import pipeline
from kzquiz.cli import app
from kzquiz.grade import handin
from kzquiz.model import (
    Cloze,
    Matching,
    Multiple,
    Numeric,
    Ordering,
    Question,
    Short,
    Single,
    TrueFalse,
    format_number,
)
from kzquiz.render.answersheet import question_hash
from kzquiz.render.selfcheck import render_page

runner = CliRunner()
pytestmark = pytest.mark.skipif(
    __import__("kzquiz.grade.run", fromlist=["missing"]).missing() is not None,
    reason="grading needs OpenCV and pypdfium2",
)


def _first(loaded: Any, kind: type) -> Question:
    return next(q for q in loaded.bank.questions if isinstance(q, kind))


def _file(rows: list[list[str]], bank: str, digest: str) -> str:
    """A hand-in file as the page writes it (header, rows, count and checksum)."""
    body = [["kzquiz-responses", bank, digest, "point"], *rows]
    body.append(["kzquiz-end", str(len(rows)), handin.checksum(body)])
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(body)
    return "\ufeff" + out.getvalue()


def _gradebook(folder: Path) -> dict[str, dict[str, str]]:
    text = (folder / "kz-spief-2022-gradebook.csv").read_text(encoding="utf-8")
    return {r["student"]: r for r in csv.DictReader(io.StringIO(text))}


def _grade(tmp_path: Path, *files: Path) -> Any:
    args = ["grade", "-o", str(tmp_path / "out")]
    for f in files:
        args += ["--responses", str(f)]
    return runner.invoke(app, args)


@pytest.fixture(scope="module")
def shipped() -> Any:
    return pipeline.load(None)


@pytest.fixture(scope="module")
def digest(shipped: Any) -> str:
    return question_hash([q.id for q in shipped.bank.questions])


# ---- the page in Chromium -----------------------------------------------------------------


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.skip(
            "Chromium and its driver are needed (apt-get install -y chromium chromium-driver)"
        )
    d = webdriver()
    yield d
    d.quit()


def _by(css: str) -> tuple[str, str]:
    from selenium.webdriver.common.by import By

    return (By.CSS_SELECTOR, css)


def _click(d: Any, css: str) -> None:
    # From script, not at screen coordinates: on a loaded machine the long page can still be
    # laying out when a coordinate click lands, and the click then hits nothing.
    d.execute_script("arguments[0].click()", d.find_element(*_by(css)))


def _arrange(d: Any, qid: str, target: list[str]) -> None:
    from selenium.webdriver.common.keys import Keys

    def texts() -> list[str]:
        return [e.text for e in d.find_elements(*_by(f"#q-{qid} ol.order .text"))]

    for i, text in enumerate(target):
        while (pos := texts().index(text)) > i:
            row = d.find_elements(*_by(f"#q-{qid} ol.order li"))[pos]
            row.find_element(*_by("button[data-dir=up]")).send_keys(Keys.ENTER)
    assert texts() == target


def test_a_handed_in_page_is_graded_as_the_page_graded_it(
    driver: Any, shipped: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.support.select import Select

    page = tmp_path / "selfcheck.html"
    page.write_bytes(render_page(shipped, shipped.bank.questions))
    d = driver
    d.get(page.resolve().as_uri())
    d.execute_script("localStorage.clear()")
    d.get(page.resolve().as_uri())
    assert not d.find_element(*_by("#handin")).is_displayed()  # only after Check

    single = _first(shipped, Single)
    multiple = _first(shipped, Multiple)
    tf = _first(shipped, TrueFalse)
    numeric = _first(shipped, Numeric)
    short = _first(shipped, Short)
    cloze = _first(shipped, Cloze)
    matching = _first(shipped, Matching)
    ordering = _first(shipped, Ordering)
    assert isinstance(single, Single) and isinstance(multiple, Multiple)
    assert isinstance(tf, TrueFalse) and isinstance(numeric, Numeric)
    assert isinstance(short, Short) and isinstance(cloze, Cloze)
    assert isinstance(matching, Matching) and isinstance(ordering, Ordering)

    right = next(i for i, c in enumerate(single.choices) if c.correct)
    _click(d, f"#q-{single.id}-c{right}")
    for i, c in enumerate(multiple.choices):
        if c.correct:
            _click(d, f"#q-{multiple.id}-c{i}")
    _click(d, f"#q-{tf.id}-c{1 if tf.answer else 0}")  # wrong on purpose
    d.find_element(*_by(f"#q-{numeric.id}-answer")).send_keys(format_number(numeric.answer))
    d.find_element(*_by(f"#q-{short.id}-answer")).send_keys(short.answers[0])
    for k, blank in enumerate(cloze.blanks):
        d.find_element(*_by(f"#q-{cloze.id}-b{k}")).send_keys(blank[0])
    for i in range(len(matching.pairs)):
        Select(d.find_element(*_by(f"#q-{matching.id}-m{i}"))).select_by_value(str(i))
    _arrange(d, ordering.id, list(ordering.items))

    _click(d, "#check")
    # Keep the file the page hands to the browser's download.
    d.execute_script(
        "window.kzqBlobs = []; var make = URL.createObjectURL;"
        "URL.createObjectURL = function (b) { window.kzqBlobs.push(b); return make.call(URL, b); };"
    )
    _click(d, "#handin button")
    assert d.find_elements(*_by("#handin-done"))[0].text  # asks for the name first
    d.find_element(*_by("#handin-name")).send_keys('=HYPERLINK("http://x") Ann')
    _click(d, "#handin button")
    assert (
        "kz-spief-2022-HYPERLINK-http-x-Ann-handin.csv" in d.find_element(*_by("#handin-done")).text
    )
    text = d.execute_async_script(
        "var done = arguments[arguments.length - 1];window.kzqBlobs[0].text().then(done);"
    )
    assert d.get_log("browser") == []
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:2] == ["kzquiz-responses", "kz-spief-2022"]
    answers = {r[1]: r[2:] for r in rows[1:-1]}
    letters = "".join(chr(65 + i) for i, c in enumerate(multiple.choices) if c.correct)
    assert answers[single.id] == [chr(65 + right)]  # bank letters, not the shuffled ones
    assert answers[multiple.id] == [letters]
    assert answers[tf.id] == ["F" if tf.answer else "T"]
    assert answers[ordering.id] == [str(i + 1) for i in range(len(ordering.items))]
    assert len(answers) == 8

    ann = tmp_path / "ann.csv"
    ann.write_text(text, encoding="utf-8")
    result = _grade(tmp_path, ann)
    assert result.exit_code == 0, result.output
    book = _gradebook(tmp_path / "out")
    (name,) = book
    assert name == '\'=HYPERLINK("http://x") Ann'  # the gradebook stays defused
    want = sum(q.score for q in (single, multiple, numeric, short, cloze, matching, ordering))
    assert book[name]["score"] == str(want)
    assert book[name]["version"] == "self-check"
    assert book[name]["max"] == str(sum(q.score for q in shipped.bank.questions))


def test_the_download_works_offline_from_a_file(driver: Any, shipped: Any, tmp_path: Path) -> None:
    # A real download from file:// (no captured Blob): the browser saves the file itself.
    import time

    page = tmp_path / "selfcheck.html"
    page.write_bytes(render_page(shipped, shipped.bank.questions))
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    d = driver
    d.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    d.get(page.resolve().as_uri())
    d.execute_script("localStorage.clear()")
    d.get(page.resolve().as_uri())
    single = _first(shipped, Single)
    assert isinstance(single, Single)
    right = next(i for i, c in enumerate(single.choices) if c.correct)
    _click(d, f"#q-{single.id}-c{right}")
    _click(d, "#check")
    # The form shows once the page is checked.
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    name = WebDriverWait(d, 20).until(ec.element_to_be_clickable(_by("#handin-name")))
    d.execute_script("arguments[0].scrollIntoView({block: 'center'})", name)
    name.send_keys("Ben 12")
    WebDriverWait(d, 20).until(ec.element_to_be_clickable(_by("#handin button"))).click()
    saved = downloads / "kz-spief-2022-Ben-12-handin.csv"
    deadline = time.monotonic() + 20
    while not saved.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert saved.exists(), list(downloads.iterdir())
    result = _grade(tmp_path, saved)
    assert result.exit_code == 0, result.output
    assert _gradebook(tmp_path / "out")["Ben 12"]["score"] == str(single.score)


def test_a_russian_handin_reads_decimal_commas(tmp_path: Path) -> None:
    # The header says how the page read decimals; "18,7" in a Russian page is 18.7.
    banks = Path(__file__).parent / "banks"
    loaded = pipeline.load(banks / "ru-mini.yaml")
    numeric = next(
        q for q in loaded.bank.questions if isinstance(q, Numeric) and q.answer != int(q.answer)
    )
    typed = format_number(numeric.answer).replace(".", ",")
    assert "," in typed  # the test needs a decimal
    digest = question_hash([q.id for q in loaded.bank.questions])
    path = tmp_path / "ru.csv"
    body = [["kzquiz-responses", loaded.id, digest, "comma"], ["Айгерим", numeric.id, typed]]
    body.append(["kzquiz-end", "1", handin.checksum(body)])
    text = "\r\n".join(",".join(f'"{c}"' for c in row) for row in body)
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        ["grade", "--bank", str(banks / "ru-mini.yaml"), "--responses", str(path), "-o", str(out)],
    )
    assert result.exit_code == 0, result.output
    book = (out / f"{loaded.id}-gradebook.csv").read_text(encoding="utf-8")
    row = next(csv.DictReader(io.StringIO(book)))
    assert (row["student"], row["score"]) == ("Айгерим", str(numeric.score))


# ---- files written by hand: several students, and hostile ones ------------------------------


def test_several_students_files(shipped: Any, digest: str, tmp_path: Path) -> None:
    single = _first(shipped, Single)
    assert isinstance(single, Single)
    right = next(i for i, c in enumerate(single.choices) if c.correct)
    wrong = next(i for i, c in enumerate(single.choices) if not c.correct)
    files = []
    for who, pick in (("Ann", right), ("Ben", wrong)):
        path = tmp_path / f"{who}.csv"
        path.write_text(
            _file([[who, single.id, chr(65 + pick)]], shipped.id, digest), encoding="utf-8"
        )
        files.append(path)
    result = _grade(tmp_path, *files)
    assert result.exit_code == 0, result.output
    book = _gradebook(tmp_path / "out")
    assert (book["Ann"]["score"], book["Ben"]["score"]) == (str(single.score), "0")


def test_hostile_handins_are_reported_and_the_rest_graded(
    shipped: Any, digest: str, tmp_path: Path
) -> None:
    single = _first(shipped, Single)
    assert isinstance(single, Single)
    good = tmp_path / "good.csv"
    good.write_text(_file([["Ann", single.id, "A"]], shipped.id, digest), encoding="utf-8")
    other_bank = tmp_path / "other-bank.csv"
    other_bank.write_text(_file([["Bo", single.id, "A"]], "other", digest), encoding="utf-8")
    other_set = tmp_path / "other-set.csv"
    other_set.write_text(
        _file([["Cy", single.id, "A"]], shipped.id, "0123456789ab"), encoding="utf-8"
    )
    tampered = tmp_path / "tampered.csv"
    tampered.write_text(
        _file([["Di", single.id, "A"]], shipped.id, digest).replace(",A\r\n", ",B\r\n"),
        encoding="utf-8",
    )
    unknown = tmp_path / "unknown.csv"
    unknown.write_text(_file([["Ed", "no-such-id", "A"]], shipped.id, digest), encoding="utf-8")
    bad_letter = tmp_path / "bad-letter.csv"
    bad_letter.write_text(_file([["Fy", single.id, "Z"]], shipped.id, digest), encoding="utf-8")
    twice = tmp_path / "twice.csv"
    twice.write_text(_file([["Ann", single.id, "B"]], shipped.id, digest), encoding="utf-8")
    result = _grade(tmp_path, good, other_bank, other_set, tampered, unknown, bad_letter)
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"{other_bank}:1: a hand-in for bank 'other', not 'kz-spief-2022'" in out
    assert f"{other_set}:1: a hand-in from another set of questions" in out
    assert f"{tampered}:3: the file was changed or cut short" in out
    assert f"{unknown}:2: question 'no-such-id' is not in this set" in out
    assert f"{bad_letter}:2: 'Z': the letters here are" in out
    assert list(_gradebook(tmp_path / "out")) == ["Ann"]
    # The same name twice: neither file is graded, and nothing is left to grade.
    result = _grade(tmp_path, good, twice)
    assert result.exit_code == 1
    assert "student Ann: several hand-ins or sheets; none graded" in result.output
    assert "Traceback" not in result.output


def test_an_ordering_that_is_no_order_is_refused(shipped: Any, digest: str, tmp_path: Path) -> None:
    ordering = _first(shipped, Ordering)
    assert isinstance(ordering, Ordering)
    cells = ["1"] * len(ordering.items)
    path = tmp_path / "o.csv"
    path.write_text(_file([["Ann", ordering.id, *cells]], shipped.id, digest), encoding="utf-8")
    result = _grade(tmp_path, path)
    assert result.exit_code == 1
    assert f"{path}:2: each position 1-n once; not graded" in result.output
