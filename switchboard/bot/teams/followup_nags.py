"""Follow-up nags: once a day, from `nags.followups_at` in the configured time zone, every
owner of overdue open follow-ups hears of them: a person by DM, a team in its Slack channel
from the catalog (else `delivery.fallback_channel`). One nag per owner per day (the ledger
period is the day), listing the follow-ups with Done / Won't do buttons and a Snooze button.

The job runs every few minutes and sends what is due and not yet sent, so a restart, a
second replica or a Slack outage delays a nag instead of losing or repeating it."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, time, timedelta

from switchboard.bot.catalog.api import CatalogReader
from switchboard.bot.incidents.api import PAGE, Item, Listing, Scope, followup_item, listing
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.delivery import Key, Outgoing
from switchboard.bot.platform.deps import Deps
from switchboard.bot.platform.jobs import Run
from switchboard.bot.platform.slack_gateway import Blocks
from switchboard.bot.teams.channels import SkipLog, team_channel, team_ref
from switchboard.storage import delivery_store, followup_store, incident_store

log = logging.getLogger(__name__)

KIND = "followup-nag"
SNOOZE_ACTION = "followup_nag_snooze"
CHECK_MINUTES = 5  # how often the job looks for nags that are due and not yet sent
SNOOZE_IDS = 250  # follow-ups one Snooze button covers: ids within a button value's 2000


class FollowUpNags:
    def __init__(self, deps: Deps, owner: CatalogReader) -> None:
        self._sessions = deps.sessions
        self._config = deps.config
        self._owner = owner
        self._delivery = deps.delivery
        self._clock = deps.clock
        self._from = time.fromisoformat(deps.config.nags.followups_at)
        self._skips = SkipLog("follow-up nags")

    async def run(self, run: Run) -> str:
        """Send today's nags that are not sent yet; returns what happened, for people."""
        now = self._clock().astimezone(self._config.tz)
        if not run.manual and now.time() < self._from:
            return f"not due: nags go out from {self._config.nags.followups_at}"
        today = now.date()
        owed = await self._owed(today, await team_ref(self._owner, run.team) if run.team else "")
        # Owners nagged today already need no channel lookup (delivery would skip them too).
        done = await self._delivery.sent([self._key(scope, today) for scope in owed])
        messages, skipped = [], []
        for scope, items in owed.items():
            if self._key(scope, today) in done:
                continue
            channel, note = await self._channel(scope)
            if not channel:
                skipped.append(self._skips.skipped(str(scope)))
            elif message := self._nag(scope, channel, note, items, today):
                messages.append(message)
        self._skips.warn(today, skipped)
        report = await self._delivery.deliver(messages)
        if messages:
            log.info("follow-up nags for %s: %s", today, report.summary())
        earlier = f", {len(done)} nagged earlier today" if done else ""
        return "\n".join([f"follow-up nags for {today}: {report.summary()}{earlier}", *skipped])

    async def snooze(self, ids: Sequence[int], actor: str) -> str:
        """The Snooze button: no nags about these follow-ups for `nags.snooze_days`."""
        today = self._clock().astimezone(self._config.tz).date()
        until = today + timedelta(days=self._config.nags.snooze_days)
        async with self._sessions() as session:
            count, withheld = await followup_store.snooze(session, ids, until, actor)
        said = f"<@{actor}> snoozed the nags about {count} follow-up(s) until {until}."
        if withheld:
            said += (
                f" {withheld} follow-up(s) of private incidents are for their participants"
                " to snooze."
            )
        return said

    async def _owed(self, today: date, team_ref: str) -> dict[Scope, list[tuple[Item, bool]]]:
        """Overdue follow-ups by owner (a person before their team), each with whether the
        owner may see it."""
        async with self._sessions() as session:
            rows = await delivery_store.overdue_followups(session, today, team_ref)
            private = {f.incident_id for f, incident in rows if incident.private}
            insiders = {
                i: {p.user_id for p in await incident_store.participants(session, i)}
                for i in private
            }
        owed: dict[Scope, list[tuple[Item, bool]]] = defaultdict(list)
        for followup, incident in rows:
            user = followup.owner_user
            scope = Scope("user", user) if user else Scope("team", followup.owner_team)
            # Private incidents are shown to their participants only, as in listings.
            visible = not incident.private or user in insiders.get(followup.incident_id, set())
            owed[scope].append((followup_item(followup, incident), visible))
        return owed

    def _nag(
        self, scope: Scope, channel: str, note: str, items: list[tuple[Item, bool]], today: date
    ) -> Outgoing | None:
        """The nag listing what `scope` owes; None when it may see none of it."""
        shown = [item for item, visible in items if visible]
        hidden = len(items) - len(shown)
        found = Listing(
            scope,
            shown[:PAGE],
            more=len(shown) - PAGE if len(shown) > PAGE else 0,
            hidden=hidden if self._config.incidents.private_in_public == "count" else 0,
            today=today,
        )
        if not found.items and not found.hidden:
            return None
        count = len(found.items) + found.more + found.hidden
        text = f":alarm_clock: {count} overdue follow-up" + ("" if count == 1 else "s") + note
        _, blocks = listing(found, notice=text)
        ids = ",".join(str(item.followup.id) for item, _ in items[:SNOOZE_IDS])
        blocks = _with_snooze(blocks, ids, self._config.nags.snooze_days)
        return Outgoing(self._key(scope, today), channel, text, blocks)

    @staticmethod
    def _key(scope: Scope, today: date) -> Key:
        return Key(KIND, str(scope), today.isoformat())

    async def _channel(self, scope: Scope) -> tuple[str, str]:
        """Where a nag goes, and a note when it is not the owner's own place."""
        if scope.kind == "user":
            return scope.key, ""
        return await team_channel(self._owner, self._config.delivery.fallback_channel, scope.key)


def _with_snooze(blocks: Blocks, ids: str, days: int) -> Blocks:
    snooze = kit.button(SNOOZE_ACTION, f"Snooze {days} days", ids)
    return [*blocks, {"type": "actions", "block_id": "nag-snooze", "elements": [snooze]}]
