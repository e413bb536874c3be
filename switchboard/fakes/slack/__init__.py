"""A loopback fake of the Slack Web API, and a signer that sends Slack-shaped requests."""

from switchboard.fakes.slack.args import SlackError
from switchboard.fakes.slack.limits import GENEROUS_TIERS, SLACK_TIERS
from switchboard.fakes.slack.server import Call, FakeSlack
from switchboard.fakes.slack.signer import AppResponse, SlackRequester, SlackSigner
from switchboard.fakes.slack.state import TeamInfo

__all__ = [
    "GENEROUS_TIERS",
    "SLACK_TIERS",
    "AppResponse",
    "Call",
    "FakeSlack",
    "SlackError",
    "SlackRequester",
    "SlackSigner",
    "TeamInfo",
]
