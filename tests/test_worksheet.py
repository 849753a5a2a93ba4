"""Printable worksheets and answer keys: layout, versions, seeds, selection and real printing."""

from __future__ import annotations

import copy
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from browser import (
    needs_pdf_tools,
    needs_webdriver,
    needs_webdriver_and_pdf_tools,
    pdf_page_size,
    pdf_pages,
    pdf_text,
    print_to_pdf,
    print_with_browser_headers,
    webdriver,
)
from conftest import MINI_BANK, BankFactory
from kzquiz.cli import app
from kzquiz.formats import BY_NAME, build_formats
from kzquiz.loader import load_bank
from kzquiz.model import Cloze
from kzquiz.render import Outputs, RenderJob
from kzquiz.render.worksheet import (
    WorksheetOptions,
    css_string,
    render_worksheets,
)

A4 = (595.0, 842.0)
LETTER = (612.0, 792.0)


# --- a small DOM, enough to read the worksheet and key back --------------------------------

_VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        out = "".join(c if isinstance(c, str) else c.text() for c in self.children)
        return re.sub(r"\s+", " ", out).strip()

    def iter(self) -> list[Node]:
        found: list[Node] = []
        for c in self.children:
            if isinstance(c, Node):
                found.append(c)
                found.extend(c.iter())
        return found

    def find_all(self, cls: str | None = None, attr: str | None = None) -> list[Node]:
        return [
            n
            for n in self.iter()
            if (cls is None or cls in n.classes) and (attr is None or attr in n.attrs)
        ]

    def find(self, cls: str) -> Node:
        found = self.find_all(cls)
        assert found, f"no .{cls} in <{self.tag}>"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def dom(html: bytes | str) -> Node:
    builder = _Builder()
    builder.feed(html.decode("utf-8") if isinstance(html, bytes) else html)
    return builder.root


def parts(li: Node) -> list[str]:
    """The non-empty texts of an element's child elements: [letter, text] of a printed choice."""
    return [t for c in li.children if isinstance(c, Node) and (t := c.text())]


def items_of(block: Node) -> list[list[str]]:
    """Every list item of a question block, as parts."""
    return [parts(li) for li in block.find_all() if li.tag == "li"]


def opening(q: Any) -> str:
    """The first words of a question as printed (a cloze question's gaps print as lines)."""
    return flat(q.stem.split("_____")[0])[:30]


def flat(text: str) -> str:
    """Text with line breaks and runs of spaces folded, for comparing with pdftotext output."""
    return re.sub(r"\s+", " ", text).strip()


# --- helpers --------------------------------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["worksheet", *args])


def render(bank: Path, seed: int = 7, **options: Any) -> dict[str, bytes]:
    loaded = load_bank(bank)
    opts = WorksheetOptions(seed=seed, **options)
    return render_worksheets(loaded, loaded.bank.questions, opts, random.Random(seed))


def qids(html: bytes) -> list[str]:
    return [n.attrs["data-qid"] for n in dom(html).find_all(attr="data-qid")]


def key_grids(key: bytes) -> dict[str, list[Node]]:
    """Version letter -> the quick-key cells in printed order."""
    root = dom(key)
    return {
        section.attrs["data-version"]: section.find_all(attr="data-qid")
        for section in root.find_all(cls="key-version")
    }


def big_bank_data(copies: int) -> dict[str, Any]:
    """The mini bank repeated `copies` times, every printed text made unique: a long worksheet."""
    data = copy.deepcopy(MINI_BANK)
    data["questions"] = [_copy_of(q, i) for i in range(copies) for q in MINI_BANK["questions"]]
    return data


def _copy_of(question: dict[str, Any], i: int) -> dict[str, Any]:
    q = copy.deepcopy(question)
    q["id"] = f"{q['id']}-{i}"
    if "prompt" in q:
        q["prompt"] = f"Set {i}: {q['prompt']}"
    if "text" in q:
        q["text"] = f"Set {i}: {q['text']}"
    for choice in q.get("choices", []):
        choice["text"] = f"{choice['text']} ({i})"
    for pair in q.get("pairs", []):
        pair["left"], pair["right"] = f"{pair['left']} ({i})", f"{pair['right']} ({i})"
    if "items" in q:
        q["items"] = [f"{item} ({i})" for item in q["items"]]
    return q


# --- files, versions and seeds ----------------------------------------------------------------


def test_cli_writes_one_worksheet_per_version_and_one_key(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(str(mini_bank), "-o", str(out), "--versions", "3", "--seed", "4")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "mini-key.html",
        "mini-worksheet-A.html",
        "mini-worksheet-B.html",
        "mini-worksheet-C.html",
    ]
    assert "seed:" not in result.output  # the seed was given: nothing to reproduce
    key = dom((out / "mini-key.html").read_bytes())
    assert [s.attrs["data-version"] for s in key.find_all(cls="key-version")] == ["A", "B", "C"]


def test_without_seed_a_seed_is_printed_and_reproduces_the_files(
    mini_bank: Path, tmp_path: Path
) -> None:
    first = run(str(mini_bank), "-o", str(tmp_path / "a"), "--versions", "2")
    assert first.exit_code == 0, first.output
    # On stderr, like every command's seed: stdout stays the list of files.
    m = re.search(r"seed: (\d+) \(use --seed (\d+) to reproduce\)", first.stderr)
    assert m and m.group(1) == m.group(2), first.output
    assert "seed:" not in first.stdout
    again = run(str(mini_bank), "-o", str(tmp_path / "b"), "--versions", "2", "--seed", m.group(1))
    assert again.exit_code == 0, again.output
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_same_seed_gives_byte_identical_files(
    make_bank: BankFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = make_bank(big_bank_data(3))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1000000000")
    first = render(bank, seed=11, versions=3)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")  # no clock in the output either
    assert render(bank, seed=11, versions=3) == first


def test_different_seeds_give_different_orders(make_bank: BankFactory) -> None:
    bank = make_bank(big_bank_data(3))
    a = render(bank, seed=1)["mini-worksheet-A.html"]
    b = render(bank, seed=2)["mini-worksheet-A.html"]
    assert sorted(qids(a)) == sorted(qids(b))
    assert qids(a) != qids(b)


def test_versions_share_questions_in_different_orders(mini_bank: Path) -> None:
    files = render(mini_bank, versions=4)
    orders = [qids(files[f"mini-worksheet-{v}.html"]) for v in "ABCD"]
    assert all(sorted(o) == sorted(orders[0]) for o in orders)
    assert len({tuple(o) for o in orders}) == 4, "each version should have its own order"


def test_questions_are_grouped_by_topic_and_numbered_continuously(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    topic_of = {q.id: q.topic for q in loaded.bank.questions}
    root = dom(render(mini_bank, versions=2)["mini-worksheet-B.html"])
    blocks = root.find_all(attr="data-qid")
    assert [b.find("q-num").text() for b in blocks] == [str(i) for i in range(1, 9)]
    topics = [topic_of[b.attrs["data-qid"]] for b in blocks]
    assert topics == sorted(topics, key=list(loaded.bank.topics).index), "topics in bank order"
    headings = [h.text() for h in root.find_all(cls="topic")]
    assert headings == list(loaded.bank.topics.values())


def test_each_version_key_matches_that_versions_order_and_letters(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    by_id = {q.id: q for q in loaded.bank.questions}
    files = render(mini_bank, versions=3, seed=5)
    grids = key_grids(files["mini-key.html"])
    assert sorted(grids) == ["A", "B", "C"]
    for letter, cells in grids.items():
        sheet = dom(files[f"mini-worksheet-{letter}.html"])
        blocks = sheet.find_all(attr="data-qid")
        # Same questions, same numbers, same order.
        assert [c.attrs["data-qid"] for c in cells] == [b.attrs["data-qid"] for b in blocks]
        for cell, block in zip(cells, blocks, strict=True):
            q = by_id[block.attrs["data-qid"]]
            assert cell.children[0].text() == block.find("q-num").text()  # type: ignore[union-attr]
            answer = cell.find("ans").text()
            if q.type in ("single", "multiple"):
                printed = dict(items_of(block))  # letter -> choice text
                correct = {c.text for c in q.choices if c.correct}
                assert answer == ", ".join(k for k, v in printed.items() if v in correct)
            elif q.type == "matching":
                rows = items_of(block)
                left = dict(rows[: len(q.pairs)])  # number -> left text
                right = dict(rows[len(q.pairs) :])  # letter -> right text
                pairs = {p.left: p.right for p in q.pairs}
                for part in answer.split(" · "):
                    number, letter_ = part.split()
                    assert pairs[left[number]] == right[letter_], (q.id, part)
            elif q.type == "ordering":
                shown = [text for (text,) in items_of(block)]
                positions = [int(p) for p in answer.split(", ")]
                assert [shown[positions.index(i)] for i in range(1, len(shown) + 1)] == q.items
            elif q.type == "truefalse":
                assert answer == ("True" if q.answer else "False")
            elif isinstance(q, Cloze):
                assert [b[0] for b in q.blanks] == re.findall(r"\(\d+\) ([^·]+?)(?: ·|$)", answer)
            else:
                assert answer == q.answer_text()


def test_truefalse_is_never_shuffled_and_ordering_never_shown_in_order(
    make_bank: BankFactory,
) -> None:
    bank = make_bank(big_bank_data(2))
    loaded = load_bank(bank)
    by_id = {q.id: q for q in loaded.bank.questions}
    choice_orders: dict[str, set[tuple[str, ...]]] = {}
    for seed in range(12):
        files = render(bank, seed=seed)
        sheet = dom(files["mini-worksheet-A.html"])
        for block in sheet.find_all(attr="data-qid"):
            q = by_id[block.attrs["data-qid"]]
            items = [p[-1] for p in items_of(block)]
            if q.type == "truefalse":
                assert items == ["True", "False"]
            elif q.type == "ordering":
                assert sorted(items) == sorted(q.items) and items != q.items
            elif q.type in ("single", "multiple"):
                choice_orders.setdefault(q.id, set()).add(tuple(items))
        for cell in key_grids(files["mini-key.html"])["A"]:
            if by_id[cell.attrs["data-qid"]].type == "matching":
                letters = [part.split()[1] for part in cell.find("ans").text().split(" · ")]
                assert letters != sorted(letters), "matching answer is simply 1A 2B 3C"
    assert all(len(orders) > 1 for orders in choice_orders.values()), "choices never shuffled"


def test_worksheet_has_header_points_instructions_and_no_answers(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    # Without the reading passage, which quotes the answers on purpose.
    html = render(mini_bank, title="Quiz 3", reading=False)["mini-worksheet-A.html"].decode()
    root = dom(html)
    head = root.find("sheet-head")
    total = sum(q.score for q in loaded.bank.questions)
    assert "Quiz 3" in head.text() and head.find("version-badge").text() == "Version A"
    assert {"Name", "Class", "Date"} <= {f.text() for f in head.find_all(cls="field")}
    assert f"{total} points in total" in head.text()
    assert len(head.find("legend").find_all()) >= 8  # one instruction per type present
    pts = [b.find("q-pts").text() for b in root.find_all(attr="data-qid")]
    assert sorted(pts) == sorted(
        f"{q.score} pt" + ("s" if q.score > 1 else "") for q in loaded.bank.questions
    )
    for q in loaded.bank.questions:
        assert q.explanation not in html
    # Nothing marks a right answer: no attribute names one, no tick is printed, and every
    # choice is built the same way.
    for node in root.iter():
        for name, value in node.attrs.items():
            assert not re.search(r"correct|answer|right", f"{name}={value}", re.I), node
    assert not set("✓✔☑✗") & set(html)
    for block in root.find_all(cls="choices"):
        assert (
            len({tuple(sorted(li.attrs.items())) for li in block.find_all() if li.tag == "li"}) == 1
        )
    assert "Tigran Keosayan" not in html and "twenty-fifth" not in html  # short and cloze answers


def test_numeric_unit_reads_right_whatever_the_unit(
    mini_bank_data: dict[str, Any], make_bank: BankFactory
) -> None:
    # "states" or "percent" after a bare box read as if the box were part of a sentence;
    # naming it as the unit reads right for any unit.
    data = copy.deepcopy(mini_bank_data)
    numeric = next(q for q in data["questions"] if q["type"] == "numeric")
    numeric["unit"] = "states"
    root = dom(render(make_bank(data))["mini-worksheet-A.html"])
    block = next(b for b in root.find_all(attr="data-qid") if b.attrs["data-qid"] == numeric["id"])
    assert block.find("numeric").text() == "(unit: states)"


def test_reading_passage_has_numbered_paragraphs_and_can_be_left_out(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    with_reading = dom(render(mini_bank)["mini-worksheet-A.html"])
    numbers = [n.text() for n in with_reading.find_all(cls="pn")]
    assert numbers == [str(i) for i in range(1, len(loaded.source.paragraphs) + 1)]
    headings = [h.text() for h in with_reading.find("reading").find_all() if h.tag == "h3"]
    assert headings == list(loaded.source.headings.values())
    without = dom(render(mini_bank, reading=False)["mini-worksheet-A.html"])
    assert not without.find_all(cls="reading") and not without.find_all(cls="pn")


@pytest.mark.parametrize(
    ("flag", "shown"), [([], True), (["--reading"], True), (["--no-reading"], False)]
)
def test_cli_reading_flag_shows_or_leaves_out_the_passage(
    mini_bank: Path, tmp_path: Path, flag: list[str], shown: bool
) -> None:
    out = tmp_path / "out"
    result = run(str(mini_bank), *flag, "--seed", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    page = dom((out / "mini-worksheet-A.html").read_text(encoding="utf-8"))
    assert bool(page.find_all(cls="reading")) is shown
    assert bool(page.find_all(cls="pn")) is shown


def test_key_has_answers_explanations_and_evidence_paragraphs(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    key = dom(render(mini_bank, versions=2)["mini-key.html"])
    entries = {e.attrs["data-qid"]: e for e in key.find("full-key").find_all(cls="entry")}
    assert sorted(entries) == sorted(q.id for q in loaded.bank.questions)
    for q in loaded.bank.questions:
        text = entries[q.id].text()
        assert q.explanation in text
        assert f"{q.evidence} — ¶ {loaded.paragraph_of[q.id]}" in text
        for part in re.split(r"; | → ", q.answer_text()):
            assert part in text, (q.id, part)


# --- escaping and offline ----------------------------------------------------------------------


def test_bank_text_and_title_are_escaped(
    make_bank: BankFactory, mini_bank_data: dict[str, Any]
) -> None:
    evil = '<script>alert("x")</script>'
    mini_bank_data["bank"]["title"] = "</style><u>underlined</u>"
    mini_bank_data["topics"]["economy"] = f"Trade {evil}"
    q = mini_bank_data["questions"][0]
    q["prompt"] = f"Which {evil}?"
    q["choices"][1]["text"] = "<img src=x onerror=alert(1)>"
    q["explanation"] = f"Because {evil}"
    files = render(make_bank(mini_bank_data), versions=2)
    for name, data in files.items():
        html = data.decode()
        assert "<script" not in html and "<img" not in html and "<u>" not in html, name
        assert html.count("</style>") == 1, name  # the title in the footer stays inside CSS
        assert "&lt;script&gt;" in html, name


def test_css_string_cannot_break_out() -> None:
    quoted = str(css_string('a"b\\c</style>\n;}'))
    assert quoted.startswith('"') and quoted.endswith('"')
    inner = quoted[1:-1]
    assert not set(inner) & set('"<>;}\n'), inner


def test_no_network_resources(mini_bank: Path) -> None:
    for name, data in render(mini_bank, versions=2).items():
        html = data.decode()
        for needle in ("<link", "<script", "@import", "url(", "src=", "href=", "@font-face"):
            assert needle not in html, (name, needle)
        assert "<style>" in html


# --- selection and usage errors -------------------------------------------------------------


def test_topic_difficulty_and_count_combine(mini_bank: Path, tmp_path: Path) -> None:
    loaded = load_bank(mini_bank)
    matching = {q.id for q in loaded.bank.questions if q.topic == "economy" and q.difficulty == 2}
    assert len(matching) == 2  # keosayan and china-investment
    out = tmp_path / "both"
    result = run(
        str(mini_bank), "-o", str(out), "--topic", "economy", "--difficulty", "2", "--seed", "3"
    )
    assert result.exit_code == 0, result.output
    assert set(qids((out / "mini-worksheet-A.html").read_bytes())) == matching
    one = tmp_path / "one"
    result = run(
        str(mini_bank),
        "-o",
        str(one),
        "--topic",
        "economy",
        "--difficulty",
        "1-2",
        "-n",
        "2",
        "--seed",
        "3",
    )
    assert result.exit_code == 0, result.output
    chosen = qids((one / "mini-worksheet-A.html").read_bytes())
    allowed = {q.id for q in loaded.bank.questions if q.topic == "economy" and q.difficulty <= 2}
    assert len(chosen) == 2 and set(chosen) <= allowed
    typed = tmp_path / "typed"
    result = run(
        str(mini_bank), "-o", str(typed), "--type", "cloze", "--type", "numeric", "--seed", "3"
    )
    assert result.exit_code == 0, result.output
    assert sorted(qids((typed / "mini-worksheet-A.html").read_bytes())) == [
        "china-investment",
        "forum-number",
    ]


def test_selection_matching_nothing_is_an_error(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run(str(mini_bank), "-o", str(out), "--topic", "economy", "--type", "ordering")
    assert result.exit_code == 1
    assert "no question matches topic economy and type ordering" in result.stderr
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["--paper", "a5"],
        ["--versions", "0"],
        ["--versions", "27"],
        ["--topic", "nope"],
        ["--difficulty", "4"],
    ],
)
def test_bad_options_exit_2(mini_bank: Path, tmp_path: Path, args: list[str]) -> None:
    result = run(str(mini_bank), "-o", str(tmp_path / "out"), *args)
    assert result.exit_code == 2, result.output


def test_library_refuses_bad_options(mini_bank: Path) -> None:
    from kzquiz.errors import SelectionError, UsageError

    with pytest.raises(UsageError):
        render(mini_bank, paper="a5")
    with pytest.raises(UsageError):
        render(mini_bank, versions=27)
    loaded = load_bank(mini_bank)
    with pytest.raises(SelectionError):
        render_worksheets(loaded, [], WorksheetOptions(), random.Random(1))


# --- kzquiz build ------------------------------------------------------------------------------


def test_build_step_is_registered_and_makes_the_default_set(
    mini_bank: Path, tmp_path: Path
) -> None:
    fmt = BY_NAME["worksheet"]
    assert fmt in build_formats()
    loaded = load_bank(mini_bank)

    def build_outputs() -> Outputs:
        job = RenderJob(loaded, loaded.bank.questions, seed=fmt.build_seed, whole_bank=True)
        return fmt.render(job)

    outputs = build_outputs()
    assert sorted(outputs.files) == ["mini-key.html", "mini-worksheet-A.html"]
    assert outputs.files == build_outputs().files  # fixed seed
    sheet = dom(outputs.files["mini-worksheet-A.html"])
    assert sorted(qids(outputs.files["mini-worksheet-A.html"])) == sorted(
        q.id for q in loaded.bank.questions
    )
    assert sheet.find_all(cls="reading")
    assert "size: A4;" in outputs.files["mini-worksheet-A.html"].decode()
    assert "Seed 1" in dom(outputs.files["mini-key.html"]).find("key-head").text()


# --- printed with Chromium ------------------------------------------------------------------


def _print_all(files: dict[str, bytes], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pdfs = {}
    for name, data in files.items():
        html = folder / name
        html.write_bytes(data)
        pdfs[name] = print_to_pdf(html, html.with_suffix(".pdf"))
    return pdfs


@needs_pdf_tools
@pytest.mark.parametrize(("paper", "size"), [("a4", A4), ("letter", LETTER)])
def test_printed_worksheets_and_key(
    mini_bank: Path, tmp_path: Path, paper: str, size: tuple[float, float]
) -> None:
    loaded = load_bank(mini_bank)
    pdfs = _print_all(render(mini_bank, versions=2, paper=paper), tmp_path)
    for name, pdf in pdfs.items():
        width, height = pdf_page_size(pdf)
        assert abs(width - size[0]) < 1.5 and abs(height - size[1]) < 1.5, (name, width, height)

    for letter in "AB":
        pdf = pdfs[f"mini-worksheet-{letter}.html"]
        pages = pdf_text(pdf).split("\f")[:-1]
        text = flat(" ".join(pages))
        assert pages[0].lstrip().startswith("Mini bank")  # the header opens the version
        # The footer carries the version letter and page numbers.
        n = pdf_pages(pdf)
        assert f"Version {letter} · page 1 of {n}" in flat(pages[0])
        for q in loaded.bank.questions:
            if isinstance(q, Cloze):
                for seg in q.segments:
                    if isinstance(seg, str) and seg.strip():
                        assert flat(seg) in text, (q.id, seg)
            else:
                assert flat(q.stem) in text, q.id
            assert flat(q.explanation) not in text, q.id
        # The reading passage comes first, the questions after its last paragraph.
        last_paragraph = text.index(flat(loaded.source.paragraphs[-1])[:60])
        assert text.index("Questions") > last_paragraph
        assert all(text.index(opening(q)) > last_paragraph for q in loaded.bank.questions)
        # 25 paragraphs of reading (2-3 pages) plus 8 questions (1-2 pages).
        assert 3 <= n <= 5, (paper, n)

    key_pdf = pdfs["mini-key.html"]
    pages = pdf_text(key_pdf).split("\f")[:-1]
    starts = {}
    for i, page in enumerate(pages):
        lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
        if "Quick key · Version A" in lines:
            starts["A"] = i
        if "Quick key · Version B" in lines:
            starts["B"] = i
        if lines and lines[0] == "Full key":
            starts["full"] = i
    assert sorted(starts) == ["A", "B", "full"]
    assert starts["A"] == 0 < starts["B"] < starts["full"]
    for part in ("A", "B"):
        assert flat(pages[starts[part]]).startswith("Answer key"), part
        assert f"Key {part} · page" in flat(pages[starts[part]])
    key_text = flat(" ".join(pages))
    for q in loaded.bank.questions:
        for part in re.split(r"; | → ", q.answer_text()):
            assert flat(part) in key_text, (q.id, part)
    assert 3 <= pdf_pages(key_pdf) <= 6


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    """One headless Chromium for the module's browser tests."""
    d = webdriver()
    yield d
    d.quit()


_GAPS_JS = """
// Gap in px between the end of each question number's digits and the start of its text.
return Array.from(document.querySelectorAll(".q-head")).map(function (head) {
  var num = head.querySelector(".q-num"), stem = head.querySelector(".q-stem");
  var digits = document.createRange();
  digits.selectNodeContents(num);
  var text = document.createRange();
  text.selectNodeContents(stem);
  return [num.textContent, text.getClientRects()[0].left - digits.getBoundingClientRect().right];
});
"""


@needs_webdriver
def test_three_digit_numbers_keep_their_distance_from_the_text(
    driver: Any, make_bank: BankFactory, tmp_path: Path
) -> None:
    files = render(make_bank(big_bank_data(15)), reading=False)  # 120 questions
    page = tmp_path / "mini-worksheet-A.html"
    page.write_bytes(files["mini-worksheet-A.html"])
    driver.get(page.as_uri())
    gaps = driver.execute_script(_GAPS_JS)
    assert [n for n, _ in gaps] == [str(i) for i in range(1, 121)]
    mm = 96 / 25.4  # CSS px per millimetre
    crowded = [(n, round(gap / mm, 2)) for n, gap in gaps if gap < 1.5 * mm]
    assert crowded == []
    # ...and the answer area starts under the text, not under the number.
    lefts = driver.execute_script(
        "return Array.from(document.querySelectorAll('.q')).map(function (q) {"
        " return [q.querySelector('.q-stem').getBoundingClientRect().left,"
        " (q.querySelector('.q-body') || q.querySelector('.q-stem')).getBoundingClientRect().left];"
        "});"
    )
    assert all(abs(stem - body) < 1 for stem, body in lefts), lefts[:3]


@needs_webdriver_and_pdf_tools
def test_browser_headers_and_footers_are_suppressed(
    driver: Any, mini_bank: Path, tmp_path: Path
) -> None:
    # Chrome's print dialog ticks "Headers and footers" by default: a date and the page
    # title at the top of every page, the file's URL at the bottom. Our own footer stays.
    files = render(mini_bank, versions=1)
    checked = 0
    for name, title in [
        ("mini-worksheet-A.html", "Mini bank · Version A"),
        ("mini-key.html", "Mini bank · Answer key"),
    ]:
        html = tmp_path / name
        html.write_bytes(files[name])
        pdf = print_with_browser_headers(driver, html, tmp_path / f"{name}.pdf")
        pages = pdf_text(pdf).split("\f")[:-1]
        assert len(pages) == pdf_pages(pdf) >= 2
        for number, page in enumerate(pages, 1):
            lines = [ln.strip() for ln in page.splitlines() if ln.strip()]
            assert not any(re.search(r"\b\d{1,2}/\d{1,2}/\d{2,4}\b", ln) for ln in lines), lines
            assert not any(re.search(r"\d{1,2}:\d{2}\s*[AP]M", ln) for ln in lines), lines
            assert "file:" not in page and html.name not in page
            assert title not in lines, (name, number, lines[:3])
            # The page's own footer: title, part and page number, once per page.
            assert flat(page).count(f" · page {number} of {len(pages)}") == 1, flat(page)[-80:]
            checked += 1
    assert checked >= 4


@needs_pdf_tools
@pytest.mark.parametrize(("paper", "low", "high"), [("a4", 4, 6), ("letter", 4, 6)])
def test_long_worksheet_page_count_and_no_split_question(
    make_bank: BankFactory, tmp_path: Path, paper: str, low: int, high: int
) -> None:
    bank = make_bank(big_bank_data(5))
    loaded = load_bank(bank)
    files = render(bank, paper=paper, reading=False)
    pdf = _print_all({"mini-worksheet-A.html": files["mini-worksheet-A.html"]}, tmp_path)[
        "mini-worksheet-A.html"
    ]
    # 40 questions of every type, about eight to a page, without the reading passage.
    assert low <= pdf_pages(pdf) <= high
    pages = [flat(p) for p in pdf_text(pdf).split("\f")[:-1]]
    sheet = dom(files["mini-worksheet-A.html"])
    by_id = {q.id: q for q in loaded.bank.questions}
    for block in sheet.find_all(attr="data-qid"):
        # A question's first and last printed line sit on the same page.
        q = by_id[block.attrs["data-qid"]]
        lines = [p[-1] for p in items_of(block)]
        if not lines:
            continue
        first = flat(q.stem)[:40]
        last = lines[-1] if q.type != "matching" else lines[len(q.pairs) - 1]
        page_of_first = [i for i, p in enumerate(pages) if first in p]
        assert page_of_first, q.id
        assert any(last in pages[i] for i in page_of_first), (q.id, last)
