"""What changed: the affected services' deploys in the configured window before an incident
was declared (CI's `POST /api/deploys` and GitHub's stored deployments), as lines for the
context card, `/incident changes` and the catch-up; and a deploy of an affected service
recorded after declare, as a line on that incident's timeline as it arrives.

Read from the stored deploys and facts only: no network call."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from switchboard.bot.incidents.service import IncidentService, Refused
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.text import safe
from switchboard.storage.context_store import ContextStore, Deployed
from switchboard.storage.facts_store import DeployRow

log = logging.getLogger(__name__)

SHOWN = 5  # deploys listed; the rest are counted
EVENT_KIND = "deploy"  # the incident event of a deploy after declare
_VERBS = {
    "success": "deployed",
    "in_progress": "was deploying",
    "failure": "failed a deploy",
    "cancelled": "cancelled a deploy",
    "rolled_back": "rolled back",
    # GitHub's deployment states
    "inactive": "deployed",
    "error": "failed a deploy",
    "pending": "was deploying",
    "queued": "was deploying",
}
# Wakes the sync of an incident, so a new timeline line reaches its channel now.
Sync = Callable[[int], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Changes:
    lines: list[str]  # newest first, at most SHOWN
    more: int  # beyond those
    window: timedelta

    def text(self) -> str:
        """The lines as mrkdwn, with the count beyond and a line when there are none."""
        if not self.lines:
            return (
                f"No deploys of the affected services in the {_span(self.window)} before declare."
            )
        more = [f"• and {self.more} more"] if self.more else []
        return "\n".join([*(f"• {line}" for line in self.lines), *more])


def deploy_line(deploy: Deployed, name: str, declared: datetime, tz: ZoneInfo) -> str:
    """ "checkout deployed 13 min before declare (abc1234 by @bob, finished 10:02)"."""
    verb = _VERBS.get(deploy.status, safe(deploy.status, 30) or "deployed")
    minutes = int((declared - deploy.at).total_seconds() // 60)
    when = f"{minutes} min before declare" if minutes >= 0 else f"{-minutes} min after declare"
    details = [safe(deploy.sha[:7], 7) or "no sha"]
    if deploy.author:
        details[0] += f" by @{safe(deploy.author.removeprefix('@'), 80)}"
    if deploy.source == "github":
        details.append(f"GitHub deployment to {safe(deploy.environment, 40) or 'an environment'}")
    stamp = deploy.at.astimezone(tz).strftime("%H:%M")
    finished = "finished" if deploy.status == "success" else "at"
    return f"{safe(name, 100)} {verb} {when} ({', '.join(details)}, {finished} {stamp})"


class ChangesService:
    def __init__(self, deps: Deps, window: timedelta, incidents: IncidentService) -> None:
        self._incidents = incidents
        self._store = ContextStore(deps.sessions)
        self._clock = deps.clock
        self._tz = ZoneInfo(deps.config.timezone)
        self.window = window
        self.sync: Sync | None = None  # given by the wiring: the incident sync's run

    async def on_demand(self, number: int | None, channel: str, viewer: str) -> str:
        """`/incident changes`: of the incident named or of this channel; a private one's
        for its participants only (Refused otherwise)."""
        view = await self._incidents.find(number, channel)
        assert view.incident.id is not None
        if view.incident.private and viewer not in await self._incidents.participants(
            view.incident.id
        ):
            raise Refused(f"{view.ref} is private: only its participants may read it.")
        changes = await self.before_declare(view)
        return f"*What changed before {view.ref}* (deploys before declare)\n{changes.text()}"

    async def before_declare(self, view: IncidentView) -> Changes:
        """The affected services' deploys in the window before declare, newest first."""
        declared = view.incident.declared_at
        names = {s.entity_ref: s.name or s.entity_ref for s in view.services}
        refs = list(names)
        since = declared - self.window
        found = await self._store.deploys(refs, since, declared)
        found += _github(await self._store.github_deployments(refs), since, declared)
        found.sort(key=lambda d: d.at, reverse=True)
        lines = [deploy_line(d, names[d.entity], declared, self._tz) for d in found[:SHOWN]]
        return Changes(lines, max(0, len(found) - SHOWN), self.window)

    async def lines(self, view: IncidentView) -> tuple[str, ...]:
        """The catch-up's "what changed": the card's lines, none when there were no deploys."""
        changes = await self.before_declare(view)
        more = (f"• and {changes.more} more",) if changes.more else ()
        return tuple(f"• {line}" for line in changes.lines) + more

    async def recorded(self, deploy: DeployRow, received: datetime) -> int:
        """CI reported a deploy (`POST /api/deploys`): a line on the timeline of each open
        incident its service is affected by and that it came after. Returns how many."""
        at = deploy.finished_at or deploy.started_at or received
        entity = deploy.entity
        found = Deployed(
            entity, at, deploy.sha, deploy.author, deploy.status, deploy.environment, "ci"
        )
        added = 0
        for incident_id in await self._store.open_incidents_of(entity):
            if await self._after_declare(incident_id, entity, found):
                added += 1
        return added

    async def _after_declare(self, incident_id: int, entity: str, deploy: Deployed) -> bool:
        affected = await self._store.affected(incident_id, entity)
        if affected is None or deploy.at < affected[0]:
            return False  # a deploy from before declare is on the card already
        declared, name = affected
        text = deploy_line(deploy, name or entity, declared, self._tz)
        await self._store.add_event(incident_id, EVENT_KIND, text, self._clock())
        if self.sync is not None:
            await self.sync(incident_id)
        return True


def _github(values: dict[str, Any], since: datetime, until: datetime) -> list[Deployed]:
    """GitHub's latest deployment per environment (the facts' `git.deployments`) that was
    created in the window; a malformed stored value is skipped, never shown."""
    found = []
    for entity, value in values.items():
        for item in value if isinstance(value, list) else []:
            at = _moment(item.get("created_at")) if isinstance(item, dict) else None
            if at is None or not since <= at <= until:
                continue
            state = item.get("state")
            found.append(
                Deployed(
                    entity,
                    at,
                    str(item.get("sha") or ""),
                    "",
                    state if isinstance(state, str) and state else "success",
                    str(item.get("environment") or ""),
                    "github",
                )
            )
    return found


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _span(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour" + ("" if hours == 1 else "s")
    return f"{minutes} min"
