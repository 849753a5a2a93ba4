"""Rendering two formats at once (speed.render_all) gives what rendering them in turn gives.

A build of a big bank renders every second format in a forked child. These tests force that
path on small banks and compare it with the plain one: the same files byte for byte, the
same notes in the same order, and the error that rendering in turn would raise first.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kzquiz import pipeline, speed
from kzquiz.errors import OutputError
from kzquiz.render import Outputs

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_a_parallel_build_is_byte_identical(
    mini_bank: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    forks = []
    real_fork = os.fork

    def counting_fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(speed.os, "fork", counting_fork)
    monkeypatch.setattr(speed, "PARALLEL_MIN_QUESTIONS", 10**9)
    plain = pipeline.build(mini_bank, tmp_path / "plain")
    assert forks == []
    monkeypatch.setattr(speed, "PARALLEL_MIN_QUESTIONS", 0)
    monkeypatch.setattr(speed.os, "cpu_count", lambda: 2)
    both = pipeline.build(mini_bank, tmp_path / "both")
    assert forks == [1]
    assert _files(tmp_path / "both") == _files(tmp_path / "plain")
    assert both.notes == plain.notes
    assert both.formats == plain.formats


def _job(name: str, fail: str | None = None, child_only: bool = False):  # type: ignore[no-untyped-def]
    parent = os.getpid()

    def run() -> Outputs:
        if fail is not None and (not child_only or os.getpid() != parent):
            raise OutputError(fail)
        return Outputs({name: name.encode()}, [f"note {name}"])

    return run


@pytest.fixture
def parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speed, "PARALLEL_MIN_QUESTIONS", 0)
    monkeypatch.setattr(speed.os, "cpu_count", lambda: 2)


@pytest.mark.usefixtures("parallel")
def test_outputs_come_back_in_job_order() -> None:
    made = speed.render_all([_job(str(i)) for i in range(5)], questions=1)
    assert [o.files for o in made] == [{str(i): str(i).encode()} for i in range(5)]
    assert [o.notes for o in made] == [[f"note {i}"] for i in range(5)]


@pytest.mark.usefixtures("parallel")
def test_the_first_error_in_job_order_is_raised() -> None:
    # Job 1 runs in the child, job 2 here: in turn, job 1's error comes first.
    jobs = [_job("0"), _job("1", fail="one"), _job("2", fail="two"), _job("3")]
    with pytest.raises(OutputError, match=r"^one$"):
        speed.render_all(jobs, questions=1)
    # An error of the parent's own earlier job wins over a later one in the child.
    jobs = [_job("0", fail="zero"), _job("1", fail="one")]
    with pytest.raises(OutputError, match=r"^zero$"):
        speed.render_all(jobs, questions=1)


@pytest.mark.usefixtures("parallel")
def test_what_the_child_cannot_do_is_done_here() -> None:
    # Fails only in the child: the parent renders it again, and that succeeds.
    made = speed.render_all([_job("0"), _job("1", fail="child", child_only=True)], questions=1)
    assert [o.files for o in made] == [{"0": b"0"}, {"1": b"1"}]

    def dies() -> Outputs:
        if os.getpid() != parent:
            os._exit(3)  # the child vanishes without a word
        return Outputs({"d": b"d"})

    parent = os.getpid()
    made = speed.render_all([_job("0"), dies, _job("2"), _job("3")], questions=1)
    assert [o.files for o in made] == [{"0": b"0"}, {"d": b"d"}, {"2": b"2"}, {"3": b"3"}]
