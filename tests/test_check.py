"""kzquiz check: every malformed bank gets its exact message, location and exit code 1."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kzquiz.cli import app
from kzquiz.model import QUESTION_TYPES

ROOT = Path(__file__).resolve().parent.parent
VALID = (ROOT / "tests" / "banks" / "valid.yaml").read_text(encoding="utf-8")

# (case, text to replace in the valid bank, replacement, every expected stderr line)
MALFORMED = [
    pytest.param(
        "    type: truefalse\n",
        "    type: truefalsy\n",
        [
            "bank.yaml:37:5: questions[2] (id: sanctions-break): unknown question type 'truefalsy' (did you mean 'truefalse'?); use one of: single, multiple, truefalse, cloze, short, numeric, matching, ordering"
        ],
        id="unknown-type",
    ),
    pytest.param(
        "    type: short\n",
        "",
        [
            "bank.yaml:54:5: questions[4] (id: keosayan): missing `type:`; use one of: single, multiple, truefalse, cloze, short, numeric, matching, ordering"
        ],
        id="missing-type",
    ),
    pytest.param(
        '    prompt: "Match each person to their role."\n',
        "",
        ["bank.yaml:74:5: questions[6] (id: who-is-who): missing required field 'prompt'"],
        id="missing-prompt",
    ),
    pytest.param(
        '    explanation: "Over $22 billion."\n',
        '    explaination: "Over $22 billion."\n',
        [
            "bank.yaml:63:5: questions[5] (id: china-investment): missing required field 'explanation'",
            "bank.yaml:72:5: questions[5] (id: china-investment): unknown field 'explaination' (did you mean 'explanation'?); remove it or fix its name",
        ],
        id="unknown-field",
    ),
    pytest.param(
        "  - id: keosayan\n",
        "  - id: sanctions-break\n",
        [
            "bank.yaml:54:9: questions[4] (id: sanctions-break): duplicate id 'sanctions-break' (first used by questions[2]); ids must be unique"
        ],
        id="duplicate-id",
    ),
    pytest.param(
        "    topic: economy\n    difficulty: 3\n",
        "    topic: econmy\n    difficulty: 3\n",
        [
            "bank.yaml:76:12: questions[6] (id: who-is-who): unknown topic 'econmy' (did you mean 'economy'?); add it under `topics:` or use one of: sovereignty, economy"
        ],
        id="unknown-topic",
    ),
    pytest.param(
        "    difficulty: 3\n    tags: [dates]\n",
        "    difficulty: 4\n    tags: [dates]\n",
        [
            "bank.yaml:88:17: questions[7] (id: timeline): difficulty must be 1 (easy), 2 (medium) or 3 (hard), not 4"
        ],
        id="difficulty-range",
    ),
    pytest.param(
        "    difficulty: 1\n    tags: [forum]\n",
        "    difficulty: easy\n    tags: [forum]\n",
        [
            "bank.yaml:49:17: questions[3] (id: forum-number): difficulty must be a whole number, not text"
        ],
        id="difficulty-type",
    ),
    pytest.param(
        '      - {text: "Non-interference and collective security"}\n',
        '      - {text: "Non-interference and collective security", correct: true}\n',
        [
            "bank.yaml:20:7: questions[0] (id: un-two-principles): a single-choice question needs exactly one choice with `correct: true`, found 2; use type: multiple for several"
        ],
        id="single-two-correct",
    ),
    pytest.param(
        '      - {text: "Territorial integrity and self-determination", correct: true}\n',
        '      - {text: "Territorial integrity and self-determination"}\n',
        [
            "bank.yaml:20:7: questions[0] (id: un-two-principles): a single-choice question needs exactly one choice with `correct: true`, found 0; use type: multiple for several"
        ],
        id="single-none-correct",
    ),
    pytest.param(
        '      - {text: "Taiwan", correct: true}\n      - {text: "Kosovo", correct: true}\n',
        '      - {text: "Taiwan"}\n      - {text: "Kosovo"}\n',
        [
            "bank.yaml:32:7: questions[1] (id: breakaway-regions): a multiple-choice question needs at least one choice with `correct: true`"
        ],
        id="multiple-none-correct",
    ),
    pytest.param(
        '      - {text: "Crimea"}\n',
        '      - {text: "taiwan"}\n',
        [
            "bank.yaml:34:16: questions[1] (id: breakaway-regions): choices[2] repeats an earlier choice; every choice must be different"
        ],
        id="duplicate-choice",
    ),
    pytest.param(
        '      - {text: "Non-interference and collective security"}\n      - {text: "Sovereign equality and peaceful settlement"}\n',
        "",
        [
            "bank.yaml:20:7: questions[0] (id: un-two-principles): choices needs at least 2 items, found 1"
        ],
        id="one-choice",
    ),
    pytest.param(
        '    text: "Tokayev spoke at the {{25th|twenty-fifth}} St. Petersburg forum."\n',
        '    text: "Tokayev spoke at the St. Petersburg forum."\n',
        [
            "bank.yaml:51:11: questions[3] (id: forum-number): a cloze needs at least one blank written as {{answer}}"
        ],
        id="empty-cloze",
    ),
    pytest.param(
        '    text: "Tokayev spoke at the {{25th|twenty-fifth}} St. Petersburg forum."\n',
        '    text: "Tokayev spoke at the {{25th|twenty-fifth}} St. {{Petersburg forum."\n',
        [
            "bank.yaml:51:11: questions[3] (id: forum-number): unbalanced blank markers: every '{{' needs its '}}'"
        ],
        id="unbalanced-cloze",
    ),
    pytest.param(
        '      - {left: "Vladimir Putin", right: "President of Russia"}\n',
        "",
        ["bank.yaml:81:7: questions[6] (id: who-is-who): pairs needs at least 2 items, found 1"],
        id="matching-one-pair",
    ),
    pytest.param(
        '    items: ["Paris Agreement joined", "Tokayev becomes president", "The June 17 plenary session"]\n',
        '    items: ["Paris Agreement joined", "Tokayev becomes president"]\n',
        ["bank.yaml:91:12: questions[7] (id: timeline): items needs at least 3 items, found 2"],
        id="ordering-two-items",
    ),
    pytest.param(
        '    evidence: "Kremlin-backed journalist Tigran Keosayan"\n',
        '    evidence: "Keosayan is a famous novelist"\n',
        [
            "bank.yaml:62:15: questions[4] (id: keosayan): evidence quote not found in the source text; copy it verbatim from one paragraph"
        ],
        id="evidence-missing",
    ),
    pytest.param(
        '    prompt: "Kazakhstan intends to break the Western sanctions on Russia."\n',
        '    prompt: !!python/object/apply:os.system ["echo pwned"]\n',
        [
            "bank.yaml:42:13: YAML tag !!python/object/apply:os.system is refused: a bank is plain data (no !!python or other object tags)"
        ],
        id="python-tag",
    ),
    pytest.param(
        "    answer: 22\n",
        "    answer: 22\n    answer: 23\n",
        [
            "bank.yaml:70:5: duplicate key 'answer' in the same mapping; the second would silently replace the first"
        ],
        id="duplicate-key",
    ),
    pytest.param(
        "  - id: timeline\n",
        "  - id: Time_Line\n",
        [
            "bank.yaml:85:9: questions[7] (id: Time_Line): id 'Time_Line' is not a valid id: use lowercase letters, digits and single '-' (like 'un-charter')"
        ],
        id="bad-id",
    ),
    pytest.param(
        '    answers: ["Tigran Keosayan", "Keosayan"]\n',
        "    answers: []\n",
        ["bank.yaml:60:14: questions[4] (id: keosayan): answers needs at least 1 item, found 0"],
        id="empty-answers",
    ),
    pytest.param(
        "    tolerance: 0.5\n",
        "    tolerance: 0.5\n    range: [20, 25]\n",
        [
            "bank.yaml:71:12: questions[5] (id: china-investment): give either `tolerance` or `range`, not both"
        ],
        id="range-and-tolerance",
    ),
    pytest.param(
        "    tolerance: 0.5\n",
        "    range: [10, 20]\n",
        [
            "bank.yaml:69:13: questions[5] (id: china-investment): answer 22 lies outside its range [10, 20]"
        ],
        id="answer-outside-range",
    ),
    pytest.param(
        "    difficulty: 2\n    tags: [people]\n",
        "    difficulty: 2\n\ttags: [people]\n",
        [
            "bank.yaml:58:1: YAML syntax error: while scanning a plain scalar, found a tab (indent with spaces, not tabs)"
        ],
        id="tab-indent",
    ),
    pytest.param(
        '    prompt: "Put these events in order, earliest first."\n',
        '    prompt: ""\n',
        ["bank.yaml:90:13: questions[7] (id: timeline): prompt must not be empty"],
        id="empty-prompt",
    ),
    pytest.param(
        '    explanation: "As the article describes them."\n',
        '    explanation: "As the article\\x07 describes them."\n',
        [
            "bank.yaml:83:18: questions[6] (id: who-is-who): explanation contains the control character U+0007; remove it"
        ],
        id="control-char",
    ),
    pytest.param(
        "    text: article.txt\n",
        "    text: ../../etc/passwd\n",
        [
            "bank.yaml:8:11: bank.source.text: source text path '../../etc/passwd' leads outside the bank's folder; keep the article beside the bank"
        ],
        id="source-escape",
    ),
    pytest.param(
        "    text: article.txt\n",
        "    text: missing.txt\n",
        [
            "bank.yaml:8:11: bank.source.text: cannot read the source text: no such file (missing.txt)"
        ],
        id="source-missing",
    ),
    pytest.param(
        '    choices:\n      - {text: "Taiwan", correct: true}\n      - {text: "Kosovo", correct: true}\n      - {text: "Crimea"}\n',
        '    choices: "Taiwan, Kosovo"\n',
        ["bank.yaml:31:14: questions[1] (id: breakaway-regions): choices must be a list, not text"],
        id="choices-not-list",
    ),
    pytest.param(
        "    answer: false\n",
        "    answer: maybe\n",
        [
            "bank.yaml:43:13: questions[2] (id: sanctions-break): answer must be true or false, not text"
        ],
        id="truefalse-answer-text",
    ),
]


@pytest.fixture
def in_bank_dir(make_bank, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """tmp_path as the working folder, with the article beside where the bank goes."""
    make_bank(VALID)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args: str):  # type: ignore[no-untyped-def]
    """Invoke the CLI like a user would, with separate stderr."""
    return CliRunner().invoke(app, list(args))


def test_valid_bank_passes_with_summary(in_bank_dir: Path) -> None:
    result = run("check", "bank.yaml")
    assert result.exit_code == 0, result.output
    assert "Mini bank (mini): 8 questions" in result.stdout
    lines = result.stdout.splitlines()
    header = next(line for line in lines if line.startswith("topic "))
    assert header.split() == ["topic", *QUESTION_TYPES, "d1", "d2", "d3", "total"]
    total = next(line for line in lines if line.startswith("total "))
    # one question of each of the eight types; difficulties 2, 4 and 2 times
    assert total.split()[1:] == ["1"] * 8 + ["2", "4", "2", "8"]
    # every row lines up with the header: the counts end where their column names end
    start = lines.index(header)
    rows = lines[start : lines.index("", start)]  # the blueprint and the figures follow
    ends = [m.end() for m in re.finditer(r"\S+", header)]
    for row in rows:
        if not row.startswith("-"):
            assert [m.end() for m in re.finditer(r"\S+", row)][1:] == ends[1:], row
    assert result.stderr == ""


@pytest.mark.parametrize(("old", "new", "expected"), MALFORMED)
def test_malformed_bank(in_bank_dir: Path, old: str, new: str, expected: list[str]) -> None:
    assert VALID.count(old) == 1, "the case must change exactly one place"
    (in_bank_dir / "bank.yaml").write_text(VALID.replace(old, new), encoding="utf-8")
    result = run("check", "bank.yaml")
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == expected
    for line in expected:
        assert line.startswith("bank.yaml:"), "every message names the file and line"


def test_malformed_cases_are_many() -> None:
    assert len(MALFORMED) >= 20


def test_every_problem_is_reported_at_once(in_bank_dir: Path) -> None:
    text = VALID.replace("    type: truefalse\n", "    type: truefalsy\n")
    text = text.replace("  - id: keosayan\n", "  - id: timeline\n")
    text = text.replace(
        '    evidence: "Iranian President Ebrahim Raisi"\n',
        '    evidence: "Raisi visited Moscow"\n',
    )
    (in_bank_dir / "bank.yaml").write_text(text, encoding="utf-8")
    result = run("check", "bank.yaml")
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    # sorted by line: the bad type, the evidence, then the second use of the id "timeline"
    assert lines == [
        "bank.yaml:37:5: questions[2] (id: sanctions-break): unknown question type 'truefalsy' (did you mean 'truefalse'?); "
        "use one of: single, multiple, truefalse, cloze, short, numeric, matching, ordering",
        "bank.yaml:84:15: questions[6] (id: who-is-who): evidence quote not found in the source text; copy it verbatim from one paragraph",
        "bank.yaml:85:9: questions[7] (id: timeline): duplicate id 'timeline' (first used by questions[4]); ids must be unique",
    ]


def test_python_object_tag_is_refused_and_never_run(in_bank_dir: Path) -> None:
    marker = in_bank_dir / "pwned"
    text = VALID.replace(
        '    prompt: "Kazakhstan intends to break the Western sanctions on Russia."\n',
        f'    prompt: !!python/object/apply:os.system ["touch {marker}"]\n',
    )
    (in_bank_dir / "bank.yaml").write_text(text, encoding="utf-8")
    result = run("check", "bank.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "bank.yaml:42:13: YAML tag !!python/object/apply:os.system is refused"
    )
    assert not marker.exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "bank.yaml:1:1: the bank is empty; it needs `bank:`, `topics:` and `questions:`"),
        (
            b"- just\n- a list\n",
            "bank.yaml:1:1: the bank must be a mapping with `bank:`, `topics:` and `questions:`, not a list",
        ),
        (b"bank: [\n", "bank.yaml:1:7: YAML syntax error: unclosed bracket '['"),
        (
            b"bank:\n  title: caf\xe9\n",
            "bank.yaml:2:13: the bank is not UTF-8 text (byte 0xe9); save it as UTF-8",
        ),
    ],
    ids=["empty", "list", "syntax", "not-utf8"],
)
def test_unusable_files(in_bank_dir: Path, content: bytes, expected: str) -> None:
    (in_bank_dir / "bank.yaml").write_bytes(content)
    result = run("check", "bank.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith(expected), result.stderr


def test_bom_is_accepted(in_bank_dir: Path) -> None:
    (in_bank_dir / "bank.yaml").write_bytes(b"\xef\xbb\xbf" + VALID.encode())
    assert run("check", "bank.yaml").exit_code == 0


def test_folder_and_missing_file(in_bank_dir: Path) -> None:
    (in_bank_dir / "folder.yaml").mkdir()
    result = run("check", "folder.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "folder.yaml: cannot read the bank: it is a folder, not a file",
    )
    result = run("check", "nope.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "nope.yaml: cannot read the bank: no such file",
    )


def test_warnings_and_strict(in_bank_dir: Path) -> None:
    text = VALID.replace(
        '    tags: [people]\n    prompt: "Which Kremlin', '    prompt: "Which Kremlin'
    )
    text = text.replace('      - {text: "Crimea"}\n', '      - {text: "Crimea"}\n')
    text = text.replace(
        '      - {text: "Territorial integrity and self-determination", correct: true}\n',
        '      - {text: "Territorial integrity of the state and the right of a nation to self-determination", correct: true}\n',
    )
    text = text.replace(
        '  economy: "Sanctions and trade"\n',
        '  economy: "Sanctions and trade"\n  climate: "Climate"\n',
    )
    (in_bank_dir / "bank.yaml").write_text(text, encoding="utf-8")
    result = run("check", "bank.yaml")
    assert result.exit_code == 0
    assert result.stderr.strip().splitlines() == [
        "warning: bank.yaml:12:12: topics.climate: topic 'climate' has no questions",
        "warning: bank.yaml:21:16: questions[0] (id: un-two-principles): choices[0] is correct and 82 characters long, "
        "much longer than every distractor (at most 42); it gives the answer away",
        "warning: bank.yaml:55:9: questions[4] (id: keosayan): question has no tags; add `tags: [...]` so it can be selected and filtered",
    ]
    strict = run("check", "bank.yaml", "--strict")
    assert strict.exit_code == 1
    assert "3 warnings with --strict" in strict.stderr


def test_bad_usage_exits_2(in_bank_dir: Path) -> None:
    assert run("check", "--no-such-option").exit_code == 2
    assert run("frobnicate").exit_code == 2


def test_default_bank_is_questions_yaml(in_bank_dir: Path) -> None:
    (in_bank_dir / "bank.yaml").rename(in_bank_dir / "questions.yaml")
    result = run("check")
    assert result.exit_code == 0
    assert "Mini bank (mini)" in result.stdout
