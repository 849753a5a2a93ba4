"""A loaded bank: the validated models with their reading passage, what every renderer takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kzquiz.errors import Problem
from kzquiz.model import Bank
from kzquiz.source import SourceText

if TYPE_CHECKING:
    from kzquiz.images import ImageFile


@dataclass
class LoadedBank:
    """A valid bank with its reading passage and everything the renderers need to know."""

    bank: Bank
    path: Path
    display: str
    source: SourceText
    paragraph_of: dict[str, int] = field(default_factory=dict)  # question id -> evidence paragraph
    warnings: list[Problem] = field(default_factory=list)
    # the pictures `image:` names, read and checked: bank path -> file (see kzquiz.images)
    images: dict[str, ImageFile] = field(default_factory=dict)
    # The language of the text around the questions (kzquiz.i18n.choose); None: the bank's.
    ui_language: str | None = None

    @property
    def id(self) -> str:
        """The bank id."""
        return self.bank.bank.id

    @property
    def title(self) -> str:
        """The bank title."""
        return self.bank.bank.title
