"""The LMS exports as one `kzquiz build` step: GIFT, QTI, Quizlet, CSV and Moodle XML of the bank."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from kzquiz.bank import LoadedBank
from kzquiz.model import Question
from kzquiz.render import Outputs

Renderer = Callable[[LoadedBank, Sequence[Question]], tuple[bytes, list[str]]]

# format name -> (file name suffix, "module:function", is text)
FORMATS: dict[str, tuple[str, str, bool]] = {
    "gift": (".gift.txt", "kzquiz.render.gift:render_gift", True),
    "qti": (".qti.zip", "kzquiz.render.qti:render_qti", False),
    "quizlet": (".quizlet.txt", "kzquiz.render.quizlet:render_quizlet", True),
    "csv": (".csv", "kzquiz.render.csv:render_csv", True),
    "moodle": (".moodle.xml", "kzquiz.render.moodle:render_moodle", True),
}


def renderer(fmt: str) -> Renderer:
    """The render function of one format, imported only when asked for."""
    import importlib

    module_name, func_name = FORMATS[fmt][1].split(":")
    func: Renderer = getattr(importlib.import_module(module_name), func_name)
    return func


def file_name(loaded: LoadedBank, fmt: str) -> str:
    """`<bank-id>.<ext>`, the name an export gets in decks/ and by default."""
    return loaded.id + FORMATS[fmt][0]


def build_outputs(loaded: LoadedBank, out_dir: Path) -> Outputs:
    """Every export of the whole bank, with the notes of every format."""
    outputs = Outputs()
    for fmt in FORMATS:
        data, notes = renderer(fmt)(loaded, loaded.bank.questions)
        outputs.files[file_name(loaded, fmt)] = data
        outputs.notes.extend(notes)
    return outputs
