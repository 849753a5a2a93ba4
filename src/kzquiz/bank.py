"""A loaded bank: the validated models with their reading passage, what every renderer takes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from kzquiz.errors import Problem
from kzquiz.model import Bank
from kzquiz.source import SourceText


@dataclass
class LoadedBank:
    """A valid bank with its reading passage and everything the renderers need to know."""

    bank: Bank
    path: Path
    display: str
    source: SourceText
    paragraph_of: dict[str, int] = field(default_factory=dict)  # question id -> evidence paragraph
    warnings: list[Problem] = field(default_factory=list)
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
