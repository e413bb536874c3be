"""Listeners for the responder context: the context card's **Notify owners** buttons and
`/incident changes`."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from switchboard.bot.incidents.affected import AffectedService, Stale
from switchboard.bot.incidents.changes import ChangesService
from switchboard.bot.incidents.commands import Record
from switchboard.bot.incidents.context_card import NOTIFY_ACTION, REVEAL_ACTION, ContextCards
from switchboard.bot.incidents.service import Refused
from switchboard.handlers.incident_requests import Action, Clicked, Command
from switchboard.handlers.payloads import RowId, parse

Body = dict[str, Any]


def _pair(value: object) -> object:
    if isinstance(value, str):
        incident, _, digest = value.partition(":")
        return (incident, digest)
    return value


Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]


class NotifyButton(Action):
    """`<incident id>:<digest of the teams offered>`."""

    value: Annotated[tuple[RowId, Digest], BeforeValidator(_pair)]


class AffectedHandlers:
    verbs: tuple[str, ...] = ("changes",)

    def __init__(
        self,
        changes: ChangesService,
        affected: AffectedService,
        cards: ContextCards,
    ) -> None:
        self.changes = changes
        self.affected = affected
        self.cards = cards

    def register(self, app: AsyncApp) -> None:
        app.action(NOTIFY_ACTION)(self.notify_clicked)
        app.action(REVEAL_ACTION)(self.reveal_clicked)

    async def notify_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        await self._notify(ack, body, respond, reveal=False)

    async def reveal_clicked(self, ack: AsyncAck, body: Body, respond: AsyncRespond) -> None:
        await self._notify(ack, body, respond, reveal=True)

    async def _notify(
        self, ack: AsyncAck, body: Body, respond: AsyncRespond, *, reveal: bool
    ) -> None:
        clicked = parse(Clicked[NotifyButton], body)
        incident_id, digest = clicked.action.value
        await ack()
        try:
            _, report = await self.affected.notify(
                incident_id, clicked.user.id, digest, reveal=reveal
            )
        except Refused as refusal:
            await _tell_only(respond, str(refusal))
            if isinstance(refusal, Stale):
                await self.cards.refresh(incident_id)
            return
        await self.cards.refresh(incident_id)
        if report.failed:
            count = len(report.failed)
            await _tell_only(
                respond,
                f"{count} notice{'' if count == 1 else 's'} could not be posted: press "
                "*Notify owners* again to retry (no team is told twice).",
            )

    async def record(
        self, ack: AsyncAck, respond: AsyncRespond, command: Command, parsed: Record
    ) -> None:
        """`/incident changes`: the card's deploys, to whoever asks (a private incident's to
        its participants only)."""
        try:
            text = await self.changes.on_demand(parsed.number, command.channel_id, command.user_id)
        except Refused as refusal:
            text = str(refusal)
        await ack(text=text, response_type="ephemeral")


async def _tell_only(respond: AsyncRespond, text: str) -> None:
    await respond(text=text, response_type="ephemeral", replace_original=False)
