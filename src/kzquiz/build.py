"""`kzquiz build`: every output format for one bank, written to one folder as a set."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

from kzquiz.bank import LoadedBank
from kzquiz.output import write_files
from kzquiz.render import Outputs

# Each step is "module:function" with the signature (loaded, out_dir) -> Outputs. They are
# imported only when a build runs, so `kzquiz --version` and `kzquiz check` stay light.
STEPS: list[tuple[str, str]] = [
    ("anki", "kzquiz.render.anki:build_outputs"),
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
