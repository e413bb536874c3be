"""Who is on call for a service: the one notion that `/owner`, the paging contacts and the
scorecard rule "has an on-call" share, so that a service never passes one and fails another.

The service's own on-call if it has one; else its owning teams' rotations; else the Slack
user groups of its owning teams (paged as a group, as `/owner` shows them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from switchboard.bot.catalog.model import Entity, OnCall


@dataclass(frozen=True, slots=True)
class OnCallAnswer:
    entries: tuple[OnCall, ...]  # empty: nobody is on call
    teams: tuple[Entity, ...] = ()  # the owning teams whose on-call it is; () for its own

    @property
    def whose(self) -> str:
        """Which on-call it is, to be read after "has an on-call": "of its own", or "through
        its owning team Payments" (plain text: the caller escapes it)."""
        if not self.teams:
            return "of its own"
        names = ", ".join(team.display_name for team in self.teams)
        return f"through its owning team{'s' if len(self.teams) > 1 else ''} {names}"


def on_call(entity: Entity, teams: Sequence[Entity]) -> OnCallAnswer:
    """Who is on call for `entity`, given the entities of its owners (only the groups count)."""
    if entity.oncall:
        return OnCallAnswer(tuple(entity.oncall))
    groups = [team for team in teams if team.kind == "group"]
    if rotating := [team for team in groups if team.oncall]:
        return OnCallAnswer(tuple(o for team in rotating for o in team.oncall), tuple(rotating))
    if grouped := [team for team in groups if team.slack_usergroup]:
        entries = tuple(OnCall("slack", "usergroup", team.slack_usergroup) for team in grouped)
        return OnCallAnswer(entries, tuple(grouped))
    return OnCallAnswer(())
