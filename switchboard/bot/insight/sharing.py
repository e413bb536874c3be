"""Sharing a chart in a channel, exactly once per ledger key: claim the key in the
notification ledger, draw (in a worker thread), upload the PNG, mark it sent; a failed upload
gives the claim back for a later try. Two replicas (or a replayed command) share one chart."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from switchboard.bot.insight import chart
from switchboard.bot.insight.service import ChartData
from switchboard.bot.platform.delivery import Key
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.text import safe
from switchboard.storage import delivery_store
from switchboard.storage.delivery_store import Claim

_CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


@dataclass(frozen=True, slots=True)
class Shared:
    file_id: str  # "" when it was not shared now
    reason: str = ""  # why not: "empty" (nothing to draw) or "taken" (shared before)


class ChartSharing:
    def __init__(self, deps: Deps) -> None:
        self._sessions = deps.sessions
        self._gateway = deps.gateway
        self._clock = deps.clock
        self._lease = timedelta(seconds=deps.config.delivery.lease_seconds)
        self._colors = {s.name: s.color for s in deps.config.incidents.severities}

    async def share(self, key: Key, channel: str, data: ChartData, comment: str) -> Shared:
        """Upload the chart of `data` to `channel` under `key`; SlackFailure when Slack
        refused it (the claim is given back)."""
        now = self._clock()
        async with self._sessions() as session:
            claimed = await delivery_store.claim(session, key, channel, now, now - self._lease)
            if claimed.outcome is not Claim.TAKEN and data.empty:
                # Nothing to draw: recorded as done, so it is not looked at again.
                await delivery_store.mark_sent(session, key, "", now)
        if claimed.outcome is Claim.TAKEN:
            return Shared("", "taken")
        if data.empty:
            return Shared("", "empty")
        try:
            png = await chart.render(data, self._colors)
            file_id = await self._gateway.upload_image(
                await self._channel_id(channel),
                "insight.png",
                png,
                safe(data.title, 200),
                comment,
                chart.alt_text(data),
            )
        except BaseException:
            async with self._sessions() as session:
                await delivery_store.release(session, key)
            raise
        async with self._sessions() as session:
            await delivery_store.mark_sent(session, key, file_id, self._clock())
        return Shared(file_id)

    async def _channel_id(self, channel: str) -> str:
        """Uploads are shared to an id: a channel given by name (a team's `#shop`) is looked
        up (not found: the name as given, which Slack refuses with channel_not_found)."""
        if _CONVERSATION_ID.match(channel):
            return channel
        found = await self._gateway.find_channel(channel.removeprefix("#"))
        return str(found["id"]) if found else channel
