"""Fixtures for the catalog importer tests: real catalog files and small hand-written ones."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.catalog.model import Entity, ParseResult

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "catalog"


@dataclass
class Parsed:
    """A ParseResult with its problems as `file:line: message` strings and entities by ref."""

    result: ParseResult

    @property
    def errors(self) -> list[str]:
        return [str(problem) for problem in self.result.errors]

    @property
    def warnings(self) -> list[str]:
        return [str(problem) for problem in self.result.warnings]

    @property
    def refs(self) -> list[str]:
        return [entity.ref for entity in self.result.entities]

    def __getitem__(self, ref: str) -> Entity:
        return next(entity for entity in self.result.entities if entity.ref == ref)


@pytest.fixture
def parse() -> Callable[..., Parsed]:
    return lambda *paths: Parsed(parse_paths(list(paths)))


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a dedented file under tmp_path; returns its resolved path."""

    def write_file(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path.resolve()

    return write_file
