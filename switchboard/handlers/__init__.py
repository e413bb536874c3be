"""Bolt listeners that parse a payload, call the core and reply; each feature's wiring
(`switchboard.wiring`) registers its own. The edge (`switchboard.edge`) puts its
middleware in place first."""

from __future__ import annotations

from switchboard.handlers import catchup, home, incident, owner, scorecard, timeline
from switchboard.handlers.lookup import LookupCommand
from switchboard.handlers.payloads import Payload

# What the app listens to; manifest.yml must declare exactly these (a test checks both ways).
COMMANDS = (owner.COMMAND, incident.COMMAND, scorecard.COMMAND)
EVENTS = (home.EVENT, *timeline.EVENTS, catchup.EVENT)
# The typed request of each event whose shape the edge checks before acknowledging it (an
# event is acknowledged before its listener runs, which could only log a malformed one).
EVENT_PAYLOADS: dict[str, type[Payload]] = {
    home.EVENT: home.HomeOpened,
    catchup.EVENT: catchup.Joined,
}


# The commands whose listeners acknowledge them empty at once and answer through the response
# URL: the edge acknowledges them itself, without waiting for Bolt's dispatch (which polls
# for the listener's ack every 10 ms, behind whatever else the event loop is doing), once
# their shape is checked as the listener would (a malformed one is answered 400 by Bolt).
ACKED_AT_ONCE: dict[str, type[Payload]] = {
    owner.COMMAND: LookupCommand,
    scorecard.COMMAND: LookupCommand,
}
