"""Nothing lost: outputs are written as an atomic set, failures leave earlier files untouched."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kzquiz import formats, pipeline
from kzquiz.cli import app
from kzquiz.errors import OutputError, UsageError
from kzquiz.formats import Format
from kzquiz.output import prepare_dir, write_files
from kzquiz.render import Outputs, RenderJob


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_write_files_replaces_all(tmp_path: Path) -> None:
    write_files(tmp_path, {"a.txt": b"old a", "b.txt": b"old b"})
    write_files(tmp_path, {"a.txt": b"new a", "b.txt": b"new b"})
    assert _snapshot(tmp_path) == {"a.txt": b"new a", "b.txt": b"new b"}
    assert oct((tmp_path / "a.txt").stat().st_mode & 0o777) != oct(0o600), (
        "temp-file permissions leaked"
    )


def test_disk_full_half_way_leaves_everything_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_files(tmp_path, {"a.txt": b"old a", "b.txt": b"old b", "c.txt": b"old c"})
    before = _snapshot(tmp_path)
    real_fdopen = os.fdopen
    calls = {"n": 0}

    class FullDisk:
        def __init__(self, fh: object) -> None:
            self.fh = fh

        def __enter__(self) -> FullDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.fh.close()  # type: ignore[attr-defined]

        def write(self, data: bytes) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    def fdopen(fd: int, *args: object, **kwargs: object) -> object:
        calls["n"] += 1
        fh = real_fdopen(fd, *args, **kwargs)  # type: ignore[call-overload]
        return FullDisk(fh) if calls["n"] == 2 else fh

    monkeypatch.setattr("kzquiz.output.os.fdopen", fdopen)
    with pytest.raises(OutputError, match="No space left on device"):
        write_files(tmp_path, {"a.txt": b"new a", "b.txt": b"new b", "c.txt": b"new c"})
    assert calls["n"] == 2
    assert _snapshot(tmp_path) == before, "no file replaced and no temp file left"


def test_a_renderer_raising_half_way_writes_nothing(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "decks"
    write_files(out, {"mini.apkg": b"previous deck", "mini.csv": b"previous csv"})
    before = _snapshot(out)

    def good(job: RenderJob) -> Outputs:
        return Outputs({"mini.csv": b"new csv"})

    def broken(job: RenderJob) -> Outputs:
        raise RuntimeError("renderer bug")

    fakes = (
        Format("good", "writes a file", ("{id}.csv",), good),
        Format("broken", "fails", ("{id}.x",), broken),
    )
    monkeypatch.setattr(formats, "FORMATS", fakes)
    monkeypatch.setattr(formats, "BY_NAME", {f.name: f for f in fakes})
    with pytest.raises(RuntimeError, match="renderer bug"):
        pipeline.build(mini_bank, out)
    assert _snapshot(out) == before


def test_output_into_a_missing_folder_creates_it(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    assert prepare_dir(target) == target and target.is_dir()


def test_output_into_a_file_is_a_usage_error(mini_bank: Path, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "decks"
    not_a_folder.write_text("I am a file")
    with pytest.raises(UsageError):
        prepare_dir(not_a_folder)
    result = CliRunner().invoke(app, ["build", str(mini_bank), "-o", str(not_a_folder)])
    assert result.exit_code == 2
    assert result.stderr.strip() == f"{not_a_folder}: is a file, not a folder; give -o a folder"
    assert not_a_folder.read_text() == "I am a file"


def test_build_into_a_missing_folder(mini_bank: Path, tmp_path: Path) -> None:
    out = tmp_path / "new" / "decks"
    result = CliRunner().invoke(app, ["build", str(mini_bank), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert out.is_dir()
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "temp files left behind"
