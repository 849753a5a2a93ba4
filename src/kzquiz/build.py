"""`kzquiz build`: every output format for one bank, written to one folder as a set."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from pathlib import Path

from kzquiz.bank import LoadedBank
from kzquiz.errors import OutputError
from kzquiz.model import Question
from kzquiz.output import write_files
from kzquiz.render import Outputs

# Each step is "module:function" with the signature (loaded, out_dir) -> Outputs. They are
# imported only when a build runs, so `kzquiz --version` and `kzquiz check` stay light.
STEPS: list[tuple[str, str]] = [
    ("anki", "kzquiz.build:anki_step"),
    ("worksheet", "kzquiz.render.worksheet:build_outputs"),
    ("selfcheck", "kzquiz.render.selfcheck:build_outputs"),
    ("exports", "kzquiz.render.exports:build_outputs"),
]


def build_all(loaded: LoadedBank, out_dir: Path) -> tuple[Outputs, list[Path]]:
    """Render every format in memory, then write all files atomically."""
    outputs = Outputs()
    for _label, target in STEPS:
        module_name, func_name = target.split(":")
        step: Callable[[LoadedBank, Path], Outputs] = getattr(
            importlib.import_module(module_name), func_name
        )
        outputs.update(step(loaded, out_dir))
    written = write_files(out_dir, outputs.files)
    return outputs, written


def formats() -> list[str]:
    """The names of the formats a build makes."""
    return [label for label, _ in STEPS]


def anki_outputs(loaded: LoadedBank, out_dir: Path, questions: Sequence[Question]) -> Outputs:
    """The Anki deck of `questions`, given the state file the output folder holds (if any)."""
    from kzquiz.render import RenderJob
    from kzquiz.render.anki import render, state_file_name
    from kzquiz.render.anki.state import MAX_STATE_BYTES

    name = state_file_name(loaded.id)
    path = out_dir / name
    try:
        with path.open("rb") as file:
            # Read one byte past the limit, so the renderer refuses an oversized file.
            previous = {name: file.read(MAX_STATE_BYTES + 1)}
    except (FileNotFoundError, NotADirectoryError):
        # No output folder yet (or -o names a file, which writing the outputs reports).
        previous = {}
    except OSError as exc:
        raise OutputError(
            f"{path}: cannot read the Anki state file: {exc.strerror or exc}"
        ) from None
    return render(RenderJob(loaded, questions, previous=previous))


def anki_step(loaded: LoadedBank, out_dir: Path) -> Outputs:
    """The `kzquiz build` step: the whole bank as an Anki deck plus its state file."""
    return anki_outputs(loaded, out_dir, loaded.bank.questions)
