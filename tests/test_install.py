"""`pip install . && kzquiz check` in a fresh venv works from the repo and from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with kzquiz installed from a copy of the project (as a wheel, not editable)."""
    base = tmp_path_factory.mktemp("install")
    project = base / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".git", "decks", "benchmarks", "tests", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    env_dir = base / "venv"
    # The venv sees the already-installed dependencies, so the test needs no network;
    # kzquiz itself is built and installed from source like any user's `pip install .`.
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", str(env_dir)], check=True
    )
    pip = [
        str(env_dir / "bin" / "python"),
        "-m",
        "pip",
        "install",
        "--quiet",
        "--no-build-isolation",
        "--no-deps",
    ]
    subprocess.run([*pip, str(project)], check=True, cwd=base, env=_env())
    return env_dir


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _kzquiz(venv: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "kzquiz"), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=_env(),
        timeout=120,
    )


def test_installed_copy_is_not_the_source_tree(venv: Path, tmp_path: Path) -> None:
    out = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import kzquiz; print(kzquiz.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=_env(),
        check=True,
    )
    assert "site-packages" in out.stdout and str(ROOT / "src") not in out.stdout


def test_check_from_the_repo_root(venv: Path) -> None:
    result = _kzquiz(venv, ROOT, "check")
    assert result.returncode == 0, result.stderr
    assert "Kazakhstan at SPIEF 2022 (kz-spief-2022)" in result.stdout
    assert "total" in result.stdout


def test_check_from_an_empty_folder_uses_the_bundled_bank(venv: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = _kzquiz(venv, empty, "check")
    assert result.returncode == 0, result.stderr
    assert "Kazakhstan at SPIEF 2022 (kz-spief-2022)" in result.stdout
    assert list(empty.iterdir()) == []
