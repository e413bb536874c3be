"""Exactly-once fan-out of scheduled messages (nags, digests, reminders) through the
notification ledger.

Each message has a ledger key (kind, subject, period). Sending one is three steps: claim the
row (`claimed_at`), post, mark it sent (`sent_at`, the message ts). A post Slack refused
gives the claim back. A process killed between claim and mark leaves a claim that is never
marked, and so does a post that got no answer (it may have been posted all the same): once
the claim is older than the lease, the next run takes it over, looks in the channel for the
message (every post carries its key as Slack message metadata) and posts only when it is not
there. A post ends well before the lease does (`under_lease`): two processes never both hold
a claim, so they never both send.

Posts are paced under Slack's limits: one per `channel_interval_seconds` per channel, in
order, and `posts_per_minute` for the workspace; the client itself waits out any 429 for as
long as its Retry-After says, and what still fails is tried again a few times in the run.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from switchboard.bot.platform.config import DeliveryConfig
from switchboard.bot.platform.outside_calls import under_lease
from switchboard.bot.platform.slack_gateway import Blocks, SlackFailure, SlackGateway
from switchboard.storage import delivery_store
from switchboard.storage.delivery_store import Claim, Key

log = logging.getLogger(__name__)

EVENT_TYPE = "switchboard_notification"
ATTEMPTS = 4  # per message and run, on top of the client's own retries of 429s and 5xx
_CONVERSATION_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

__all__ = ["Delivery", "Key", "Outgoing", "Pacer", "Report"]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to deliver: to a channel (id or name) or a person (user id, as a DM)."""

    key: Key
    channel: str
    text: str
    blocks: Blocks | None = None


class Outcome(enum.Enum):
    SENT = "sent"
    RECOVERED = "recovered"  # an interrupted run had posted it; now it is recorded
    TAKEN = "taken"  # sent before, or being sent by another process


@dataclass
class Report:
    sent: list[Key] = field(default_factory=list)
    recovered: list[Key] = field(default_factory=list)
    taken: list[Key] = field(default_factory=list)
    failed: list[tuple[Key, str]] = field(default_factory=list)

    def add(self, outcome: Outcome, key: Key) -> None:
        list_of: list[Key] = getattr(self, outcome.value)  # one list per outcome, same name
        list_of.append(key)

    def merge(self, other: Report) -> None:
        self.sent += other.sent
        self.recovered += other.recovered
        self.taken += other.taken
        self.failed += other.failed

    def summary(self) -> str:
        parts = [f"{len(self.sent)} sent"]
        if self.recovered:
            parts.append(f"{len(self.recovered)} found sent by an interrupted run")
        if self.taken:
            parts.append(f"{len(self.taken)} already sent or being sent by another process")
        parts += [f"not sent: {key} ({error})" for key, error in self.failed]
        return ", ".join(parts)


class Pacer:
    """Spaces posts: at most one per `channel_interval` seconds per channel, and
    `per_minute` in all, handed out in the order channels become ready.

    The workspace pace is a token bucket measured on actual releases, holding at most
    `CATCH_UP` tokens: a release that came late (a busy event loop) is made up for by the
    next few without ever bunching more than that, where slots fixed in advance would all
    fire at once after a stall and empty Slack's own bucket."""

    CATCH_UP = 3

    def __init__(
        self,
        per_minute: float,
        channel_interval: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate = per_minute / 60.0
        self._channel_interval = channel_interval
        self._clock = clock
        self._tokens = 1.0
        self._filled_at = clock()
        self._turn = asyncio.Lock()  # first come, first served
        self._channels: dict[str, float] = {}  # each channel's next free moment

    async def wait(self, channel: str) -> None:
        """Return when the caller may post to `channel`."""
        # Only a channel that is ready queues for the workspace, so a busy channel's next
        # post never holds up the others.
        await self._until(self._channels.get(channel, 0.0))
        async with self._turn:
            self._refill()
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self._rate)
                self._refill()
            self._tokens -= 1
            self._channels[channel] = self._clock() + self._channel_interval

    def posted(self, channel: str) -> None:
        """A post to `channel` is over: the next one waits a whole interval from now. Slack
        spaces posts as they arrive; counted from the release alone, a post that was slow to
        get there (a busy ledger, a loaded loop) arrived close behind the one before, and
        got a 429."""
        done = self._clock() + self._channel_interval
        self._channels[channel] = max(self._channels.get(channel, 0.0), done)

    def _refill(self) -> None:
        now = self._clock()
        gained = (now - self._filled_at) * self._rate
        self._tokens = min(self.CATCH_UP, self._tokens + gained)
        self._filled_at = now

    async def _until(self, moment: float) -> None:
        delay = moment - self._clock()
        if delay > 0:
            await asyncio.sleep(delay)


class Delivery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        gateway: SlackGateway,
        config: DeliveryConfig,
        clock: Callable[[], datetime],
    ) -> None:
        self._sessions = sessions
        self._gateway = gateway
        self._lease = timedelta(seconds=config.lease_seconds)
        self._post_within = under_lease(config.lease_seconds)
        self._clock = clock
        # One pacer per process: every fan-out in it shares Slack's limits.
        self._pacer = Pacer(config.posts_per_minute, config.channel_interval_seconds)

    async def deliver(self, messages: Sequence[Outgoing]) -> Report:
        """Send each message unless the ledger says it was sent; channels in parallel,
        each channel's messages in the order given."""
        report = Report()
        done = await self.sent([m.key for m in messages])
        by_channel: dict[str, list[Outgoing]] = {}
        for message in messages:
            if message.key in done:
                report.taken.append(message.key)
            else:
                by_channel.setdefault(message.channel, []).append(message)
        await asyncio.gather(*(self._in_order(batch, report) for batch in by_channel.values()))
        return report

    async def sent(self, keys: Sequence[Key]) -> set[Key]:
        """Which of `keys` the ledger says were sent."""
        async with self._sessions() as session:
            return await delivery_store.sent(session, keys)

    async def _in_order(self, batch: list[Outgoing], report: Report) -> None:
        for message in batch:
            await self._deliver_one(message, report)

    async def _deliver_one(self, message: Outgoing, report: Report) -> None:
        for attempt in range(1, ATTEMPTS + 1):
            await self._pacer.wait(message.channel)
            try:
                report.add(await self._attempt(message), message.key)
                return
            except SlackFailure as failure:
                if not failure.retryable or attempt == ATTEMPTS:
                    log.warning("%s not delivered: %s", message.key, failure)
                    report.failed.append((message.key, failure.error))
                    return
            except SQLAlchemyError as error:
                # The ledger could not be read or written (a busy SQLite, a lost PostgreSQL
                # connection): this message waits for a later attempt or run, the rest go on.
                if attempt == ATTEMPTS:
                    log.warning("%s not delivered: the ledger failed: %s", message.key, error)
                    report.failed.append((message.key, "database error"))
                    return
            await asyncio.sleep(2**attempt)  # the client waited out Retry-After already

    async def _attempt(self, message: Outgoing) -> Outcome:
        now = self._clock()
        async with self._sessions() as session:
            claimed = await delivery_store.claim(
                session, message.key, message.channel, now, now - self._lease
            )
        if claimed.outcome is Claim.TAKEN:
            return Outcome.TAKEN
        if claimed.outcome is Claim.STALE:
            assert claimed.tried_at is not None
            try:
                ts = await self._posted_since(message, claimed.tried_at)
            except SlackFailure as failure:
                # Never post while in doubt: the claim stays, and after another lease
                # another run looks again.
                raise SlackFailure(failure.method, f"in doubt: {failure.error}", False) from None
            if ts:
                await self._mark_sent(message.key, ts)
                return Outcome.RECOVERED
        try:
            ts = await self._gateway.post(
                message.channel,
                message.text,
                message.blocks,
                _metadata(message.key),
                within=self._post_within,
            )
        except SlackFailure as failure:
            if failure.in_doubt:  # the claim stays: after the lease, a run looks first
                raise SlackFailure(failure.method, f"in doubt: {failure.error}", False) from None
            async with self._sessions() as session:
                await delivery_store.release(session, message.key)
            raise
        finally:
            self._pacer.posted(message.channel)
        await self._mark_sent(message.key, ts)
        return Outcome.SENT

    async def _mark_sent(self, key: Key, ts: str) -> None:
        async with self._sessions() as session:
            await delivery_store.mark_sent(session, key, ts, self._clock())

    async def _posted_since(self, message: Outgoing, tried_at: datetime) -> str:
        """The ts of the message an interrupted run posted, or "" when it did not."""
        channel = await self._conversation(message.channel)
        if not channel:
            # Reading a DM back needs scopes the bot does not ask for: better twice than never.
            log.warning("%s may have been sent already; cannot look, sending", message.key)
            return ""
        oldest = tried_at.timestamp() - 1  # Slack's ts and our clock may differ slightly
        return await self._gateway.find_posted(channel, oldest, _metadata(message.key))

    async def _conversation(self, channel: str) -> str:
        """The id whose history to read: `channel` itself, or the channel of that name;
        "" for a person, or a channel that is gone."""
        if _CONVERSATION_ID.match(channel):
            return channel
        if _USER_ID.match(channel):
            return ""
        found = await self._gateway.find_channel(channel.removeprefix("#"))
        return str(found["id"]) if found else ""


def _metadata(key: Key) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"key": str(key)}}
