"""The pipeline under the CLI: seed policy, output folders, stale sets, messages and flags."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from conftest import BankFactory
from kzquiz import formats, pipeline
from kzquiz.cli import app
from kzquiz.errors import KzquizError, UsageError
from kzquiz.loader import load_bank
from kzquiz.select import Selection, parse_difficulty, select

ROOT = Path(__file__).resolve().parent.parent
SEED = re.compile(r"seed: (\d+) \(use --seed (\d+) to reproduce\)")


def _run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


# ---------------------------------------------------------------------------- architecture


def test_cli_makes_one_library_call_per_command() -> None:
    """cli.py parses options and prints results: it never selects questions or renders."""
    tree = ast.parse((ROOT / "src" / "kzquiz" / "cli.py").read_text(encoding="utf-8"))
    imported = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    allowed = {
        ("__future__", "annotations"),
        ("pathlib", "Path"),
        ("typing", "TYPE_CHECKING"),
        ("typing", "Annotated"),
        ("typing", "Any"),
        ("typing", "Literal"),
        ("typer.core", "TyperGroup"),
        ("kzquiz", "__version__"),
        ("kzquiz", "formats"),
        ("kzquiz", "pipeline"),
        ("kzquiz", "speed"),
        ("kzquiz.errors", "KzquizError"),
        ("kzquiz.select", "Selection"),  # the options' data, not the selecting
        ("kzquiz.select", "parse_difficulty"),
        ("kzquiz.select", "parse_pick"),  # --pick TOPIC=N, parsed like --difficulty
        ("kzquiz.render.worksheet", "WorksheetOptions"),
        ("kzquiz.report", "summary_table"),
        ("kzquiz.schema", "schema_json"),
    }
    assert imported <= allowed, imported - allowed
    called = {
        node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
    }
    assert not called & {"select", "render", "write_files", "write_file", "load_bank"}


def test_build_prints_the_formats_it_built(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("build", str(mini_bank), "-o", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    names = ", ".join(f.name for f in formats.build_formats())
    assert f"built {names} from 8 questions:" in result.stdout
    written = {p.name for p in (tmp_path / "out").iterdir()}
    assert written == {n for f in formats.build_formats() for n in f.file_names("mini")}


def test_library_errors_name_fields_not_flags(mini_bank: Path) -> None:
    loaded = load_bank(mini_bank)
    errors: list[KzquizError] = []
    for call in (
        lambda: select(loaded, Selection(topics=("nope",))),
        lambda: select(loaded, Selection(types=("essay",))),
        lambda: select(loaded, Selection(count=0)),
        lambda: parse_difficulty("9"),
    ):
        with pytest.raises(UsageError) as info:
            call()
        errors.append(info.value)
    assert [e.field for e in errors] == ["topic", "type", "count", "difficulty"]
    assert not any("--" in str(e) for e in errors)
    # ... and the CLI shows the field as its flag
    result = _run("worksheet", str(mini_bank), "--topic", "nope")
    assert result.exit_code == 2 and result.stderr.startswith("--topic 'nope' is not a topic")


# ---------------------------------------------------------------------------- seed policy


def test_seed_is_never_printed_before_a_usage_error(mini_bank: Path, tmp_path: Path) -> None:
    for command in ("worksheet", "selfcheck", "anki"):
        result = _run(command, str(mini_bank), "-o", str(tmp_path), "-n", "2", "--topic", "nope")
        assert result.exit_code == 2, result.output
        assert "seed:" not in result.output, command
    result = _run("export", "csv", str(mini_bank), "-o", "-", "-n", "2", "--topic", "nope")
    assert result.exit_code == 2 and "seed:" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["worksheet", "-o", "{out}"],
        ["selfcheck", "-n", "5", "-o", "{out}"],
        ["anki", "-n", "3", "-o", "{out}"],
        ["export", "gift", "-n", "3", "-o", "{out}"],
    ],
)
def test_a_drawn_seed_is_printed_on_stderr_and_reproduces(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    first, again = tmp_path / "first", tmp_path / "again"
    first.mkdir()
    again.mkdir()
    where = 2 if args[0] == "export" else 1
    drawn = _run(*args[:where], str(mini_bank), *(a.format(out=first) for a in args[where:]))
    assert drawn.exit_code == 0, drawn.output
    found = SEED.search(drawn.stderr)
    assert found and found.group(1) == found.group(2), drawn.output
    assert "seed:" not in drawn.stdout
    seeded = _run(
        *args[:where],
        str(mini_bank),
        *(a.format(out=again) for a in args[where:]),
        "--seed",
        found.group(1),
    )
    assert seeded.exit_code == 0 and "seed:" not in seeded.output
    for path in first.iterdir():
        if not path.name.endswith(".lock.json"):
            assert path.read_bytes() == (again / path.name).read_bytes(), path.name


def test_selfcheck_without_seed_draws_a_new_sample(mini_bank: Path, tmp_path: Path) -> None:
    seeds = set()
    for i in range(4):
        result = _run("selfcheck", str(mini_bank), "-n", "3", "-o", str(tmp_path / str(i)))
        assert result.exit_code == 0, result.output
        found = SEED.search(result.stderr)
        assert found
        seeds.add(found.group(1))
    assert len(seeds) > 1


def test_build_draws_no_seed(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("build", str(mini_bank), "-o", str(tmp_path))
    assert result.exit_code == 0 and "seed:" not in result.output


# ---------------------------------------------------------------------------- messages


def test_count_larger_than_the_selection_says_so(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("worksheet", str(mini_bank), "-o", str(tmp_path), "-n", "20", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "only 8 questions match all questions, not 20" in result.stderr
    assert "8 questions, 1 version, a4:" in result.stdout


def test_unknown_tag_lists_the_banks_tags(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("selfcheck", str(mini_bank), "-o", str(tmp_path), "--tag", "nosuch")
    assert result.exit_code == 1
    assert "tags of this bank: " in result.stderr
    listed = result.stderr.split("tags of this bank: ", 1)[1].strip().split(", ")
    loaded = load_bank(mini_bank)
    assert listed == sorted({t for q in loaded.bank.questions for t in q.tags})


def test_plurals_in_cli_output(mini_bank: Path, tmp_path: Path) -> None:
    one = _run("worksheet", str(mini_bank), "-o", str(tmp_path), "-n", "1", "--seed", "2")
    assert one.exit_code == 0, one.output
    assert "1 question, 1 version, a4:" in one.stdout
    page = _run("selfcheck", str(mini_bank), "-o", str(tmp_path), "-n", "1", "--seed", "2")
    assert "1 question: " in page.stdout


def test_help_is_readable() -> None:
    commands = _run("--help").stdout.split("Commands:", 1)[1]
    assert "..." not in commands  # no truncated command description
    for command in ("check", "build", "worksheet", "anki", "selfcheck", "practice", "export"):
        text = _run(command, "--help").stdout
        assert "list[str]" not in text and "int range" not in text, command
        assert "<int>" not in text and "<str>" not in text.replace("FORMAT <str>", ""), command


def test_export_help_lists_the_registry() -> None:
    text = _run("export", "--help").stdout
    for fmt in formats.FORMATS:
        if fmt.export:
            assert fmt.name in text and fmt.summary in text


def test_anki_takes_type_count_and_seed(mini_bank: Path, tmp_path: Path) -> None:
    result = _run("anki", str(mini_bank), "-o", str(tmp_path), "--type", "truefalse")
    assert result.exit_code == 0, result.output
    assert "mini.apkg: 1 notes" in result.stdout or "mini.apkg: 1 note," in result.stdout
    sample = _run("anki", str(mini_bank), "-o", str(tmp_path), "-n", "3", "--seed", "4")
    assert sample.exit_code == 0, sample.output
    assert "mini.apkg: 3 notes" in sample.stdout


# ---------------------------------------------------------------------------- folders


def test_fallback_to_the_bundled_bank_says_so(
    make_bank: BankFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = make_bank()
    empty = tmp_path / "elsewhere"
    empty.mkdir()
    (empty / "bees.yaml").write_text("not the bank\n", encoding="utf-8")
    monkeypatch.chdir(empty)
    monkeypatch.setattr("kzquiz.read.bundled_bank", lambda: bundled)
    for args in (["check"], ["build", "-o", str(tmp_path / "out")]):
        result = _run(*args)
        assert result.exit_code == 0, result.output
        assert "using the bank bundled with kzquiz" in result.stderr, args
    (empty / "questions.yaml").write_bytes(bundled.read_bytes())
    shutil.copyfile(bundled.parent / "article.txt", empty / "article.txt")
    local = _run("check")
    assert local.exit_code == 0 and "bundled" not in local.stderr


def test_default_output_folder_is_beside_the_bank(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    result = _run("anki", str(mini_bank))
    assert result.exit_code == 0, result.output
    assert (mini_bank.parent / "decks" / "mini.apkg").is_file()
    assert (mini_bank.parent / "decks" / "mini.lock.json").is_file()
    assert not (elsewhere / "decks").exists()


def test_default_output_folder_for_the_bundled_bank_is_here(
    make_bank: BankFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundled = make_bank()
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    monkeypatch.setattr("kzquiz.read.bundled_bank", lambda: bundled)
    result = _run("selfcheck", "--seed", "1")
    assert result.exit_code == 0, result.output
    assert (here / "decks" / "mini-selfcheck.html").is_file()


# ---------------------------------------------------------------------------- worksheet sets


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_fewer_versions_remove_the_stale_ones(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    three = _run("worksheet", str(mini_bank), "-o", str(out), "--versions", "3", "--seed", "1")
    assert three.exit_code == 0, three.output
    one = _run("worksheet", str(mini_bank), "-o", str(out), "--versions", "1", "--seed", "1")
    assert one.exit_code == 0, one.output
    assert _names(out) == ["mini-key.html", "mini-worksheet-A.html"]
    assert f"removed {out / 'mini-worksheet-B.html'}" in one.stdout
    assert f"removed {out / 'mini-worksheet-C.html'}" in one.stdout


def test_a_set_of_other_questions_is_not_overwritten(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    economy = _run("worksheet", str(mini_bank), "-o", str(out), "--topic", "economy")
    assert economy.exit_code == 0, economy.output
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    other = _run(
        "worksheet", str(mini_bank), "-o", str(out), "--topic", "sovereignty", "--versions", "2"
    )
    assert other.exit_code == 2
    assert "of other questions" in other.stderr and "--force" in other.stderr
    assert "seed:" not in other.output  # nothing was made, nothing to reproduce
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    forced = _run("worksheet", str(mini_bank), "-o", str(out), "--topic", "sovereignty", "--force")
    assert forced.exit_code == 0, forced.output
    assert _names(out) == ["mini-key.html", "mini-worksheet-A.html"]


def test_an_ad_hoc_worksheet_leaves_a_build_alone(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "decks"
    assert _run("build", str(mini_bank), "-o", str(out)).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    adhoc = _run("worksheet", str(mini_bank), "-o", str(out), "--versions", "2")
    assert adhoc.exit_code == 2
    assert "kzquiz build" in adhoc.stderr and "--force" in adhoc.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    # the same files as the build's are no change at all
    same = _run("worksheet", str(mini_bank), "-o", str(out), "--seed", "1")
    assert same.exit_code == 0, same.output
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_pipeline_result_counts(mini_bank: Path, tmp_path: Path) -> None:
    request = pipeline.Request(
        ("selfcheck", "gift"), bank=mini_bank, selection=Selection(count=3), out_dir=tmp_path
    )
    result = pipeline.run(request)
    assert result.questions == 3 and result.seed_drawn and result.seed is not None
    assert sorted(p.name for p in result.written) == ["mini-selfcheck.html", "mini.gift.txt"]
