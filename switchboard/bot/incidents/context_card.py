"""The responder context card: posted once in an incident's channel on declare (never in a
public place, so a private incident's dependents stay inside it), beside the incident card:
what changed before (the affected services' deploys), what else is affected (the dependents
by team, with **Notify owners**) and who was notified. Posted through the notification
ledger (once per incident, whatever retries or replicas do) and updated in place after a
notice."""

from __future__ import annotations

import logging
from typing import Any

from switchboard.bot.catalog.api import DependencyNode as Node
from switchboard.bot.catalog.api import TeamDependents
from switchboard.bot.incidents.affected import Affected, AffectedService, reveal_text
from switchboard.bot.incidents.changes import Changes, ChangesService
from switchboard.bot.incidents.service import IncidentService
from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.delivery import Delivery, Key, Outgoing
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.slack_gateway import SlackFailure
from switchboard.bot.platform.text import safe, shorten
from switchboard.storage.context_store import ContextStore
from switchboard.storage.tables import Incident

log = logging.getLogger(__name__)

Block = dict[str, Any]
KIND = "incident-context"  # the ledger's kind: one card per incident
NOTIFY_ACTION = "incident_notify_owners"
REVEAL_ACTION = "incident_notify_reveal"  # a private incident's: behind a confirm dialog
MAX_TEAMS = 12  # team sections on the card (Block Kit: 50 blocks a message)
MAX_NAMES = 15  # services named per team; the rest counted
SECTION = 2900  # characters of one section's text (Block Kit: 3,000)


def render(changes: Changes, affected: Affected, notified: list[Node]) -> tuple[str, list[Block]]:
    view = affected.view
    blocks: list[Block] = [
        kit.section(f"*What changed* (deploys in the window before declare)\n{changes.text()}"),
        kit.section(_summary(affected)),
    ]
    blocks += [kit.section(_team(group)) for group in affected.groups[:MAX_TEAMS]]
    if len(affected.groups) > MAX_TEAMS:
        left = len(affected.groups) - MAX_TEAMS
        blocks.append(kit.context(f"…and {left} more team{'' if left == 1 else 's'}"))
    if notified:
        names = ", ".join(f"{safe(t.name, 80)} ({_channel(t.channel)})" for t in notified)
        blocks.append(kit.context(shorten(f"Notified: {names}", SECTION)))
    waiting = [t for t in affected.offered if t not in notified]
    if waiting and view.incident.closed_at is None:
        blocks.append(_notify(affected))
    text = f"{view.ref}: what changed and what else is affected"
    return text, blocks


def _summary(affected: Affected) -> str:
    if not affected.total:
        return f"*What else is affected*\nNothing in the catalog depends on {_names(affected)}."
    teams = len([g for g in affected.groups if g.team is not None])
    levels = f"{affected.depth} level{'' if affected.depth == 1 else 's'}"
    return (
        f"*What else is affected*\n{affected.total} service"
        f"{'' if affected.total == 1 else 's'} of {teams} team{'' if teams == 1 else 's'} "
        f"depend on {_names(affected)} (to {levels})"
    )


def _names(affected: Affected) -> str:
    return affected.affected_names() or "the affected services"


def _team(group: TeamDependents) -> str:
    team = group.team
    head = f"*{safe(team.name, 100)}*" if team else "*No owning team*"
    if team is not None:
        head += f" {_channel(team.channel)}" if team.channel else " (no channel)"
    names = [
        safe(d.node.name, 100) + ("" if d.depth == 1 else f" (level {d.depth})")
        for d in group.services[:MAX_NAMES]
    ]
    more = len(group.services) - len(names)
    tail = f" and {more} more" if more else ""
    return shorten(f"{head}: {', '.join(names)}{tail}", SECTION)


def _channel(channel: str) -> str:
    if channel[:1] in ("C", "G") and channel[1:].isalnum() and channel.isupper():
        return f"<#{channel}>"
    return safe("#" + channel.lstrip("#"), 80)


def _notify(affected: Affected) -> Block:
    assert affected.view.incident.id is not None
    value = f"{affected.view.incident.id}:{affected.digest}"
    teams = len(affected.offered)
    label = f"Notify owners ({teams} team{'' if teams == 1 else 's'})"
    if not affected.view.incident.private:
        return {"type": "actions", "elements": [kit.button(NOTIFY_ACTION, label, value)]}
    button = kit.button(REVEAL_ACTION, label, value)
    button["confirm"] = {
        "title": kit.plain("Reveal this private incident?"),
        "text": kit.plain(reveal_text(affected), 300),
        "confirm": kit.plain("Notify them"),
        "deny": kit.plain("Cancel"),
    }
    return {"type": "actions", "elements": [button]}


class ContextCards:
    def __init__(
        self,
        deps: Deps,
        incidents: IncidentService,
        changes: ChangesService,
        affected: AffectedService,
    ) -> None:
        self._store = ContextStore(deps.sessions)
        self._delivery: Delivery = deps.delivery
        self._gateway = deps.gateway
        self._incidents = incidents
        self._changes = changes
        self._affected = affected
        self._posted: set[int] = set()  # in this process: no ledger read on every sync

    async def after_sync(self, incident: Incident) -> None:
        """The incident sync's last step: the card, once its channel exists (a failed post
        is tried again on the incident's next sync). Not for an incident over already."""
        if incident.id is None or incident.id in self._posted or not incident.channel_id:
            return
        if incident.resolved_at is not None:
            self._posted.add(incident.id)  # declared before the feature, or over: no card
            return
        view = await self._incidents.view(incident.id)
        if view is None or not view.services:
            self._posted.add(incident.id)
            return
        text, blocks = await self._render(view)
        key = _key(incident.id)
        report = await self._delivery.deliver([Outgoing(key, incident.channel_id, text, blocks)])
        if not report.failed:
            self._posted.add(incident.id)

    async def refresh(self, incident_id: int) -> None:
        """Render the card again where it was posted (after a notice, or a stale click)."""
        view = await self._incidents.view(incident_id)
        channel, ts = await self._store.message_ts(_key(incident_id))
        if view is None or not ts:
            return
        text, blocks = await self._render(view)
        try:
            await self._gateway.update(channel, ts, text, blocks)
        except SlackFailure as failure:
            log.warning("%s: context card not updated: %s", view.ref, failure.error)

    async def _render(self, view: IncidentView) -> tuple[str, list[Block]]:
        changes = await self._changes.before_declare(view)
        affected = await self._affected.of(view)
        return render(changes, affected, await self._affected.notified(affected))


def _key(incident_id: int) -> Key:
    return Key(KIND, str(incident_id), "card")
