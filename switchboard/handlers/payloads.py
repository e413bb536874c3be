"""Typed requests parsed from Slack payloads at the edge of each listener.

Every listener turns the parts of a payload it reads into a small pydantic model with
`parse()` before it acknowledges or touches anything. A payload that is not what Slack sends
for that listener (a field missing, a non-numeric id, a 30-digit number, a value the bot never
offered) raises `Malformed`, which `answer_errors` turns into HTTP 400 and one log line: no
traceback, no 5xx, nothing stored. Values a person chose but may not use (a status they may
not set) are not malformed: they get a clear refusal from the service instead."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

# What a listener that failed answers (a slash command through `answer_errors`).
FAILED = "Sorry, I could not do that just now: something on my side failed. Try again in a minute."

# Slack's ids: a letter for the kind, then upper-case letters and digits.
UserId = Annotated[str, StringConstraints(pattern=r"^[UW][A-Z0-9]{2,30}$")]
ChannelId = Annotated[str, StringConstraints(pattern=r"^[CDG][A-Z0-9]{2,30}$")]
UsergroupId = Annotated[str, StringConstraints(pattern=r"^S[A-Z0-9]{2,30}$")]
# Our own row ids as they travel in button values and private metadata: positive, and small
# enough for every database's integer (SQLite's and PostgreSQL's bigint alike).
RowId = Annotated[int, Field(ge=1, le=2**31 - 1, strict=False)]
# Slack's longest text input is 3,000 characters; a modal's plain text input less.
Text = Annotated[str, StringConstraints(max_length=4000)]
# Where Bolt's `respond` posts: Slack's hooks URL (the fake's, on loopback, in tests).
ResponseUrl = Annotated[str, StringConstraints(pattern=r"^https?://[^\s]+$", max_length=2000)]
# A button's value: at most 2,000 characters (Block Kit).
ButtonValue = Annotated[str, StringConstraints(max_length=2000)]


class Malformed(Exception):
    """A payload that is not what Slack sends for this listener (the message says where)."""


class Payload(BaseModel):
    """Base of the typed requests: unknown fields are ignored (Slack adds fields over time),
    known ones are checked; instances are immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class User(Payload):
    """`user` of an interaction: who clicked or submitted."""

    id: UserId


class Interaction(Payload):
    """Who sent an interaction: every block action and view submission names them."""

    user: User


class ButtonAction(Payload):
    """One element of `actions` in a `block_actions` payload: a button's id and value."""

    action_id: Annotated[str, StringConstraints(max_length=255)]
    value: ButtonValue


class ButtonClick(Interaction):
    """A button clicked in a message: who, which, and where the answer goes. Bolt's `action`
    is the first of `actions`, the one a listener was matched on. (The incident listeners'
    `Clicked` in `incident_requests.py` reads more of the same payload.)"""

    actions: Annotated[tuple[ButtonAction, ...], Field(min_length=1)]
    response_url: ResponseUrl

    @property
    def action(self) -> ButtonAction:
        return self.actions[0]


P = TypeVar("P", bound=BaseModel)


def parse(model: type[P], data: Any) -> P:
    """`data` as a `model`, or `Malformed` naming the first field that is wrong."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "payload"
        raise Malformed(
            f"{model.__name__}: {where}: {first['msg']} ({error.error_count()} problem(s))"
        ) from None
