"""The CLI skeleton: version, help with examples, schema in step with the models, python -m."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kzquiz import __version__
from kzquiz.cli import app
from kzquiz.schema import schema_json

ROOT = Path(__file__).resolve().parent.parent


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert (result.exit_code, result.stdout) == (0, f"kzquiz {__version__}\n")


def test_python_dash_m() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "kzquiz", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout == f"kzquiz {__version__}\n"


def test_every_command_has_help_with_examples() -> None:
    import typer

    commands = list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]
    assert {"check", "schema", "build"} <= set(commands)
    for name in commands:
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, name
        assert "kzquiz " + str(name) in result.stdout, f"{name} --help shows no example"


def test_committed_schema_matches_models() -> None:
    committed = (ROOT / "schema" / "questions.schema.json").read_text(encoding="utf-8")
    assert committed == schema_json(), "run: kzquiz schema > schema/questions.schema.json"
    schema = json.loads(committed)
    assert set(schema["properties"]) == {"bank", "topics", "questions", "pools"}


def test_schema_command_prints_it() -> None:
    result = CliRunner().invoke(app, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == schema_json()


def test_bank_points_editors_at_the_schema() -> None:
    first = (ROOT / "questions.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=schema/questions.schema.json"


def test_schema_validates_the_shipped_bank() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    import yaml

    data = yaml.safe_load((ROOT / "questions.yaml").read_text(encoding="utf-8"))
    jsonschema.validate(data, json.loads(schema_json()))
