"""Reproducible decks/: the committed folder is exactly what `kzquiz build` makes, in any process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DECKS = ROOT / "decks"
BANK_ID = "kz-spief-2022"
EXPECTED = {
    f"{BANK_ID}.apkg",
    f"{BANK_ID}.lock.json",
    f"{BANK_ID}-worksheet-A.html",
    f"{BANK_ID}-key.html",
    f"{BANK_ID}-selfcheck.html",
    f"{BANK_ID}.gift.txt",
    f"{BANK_ID}.qti.zip",
    f"{BANK_ID}.quizlet.txt",
    f"{BANK_ID}.csv",
    f"{BANK_ID}.moodle.xml",
}


def build(out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`kzquiz build` of the shipped bank in a new process with the given environment."""
    full = {
        k: v
        for k, v in os.environ.items()
        if k not in ("SOURCE_DATE_EPOCH", "TZ", "PYTHONHASHSEED")
    }
    full.update(env)
    return subprocess.run(
        [sys.executable, "-m", "kzquiz", "build", "questions.yaml", "-o", str(out)],
        cwd=ROOT,
        env=full,
        capture_output=True,
        text=True,
        timeout=300,
    )


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_committed_decks_are_what_build_makes(tmp_path: Path) -> None:
    assert set(files(DECKS)) == EXPECTED, "decks/ holds exactly the build's outputs"
    out = tmp_path / "decks"
    out.mkdir()
    # The Anki state file carries each note's modification time; a rebuild starts from it.
    shutil.copyfile(DECKS / f"{BANK_ID}.lock.json", out / f"{BANK_ID}.lock.json")
    result = build(out)
    assert result.returncode == 0, result.stderr
    rebuilt, committed = files(out), files(DECKS)
    stale = sorted(name for name in EXPECTED if rebuilt.get(name) != committed.get(name))
    assert not stale, f"decks/ is stale, run `kzquiz build` and commit: {stale}"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ({"TZ": "UTC", "PYTHONHASHSEED": "0"}, {"TZ": "Asia/Almaty", "PYTHONHASHSEED": "4242"}),
        (
            {"TZ": "America/Los_Angeles", "PYTHONHASHSEED": "random"},
            {"TZ": "Pacific/Auckland", "PYTHONHASHSEED": "1"},
        ),
    ],
)
def test_builds_in_different_processes_are_identical(
    tmp_path: Path, first: dict[str, str], second: dict[str, str]
) -> None:
    epoch = {"SOURCE_DATE_EPOCH": "1655424000"}  # 2022-06-17
    a, b = tmp_path / "a", tmp_path / "b"
    for out, env in ((a, first), (b, second)):
        result = build(out, **epoch, **env)
        assert result.returncode == 0, result.stderr
    assert set(files(a)) == EXPECTED
    assert files(a) == files(b)
