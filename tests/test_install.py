"""`pip install . && kzquiz check` in a fresh venv works from the repo and from an empty folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _visible_paths() -> list[str]:
    """The running interpreter's import path, less this tree: what the test venv may see."""
    paths: list[str] = []
    for entry in [*sys.path, sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]:
        if not entry or not os.path.isdir(entry):
            continue
        resolved = Path(entry).resolve()
        # The source tree (pytest's pythonpath, an editable install's .pth) must not be seen:
        # the test is about the installed copy.
        if resolved == ROOT or ROOT in resolved.parents:
            continue
        if str(resolved) not in paths:
            paths.append(str(resolved))
    return paths


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with kzquiz installed from a wheel built from a copy of the project."""
    base = tmp_path_factory.mktemp("install")
    project = base / "project"
    shutil.copytree(
        ROOT,
        project,
        ignore=shutil.ignore_patterns(
            ".git", "decks", "benchmarks", "tests", "*.egg-info", "__pycache__", ".*_cache"
        ),
    )
    # The wheel is built by the running environment's own build backend (hatchling is a test
    # dependency), so no network and no build isolation are needed, whatever venv runs pytest.
    wheels = base / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-build-isolation",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(project),
        ],
        check=True,
        cwd=base,
        env=_env(),
    )
    (wheel,) = wheels.glob("kzquiz-*.whl")
    env_dir = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    python = env_dir / "bin" / "python"
    site_packages = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
        env=_env(),
    ).stdout.strip()
    # The new venv sees the running environment's packages (kzquiz's dependencies, pip) after
    # its own, so the installed wheel is what `import kzquiz` finds.
    (Path(site_packages) / "_running_env.pth").write_text(
        "\n".join(_visible_paths()) + "\n", encoding="utf-8"
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        cwd=base,
        env=_env(),
    )
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
    assert str(venv) in out.stdout and str(ROOT / "src") not in out.stdout


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


def test_the_installed_copy_has_the_translations(venv: Path, tmp_path: Path) -> None:
    # The catalogs travel in the wheel: the installed kzquiz prints in Russian and Kazakh.
    for lang, word in (("ru", "Фамилия, имя"), ("kk", "Аты-жөні")):
        out = tmp_path / lang
        result = _kzquiz(
            venv, tmp_path, "worksheet", "--language", lang, "--seed", "1", "-o", str(out)
        )
        assert result.returncode == 0, result.stderr
        sheet = next(out.glob("*-worksheet-A.html")).read_text(encoding="utf-8")
        assert word in sheet
