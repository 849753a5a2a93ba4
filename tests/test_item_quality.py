"""Item-quality checks: small banks that plant one flaw each, leak-free selections, the summary."""

from __future__ import annotations

import copy
import random
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import MINI_BANK, BankFactory
from kzquiz.cli import app
from kzquiz.errors import BankError
from kzquiz.loader import load_bank
from kzquiz.quality import leak_notes
from kzquiz.report import summary_table
from kzquiz.select import Selection, select

NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
NAMES += ["india", "juliett", "kilo", "lima", "mike", "november"]
# Distinct quotes from the article, so no two planted items are near-duplicates by accident.
QUOTES = [
    "two UN principles came into conflict",
    "including Taiwan and Kosovo",
    "Kazakhstan flatly refused",
    "Tokayev offered to mediate the peace talks",
    "the June 17 plenary session",
    "193 states that make up the UN today",
    "carbon neutrality by 2060",
    "Kazakhstan joined the 2015 Paris Agreement",
    "Kremlin-backed journalist Tigran Keosayan",
    "invested over $22 billion in our economy",
    "Kazakhstan has no intention of breaking the Western sanctions",
    "25th St. Petersburg International Economic Forum",
    "Naturally, it would be chaos",
    "the Russian Federation",
]


def base(questions: list[dict[str, Any]]) -> dict[str, Any]:
    """The mini bank's header and the topics these questions use."""
    data = copy.deepcopy(MINI_BANK)
    data["questions"] = questions
    used = {q["topic"] for q in questions}
    data["topics"] = {k: v for k, v in data["topics"].items() if k in used}
    return data


def single(n: int, key: str, wrong: list[str], pos: int = 0, **extra: Any) -> dict[str, Any]:
    """A single-choice question s<n> with its key at `pos`."""
    choices: list[dict[str, Any]] = [{"text": w} for w in wrong]
    choices.insert(pos, {"text": key, "correct": True})
    return {
        "id": f"s{n}",
        "type": "single",
        "topic": "sovereignty",
        "difficulty": 2,
        "tags": ["planted"],
        "prompt": f"Planted choice question number {NAMES[n]}?",
        "choices": choices,
        "explanation": "Planted.",
        "evidence": QUOTES[n % len(QUOTES)],
        **extra,
    }


def truefalse(n: int, answer: bool, difficulty: int = 1) -> dict[str, Any]:
    """A true/false question t<n>."""
    return {
        "id": f"t{n}",
        "type": "truefalse",
        "topic": "economy",
        "difficulty": difficulty,
        "tags": ["planted"],
        "prompt": f"Planted statement {NAMES[n]}.",
        "answer": answer,
        "explanation": "Planted.",
        "evidence": QUOTES[n % len(QUOTES)],
    }


def fair_singles(count: int) -> list[dict[str, Any]]:
    """Single-choice questions without a pattern: keys short, at rotating positions."""
    return [
        single(n, f"key {NAMES[n]}", [f"wrong one {NAMES[n]}", f"wrong two {NAMES[n]}"], n % 3)
        for n in range(count)
    ]


def warnings_of(make_bank: BankFactory, data: dict[str, Any]) -> list[str]:
    """The bank's warnings as check prints them, with bank.yaml as the file."""
    path = make_bank(data)
    return [str(w).replace(str(path), "bank.yaml") for w in load_bank(path).warnings]


def unlocated(warning: str) -> str:
    """A warning without its file:line:col."""
    return re.sub(r"^bank\.yaml:\d+:\d+: ", "", warning)


def line_of(path: Path, needle: str) -> int:
    """The 1-based number of the first line of the file containing `needle`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(i for i, line in enumerate(lines, start=1) if needle in line)


def top(path: Path) -> str:
    """Where bank-level warnings point: the first item of `questions:`."""
    return f"bank.yaml:{line_of(path, 'questions:') + 1}:1: questions"


def run(*args: str):  # type: ignore[no-untyped-def]
    """Invoke the CLI like a user would, with separate stderr."""
    return CliRunner().invoke(app, list(args))


# --- bank-level patterns -----------------------------------------------------------------------


def test_longest_key_share_names_every_item(make_bank: BankFactory) -> None:
    questions = fair_singles(6)
    for n in range(3):  # 3 of 6 = 50 %: over 35 %
        questions[n]["choices"] = [
            {"text": f"long key {NAMES[n]}", "correct": True}
            if j == n % 3
            else {"text": f"short {j} {NAMES[n]}"}
            for j in range(3)
        ]
    data = base(questions)
    path = make_bank(data)
    found = warnings_of(make_bank, data)
    assert found == [
        f"{top(path)}: the correct choice is strictly the longest option in 3 of 6 choice "
        "questions (50 %, more than 35 %): questions[0] (id: s0), questions[1] (id: s1), "
        "questions[2] (id: s2); make a distractor as long as the key in some of them"
    ]


def test_longest_key_at_the_threshold_and_ties_do_not_warn(make_bank: BankFactory) -> None:
    questions = fair_singles(6)
    for n in range(2):  # 2 of 6 = 33 %
        questions[n]["choices"][n % 3]["text"] = f"the long correct key {NAMES[n]}"
    # a key as long as a distractor is not "strictly the longest"
    questions[2]["choices"] = [
        {"text": "same length A"},
        {"text": "same length B"},
        {"text": "same length C", "correct": True},
    ]
    assert warnings_of(make_bank, base(questions)) == []


def test_key_always_in_position_a(make_bank: BankFactory) -> None:
    questions = [
        single(n, f"key {NAMES[n]}", [f"wrong one {NAMES[n]}", f"wrong two {NAMES[n]}"], 0)
        for n in range(6)
    ]
    questions[5]["choices"] = [
        {"text": "wrong one foxtrot"},
        {"text": "key foxtrot", "correct": True},
        {"text": "wrong two foxtrot"},
    ]
    data = base(questions)
    path = make_bank(data)
    ids = ", ".join(f"questions[{n}] (id: s{n})" for n in range(5))
    assert warnings_of(make_bank, data) == [
        f"{top(path)}: the correct choice is A (choices[0]) in 5 of 6 single-choice questions "
        f"(83 %, more than 50 %): {ids}; move the key to another position in some of them "
        "(CSV and GIFT keep the bank's order)"
    ]


def test_a_position_never_keyed(make_bank: BankFactory) -> None:
    # 12 items with four choices, keys at A, B, C in turn, never at D
    questions = [
        single(n, f"key {NAMES[n]}", [f"wrong {w} {NAMES[n]}" for w in ("x", "y", "z")], n % 3)
        for n in range(12)
    ]
    data = base(questions)
    path = make_bank(data)
    assert warnings_of(make_bank, data) == [
        f"{top(path)}: no single-choice question has its correct choice at D (choices[3]), "
        "a position all 12 have; move the key there in some of them"
    ]
    # with 11 items the rule does not apply yet
    assert warnings_of(make_bank, base(questions[:11])) == []


def test_true_false_all_true_overall_and_at_higher_difficulty(make_bank: BankFactory) -> None:
    questions = [truefalse(n, True, difficulty=2) for n in range(6)]
    data = base(questions)
    path = make_bank(data)
    ids = ", ".join(f"questions[{n}] (id: t{n})" for n in range(6))
    assert warnings_of(make_bank, data) == [
        f"{top(path)}: True is the answer of 6 of 6 true/false questions (100 %, outside "
        f"40-60 %): true are {ids}; rewrite some as false statements",
        f"{top(path)}: True is the answer of 6 of 6 true/false questions at difficulty 2-3 "
        f"(100 %, outside 40-60 %): true are {ids}; rewrite some as false statements",
    ]


def test_true_false_balanced_overall_but_not_among_harder_items(make_bank: BankFactory) -> None:
    # overall 6 of 12 True; but the six at difficulty 2 are all False
    questions = [truefalse(n, True) for n in range(6)]
    questions += [truefalse(n, False, difficulty=2) for n in range(6, 12)]
    data = base(questions)
    path = make_bank(data)
    ids = ", ".join(f"questions[{n}] (id: t{n})" for n in range(6, 12))
    assert warnings_of(make_bank, data) == [
        f"{top(path)}: True is the answer of 0 of 6 true/false questions at difficulty 2-3 "
        f"(0 %, outside 40-60 %): false are {ids}; rewrite some as true statements",
    ]
    assert warnings_of(make_bank, base(questions[3:9])) == []  # 3 True, 3 False


def test_levels_set_on_some_questions_only(make_bank: BankFactory) -> None:
    questions = fair_singles(3)
    questions[0]["level"] = "analyse"
    data = base(questions)
    path = make_bank(data)
    assert warnings_of(make_bank, data) == [
        f"{top(path)}: 2 of 3 questions have no `level`: questions[1] (id: s1), "
        "questions[2] (id: s2); give each one (remember, understand, apply, analyse, evaluate) "
        "so the blueprint counts them"
    ]
    for q in questions:
        q["level"] = "remember"
    assert warnings_of(make_bank, base(questions)) == []


# --- per-item flaws -----------------------------------------------------------------------------


def test_all_of_the_above(make_bank: BankFactory) -> None:
    questions = fair_singles(2)
    questions[1]["choices"][2]["text"] = "All of the above"
    questions.append(
        {
            **single(2, "key charlie", ["wrong charlie"]),
            "type": "multiple",
            "choices": [
                {"text": "key charlie", "correct": True},
                {"text": "Both A and B"},
                {"text": "None of these"},
            ],
        }
    )
    data = base(questions)
    path = make_bank(data)
    assert warnings_of(make_bank, data) == [
        f"bank.yaml:{line_of(path, 'All of the above')}:{line_of_col(path, 'All of the above')}: "
        "questions[1] (id: s1): choices[2] 'All of the above' is an all/none-of-the-above "
        "option; replace it with a plausible distractor (choices are shuffled, and it cues the answer)",
        f"bank.yaml:{line_of(path, 'Both A and B')}:{line_of_col(path, 'Both A and B')}: "
        "questions[2] (id: s2): choices[1] 'Both A and B' is an all/none-of-the-above "
        "option; replace it with a plausible distractor (choices are shuffled, and it cues the answer)",
        f"bank.yaml:{line_of(path, 'None of these')}:{line_of_col(path, 'None of these')}: "
        "questions[2] (id: s2): choices[2] 'None of these' is an all/none-of-the-above "
        "option; replace it with a plausible distractor (choices are shuffled, and it cues the answer)",
    ]


def line_of_col(path: Path, needle: str) -> int:
    """The column where the YAML value holding `needle` starts (after `text: `)."""
    line = path.read_text(encoding="utf-8").splitlines()[line_of(path, needle) - 1]
    return line.index("text: ") + len("text: ") + 1


def short(qid: str, prompt: str, answers: list[str], evidence: str, **extra: Any) -> dict[str, Any]:
    """A short-answer question."""
    return {
        "id": qid,
        "type": "short",
        "topic": "sovereignty",
        "difficulty": 2,
        "tags": ["planted"],
        "prompt": prompt,
        "answers": answers,
        "explanation": "Planted.",
        "evidence": evidence,
        **extra,
    }


def numeric(qid: str, prompt: str, answer: float, evidence: str, **extra: Any) -> dict[str, Any]:
    """A numeric question."""
    return {
        "id": qid,
        "type": "numeric",
        "topic": "sovereignty",
        "difficulty": 2,
        "tags": ["planted"],
        "prompt": prompt,
        "answer": answer,
        "explanation": "Planted.",
        "evidence": evidence,
        **extra,
    }


def test_answer_in_its_own_stem(make_bank: BankFactory) -> None:
    prompt = "What does the article call the 'CTSO' (the treaty organisation)?"
    data = base([short("csto-name", prompt, ["CSTO", "CTSO"], QUOTES[0])])
    path = make_bank(data)
    assert warnings_of(make_bank, data) == [
        f"bank.yaml:{line_of(path, 'prompt:')}:11: questions[0] (id: csto-name): its own answer "
        "'CTSO' appears in its prompt; rephrase it so it does not state 'CTSO'"
    ]


def test_cross_item_leak_names_both_questions(make_bank: BankFactory) -> None:
    questions = [
        numeric("un-members", "How many states make up the UN today?", 193, QUOTES[5]),
        short(
            "chaos",
            "Instead of 193 states, how many would there be, and what would it be?",
            ["chaos"],
            QUOTES[12],
        ),
        # 1930 and 19.3 are other numbers: no leak
        short("other", "What happened in 1930, or at 19.3 degrees?", ["nothing"], QUOTES[0]),
    ]
    data = base(questions)
    path = make_bank(data)
    assert warnings_of(make_bank, data) == [
        f"bank.yaml:{line_of(path, 'Instead of 193')}:11: questions[1] (id: chaos): shows the "
        "answer of questions[0] (id: un-members): '193'; rephrase its prompt so it does not "
        "state '193', or add `excludes: [un-members]`"
    ]
    # the teacher acknowledges the pair (either side may list the other): no warning
    for at in (0, 1):
        acknowledged = copy.deepcopy(questions)
        acknowledged[at]["excludes"] = ["chaos" if at == 0 else "un-members"]
        assert warnings_of(make_bank, base(acknowledged)) == []


def test_multiword_terms_match_on_word_boundaries_folded(make_bank: BankFactory) -> None:
    questions = [
        short("pop", "How many people live in Kazakhstan?", ["19 million"], QUOTES[0]),
        # case, a typographic apostrophe, a line of spaces and a hyphen are folded
        short(
            "shares",
            "Of the country\u2019s  19 MILLION people, what share is not Kazakh?",
            ["30 %"],
            QUOTES[1],
        ),
        short("not", "Is 119 millions the same as 19 millionaires?", ["no way"], QUOTES[2]),
    ]
    found = warnings_of(make_bank, base(questions))
    assert [unlocated(w) for w in found] == [
        "questions[1] (id: shares): shows the answer of questions[0] (id: pop): '19 million'; "
        "rephrase its prompt so it does not state '19 million', or add `excludes: [pop]`"
    ]


def test_an_answer_many_questions_show_is_reported_once_at_its_question(
    make_bank: BankFactory,
) -> None:
    questions = [short("capital", "Which city is the capital?", ["Astana"], QUOTES[0])]
    questions += [
        short(f"trip-{n}", f"Who flew to Astana on day {NAMES[n]}?", ["nobody"], QUOTES[n + 1])
        for n in range(4)
    ]
    data = base(questions)
    path = make_bank(data)
    shown = ", ".join(f"questions[{n}] (id: trip-{n - 1})" for n in range(1, 5))
    assert warnings_of(make_bank, data) == [
        f"bank.yaml:{line_of(path, '- Astana')}:5: questions[0] (id: capital): its answer "
        f"'Astana' is shown by 4 other questions: {shown}; ask for something they do not "
        "state, or rephrase them"
    ]
    # three showers are warned about one by one
    assert len(warnings_of(make_bank, base(questions[:4]))) == 3


def test_a_key_shown_as_another_questions_choice_leaks(make_bank: BankFactory) -> None:
    questions = fair_singles(2)
    questions[0]["choices"] = [{"text": "Astana", "correct": True}, {"text": "Almaty"}]
    questions[1]["choices"][2]["text"] = "Astana"  # s1's distractor is s0's answer
    found = warnings_of(make_bank, base(questions))
    assert [unlocated(w) for w in found] == [
        "questions[1] (id: s1): shows the answer of questions[0] (id: s0): 'Astana'; rephrase "
        "its choices[2].text so it does not state 'Astana', or add `excludes: [s0]`"
    ]


def test_near_duplicate(make_bank: BankFactory) -> None:
    questions = fair_singles(3)
    questions[2]["evidence"] = questions[0]["evidence"].upper()  # folded: the same quote
    questions[2]["choices"] = [{"text": "Key Alpha", "correct": True}, {"text": "another"}]
    data = base(questions)
    path = make_bank(data)
    text = path.read_text(encoding="utf-8").splitlines()
    line = [i for i, ln in enumerate(text, start=1) if "evidence:" in ln][2]
    found = warnings_of(make_bank, data)
    assert (
        f"bank.yaml:{line}:13: questions[2] (id: s2): near-duplicate of questions[0] (id: s0): the same evidence and the same answer 'Key Alpha'; remove one or merge them"
        in found
    )
    # a key that is the question's own choice is no leak, so this is the only warning
    assert len(found) == 1
    # same evidence, different answer: not a duplicate
    questions[2]["choices"][0]["text"] = "key other"
    assert not any("near-duplicate" in w for w in warnings_of(make_bank, base(questions)))


def test_excludes_must_name_another_existing_question(make_bank: BankFactory) -> None:
    questions = fair_singles(2)
    questions[0]["excludes"] = ["s1", "s-1"]
    questions[1]["excludes"] = ["s1"]
    path = make_bank(base(questions))
    with pytest.raises(BankError) as exc:
        load_bank(path)
    lines = [str(p).replace(str(path), "bank.yaml") for p in exc.value.problems]
    text = path.read_text(encoding="utf-8").splitlines()
    at = [i for i, ln in enumerate(text, start=1) if ln.strip().startswith("- s")]
    assert lines == [
        f"bank.yaml:{at[1]}:5: questions[0] (id: s0): excludes[1] 's-1' is not the id of any "
        "question (did you mean 's1'?); use an existing id or remove it",
        f"bank.yaml:{at[2]}:5: questions[1] (id: s1): excludes[0] is the question's own id "
        "'s1'; remove it",
    ]


def test_check_exit_codes_warn_and_strict(make_bank: BankFactory) -> None:
    path = make_bank(base([truefalse(n, True) for n in range(6)]))
    result = run("check", str(path))
    assert result.exit_code == 0, result.output
    assert result.stderr.count("warning: ") == 1
    assert "True is the answer of 6 of 6 true/false questions" in result.stderr
    strict = run("check", str(path), "--strict")
    assert strict.exit_code == 1
    assert "1 warning with --strict" in strict.stderr
    bad = copy.deepcopy(base([truefalse(0, True)]))
    bad["questions"][0]["excludes"] = ["nowhere"]
    assert run("check", str(make_bank(bad))).exit_code == 1


# --- the summary -------------------------------------------------------------------------------


def test_summary_shows_blueprint_figures_and_tags(make_bank: BankFactory) -> None:
    questions = fair_singles(3) + [truefalse(3, True, 2), truefalse(4, False, 1)]
    questions += [
        numeric("un-members", "How many states make up the UN today?", 193, QUOTES[5]),
        short("chaos", "Instead of 193 states, what would there be?", ["chaos"], QUOTES[12]),
    ]
    for q, level in zip(
        questions, ["remember"] * 3 + ["analyse"] * 2 + ["evaluate"] * 2, strict=True
    ):
        q["level"] = level
    questions[0]["tags"] = ["planted", "first"]
    summary = summary_table(load_bank(make_bank(base(questions))))
    tail = summary.split("Blueprint (topic x level):\n\n", 1)[1]
    assert tail == (
        "topic        remember  understand  apply  analyse  evaluate  unset  total\n"
        "-----------  --------  ----------  -----  -------  --------  -----  -----\n"
        "sovereignty         3           -      -        -         2      -      5\n"
        "economy             -           -      -        2         -      -      2\n"
        "-----------  --------  ----------  -----  -------  --------  -----  -----\n"
        "total               3           0      0        2         2      0      7\n"
        "share            43 %         0 %    0 %     29 %      29 %    0 %  100 %\n"
        "\n"
        "longest key: 0 of 3 choice questions (0 %; at most 35 %)\n"
        "key positions: A 1, B 1, C 1 (of 3 single-choice questions)\n"
        "true/false: True in 1 of 2 (50 %); at difficulty 2-3: 1 of 1 (100 %); aim for 40-60 %\n"
        "leaks: 1 (pairs kept apart by `excludes`: 0)\n"
        "near-duplicates: 0\n"
        "tags: first 1, planted 7\n"
    )


def test_summary_title_counts_one_question(make_bank: BankFactory) -> None:
    summary = summary_table(load_bank(make_bank(base(fair_singles(1)))))
    assert summary.startswith("Mini bank (mini): 1 question\n")
    summary = summary_table(load_bank(make_bank(base(fair_singles(2)))))
    assert summary.startswith("Mini bank (mini): 2 questions\n")


# --- leak-free selection -----------------------------------------------------------------------


def leaky_bank(make_bank: BankFactory) -> Path:
    """un-members answers 193, chaos shows 193; six fair questions besides."""
    questions = [
        numeric("un-members", "How many states make up the UN today?", 193, QUOTES[5]),
        short("chaos", "Instead of 193 states, what would there be?", ["chaos"], QUOTES[12]),
        *fair_singles(6),
    ]
    return make_bank(base(questions))


def test_a_sample_never_holds_a_leaking_pair(make_bank: BankFactory) -> None:
    loaded = load_bank(leaky_bank(make_bank))
    both = 0
    for count in (2, 7):
        for seed in range(50):
            ids = [q.id for q in select(loaded, Selection(count=count), random.Random(seed))]
            assert len(ids) == count
            assert not {"un-members", "chaos"} <= set(ids), (count, seed)
            again = [q.id for q in select(loaded, Selection(count=count), random.Random(seed))]
            assert again == ids
            both += "un-members" in ids or "chaos" in ids
    assert both > 50  # the pair is not simply left out: each is drawn, just never together


def test_worksheet_with_count_never_shows_both(make_bank: BankFactory, tmp_path: Path) -> None:
    bank = leaky_bank(make_bank)
    seen = set()
    for seed in range(50):
        out = tmp_path / f"out-{seed}"
        result = run("worksheet", str(bank), "-n", "2", "--seed", str(seed), "-o", str(out))
        assert result.exit_code == 0, result.output
        sheet = (out / "mini-worksheet-A.html").read_text(encoding="utf-8")
        has = (
            "How many states make up the UN today?" in sheet,
            "Instead of 193 states, what would there be?" in sheet,
        )
        assert has != (True, True), seed
        seen.add(has)
    assert {(True, False), (False, True)} <= seen


def test_a_sample_without_conflicts_is_the_plain_seeded_sample(make_bank: BankFactory) -> None:
    loaded = load_bank(make_bank(base(fair_singles(8))))
    for seed in range(20):
        rng = random.Random(seed)
        keep = set(rng.sample(range(8), 3))
        plain = [q.id for i, q in enumerate(loaded.bank.questions) if i in keep]
        assert [q.id for q in select(loaded, Selection(count=3), random.Random(seed))] == plain


def test_fewer_fit_than_asked_takes_what_fits_with_a_note(make_bank: BankFactory) -> None:
    questions = [
        numeric("un-members", "How many states make up the UN today?", 193, QUOTES[5]),
        short("chaos", "Instead of 193 states, what would there be?", ["chaos"], QUOTES[12]),
        {**fair_singles(1)[0], "excludes": ["un-members", "chaos"]},
    ]
    loaded = load_bank(make_bank(base(questions)))
    notes: list[str] = []
    chosen = select(loaded, Selection(count=2), random.Random(3), notes)
    assert len(chosen) == 1
    assert notes == [
        "only 1 of the 2 questions asked for fit on one sheet: every other one of the 3 that "
        "match shows the answer of a question already chosen, or is given away by one (a "
        "detected leak or `excludes`)"
    ]


def test_leak_notes_for_a_whole_bank_selection(make_bank: BankFactory) -> None:
    questions = [
        numeric("un-members", "How many states make up the UN today?", 193, QUOTES[5]),
        short("chaos", "Instead of 193 states, what would there be?", ["chaos"], QUOTES[12]),
        {**fair_singles(1)[0], "excludes": ["un-members"]},
    ]
    loaded = load_bank(make_bank(base(questions)))
    assert leak_notes(loaded, loaded.bank.questions) == [
        "questions[1] (id: chaos) shows the answer of questions[0] (id: un-members) on the "
        "same sheet: '193'",
        "questions[0] (id: un-members) and questions[2] (id: s0) are on the same sheet although "
        "`excludes` keeps them apart",
    ]
    # a selection without un-members has nothing to report
    assert leak_notes(loaded, loaded.bank.questions[1:]) == []


def test_many_excluded_pairs_on_one_sheet_are_one_note(make_bank: BankFactory) -> None:
    s0, s1, s2 = fair_singles(3)
    questions = [{**s0, "excludes": ["s1", "s2"]}, s1, s2]
    loaded = load_bank(make_bank(base(questions)))
    assert leak_notes(loaded, loaded.bank.questions) == [
        "2 pairs that `excludes` keeps apart are on the same sheet (a sample of fewer questions"
        " parts them): s0/s1, s0/s2"
    ]
