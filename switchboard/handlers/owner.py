"""Listeners for `/owner` and the buttons on its answers."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncApp

from switchboard.bot.catalog.owner_message import PICK_ACTION, SHARE_ACTION, render
from switchboard.bot.catalog.reader import CatalogReader
from switchboard.handlers.lookup import register_lookup

COMMAND = "/owner"
UNAVAILABLE = "Switchboard cannot read the catalog right now. Please try again in a minute."


def register(app: AsyncApp, owner: CatalogReader, lane: asyncio.Semaphore) -> None:
    register_lookup(
        app,
        name=COMMAND,
        # the viewer decides only which private incidents the health line counts
        answer=owner.answer,
        answer_ref=owner.answer_ref,
        render=render,
        pick_action=PICK_ACTION,
        share_action=SHARE_ACTION,
        unavailable=UNAVAILABLE,
        lane=lane,
    )
