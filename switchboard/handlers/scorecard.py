"""Listeners for `/scorecard` and the buttons on its answers."""

from __future__ import annotations

import asyncio

from slack_bolt.async_app import AsyncApp

from switchboard.bot.scorecards.messages import PICK_ACTION, SHARE_ACTION, render
from switchboard.bot.scorecards.service import ScorecardService
from switchboard.handlers.lookup import register_lookup

COMMAND = "/scorecard"
UNAVAILABLE = "Switchboard cannot evaluate scorecards right now. Please try again in a minute."


def register(app: AsyncApp, scorecards: ScorecardService, lane: asyncio.Semaphore) -> None:
    register_lookup(
        app,
        name=COMMAND,
        answer=scorecards.answer,
        answer_ref=scorecards.for_ref,
        render=render,
        pick_action=PICK_ACTION,
        share_action=SHARE_ACTION,
        unavailable=UNAVAILABLE,
        lane=lane,
    )
