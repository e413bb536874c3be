"""Reading catalog files into the database, and reading entities back out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.loader import parse_paths
from switchboard.bot.catalog.model import ParseResult
from switchboard.bot.catalog.rows import to_record
from switchboard.storage import catalog_store
from switchboard.storage.catalog_store import ImportStats


@dataclass(frozen=True, slots=True)
class ImportReport:
    parsed: ParseResult
    stats: ImportStats | None  # None when nothing was written because of errors


def _read(paths: Sequence[str]) -> tuple[ParseResult, list[str]]:
    """The parsed files, and the folders among `paths`: the import's scope for removals."""
    return parse_paths(paths), [str(Path(p).resolve()) for p in paths if Path(p).is_dir()]


class CatalogService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        imported: Callable[[], None] = lambda: None,
    ) -> None:
        """`imported` is told of every import written, for what caches the catalog."""
        self._sessions = sessions
        self._imported = imported

    async def check(self, paths: Sequence[str]) -> ParseResult:
        # Parsing is file I/O and CPU: keep it off the event loop that answers Slack.
        return await asyncio.to_thread(parse_paths, paths)

    async def import_paths(self, paths: Sequence[str]) -> ImportReport:
        """All or nothing: with any error nothing is written and the catalog stays as it was."""
        parsed, folders = await asyncio.to_thread(_read, paths)
        if not parsed.ok:
            return ImportReport(parsed, None)
        records = [to_record(e) for e in parsed.entities]
        async with self._sessions() as session, session.begin():
            stats = await catalog_store.apply_import(session, records, set(parsed.files), folders)
        self._imported()
        return ImportReport(parsed, stats)

    async def counts(self) -> dict[str, int]:
        """How many entities of each kind the catalog holds."""
        async with self._sessions() as session:
            return await catalog_store.count_by_kind(session)
