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
        # the catalog is the same for everyone: the viewer changes nothing
        answer=lambda text, viewer: owner.answer(text),
        answer_ref=lambda ref, viewer: owner.answer_ref(ref),
        render=render,
        pick_action=PICK_ACTION,
        share_action=SHARE_ACTION,
        unavailable=UNAVAILABLE,
        lane=lane,
    )
