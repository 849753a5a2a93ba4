"""`kzquiz practice` with scripted input: exact scores, re-asking on nonsense, --missed."""

from __future__ import annotations

import io
import json
import os
import random
import re
import stat
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import BankFactory
from kzquiz.bank import LoadedBank
from kzquiz.cli import app
from kzquiz.loader import load_bank
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
from kzquiz.practice import (
    LETTERS,
    Asked,
    RecordError,
    _Invalid,
    choose,
    console_for,
    hint,
    missed_path,
    parse_answer,
    prepare,
    read_record,
    run,
)
from kzquiz.select import Selection

runner = CliRunner()


@pytest.fixture(autouse=True)
def data_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Keep the missed-questions record inside the test's folder (platformdirs reads XDG)."""
    home = tmp_path / "xdg-data"
    monkeypatch.setenv("XDG_DATA_HOME", str(home))
    return home


def _plan(loaded: LoadedBank, seed: int, *, missed: bool = False, **filters: Any) -> list[Asked]:
    """What `kzquiz practice --seed SEED` will ask, in order, with its options' order."""
    rng = random.Random(seed)
    return prepare(choose(loaded, Selection(**filters), rng, missed_only=missed), rng)


def _lines(item: Asked, right: bool) -> list[str]:
    """What a student types to answer this question right (or wrong)."""
    q = item.question
    if isinstance(q, Single):
        want = next(i for i, c in enumerate(q.choices) if c.correct is right)
        return [LETTERS[item.order.index(want)]]
    if isinstance(q, Multiple):
        wanted = [i for i, c in enumerate(q.choices) if c.correct is right]
        return [" ".join(LETTERS[item.order.index(i)].lower() for i in wanted)]
    if isinstance(q, TrueFalse):
        return ["t" if q.answer is right else "f"]
    if isinstance(q, Cloze):
        return [alts[0] if right else "nothing like it" for alts in q.blanks]
    if isinstance(q, Short):
        return [q.answers[0] if right else "Nobody at all"]
    if isinstance(q, Numeric):
        return [format_number(q.answer if right else q.answer + 1000)]
    if isinstance(q, Matching):
        n = len(q.pairs)
        rows = [(i if right else (i + 1) % n) for i in range(n)]
        return [
            " ".join(f"{r + 1}{LETTERS[item.order.index(i)].lower()}" for r, i in enumerate(rows))
        ]
    if isinstance(q, Ordering):
        if not right:  # the list as shown, which is never the right order
            return [" ".join(str(k) for k in range(1, len(q.items) + 1))]
        return [" ".join(str(item.order.index(k) + 1) for k in range(len(q.items)))]
    raise AssertionError(q)


def _script(plan: list[Asked], wrong: set[str]) -> str:
    return "".join(
        line + "\n" for item in plan for line in _lines(item, item.question.id not in wrong)
    )


def _practice(*args: str, input: str) -> Any:
    result = runner.invoke(app, ["practice", *args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def _row(output: str, name: str, right: int, asked: int, percent: int) -> bool:
    return (
        re.search(rf"{re.escape(name)}\s*│\s*{right}\s*│\s*{asked}\s*│\s*{percent}%", output)
        is not None
    )


WRONG = {"breakaway-regions", "keosayan", "who-is-who"}


def test_full_run_gives_the_exact_score(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 5)
    assert sorted(i.question.id for i in plan) == sorted(q.id for q in loaded.bank.questions)
    result = _practice(str(mini_bank), "--seed", "5", input=_script(plan, WRONG))
    out = result.output
    assert result.exit_code == 0, out
    assert "Score: 5 of 8 right (63%)" in out
    assert _row(out, "Sovereignty and international law", 3, 4, 75)
    assert _row(out, "Sanctions and trade", 2, 4, 50)
    assert _row(out, "total", 5, 8, 63)
    assert out.count("✓ Right!") == 5 and out.count("✗ Wrong.") == 3
    # Questions in the planned order, options in the planned order, each with its feedback.
    positions = [out.index(f"Question {n} of 8") for n in range(1, 9)]
    assert positions == sorted(positions)
    for n, item in enumerate(plan, start=1):
        q = item.question
        section = out[positions[n - 1] : positions[n] if n < 8 else len(out)]
        assert q.explanation in _unwrap(section)
        assert f"“{q.evidence}”" in _unwrap(section)
        assert f"paragraph {loaded.paragraph_of[q.id]}" in section
        if isinstance(q, (Single, Multiple)):
            for pos, idx in enumerate(item.order):
                assert f"\n  {LETTERS[pos]}. {q.choices[idx].text}\n" in section
        if q.id in WRONG:
            assert f"The answer: {q.answer_text()}" in _unwrap(section)
    assert "0 of 3 matches right" in out
    record = json.loads(missed_path("mini").read_text(encoding="utf-8"))
    assert record == {"bank": "mini", "missed": ["breakaway-regions", "keosayan", "who-is-who"]}
    assert f"3 missed; practise them again with: kzquiz practice --missed {mini_bank}" in _unwrap(
        out
    )


def _opening(q: Question) -> str:
    """The first words of a question as practice prints them."""
    first = q.segments[0] if isinstance(q, Cloze) else q.stem
    return str(first)[:20]


def _unwrap(text: str) -> str:
    # rich wraps long lines at the console width; join them back for substring checks.
    return re.sub(r"\s*\n\s*", " ", text)


def test_all_right_and_all_wrong(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 11)
    everything = {q.id for q in loaded.bank.questions}
    right = _practice(str(mini_bank), "--seed", "11", input=_script(plan, set()))
    assert "Score: 8 of 8 right (100%)" in right.output
    assert json.loads(missed_path("mini").read_text())["missed"] == []
    wrong = _practice(str(mini_bank), "--seed", "11", input=_script(plan, everything))
    assert "Score: 0 of 8 right (0%)" in wrong.output
    assert json.loads(missed_path("mini").read_text())["missed"] == [
        q.id for q in loaded.bank.questions
    ]


def test_invalid_input_is_asked_again_with_a_hint(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 3)
    nonsense = {
        "single": ["Z", "ab", ""],
        "multiple": ["", "a z"],
        "truefalse": ["maybe", "yes"],
        "cloze": [""],  # before the first blank
        "short": ["   "],
        "numeric": ["22,5,0", "twenty-two"],
        "matching": ["ab", "1a 1b 2c", "aab", "1a 2b"],
        "ordering": ["1 2", "1 1 2 3", "a b c d", "5 1 2 3"],
    }
    script = ""
    for item in plan:
        script += "".join(f"{bad}\n" for bad in nonsense[item.question.type])
        script += "".join(f"{line}\n" for line in _lines(item, True))
    result = _practice(str(mini_bank), "--seed", "3", input=script)
    out = _unwrap(result.output)
    assert result.exit_code == 0
    assert "Score: 8 of 8 right (100%)" in out  # nonsense never counted as a wrong answer
    assert "'Z' is not one of the letters. Type one letter, A to C." in out
    assert "Only one answer is right here." in out
    assert "Type T (true) or F (false)." in out
    assert "Type the blank, or ? if you don't know." in out
    assert "Type the answer, or ? if you don't know." in out
    assert (
        "That is not a number. Type a number (unit: billion USD) in digits, with a point or a comma for decimals."
        in out
    )
    assert "Row 1 is matched twice." in out
    assert "Use each letter once." in out
    assert "Match every row; missing: 3." in out
    assert "Use each number from 1 to 4 once. Type the item numbers in the right order" in out
    assert "Give each number its letter, like 1_ 2_ 3_ with a letter from a to c in each" in out
    assert "✗ Wrong" not in out


def test_question_mark_gives_up_and_shows_the_answer(mini_bank: Path) -> None:
    result = _practice(str(mini_bank), "--type", "numeric", input="?\n")
    assert "Skipped — the answer is 22 (± 0.5) billion USD" in result.output
    assert "Wrong" not in result.output
    assert "Score: 0 of 1 right (0%); 1 skipped" in result.output
    # Given up is not right: it is practised again with --missed.
    assert json.loads(missed_path("mini").read_text())["missed"] == ["china-investment"]


def test_skipped_are_counted_apart_from_wrong(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 5)
    script = ""
    for n, item in enumerate(plan):
        if n < 2:  # give up on the first two, whatever their type
            script += "?\n" * (len(item.question.blanks) if isinstance(item.question, Cloze) else 1)
        else:
            script += "".join(f"{line}\n" for line in _lines(item, n != 2))
    out = _practice(str(mini_bank), "--seed", "5", input=script).output
    assert out.count("Skipped — the answer is") == 2
    assert out.count("✗ Wrong.") == 1 and out.count("✓ Right!") == 5
    assert "Score: 5 of 8 right (63%); 2 skipped" in out


def test_missed_reasks_exactly_the_missed_ones(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    none_yet = _practice(str(mini_bank), "--missed", input="")
    assert none_yet.exit_code == 1
    assert "no record of missed questions for bank 'mini' yet" in none_yet.output

    _practice(str(mini_bank), "--seed", "5", input=_script(_plan(loaded, 5), WRONG))
    plan = _plan(loaded, 8, missed=True)
    assert sorted(i.question.id for i in plan) == sorted(WRONG)
    # This time only the matching question is missed again.
    result = _practice(
        str(mini_bank), "--missed", "--seed", "8", input=_script(plan, {"who-is-who"})
    )
    out = result.output
    assert result.exit_code == 0, out
    assert "Question 3 of 3" in out and "Question 4 of" not in out
    shown = {q.id for q in loaded.bank.questions if _opening(q) in _unwrap(out)}
    assert shown == WRONG
    assert "Score: 2 of 3 right (67%)" in out
    assert json.loads(missed_path("mini").read_text())["missed"] == ["who-is-who"]

    again = _plan(loaded, 1, missed=True)
    assert [i.question.id for i in again] == ["who-is-who"]
    result = _practice(str(mini_bank), "--missed", "--seed", "1", input=_script(again, set()))
    assert "Question 1 of 1" in result.output and "Score: 1 of 1 right (100%)" in result.output
    assert json.loads(missed_path("mini").read_text())["missed"] == []

    done = _practice(str(mini_bank), "--missed", input="")
    assert done.exit_code == 0
    assert "You got every question right last time: nothing to re-practise." in done.output


def test_missed_keeps_questions_not_asked_this_time(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    everything = {q.id for q in loaded.bank.questions}
    _practice(str(mini_bank), "--seed", "2", input=_script(_plan(loaded, 2), everything))
    # Practise one topic only, all right: the other topic's misses are still remembered.
    plan = _plan(loaded, 2, topics=("economy",))
    _practice(str(mini_bank), "--seed", "2", "--topic", "economy", input=_script(plan, set()))
    assert json.loads(missed_path("mini").read_text())["missed"] == [
        "un-two-principles",
        "breakaway-regions",
        "forum-number",
        "timeline",
    ]
    # --missed combines with the selection options.
    plan = _plan(loaded, 4, missed=True, types=("cloze", "ordering"))
    assert sorted(i.question.id for i in plan) == ["forum-number", "timeline"]


def test_end_of_input_stops_with_the_score_so_far(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 5)
    first_two = "".join(f"{line}\n" for item in plan[:2] for line in _lines(item, True))
    result = _practice(str(mini_bank), "--seed", "5", input=first_two)
    out = result.output
    assert result.exit_code == 0
    assert "Stopped." in out
    assert "Score so far: 2 of 2 right (100%); 6 question(s) not reached" in out
    assert "Question 3 of 8" in out and "Question 4 of 8" not in out
    assert "Traceback" not in out and "Aborted" not in out
    assert json.loads(missed_path("mini").read_text())["missed"] == []


def test_ctrl_c_stops_with_the_score_so_far(
    mini_bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 5)
    lines = iter([*_lines(plan[0], False), *_lines(plan[1], True)])

    def read() -> str:
        try:
            return next(lines)
        except StopIteration:
            raise KeyboardInterrupt from None

    import kzquiz.practice

    monkeypatch.setattr(kzquiz.practice, "stdin_reader", lambda: read)
    result = _practice(str(mini_bank), "--seed", "5", input="")
    out = result.output
    assert result.exit_code == 0, out
    assert "Stopped." in out
    assert "Score so far: 1 of 2 right (50%); 6 question(s) not reached" in out
    assert json.loads(missed_path("mini").read_text())["missed"] == [plan[0].question.id]


def test_a_real_terminal_and_a_real_ctrl_c(mini_bank: Path, data_home: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 4, types=("single", "truefalse"))
    child = pexpect.spawn(
        sys.executable,
        [
            "-m",
            "kzquiz",
            "practice",
            str(mini_bank),
            "--seed",
            "4",
            "--type",
            "single",
            "--type",
            "truefalse",
        ],
        env={**os.environ, "XDG_DATA_HOME": str(data_home), "TERM": "xterm", "COLUMNS": "100"},
        encoding="utf-8",
        timeout=30,
    )
    try:
        child.expect("Question 1 of 2")
        child.expect("> ")
        child.sendline(_lines(plan[0], True)[0])
        child.expect("Right!")
        child.expect("Question 2 of 2")
        child.expect("> ")
        child.sendintr()  # Ctrl-C at the prompt
        child.expect("Stopped.")
        child.expect(r"Score so far: 1 of 1 right \(100%\); 1 question\(s\) not reached")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 0


def test_bank_text_is_never_read_as_markup(
    mini_bank_data: dict[str, Any], make_bank: BankFactory
) -> None:
    q = mini_bank_data["questions"][4]  # the short answer
    q["prompt"] = "Who [bold red]wrote[/] this :smile: [link=http://x]?"
    q["explanation"] = "[/]Closing tags [b] must not break anything."
    bank = make_bank(mini_bank_data)
    result = _practice(str(bank), "--type", "short", input="?\n")
    assert result.exit_code == 0, result.output
    assert "Who [bold red]wrote[/] this :smile: [link=http://x]?" in result.output
    assert "[/]Closing tags [b] must not break anything." in result.output


def test_same_seed_same_questions_and_count(mini_bank: Path) -> None:
    runs = [_practice(str(mini_bank), "-n", "3", "--seed", "9", input="").output for _ in range(2)]
    assert runs[0] == runs[1]
    assert "Question 1 of 3" in runs[0]
    assert "No question answered, so no score yet." in runs[0]


def test_record_lives_in_the_user_data_folder(data_home: Path) -> None:
    assert missed_path("kz-spief-2022") == data_home / "kzquiz" / "missed" / "kz-spief-2022.json"


def test_unwritable_data_folder_warns_but_keeps_the_score(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker))
    result = _practice(str(mini_bank), "--type", "truefalse", input="f\n")
    assert result.exit_code == 0
    assert "Score: 1 of 1 right (100%)" in result.output
    assert "warning: could not save the missed questions" in result.output


def test_help_shows_examples() -> None:
    result = runner.invoke(app, ["practice", "--help"])
    assert result.exit_code == 0
    assert "kzquiz practice --missed" in result.output


# ---- the answer formats ---------------------------------------------------------------------


def _asked(loaded: LoadedBank, qid: str, order: list[int]) -> Asked:
    q: Question = next(q for q in loaded.bank.questions if q.id == qid)
    return Asked(q, order)


@pytest.mark.parametrize(
    ("qid", "order", "typed", "response"),
    [
        ("un-two-principles", [2, 0, 1], "b", 0),
        ("un-two-principles", [2, 0, 1], " B) ", 0),
        ("breakaway-regions", [3, 2, 1, 0], "a c d", [0, 1, 3]),
        ("breakaway-regions", [3, 2, 1, 0], "D,C,A", [0, 1, 3]),
        ("breakaway-regions", [3, 2, 1, 0], "dca", [0, 1, 3]),
        ("sanctions-break", [], "False", False),
        ("sanctions-break", [], "T", True),
        ("keosayan", [], "  Tigran  ", "Tigran"),
        ("china-investment", [], "1,000", "1,000"),
        ("who-is-who", [2, 0, 1], "1b 2c 3a", [0, 1, 2]),
        ("who-is-who", [2, 0, 1], "3a, 1-b, 2:c", [0, 1, 2]),
        ("who-is-who", [2, 0, 1], "BCA", [0, 1, 2]),
        ("who-is-who", [2, 0, 1], "a b c", [2, 0, 1]),
        ("timeline", [3, 1, 0, 2], "3 2 4 1", [0, 1, 2, 3]),
        ("timeline", [3, 1, 0, 2], "3241", [0, 1, 2, 3]),
        ("timeline", [3, 1, 0, 2], "3, 2, 4, 1", [0, 1, 2, 3]),
        ("timeline", [3, 1, 0, 2], "?", None),
    ],
)
def test_answer_formats(
    mini_bank: Path, qid: str, order: list[int], typed: str, response: Any
) -> None:
    assert parse_answer(_asked(load_bank(mini_bank), qid, order), typed) == response


def test_library_run_with_a_console_and_a_reader(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 7)
    lines = iter(line for item in plan for line in _lines(item, item.question.type != "cloze"))
    buffer = io.StringIO()
    session = run(loaded, plan, console=console_for(buffer), read_line=lambda: next(lines))
    assert (session.right, len(session.results), session.stopped) == (7, 8, False)
    assert session.missed == ["forum-number"]
    assert "1 of 3 blanks right" not in buffer.getvalue()
    assert "0 of 3 blanks right" in buffer.getvalue()
    assert "Score: 7 of 8 right (88%)" in buffer.getvalue()


# ---- hints, feedback and the missed line ------------------------------------------------


def test_hints_never_show_a_possible_answer(mini_bank_data: dict[str, Any]) -> None:
    from itertools import permutations

    for n in range(2, 7):
        matching = Matching.model_validate(
            {
                **mini_bank_data["questions"][6],
                "pairs": [{"left": f"L{i}", "right": f"R{i}"} for i in range(n)],
            }
        )
        ordering = Ordering.model_validate(
            {**mini_bank_data["questions"][7], "items": [f"item {i}" for i in range(max(n, 3))]}
        )
        for q in (matching, ordering):
            size = len(q.pairs) if isinstance(q, Matching) else len(q.items)
            hints = set()
            for order in permutations(range(size)):
                item = Asked(q, list(order))
                text = hint(item)
                hints.add(text)
                # Every way of typing this shuffle's right answer is absent from the hint.
                if isinstance(q, Matching):
                    letters = [LETTERS[order.index(i)].lower() for i in range(size)]
                    forms = [" ".join(f"{i + 1}{c}" for i, c in enumerate(letters))]
                    forms.append("".join(letters))
                else:
                    numbers = [str(order.index(k) + 1) for k in range(size)]
                    forms = [" ".join(numbers), "".join(numbers)]
                for form in forms:
                    assert form not in text, (n, order, text)
                # Whatever the hint shows as an example is not an answer practice accepts.
                example = re.search(r"like ([^a-z(]*?)(?: with|$)", text)
                assert example is not None, text
                with pytest.raises(_Invalid):
                    parse_answer(item, example.group(1))
            # and the hint says the same whatever the shuffle: it gives nothing away
            assert len(hints) == 1


def test_a_numeric_hint_shows_no_number(mini_bank_data: dict[str, Any]) -> None:
    # Any example number could be the answer (the mini bank's is 22, the old example).
    q = Numeric.model_validate(mini_bank_data["questions"][5])
    text = hint(Asked(q, []))
    assert not re.search(r"[0-9]", text.replace(q.unit or "", "")), text
    assert "(unit: billion USD)" in text


def _wrong_section(out: str, qid_text: str) -> str:
    start = out.index(qid_text)
    end = out.find("Question ", start)
    return out[start : end if end > 0 else len(out)]


def test_cloze_says_which_blank_is_wrong(mini_bank: Path) -> None:
    result = _practice(str(mini_bank), "--type", "cloze", input="twenty-fifth\nEconomy\nJun.\n")
    out = result.output
    assert "✗ Wrong. 2 of 3 blanks right." in out
    assert "Blank 2: you typed “Economy”; the answer is Economic" in out
    assert "Blank 1:" not in out and "Blank 3:" not in out
    # A ? for one blank is that blank unknown, not a skip.
    out = _practice(str(mini_bank), "--type", "cloze", input="25th\n?\n?\n").output
    assert "Blank 2: you typed “?”; the answer is Economic" in out
    assert "Blank 3: you typed “?”; the answer is June" in out
    assert "Score: 0 of 1 right (0%)\n" in out


def test_matching_and_ordering_answers_are_shown_as_typed(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 5, types=("matching", "ordering"))
    result = _practice(
        str(mini_bank),
        "--seed",
        "5",
        "--type",
        "matching",
        "--type",
        "ordering",
        input=_script(plan, {"who-is-who", "timeline"}),
    )
    out = _unwrap(result.output)
    for item in plan:
        typed = _lines(item, True)[0]
        label = "In letters" if isinstance(item.question, Matching) else "In numbers"
        assert f"{label}: {typed}" in out, typed
    matching = next(i for i in plan if isinstance(i.question, Matching))
    assert re.fullmatch(r"1[a-c] 2[a-c] 3[a-c]", _lines(matching, True)[0])


def test_missed_line_after_every_stop_that_saved_misses(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    plan = _plan(loaded, 5)
    _practice(str(mini_bank), "--seed", "5", input=_script(plan, WRONG))
    # Next run: one right answer, then Ctrl-D. This run missed nothing, but the record
    # still holds three misses, and says so.
    seed = next(n for n in range(100) if _plan(loaded, n)[0].question.id not in WRONG)
    lines = _lines(_plan(loaded, seed)[0], True)
    result = _practice(str(mini_bank), "--seed", str(seed), input="".join(f"{x}\n" for x in lines))
    out = _unwrap(result.output)
    assert "Stopped." in out and "Score so far: 1 of 1 right (100%)" in out
    assert "3 missed; practise them again with: kzquiz practice --missed" in out
    # With --missed: one of the three answered right, then Ctrl-D: two are left.
    plan = _plan(loaded, 8, missed=True)
    one = "".join(f"{x}\n" for x in _lines(plan[0], True))
    result = _practice(str(mini_bank), "--missed", "--seed", "8", input=one)
    out = _unwrap(result.output)
    assert "Stopped." in out and "Score so far: 1 of 1 right (100%)" in out
    assert f"2 missed; practise them again with: kzquiz practice --missed {mini_bank}" in out


def test_practice_grades_in_the_bank_language(
    mini_bank_data: dict[str, Any], make_bank: BankFactory
) -> None:
    english = _practice(str(make_bank(mini_bank_data)), "--type", "short", input="the Keosayan\n")
    assert "✓ Right!" in english.output
    mini_bank_data["bank"]["language"] = "de"
    german = _practice(str(make_bank(mini_bank_data)), "--type", "short", input="the Keosayan\n")
    assert "✗ Wrong." in german.output


# ---- the record of missed questions ---------------------------------------------------------


def _run_with_timeout(bank: Path, data_home: Path, *args: str, input: str) -> Any:
    """practice in a child process, so a read that blocks fails the test instead of hanging it."""
    import subprocess

    import kzquiz

    src = str(Path(kzquiz.__file__).resolve().parents[1])
    return subprocess.run(
        [sys.executable, "-m", "kzquiz", "practice", str(bank), *args],
        input=input,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "XDG_DATA_HOME": str(data_home), "PYTHONPATH": src},
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_a_fifo_or_device_as_the_record_does_not_hang(mini_bank: Path, data_home: Path) -> None:
    record = missed_path("mini")
    record.parent.mkdir(parents=True)
    for make in (lambda: os.mkfifo(record), lambda: record.symlink_to("/dev/zero")):
        make()
        plain = _run_with_timeout(mini_bank, data_home, "--type", "truefalse", input="t\n")
        assert plain.returncode == 0, plain.stderr
        assert "Score: 0 of 1 right (0%)" in plain.stdout
        assert "not a regular file" in plain.stderr and "Traceback" not in plain.stderr
        missed = _run_with_timeout(mini_bank, data_home, "--missed", input="")
        assert missed.returncode == 1
        assert "cannot read the record of missed questions: it is a" in missed.stderr
        assert "Traceback" not in missed.stderr
        # Left as it was: not replaced by a regular file.
        assert record.is_symlink() or stat.S_ISFIFO(record.lstat().st_mode)
        record.unlink()


@pytest.mark.parametrize(
    "content",
    [b"[" * 200_000, b'{"missed": ' + b"[" * 200_000, b"\xff\xfe", b'{"missed": [1]}'],
    ids=["nested-list", "nested-in-record", "not-utf8", "not-ids"],
)
def test_a_broken_record_warns_and_practice_goes_on(
    mini_bank: Path, data_home: Path, content: bytes
) -> None:
    record = missed_path("mini")
    record.parent.mkdir(parents=True)
    record.write_bytes(content)
    missed = _practice(str(mini_bank), "--missed", input="")
    assert missed.exit_code == 1
    assert "record of missed questions" in missed.output
    assert "practise without --missed to start a new record" in missed.output
    result = _practice(str(mini_bank), "--type", "truefalse", input="t\n")
    assert result.exit_code == 0, result.output
    assert "Score: 0 of 1 right (0%)" in result.output
    assert "warning:" in result.output and "started a new one" in result.output
    assert json.loads(record.read_text())["missed"] == ["sanctions-break"]
    assert "1 missed; practise them again with" in result.output


def test_record_reads_are_capped(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(b" " * 101)
    with pytest.raises(RecordError, match="larger than"):
        read_record(big, limit=100)
    assert read_record(tmp_path / "absent.json") is None
    assert read_record(big, limit=101) == b" " * 101
