"""The App Home tab: my open incidents (with a button to declare one), my open follow-ups,
recent incidents, and the catalog at a glance."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from switchboard.bot.catalog.api import USAGE, CatalogService
from switchboard.bot.incidents.api import (
    FollowUpService,
    IncidentService,
    IncidentView,
    Item,
    Listing,
    incident_line,
    modals,
    ref,
)
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.slack_gateway import SlackGateway
from switchboard.bot.platform.text import safe

RECENT = 10
DECLARE_ACTION = "home_declare"  # the Home tab's Declare button: opens the declare modal


class HomeService:
    def __init__(
        self,
        catalog: CatalogService,
        incidents: IncidentService,
        config: IncidentsConfig,
        gateway: SlackGateway,
        followups: FollowUpService | None = None,
        key_numbers: Callable[[str], Awaitable[list[str]]] | None = None,
    ) -> None:
        """`key_numbers`: insight's lines for the viewer's teams (`InsightService.home_lines`)."""
        self._catalog = catalog
        self._incidents = incidents
        self._config = config
        self._gateway = gateway
        self._followups = followups
        self._key_numbers = key_numbers

    async def publish(self, user_id: str) -> None:
        mine = await self._incidents.listing(open_only=True, limit=RECENT, user=user_id)
        recent = await self._incidents.listing(open_only=False, limit=RECENT)
        counts = await self._catalog.counts()
        # The viewer's own open follow-ups, as `/incident followups` lists them outside an
        # incident channel: those of private incidents only when the viewer takes part.
        followups = await self._followups.listing(user_id, "", "") if self._followups else None
        view = self.view(mine, recent, counts, followups)
        if self._key_numbers is not None and (numbers := await self._key_numbers(user_id)):
            view["blocks"][6:6] = [
                kit.header("Your teams, last 28 days"),
                kit.section("\n".join(numbers)),
                kit.context("`/incident stats team:&lt;name&gt;` says more: docs/insight.md"),
            ]
        await self._gateway.publish_home(user_id, view)

    async def open_declare(self, trigger_id: str) -> None:
        """The Declare button: the same modal as `/incident declare`, whose submission the
        incident listeners handle (no channel to answer in: the tab is the viewer's own)."""
        await self._gateway.open_view(trigger_id, modals.declare(self._config, ""))

    def view(
        self,
        mine: list[IncidentView],
        recent: list[IncidentView],
        counts: dict[str, int],
        followups: Listing | None = None,
    ) -> dict[str, Any]:
        mine_ids = {v.incident.id for v in mine}
        shown = [
            v
            for v in recent
            if v.incident.id in mine_ids
            or not v.incident.private
            or self._config.private_in_public == "count"
        ]
        lines_mine = [incident_line(v, self._config, show_private=True) for v in mine]
        lines_recent = [incident_line(v, self._config, v.incident.id in mine_ids) for v in shown]
        services = sum(n for kind, n in counts.items() if kind not in ("group", "user"))
        summary = (
            f"The catalog knows *{services}* services and other components, "
            f"*{counts.get('group', 0)}* teams and *{counts.get('user', 0)}* people."
        )
        yours = kit.section("\n".join(lines_mine) or "None. Declare one with `/incident declare`.")
        yours["accessory"] = kit.button(DECLARE_ACTION, "Declare an incident", "declare", "danger")
        return {
            "type": "home",
            "blocks": [
                kit.header("Your open incidents"),
                yours,
                kit.header("Recent incidents"),
                kit.section("\n".join(lines_recent) or "None yet."),
                kit.header("Your open follow-ups"),
                kit.section(_followups(followups)),
                {"type": "divider"},
                kit.header("Service catalog"),
                kit.section(summary),
                kit.section(USAGE),
            ],
        }


def _followups(listing: Listing | None) -> str:
    if listing is None or not listing.items:
        return "None."
    lines = [_followup_line(item, listing) for item in listing.items]
    if listing.more:
        lines.append(f"…and {listing.more} more: `/incident followups` lists them all.")
    return "\n".join(kit.chunks(lines)[:1])  # one section: the tab stays within its limits


def _followup_line(item: Item, listing: Listing) -> str:
    followup = item.followup
    due = followup.due
    when = f"due {due}" if due else "no due date"
    if due and due < listing.today:
        when += " :warning: overdue"
    return f"• {safe(followup.text, 300)} ({ref(item.incident.number)}, {when})"
