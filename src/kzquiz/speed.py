"""Speed machinery in one place: reading the bank ahead, and the garbage collector's policy.

Three things make a command fast, and all live here so that no command body has to know
about them:

- Read-ahead: the CLI calls `read_ahead(bank)` as soon as the command line names a bank,
  before Typer converts the options (which imports pydantic). The bank is then read and
  parsed in a background thread (kzquiz.read.BankReading) while the command's imports run;
  `load(bank)` collects that reading, or reads the bank now if no reading was started.
- The collector: a bank's objects live until the command ends, so the cyclic collector is
  off while they are built and they are frozen out of its sight afterwards, instead of being
  rescanned again and again for nothing. Reference counting frees everything as usual.
- Two renderers at once: a build of a big bank renders every second format in a forked
  child process (the GIL keeps threads from rendering side by side), which sends back what
  it made; anything the child did not finish is rendered here, in order, so the outputs,
  their order and any error are those of rendering one format after the other.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kzquiz.bank import LoadedBank
    from kzquiz.read import BankReading
    from kzquiz.render import Outputs

# Banks whose reading started before their command ran: the path the bank was found at.
_READ_AHEAD: dict[Path, BankReading] = {}


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a step builds many objects that stay alive.

    Parsing, validating and rendering a big bank allocate hundreds of thousands of small
    objects and free almost none; the collector would scan them again and again for nothing.
    Reference counting still frees everything as usual, and the collector runs again
    afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_ahead(path: Path) -> None:
    """Start reading and parsing the bank at `path` in the background, for load() to collect."""
    from kzquiz.read import BankReading

    if path not in _READ_AHEAD:
        # The collector stays off until load() has built the bank (see the module docstring).
        gc.disable()
        _READ_AHEAD[path] = BankReading.start(path)


def load(path: Path, display: str | None = None) -> LoadedBank:
    """The validated bank at `path`, collecting a reading started by read_ahead()."""
    from kzquiz.loader import load_bank

    reading = _READ_AHEAD.pop(path, None)
    try:
        loaded = load_bank(path, display=display, reading=reading)
    finally:
        gc.enable()
    # Move the bank out of the cyclic collector's sight for good, so later collections don't
    # rescan hundreds of thousands of objects for nothing.
    gc.freeze()
    return loaded


def reset() -> None:
    """Forget readings nobody collected and turn the collector back on (end of a command)."""
    _READ_AHEAD.clear()
    gc.enable()


# Below this many questions a fork and the copy of the outputs back cost more than they save.
PARALLEL_MIN_QUESTIONS = 2000


def render_all(jobs: Sequence[Callable[[], Outputs]], questions: int) -> list[Outputs]:
    """Every job's outputs, in order: on a big bank with two cores, every second job in a
    forked child (see the module docstring); the same results as running them in turn."""
    if (
        len(jobs) < 2
        or questions < PARALLEL_MIN_QUESTIONS
        or not hasattr(os, "fork")
        or (os.cpu_count() or 1) < 2
    ):
        return [job() for job in jobs]
    theirs = list(range(1, len(jobs), 2))
    child = _Child(jobs, theirs)
    done: dict[int, Outputs] = {}
    try:
        for i in range(0, len(jobs), 2):
            try:
                done[i] = jobs[i]()
            except BaseException:
                # Rendering in turn, an earlier job's error would have come first.
                got = child.collect()
                for j in theirs:
                    if j < i and j not in got:
                        jobs[j]()
                raise
        got = child.collect()
    finally:
        child.stop()
    for j in theirs:
        done[j] = got[j] if j in got else jobs[j]()
    return [done[i] for i in range(len(jobs))]


class _Child:
    """A forked process running some jobs and sending back, pickled, those that succeeded."""

    def __init__(self, jobs: Sequence[Callable[[], Outputs]], indexes: list[int]) -> None:
        read_end, write_end = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:  # the child: render, send, and leave without any clean-up of ours
            os.close(read_end)
            status = 1
            try:
                made: dict[int, Outputs] = {}
                for i in indexes:
                    try:
                        made[i] = jobs[i]()
                    except BaseException:
                        break  # the parent renders this one again and reports its error
                with os.fdopen(write_end, "wb") as pipe:
                    pickle.dump(made, pipe, protocol=pickle.HIGHEST_PROTOCOL)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        self.read_end: int | None = read_end
        self.result: dict[int, Outputs] | None = None

    def collect(self) -> dict[int, Outputs]:
        """What the child made (empty if it failed): waits for it to finish."""
        if self.result is not None:
            return self.result
        self.result = {}
        if self.read_end is None:
            return self.result
        try:
            with os.fdopen(self.read_end, "rb") as pipe:
                self.read_end = None
                data = pipe.read()
            _, status = os.waitpid(self.pid, 0)
            self.pid = 0
            if os.waitstatus_to_exitcode(status) == 0:
                self.result = pickle.loads(data)
        except (OSError, pickle.UnpicklingError, EOFError):
            self.result = {}
        return self.result

    def stop(self) -> None:
        """Kill and reap the child if it is still there (an error or interrupt came first)."""
        if self.read_end is not None:
            os.close(self.read_end)
            self.read_end = None
        if self.pid:
            with contextlib.suppress(OSError):
                os.kill(self.pid, 9)
                os.waitpid(self.pid, 0)
            self.pid = 0
