"""Reading catalog files into the database, and reading entities back out."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.catalog.loader import collection_paused, parse_paths
from switchboard.bot.catalog.model import Entity, ParseResult
from switchboard.bot.catalog.rows import to_record
from switchboard.bot.platform.progress import Progress, quiet
from switchboard.storage import catalog_store
from switchboard.storage.catalog_store import EntityRecord, ImportStats


@dataclass(frozen=True, slots=True)
class ImportReport:
    parsed: ParseResult
    stats: ImportStats | None  # None when nothing was written because of errors


def _read(paths: Sequence[str], workers: int, progress: Progress) -> tuple[ParseResult, list[str]]:
    """The parsed files, and the folders among `paths`: the import's scope for removals."""
    parsed = parse_paths(paths, workers, progress)
    return parsed, [str(Path(p).resolve()) for p in paths if Path(p).is_dir()]


COMPARED = "entities compared"


def _records(entities: Sequence[Entity], progress: Progress) -> list[EntityRecord]:
    """Each entity's record (its digest is what a re-import compares)."""
    records = []
    with collection_paused():  # millions of objects made, none of them garbage yet
        for start in range(0, len(entities), _STEP):
            records += [to_record(e) for e in entities[start : start + _STEP]]
            progress(COMPARED, len(records), len(entities))
    return records


_STEP = 2_000


class CatalogService:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        imported: Callable[[], None] = lambda: None,
        workers: int = 1,
    ) -> None:
        """`imported` is told of every import written, for what caches the catalog; `workers`
        is how many processes read a big catalog's files."""
        self._sessions = sessions
        self._imported = imported
        self._workers = workers

    async def check(self, paths: Sequence[str], progress: Progress = quiet) -> ParseResult:
        # Parsing is file I/O and CPU: keep it off the event loop that answers Slack.
        return await asyncio.to_thread(parse_paths, paths, self._workers, progress)

    async def import_paths(self, paths: Sequence[str], progress: Progress = quiet) -> ImportReport:
        """All or nothing: with any error nothing is written and the catalog stays as it was."""
        parsed, folders = await asyncio.to_thread(_read, paths, self._workers, progress)
        if not parsed.ok:
            return ImportReport(parsed, None)
        records = await asyncio.to_thread(_records, parsed.entities, progress)
        # the rows written are made and dropped in their thousands: no garbage cycles
        with collection_paused():
            async with self._sessions() as session, session.begin():
                stats = await catalog_store.apply_import(
                    session, records, set(parsed.files), folders, progress
                )
        self._imported()
        return ImportReport(parsed, stats)

    async def counts(self) -> dict[str, int]:
        """How many entities of each kind the catalog holds."""
        async with self._sessions() as session:
            return await catalog_store.count_by_kind(session)
