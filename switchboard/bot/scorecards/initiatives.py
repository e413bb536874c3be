"""Initiatives: how far a scorecard's services are towards a target, and which reminder is due.

Pure functions over what is known of each service (a `Standing`, from a live evaluation or
from stored results), so `/scorecard`, the digests and the reminder job all count alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from switchboard.bot.catalog.api import Entity
from switchboard.bot.scorecards.evaluate import applies
from switchboard.bot.scorecards.model import (
    FAIL,
    NEEDS,
    UNSUPPORTED,
    Initiative,
    Scorecard,
    ServiceResult,
)


@dataclass(frozen=True, slots=True)
class Standing:
    """What is known of one service on one scorecard."""

    service: str  # entity ref
    level: str | None  # None: below the first level
    failing: frozenset[str]  # ids of the rules not passing: failing, unsupported or needs
    withheld: frozenset[str] = frozenset()  # of those, the ones never named in public

    @classmethod
    def of(cls, result: ServiceResult) -> Standing:
        failing = [o for o in result.outcomes if o.status in (FAIL, UNSUPPORTED, NEEDS)]
        withheld = frozenset(o.rule.id for o in failing if o.withheld)
        return cls(result.service, result.level, frozenset(o.rule.id for o in failing), withheld)


@dataclass(frozen=True, slots=True)
class Shortfall:
    service: str  # entity ref
    needs: tuple[str, ...]  # the ids of the rules it still has to pass, in scorecard order
    unnamed: int = 0  # rules it has to pass besides, that private incidents fail: not named


@dataclass(frozen=True, slots=True)
class Progress:
    initiative: Initiative
    met: tuple[str, ...]  # refs meeting the target, in the order given
    missing: tuple[Shortfall, ...]  # refs not meeting it, in the order given
    days_left: int  # deadline - today; 0 on the day, negative when overdue

    @property
    def total(self) -> int:
        return len(self.met) + len(self.missing)

    @property
    def percent(self) -> int | None:
        """Rounded down, so 100 means every service; None when no service is in scope."""
        return len(self.met) * 100 // self.total if self.total else None

    @property
    def done(self) -> bool:
        return not self.missing


def in_scope(initiative: Initiative, scorecard: Scorecard, entity: Entity) -> bool:
    """Whether the initiative counts this entity: the scorecard applies to it, and neither the
    initiative's filter nor its list of services leaves it out."""
    return (
        applies(scorecard.filter, entity)
        and applies(initiative.filter, entity)
        and (not initiative.services or entity.ref in initiative.services)
    )


def progress(
    initiative: Initiative,
    scorecard: Scorecard,
    entities: Iterable[tuple[Entity, Standing]],
    today: date,
) -> Progress:
    """Which of these entities in the initiative's scope meet its target; the others, with
    the rules they need: those failing at the target level and below, or the target rule."""
    needed = _needed(initiative, scorecard)
    rank = {level: i for i, level in enumerate(scorecard.levels)}
    target = rank.get(initiative.level, len(scorecard.levels))
    met: list[str] = []
    missing: list[Shortfall] = []
    for entity, standing in entities:
        if not in_scope(initiative, scorecard, entity):
            continue
        if initiative.level:
            # A level no longer in the scorecard (renamed since it was stored) reaches none.
            ok = rank.get(standing.level or "", -1) >= target
        else:
            ok = initiative.rule not in standing.failing
        if ok:
            met.append(entity.ref)
        else:
            needs = [rule for rule in needed if rule in standing.failing]
            named = tuple(rule for rule in needs if rule not in standing.withheld)
            missing.append(Shortfall(entity.ref, named, len(needs) - len(named)))
    return Progress(initiative, tuple(met), tuple(missing), (initiative.deadline - today).days)


def _needed(initiative: Initiative, scorecard: Scorecard) -> tuple[str, ...]:
    """The rules a service must pass to meet the target, in the scorecard's order."""
    if initiative.rule:
        return (initiative.rule,)
    rank = {level: i for i, level in enumerate(scorecard.levels)}
    target = rank.get(initiative.level, len(scorecard.levels))
    return tuple(r.id for r in scorecard.rules if rank.get(r.level, len(rank)) <= target)


def due_reminder(initiative: Initiative, today: date) -> int | None:
    """The reminder threshold (days before the deadline) that today reaches: the smallest
    one not below the days left, so a day missed while the bot was down is caught up once,
    not once per threshold. None before the first threshold and after the deadline.

    A job keys its ledger on (initiative id, this threshold): one reminder per threshold."""
    days_left = (initiative.deadline - today).days
    if days_left < 0:
        return None
    return min((days for days in initiative.reminders if days >= days_left), default=None)
