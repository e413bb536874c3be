"""Loopback fakes of the PagerDuty Events API v2 and the Opsgenie Alert API."""

from switchboard.fakes.pagers.opsgenie import Alert, FakeOpsgenie
from switchboard.fakes.pagers.pagerduty import FakePagerDuty, Incident
from switchboard.fakes.pagers.server import Received

__all__ = ["Alert", "FakeOpsgenie", "FakePagerDuty", "Incident", "Received"]
