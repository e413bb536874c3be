"""What a postmortem template sees: the incident record as plain frozen dataclasses, with
nothing of the bot's behind them (no session, no client, no service). A team's template is
rendered in a child process (`switchboard.bot.platform.templating`), which receives these values
pickled and imports only this module to read them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Person:
    id: str  # Slack user id
    name: str  # the catalog's name for them, else Slack's, else the Slack id

    def __str__(self) -> str:
        return f"@{self.name}"


@dataclass(frozen=True, slots=True)
class Facts:
    ref: str
    number: int
    title: str  # on one line
    severity: str
    severity_description: str
    status: str
    private: bool
    security: bool
    channel: str  # the channel's name, "" before it exists
    description: str  # as typed, lines and all
    declared_by: Person


@dataclass(frozen=True, slots=True)
class Service:
    name: str
    ref: str
    owners: list[str]  # teams with their channel ("Shop (#shop)"), people, unknown refs


@dataclass(frozen=True, slots=True)
class RoleTurn:
    role: str
    person: Person
    assigned_by: Person
    start: str
    end: str  # "" while they hold it


@dataclass(frozen=True, slots=True)
class Milestone:
    name: str  # declared, acknowledged, mitigated, resolved, closed
    at: str  # "" when not reached
    after: str  # exact time since declared ("2 d 3 h 4 min"); "" when not reached


@dataclass(frozen=True, slots=True)
class FileLink:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Moment:
    at: str
    source: str  # lifecycle, reaction, note, backfill
    author: Person | None  # None for lifecycle events: their text says who
    text: str  # Markdown; whole, however long; may span lines
    permalink: str
    files: list[FileLink]
    deleted: bool  # deleted in Slack after it was captured
    edited: bool
    when: datetime  # for ordering


@dataclass(frozen=True, slots=True)
class Item:
    text: str
    owner: str  # a person ("@Bob"), a team's name, or ""
    due: str  # YYYY-MM-DD or ""
    state: str  # open, done, won't do


@dataclass(frozen=True, slots=True)
class Record:
    """The template's variables."""

    incident: Facts
    services: list[Service]
    participants: list[Person]
    roles: list[RoleTurn]
    milestones: list[Milestone]
    timeline: list[Moment]
    followups: list[Item]
    timezone: str
    generated_at: str

    def variables(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def sample_record() -> Record:
    """One of everything a record can hold, for checking a team's template when the config
    is loaded: every loop runs at least once, every optional part is there."""
    alice, bob = Person("U0SAMPLE1", "alice"), Person("U0SAMPLE2", "bob")
    at = "2026-01-05 10:00 UTC"
    when = datetime(2026, 1, 5, 10, tzinfo=UTC)
    return Record(
        incident=Facts(
            ref="INC-1",
            number=1,
            title="Sample incident",
            severity="SEV2",
            severity_description="Major",
            status="resolved",
            private=True,
            security=True,
            channel="inc-1-sample",
            description="What happened.\nOn two lines.",
            declared_by=alice,
        ),
        services=[Service("Checkout", "component:default/checkout", ["Shop (#shop)"])],
        participants=[alice, bob],
        roles=[RoleTurn("commander", bob, alice, at, at)],
        milestones=[
            Milestone(name, at if name != "closed" else "", "1 h" if name != "closed" else "")
            for name in ("declared", "acknowledged", "mitigated", "resolved", "closed")
        ],
        timeline=[
            Moment(at, "lifecycle", None, "@alice declared INC-1", "", [], False, False, when),
            Moment(
                at,
                "reaction",
                bob,
                "A message",
                "https://example.slack.com/archives/C1/p1",
                [FileLink("graph.png", "https://files.example/graph.png")],
                True,
                True,
                when,
            ),
        ],
        followups=[Item("Add an alert", "@bob", "2026-01-12", "open")],
        timezone="UTC",
        generated_at=at,
    )
