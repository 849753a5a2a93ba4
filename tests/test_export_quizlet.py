"""Quizlet export: golden file; one card a line with exactly one tab; a card for every type."""

from __future__ import annotations

from typing import Any

import pytest

from export_helpers import check_golden, load_export_bank
from kzquiz.bank import LoadedBank
from kzquiz.render.quizlet import cards, clean, render_quizlet


@pytest.fixture
def loaded(make_bank: Any) -> LoadedBank:
    return load_export_bank(make_bank)


def _cards(data: bytes) -> list[tuple[str, str]]:
    text = data.decode("utf-8")
    assert text.endswith("\n") and "\r" not in text
    out = []
    for line in text.splitlines():
        term, definition = line.split("\t")  # exactly one tab: Quizlet's term/definition split
        out.append((term, definition))
    return out


def test_golden(loaded: LoadedBank, request: pytest.FixtureRequest) -> None:
    data, notes = render_quizlet(loaded, loaded.bank.questions)
    check_golden(request, "export-bank.quizlet.txt", data)
    assert notes == []


def test_a_card_for_every_type(loaded: LoadedBank) -> None:
    data, _ = render_quizlet(loaded, loaded.bank.questions)
    got = _cards(data)
    by_id = {q.id: q for q in loaded.bank.questions}
    assert got[:4] == [
        (
            "Which two UN principles did Tokayev say had come into conflict?"
            " / A. Territorial integrity and self-determination"
            " / B. Non-interference and collective security"
            " / C. Sovereign equality and peaceful settlement",
            "A. Territorial integrity and self-determination",
        ),
        (
            "Which regions did Tokayev say Kazakhstan could not recognise? Select all that apply."
            " / A. Taiwan / B. Kosovo / C. Crimea / D. Abkhazia",
            "A. Taiwan; B. Kosovo; D. Abkhazia",
        ),
        ("True or false: Kazakhstan intends to break the Western sanctions on Russia.", "False"),
        (
            "Tokayev spoke at the _____ St. Petersburg International Economic Forum in June 2022.",
            "25th (also accepted: twenty-fifth)",
        ),
    ]
    assert (
        "Which Kremlin-backed journalist accused Kazakhstan of being ungrateful?",
        "Tigran Keosayan (also accepted: Keosayan)",
    ) in got
    assert (
        "How many billion US dollars has China invested in Kazakhstan over 15 years? (unit: billion USD)",
        "22 (± 0.5) billion USD",
    ) in got
    assert ("Ebrahim Raisi (Match each person to their role.)", "President of Iran") in got
    assert (
        "Put these events in order, earliest first.",
        "Kazakhstan joins the Paris Agreement → Tokayev becomes president → "
        "Russia's full-scale war begins → The June 17 plenary session",
    ) in got
    # One card per blank and per matching pair; one for everything else.
    expected = sum(
        len(q.blanks) if q.type == "cloze" else len(q.pairs) if q.type == "matching" else 1
        for q in by_id.values()
    )
    assert len(got) == expected


def test_tabs_and_newlines_never_break_a_card(loaded: LoadedBank) -> None:
    data, _ = render_quizlet(loaded, loaded.bank.questions)
    got = dict(_cards(data))
    assert (
        got[
            'Which is {not} a "GIFT" rule? a ~ b = c # d : e \\ f & <b>g</b> after a tab / '
            "and a second line / A. =1+1 is a formula / B. ~tilde, #hash & {braces} "
            "/ C. %50% looks like a weight / D. [html] looks like a format"
        ]
        == "A. =1+1 is a formula"
    )
    assert got["Tab here (Match: <left> & {right})"] == "Line / break"
    assert clean("a\tb\r\nc\n\nd\u2028e") == "a b / c / d / e"


def test_cards_keep_every_answer(loaded: LoadedBank) -> None:
    """Nothing in an answer is dropped: every accepted answer appears on its card."""
    for q in loaded.bank.questions:
        text = " ".join(f"{t} {d}" for t, d in cards(q))
        for answer in (
            getattr(q, "answers", None)
            or [alt for blank in getattr(q, "blanks", []) for alt in blank]
            or [c.text for c in getattr(q, "choices", []) if c.correct]
            or getattr(q, "items", [])
            or [p.right for p in getattr(q, "pairs", [])]
        ):
            assert answer in text, (q.id, answer)


def test_choice_cards_show_the_choices(loaded: LoadedBank) -> None:
    """A choice card lists every option, lettered, one line each; the back names the letters."""
    choice_questions = [q for q in loaded.bank.questions if q.type in ("single", "multiple")]
    assert {q.type for q in choice_questions} == {"single", "multiple"}
    for q in choice_questions:
        ((term, definition),) = cards(q)
        lettered = [f"{'ABCDEFGH'[i]}. {c.text}" for i, c in enumerate(q.choices)]
        assert term == "\n".join([q.stem, *lettered])
        right = [f"{'ABCDEFGH'[i]}. {c.text}" for i, c in enumerate(q.choices) if c.correct]
        assert definition == "; ".join(right)
