"""The scheduled scorecard evaluation and its stored results.

Each run evaluates every service on every loaded scorecard, compares each result with the
stored one and records only what changed (level, score or failing rules), with the moment,
in one transaction under a lock: two processes evaluating at once record each change once.
Nags and digests then ask where services stood at a moment (`as_of`) and stand now.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.scorecards.model import EXEMPT, NEEDS, PASS, Scorecard, ServiceResult
from switchboard.bot.scorecards.service import ScorecardService
from switchboard.storage import scorecard_store
from switchboard.storage.scorecard_store import Standing

log = logging.getLogger(__name__)

__all__ = ["Evaluation", "ScorecardResults", "Standing", "rank", "standing"]


def standing(scorecard: Scorecard, result: ServiceResult) -> Standing:
    failing = [o for o in result.outcomes if o.status not in (PASS, EXEMPT)]
    score = None if result.score is None else round(result.score, 4)
    return Standing(
        scorecard.id,
        result.service,
        result.level or "",
        score,
        tuple(sorted(o.rule.id for o in failing)),
        tuple(sorted(o.rule.id for o in failing if o.withheld)),
        tuple(sorted(o.rule.id for o in failing if o.status == NEEDS)),
    )


def rank(scorecard: Scorecard, level: str) -> int:
    """0 below the first level, 1 at the first, ...; a level no longer defined counts 0."""
    return scorecard.levels.index(level) + 1 if level in scorecard.levels else 0


@dataclass(frozen=True, slots=True)
class Evaluation:
    results: int
    changed: int
    dropped: int
    improved: int
    gone: int

    def summary(self) -> str:
        return (
            f"evaluated {self.results} scorecard result(s): {self.changed} changed "
            f"({self.improved} up a level, {self.dropped} down a level), "
            f"{self.gone} no longer scored"
        )


class ScorecardResults:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        scorecards: ScorecardService,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._scorecards = scorecards
        self._clock = clock
        self._running = asyncio.Lock()  # the job and a digest may both ask at once
        self._last: datetime | None = None  # this process's last evaluation

    async def evaluate(self) -> Evaluation:
        """Evaluate everything now and store what changed."""
        async with self._running:
            evaluation = await self._evaluate()
            self._last = self._clock()
            return evaluation

    async def ensure_fresh(self, within: timedelta) -> None:
        """Evaluate unless this process did within `within` (as the scheduled job does): a
        digest run right after a start waits for the start's evaluation instead of
        reporting results that are not there yet."""
        async with self._running:
            if self._last is None or self._clock() - self._last > within:
                await self._evaluate()
                self._last = self._clock()

    async def _evaluate(self) -> Evaluation:
        loaded = {s.id: s for s in self._scorecards.scorecards}
        fresh = {
            (item.scorecard.id, item.result.service): standing(item.scorecard, item.result)
            for item in await self._scorecards.evaluate_all()
        }
        async with self._sessions() as session:
            await scorecard_store.lock_for_evaluation(session)
            stored = await scorecard_store.current(session)
            changed = [now for pair, now in fresh.items() if stored.get(pair) != now]
            # A result of a scorecard that is not loaded now (a file being fixed) is kept.
            gone = [p for p in stored if p not in fresh and p[0] in loaded]
            await scorecard_store.save(session, changed, gone, self._clock())
        moves = [
            rank(loaded[now.scorecard], now.level) - rank(loaded[now.scorecard], before.level)
            for now in changed
            if (before := stored.get(now.pair))
        ]
        evaluation = Evaluation(
            len(fresh),
            len(changed),
            dropped=sum(1 for move in moves if move < 0),
            improved=sum(1 for move in moves if move > 0),
            gone=len(gone),
        )
        if changed or gone:
            log.info("scorecards: %s", evaluation.summary())
        return evaluation

    async def now(self, services: Collection[str] | None = None) -> dict[tuple[str, str], Standing]:
        async with self._sessions() as session:
            return await scorecard_store.current(session, services)

    async def changed_between(self, start: datetime, end: datetime) -> set[str]:
        async with self._sessions() as session:
            return await scorecard_store.changed_between(session, start, end)

    async def as_of(
        self, moment: datetime, services: Collection[str] | None = None
    ) -> dict[tuple[str, str], Standing]:
        async with self._sessions() as session:
            return await scorecard_store.as_of(session, moment, services)
