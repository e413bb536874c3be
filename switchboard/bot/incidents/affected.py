"""What else is affected: the services that depend on an incident's affected ones (the
catalog's dependsOn reversed, to a configured depth), grouped by owning team, read from the
catalog reader's in-memory graph; and **Notify owners**, one short notice in each of those
teams' channels, once per team per incident (the notification ledger).

Who may notify is the incident buttons' rule (`IncidentService.may_act`). A private
incident's notice names its existence and the affected service, never its title or channel,
and is sent only from the card's confirming button (`reveal`)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from switchboard.bot.catalog.api import CatalogReader, Graph, TeamDependents
from switchboard.bot.catalog.api import DependencyNode as Node
from switchboard.bot.incidents.service import IncidentService, Refused
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.delivery import Delivery, Key, Outgoing, Report
from switchboard.bot.platform.text import safe

log = logging.getLogger(__name__)

KIND = "incident-dependents"  # the ledger's kind: one row per (incident, team)
PERIOD = "notify"
MAX_NOTIFIED = 20  # teams offered a notice: those with most dependents first
NOTICE_NAMES = 5  # their services named in a notice


class Stale(Refused):
    """A click on a card whose offered teams are no longer the ones the bot would offer."""


@dataclass(frozen=True, slots=True)
class Affected:
    """What depends on an incident's affected services, as its card shows it."""

    view: IncidentView
    graph: Graph
    groups: list[TeamDependents]  # by team, most dependents first
    total: int  # dependent services
    depth: int

    @property
    def offered(self) -> list[Node]:
        """The teams a notice may go to: those with a channel, most dependents first."""
        teams = [g.team for g in self.groups if g.team is not None and g.team.channel]
        return teams[:MAX_NOTIFIED]

    @property
    def digest(self) -> str:
        """Names the offered teams in the button: a click is honoured only for the teams its
        card offered (the catalog may have changed since, or the payload be forged)."""
        joined = "\n".join(t.ref for t in self.offered)
        return hashlib.sha256(joined.encode()).hexdigest()[:16]

    def key(self, team: Node) -> Key:
        assert self.view.incident.id is not None
        return Key(KIND, f"{self.view.incident.id}/{team.ref}", PERIOD)

    def affected_names(self) -> str:
        return ", ".join(safe(s.name or s.entity_ref, 100) for s in self.view.services[:5])


def notice(affected: Affected, team: TeamDependents) -> str:
    """One short message for a team's channel. A private incident's names that it exists
    and what it affects; never its title or channel (whose name holds the title)."""
    view = affected.view
    names = [safe(d.node.name, 100) for d in team.services[:NOTICE_NAMES]]
    more = len(team.services) - len(names)
    theirs = ", ".join(f"*{n}*" for n in names) + (f" and {more} more" if more else "")
    depends = "depends" if len(team.services) == 1 else "depend"
    what = f"*{affected.affected_names()}*"
    if view.incident.private:
        return (
            f"A private incident ({view.ref}) affects {what}, which {theirs} of yours {depends} "
            "on. Its responders may reach out; its details stay with them."
        )
    incident = view.incident
    where = f" Follow it in <#{incident.channel_id}>." if incident.channel_id else ""
    return (
        f"Heads-up: {view.ref} ({safe(incident.severity, 20)}, {safe(incident.status, 30)}) "
        f"affects {what}, which {theirs} of yours {depends} on.{where}"
    )


def reveal_text(affected: Affected) -> str:
    """What the private incident's confirm dialog says will be revealed (Block Kit: 300
    characters at most)."""
    teams = len(affected.offered)
    text = (
        f"Each of {teams} team channel{'' if teams == 1 else 's'} will be told that a private "
        f"incident ({affected.view.ref}) exists and affects {affected.affected_names()}. "
        "Its title, channel and details stay private."
    )
    return text if len(text) <= 300 else text[:299] + "…"


class AffectedService:
    def __init__(
        self,
        catalog: CatalogReader,
        incidents: IncidentService,
        delivery: Delivery,
        depth: int,
    ) -> None:
        self._catalog = catalog
        self._incidents = incidents
        self._delivery = delivery
        self.depth = depth

    async def of(self, view: IncidentView) -> Affected:
        refs = [s.entity_ref for s in view.services]
        graph, found = await self._catalog.dependents(refs, self.depth)
        return Affected(view, graph, graph.by_team(found), len(found), self.depth)

    async def notified(self, affected: Affected) -> list[Node]:
        """The offered teams the ledger says were sent their notice."""
        teams = affected.offered
        sent = await self._delivery.sent([affected.key(t) for t in teams])
        return [t for t in teams if affected.key(t) in sent]

    async def notify(
        self, incident_id: int, actor: str, digest: str, *, reveal: bool
    ) -> tuple[Affected, Report]:
        """Send each offered team its notice once (a second click, a retry, another
        replica: the ledger sends none twice). Refused, saying why, when `actor` may not act
        on the incident, a private incident's notice comes unconfirmed, or `digest` is not
        the one of the teams the bot offers now."""
        view = await self._incidents.may_act(incident_id, actor, "notify the owners")
        if view.incident.private and not reveal:
            raise Refused(
                f"{view.ref} is private: notifying owners reveals that it exists and what it "
                "affects. Use the card's *Notify owners* button and confirm."
            )
        affected = await self.of(view)
        if digest != affected.digest:
            raise Stale(
                "The teams depending on this incident's services changed since the card was "
                "posted. I have updated it: check the list and press *Notify owners* again."
            )
        if not affected.offered:
            raise Refused("None of the teams that depend on it has a Slack channel in the catalog.")
        by_ref = {g.team.ref: g for g in affected.groups if g.team is not None}
        outgoing = [
            Outgoing(affected.key(t), t.channel, notice(affected, by_ref[t.ref]))
            for t in affected.offered
        ]
        report = await self._delivery.deliver(outgoing)
        log.info("%s: owners notified by %s: %s", view.ref, actor, report.summary())
        return affected, report
