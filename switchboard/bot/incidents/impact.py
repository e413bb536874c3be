"""`/incident started <time>`: when an incident's impact started, stored on the incident
(insight measures response times from it) and put on the timeline."""

from __future__ import annotations

from switchboard.bot.incidents.impact_time import BadMoment, checked, parse_moment, shown
from switchboard.bot.incidents.messages import ref
from switchboard.bot.incidents.service import IncidentService, Refused, Replayed
from switchboard.bot.platform.deps import Deps
from switchboard.storage import impact_store


class ImpactService:
    def __init__(self, deps: Deps, incidents: IncidentService) -> None:
        self._sessions = deps.sessions
        self._tz = deps.config.tz
        self._clock = deps.clock
        self._incidents = incidents

    async def started(
        self, number: int | None, channel_id: str, actor: str, text: str, *, key: str = ""
    ) -> tuple[int, str]:
        """Set when the impact of the incident named (or of this channel) started; returns
        (its id, the answer). Record keeping: its participants for a private one."""
        view = await self._incidents.find(number, channel_id)
        incident = view.incident
        assert incident.id is not None
        await self._incidents.may_take_part(incident, actor, "say when its impact started")
        try:
            moment = checked(parse_moment(text, self._tz, self._clock()), incident.declared_at)
        except BadMoment as bad:
            raise Refused(str(bad), "started") from None
        when = shown(moment, self._tz)
        line = f"<@{actor}> said the impact started at *{when}*."
        if not await impact_store.set_impact_start(
            self._sessions, incident.id, moment, actor, line, key, self._clock()
        ):
            raise Replayed(key)
        return incident.id, f"The impact of *{ref(incident.number)}* started at {when}."
