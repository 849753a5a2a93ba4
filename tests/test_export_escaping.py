"""Any text a bank may hold survives every export: random text, read back as each consumer would.

The text is drawn mostly from the characters that matter somewhere (GIFT's ~ = # { } : and
backslash, XML's & < > and quotes, tabs, newlines, CSV's commas and quotes, '->', '%', '[').
"""

from __future__ import annotations

import csv
import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from typing import Any

from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st

from export_helpers import moodle_read_file
from kzquiz.bank import LoadedBank
from kzquiz.loader import load_bank
from kzquiz.model import Choice, Pair
from kzquiz.render.csv import render_csv
from kzquiz.render.export_common import feedback_text
from kzquiz.render.gift import render_gift
from kzquiz.render.qti import render_qti
from kzquiz.render.quizlet import render_quizlet
from test_export_qti import html_text

HYPOTHESIS_SEED = int(os.environ["KZQUIZ_HYPOTHESIS_SEED"])  # chosen in conftest.py
BUDGET = settings(
    max_examples=int(os.environ.get("KZQUIZ_HYPOTHESIS_EXAMPLES", "120")) // 2,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

_SPECIAL = "~=#{}:\\&<>\"'\t\n|%[]->/;, "
# What the loader accepts: no control characters but tab and newline, stripped, not empty.
text = (
    st.text(
        alphabet=st.one_of(
            st.sampled_from(_SPECIAL),
            st.sampled_from("abcXYZ019"),
            st.characters(
                blacklist_categories=("Cc", "Cs"), blacklist_characters="\u2028\u2029\x85"
            ),
        ),
        min_size=1,
        max_size=30,
    )
    .map(str.strip)
    .filter(bool)
)


def _distinct(n: int) -> Any:
    return st.lists(text, min_size=n, max_size=n, unique_by=lambda s: s.casefold())


def _words(s: str) -> str:
    """Text as HTML shows it: runs of whitespace are one space."""
    return re.sub(r"\s+", " ", s).strip()


def _questions(loaded: LoadedBank, draw: Any) -> list[Any]:
    """The mini bank's single, short and matching questions with random text everywhere."""
    single, short, matching = (loaded.bank.questions[i] for i in (0, 4, 6))
    choices = draw(_distinct(3))
    lefts, rights = draw(_distinct(3)), draw(_distinct(3))
    return [
        single.model_copy(
            update={
                "prompt": draw(text),
                "explanation": draw(text),
                "choices": [Choice(text=t, correct=i == 1) for i, t in enumerate(choices)],
            }
        ),
        short.model_copy(update={"prompt": draw(text), "answers": draw(_distinct(2))}),
        matching.model_copy(
            update={
                "prompt": draw(text),
                "pairs": [Pair(left=a, right=b) for a, b in zip(lefts, rights, strict=True)],
            }
        ),
    ]


@seed(HYPOTHESIS_SEED)
@BUDGET
@given(data=st.data())
def test_random_text_survives_every_format(mini_bank: Any, data: st.DataObject) -> None:
    note(f"hypothesis seed: {HYPOTHESIS_SEED}")
    loaded = load_bank(mini_bank)
    single, short, matching = _questions(loaded, data.draw)

    # GIFT, read with Moodle's rules: exactly the bank's text ('->' aside, which GIFT
    # cannot escape and the exporter reports).
    gift, _ = render_gift(loaded, [single, short, matching])
    read = {m.name: m for m in moodle_read_file(gift) if m.qtype != "category"}
    m = read[single.id]
    assert (m.qtype, m.text, m.general_feedback) == (
        "multichoice",
        single.prompt,
        feedback_text(loaded, single),
    )
    assert m.answers == [(c.text, 1.0 if c.correct else 0.0) for c in single.choices]
    assert read[short.id].answers == [(a.replace("->", "→"), 1.0) for a in short.answers]
    assert read[matching.id].pairs == [(p.left.replace("->", "→"), p.right) for p in matching.pairs]

    # QTI: well-formed XML whose HTML shows the same words.
    qti, _ = render_qti(loaded, [single, short, matching])
    with zipfile.ZipFile(io.BytesIO(qti)) as zf:
        docs = [ET.fromstring(zf.read(n)) for n in zf.namelist() if n.endswith(".xml")]
    texts = [
        _words(html_text(el.text or ""))
        for doc in docs
        for el in doc.iter()
        if el.tag.endswith("mattext") and el.get("texttype") == "text/html"
    ]
    for s in (single.prompt, single.explanation, *(c.text for c in single.choices)):
        assert any(_words(s) in t for t in texts), s
    plain = [el.text for doc in docs for el in doc.iter() if el.tag.endswith("varequal")]
    assert all(a.replace("\r\n", "\n") in plain for a in short.answers)

    # Quizlet: one card per line and one tab per card, whatever the text.
    cards = render_quizlet(loaded, [single, short, matching])[0].decode("utf-8")
    assert all(line.count("\t") == 1 for line in cards.splitlines())
    assert len(cards.splitlines()) == 1 + 1 + len(matching.pairs)

    # CSV: a reader gets every cell back (a formula-like start gets an apostrophe).
    rows = list(csv.DictReader(io.StringIO(render_csv(loaded, [single])[0].decode("utf-8-sig"))))
    (row,) = rows
    for column, value in (("prompt", single.prompt), ("explanation", single.explanation)):
        guarded = "'" + value if value.startswith(("=", "+", "-", "@")) else value
        assert row[column] == guarded
