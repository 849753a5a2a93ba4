"""Hostile and broken banks: never a traceback, limits with clear errors, paths kept inside."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, note, seed, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kzquiz.cli import app

ROOT = Path(__file__).resolve().parent.parent
VALID = (ROOT / "tests" / "banks" / "valid.yaml").read_text(encoding="utf-8")
ARTICLE = (ROOT / "sources" / "article.txt").read_text(encoding="utf-8")

# A fixed example budget, and a seed that is printed (pytest header and failure notes) so any
# failure can be replayed with KZQUIZ_HYPOTHESIS_SEED=<seed>.
HYPOTHESIS_SEED = int(os.environ["KZQUIZ_HYPOTHESIS_SEED"])  # chosen in conftest.py
BUDGET = settings(
    max_examples=int(os.environ.get("KZQUIZ_HYPOTHESIS_EXAMPLES", "120")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def run_cli(folder: Path, *args: str) -> Any:
    """Run the CLI in `folder`, as a user would, and return the result."""
    old = Path.cwd()
    os.chdir(folder)
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        os.chdir(old)


def assert_clean_exit(result: Any, allowed: tuple[int, ...] = (0, 1)) -> None:
    """Exit 0 or 1, no unhandled exception, and every problem on one non-empty line."""
    note(f"hypothesis seed: {HYPOTHESIS_SEED}")
    note(f"stderr: {result.stderr!r}")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(
            f"unhandled {type(result.exception).__name__}: {result.exception}"
        ) from result.exception
    assert result.exit_code in allowed, (result.exit_code, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 1:
        lines = result.stderr.splitlines()
        assert lines and all(line.strip() for line in lines)


# --- random YAML documents and mutations of a valid bank -------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(["single", "cloze", "{{x}}", "<script>", "!!python/object", "1-2", "", " "]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(
            st.one_of(
                st.sampled_from(
                    ["bank", "topics", "questions", "id", "type", "text", "choices", "source"]
                ),
                st.text(max_size=8),
            ),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=30,
)
KEYS = [
    "id",
    "type",
    "topic",
    "difficulty",
    "tags",
    "prompt",
    "text",
    "choices",
    "answer",
    "answers",
    "pairs",
    "items",
    "explanation",
    "evidence",
    "tolerance",
    "range",
    "unit",
    "correct",
    "bank",
    "source",
]


def _mutate(text: str, draw: Any) -> bytes:
    lines = text.splitlines(keepends=True)
    kind = draw(
        st.sampled_from(
            [
                "delete",
                "duplicate",
                "insert",
                "replace-value",
                "tab",
                "bom",
                "truncate",
                "bytes",
                "deep",
                "huge",
                "key",
                "nul",
                "control",
                "number",
                "nonfinite",
                "encoding",
            ]
        )
    )
    i = draw(st.integers(0, len(lines) - 1))
    if kind == "delete":
        del lines[i]
    elif kind == "duplicate":
        lines.insert(i, lines[i])
    elif kind == "insert":
        pos = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:pos] + draw(st.text(max_size=6)) + lines[i][pos:]
    elif kind == "replace-value" and ":" in lines[i]:
        key = lines[i].split(":", 1)[0]
        value = draw(documents)
        lines[i] = f"{key}: {yaml.safe_dump(value, default_flow_style=True).strip()}\n"
    elif kind == "tab":
        lines[i] = "\t" + lines[i].lstrip(" ")
    elif kind == "bom":
        return b"\xef\xbb\xbf" + "".join(lines).encode()
    elif kind == "truncate":
        return "".join(lines)[: draw(st.integers(0, len(text)))].encode()
    elif kind == "bytes":
        raw = "".join(lines).encode()
        pos = draw(st.integers(0, len(raw)))
        return raw[:pos] + draw(st.binary(min_size=1, max_size=4)) + raw[pos:]
    elif kind == "deep":
        depth = draw(st.integers(10, 400))
        lines[i] = (
            "    prompt: " + "[" * depth + "]" * depth + "\n" if "prompt:" in lines[i] else lines[i]
        )
    elif kind == "huge":
        lines.insert(i, f'    explanation: "{"x" * draw(st.integers(9_000, 12_000))}"\n')
    elif kind == "key":
        indent = len(lines[i]) - len(lines[i].lstrip(" "))
        lines.insert(
            i,
            " " * indent
            + f"{draw(st.sampled_from(KEYS))}: {draw(st.sampled_from(['x', '1', '[]', '{}', 'true']))}\n",
        )
    elif kind == "nul":
        pos = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:pos] + "\x00" + lines[i][pos:]
    elif kind == "control":
        # characters yaml-rs accepts and PyYAML does not (or reads as line breaks)
        pos = draw(st.integers(0, len(lines[i])))
        char = draw(st.sampled_from(["\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\x01"]))
        lines[i] = lines[i][:pos] + char + lines[i][pos:]
    elif kind == "number" and ":" in lines[i]:
        key = lines[i].split(":", 1)[0]
        number = draw(st.sampled_from(["5", "007", "3.10", "1e3", "0x1F", "-0", "1" * 400]))
        lines[i] = f"{key}: {number}\n"
    elif kind == "nonfinite" and ":" in lines[i]:
        key = lines[i].split(":", 1)[0]
        value = draw(st.sampled_from([".nan", ".inf", "-.inf", "1e400", '"nan"', "true"]))
        lines[i] = f"{key}: {value}\n"
    elif kind == "encoding":
        return "".join(lines).encode(draw(st.sampled_from(["utf-16-le", "utf-16-be", "utf-32"])))
    return "".join(lines).encode()


@pytest.fixture
def bank_dir(tmp_path: Path) -> Path:
    (tmp_path / "article.txt").write_text(ARTICLE, encoding="utf-8")
    return tmp_path


@seed(HYPOTHESIS_SEED)
@BUDGET
@given(doc=documents)
def test_random_yaml_documents_never_crash_check(bank_dir: Path, doc: Any) -> None:
    (bank_dir / "bank.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert_clean_exit(run_cli(bank_dir, "check", "bank.yaml"))


@seed(HYPOTHESIS_SEED)
@BUDGET
@given(data=st.data())
def test_mutated_banks_never_crash_check(bank_dir: Path, data: st.DataObject) -> None:
    raw = _mutate(VALID, data.draw)
    (bank_dir / "bank.yaml").write_bytes(raw)
    result = run_cli(bank_dir, "check", "bank.yaml")
    assert_clean_exit(result)
    if b"\x00" in raw:
        # a NUL is never silently the end of the bank
        assert result.exit_code == 1 and ("NUL" in result.stderr or "UTF-" in result.stderr)
    elif result.exit_code == 1:
        # positions survive whatever the parser accepts: every problem names its line
        assert all(":" in line.split(" ", 1)[0] for line in result.stderr.splitlines())


@seed(HYPOTHESIS_SEED)
@settings(BUDGET, max_examples=max(10, BUDGET.max_examples // 4))
@given(data=st.data())
def test_mutated_banks_never_crash_build(bank_dir: Path, data: st.DataObject) -> None:
    (bank_dir / "bank.yaml").write_bytes(_mutate(VALID, data.draw))
    out = bank_dir / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()} if out.exists() else {}
    result = run_cli(bank_dir, "build", "bank.yaml", "-o", "out")
    assert_clean_exit(result)
    if result.exit_code == 1:
        # a failed build leaves the folder exactly as it was: no new, changed or temp files
        after = {p.name: p.read_bytes() for p in out.iterdir()} if out.exists() else {}
        assert after == before


# --- specific hostile files --------------------------------------------------------------------


def test_empty_file_folder_and_unreadable_file(
    bank_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (bank_dir / "empty.yaml").write_bytes(b"")
    result = run_cli(bank_dir, "check", "empty.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "empty.yaml:1:1: the bank is empty; it needs `bank:`, `topics:` and `questions:`",
    )
    (bank_dir / "dir.yaml").mkdir()
    assert (
        run_cli(bank_dir, "check", "dir.yaml").stderr.strip()
        == "dir.yaml: cannot read the bank: it is a folder, not a file"
    )
    (bank_dir / "locked.yaml").write_text(VALID, encoding="utf-8")

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise PermissionError(13, "Permission denied")

    # Root can read a chmod-000 file, so simulate the refusal the OS gives everyone else.
    monkeypatch.setattr("kzquiz.read._open", refuse)
    result = run_cli(bank_dir, "check", "locked.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "locked.yaml: cannot read the bank: Permission denied",
    )


def test_billion_laughs_is_refused_without_memory_blowup(bank_dir: Path) -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    (bank_dir / "laughs.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    # In a child capped at 1 GiB of address space: a parser that expanded the aliases would die.
    code = (
        "import resource, sys; resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30));"
        "from kzquiz.cli import main; sys.argv = ['kzquiz', 'check', 'laughs.yaml']; main()"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=bank_dir, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 1, out.stderr
    assert out.stderr.strip() == (
        "laughs.yaml:2:10: YAML aliases expand to too much data (an alias bomb?); write the values out instead"
    )


def test_bank_over_the_size_limit_is_refused(bank_dir: Path) -> None:
    from kzquiz.read import MAX_BANK_BYTES

    with open(bank_dir / "big.yaml", "wb") as fh:
        fh.write(b"# padding\n" * (MAX_BANK_BYTES // 10 + 1))
    result = run_cli(bank_dir, "check", "big.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "big.yaml: the bank is larger than 64 MiB; split it or trim it",
    )


def test_a_50000_question_bank_is_admitted(tmp_path: Path) -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from genbank import write_bank
    finally:
        sys.path.pop(0)
    from kzquiz.loader import load_bank

    path = write_bank(tmp_path, 50_000)
    loaded = load_bank(path)
    assert len(loaded.bank.questions) == 50_000


def test_overlong_text_field(bank_dir: Path) -> None:
    text = VALID.replace(
        '    explanation: "Over $22 billion."\n', f'    explanation: "{"x" * 10_001}"\n'
    )
    (bank_dir / "bank.yaml").write_text(text, encoding="utf-8")
    result = run_cli(bank_dir, "check", "bank.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "bank.yaml:72:18: questions[5] (id: china-investment): explanation is 10,001 characters long; the limit is 10,000",
    )


@pytest.mark.parametrize("depth", [70, 250])
def test_deep_nesting(bank_dir: Path, depth: int) -> None:
    text = VALID.replace(
        '    prompt: "Match each person to their role."\n',
        "    prompt: " + "[" * depth + "]" * depth + "\n",
    )
    (bank_dir / "bank.yaml").write_text(text, encoding="utf-8")
    result = run_cli(bank_dir, "check", "bank.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        "bank.yaml:79:1: the YAML nests more than 64 levels deep; a bank needs at most 6",
    )


def test_nesting_beyond_the_parser_limit(bank_dir: Path) -> None:
    text = VALID.replace(
        '    prompt: "Match each person to their role."\n',
        "    prompt: " + "[" * 100_000 + "]" * 100_000 + "\n",
    )
    (bank_dir / "bank.yaml").write_text(text, encoding="utf-8")
    result = run_cli(bank_dir, "check", "bank.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith("bank.yaml:79:")
    assert "YAML syntax error" in result.stderr


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "../../etc/passwd",
            "source text path '../../etc/passwd' leads outside the bank's folder; keep the article beside the bank",
        ),
        ("/etc/passwd", "source text path '/etc/passwd' must be relative to the bank's folder"),
        (
            "link.txt",
            "source text path 'link.txt' leads outside the bank's folder; keep the article beside the bank",
        ),
    ],
    ids=["dotdot", "absolute", "symlink-out"],
)
def test_source_path_may_not_escape(
    bank_dir: Path, tmp_path_factory: pytest.TempPathFactory, path: str, message: str
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "article.txt"
    outside.write_text(ARTICLE, encoding="utf-8")
    (bank_dir / "link.txt").symlink_to(outside)
    (bank_dir / "bank.yaml").write_text(
        VALID.replace("    text: article.txt\n", f"    text: {path}\n"), encoding="utf-8"
    )
    result = run_cli(bank_dir, "check", "bank.yaml")
    assert (result.exit_code, result.stderr.strip()) == (
        1,
        f"bank.yaml:8:11: bank.source.text: {message}",
    )


def test_each_problem_stays_on_one_line(bank_dir: Path) -> None:
    # A key holding line breaks and control characters is quoted back escaped.
    (bank_dir / "bank.yaml").write_text('"\\x1e\\r\\n\\u2028key": 1\n', encoding="utf-8")
    result = run_cli(bank_dir, "check", "bank.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == (
        "bank.yaml:1:1: unknown field '\\x1e\\r\\n\\u2028key'; remove it or fix its name"
    )
    assert all(line.startswith("bank.yaml:1:1: ") for line in result.stderr.splitlines())
