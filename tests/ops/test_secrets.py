"""No secret (Slack tokens, the signing secret, pager keys, the database password) in what
`switchboard` writes, whatever fails: Slack, the pagers, the settings, a handler."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from switchboard.cli import main
from switchboard.fakes.pagers import FakeOpsgenie, FakePagerDuty
from switchboard.fakes.slack.server import FakeSlack
from switchboard.fakes.slack.signer import SlackRequester
from tests.conftest import POSTGRES_URL, eventually
from tests.ops.serving import run_cli, serve

ALICE = "U0001ALICE"
BOT_TOKEN = "xoxb-1111-2222-SeCrEtBoTtOkEn"
SIGNING_SECRET = "signing-SeCrEt-4242"
APP_TOKEN = "xapp-1-A0001-3333-SeCrEtApPtOkEn"
OPSGENIE_KEY = "opsgenie-SeCrEt-key-5555"
WEBHOOK_SECRET = "pd-webhook-SeCrEt-6666"
ROUTING_KEY = "routingkeySeCrEt0000000000000042"  # 32 characters, as PagerDuty's are
SECRETS = (BOT_TOKEN, SIGNING_SECRET, APP_TOKEN, OPSGENIE_KEY, WEBHOOK_SECRET, ROUTING_KEY)
CATALOG = f"""\
switchboard: 1
teams:
  - {{id: shop, name: Shop, slack_channel: "#shop"}}
services:
  - id: checkout
    name: Checkout
    owner: shop
    oncall: {{pagerduty_service: PCHECKOUT, integration_key: {ROUTING_KEY}}}
  - id: search
    name: Search
    owner: shop
    oncall: {{opsgenie_team: search-team}}
"""


def assert_no_secret(text: str, *more: str) -> None:
    for secret in (*SECRETS, *more):
        assert secret not in text, f"{secret!r} leaked:\n{text}"
        assert secret[4:-4] not in text, f"part of {secret!r} leaked:\n{text}"


async def test_failures_of_every_kind_leak_no_secret(
    tmp_path: Path, database_url: str, slack: FakeSlack
) -> None:
    slack.add_user("alice", user_id=ALICE)
    elsewhere = slack.add_channel("elsewhere", members=[ALICE])
    slack.add_channel("incidents", bot_member=False)
    (tmp_path / "catalog.yaml").write_text(CATALOG)
    async with FakePagerDuty() as pagerduty, FakeOpsgenie() as opsgenie:
        pagerduty.add_service(ROUTING_KEY)
        pagerduty.fail("trigger", status=500, times=100)  # PagerDuty is down
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": database_url,
            "SWITCHBOARD_CATALOG": str(tmp_path / "catalog.yaml"),
            "PAGERDUTY_EVENTS_URL": pagerduty.base_url,
            "OPSGENIE_API_URL": opsgenie.base_url,
            "OPSGENIE_API_KEY": OPSGENIE_KEY,  # not the fake's: Opsgenie answers 401
            "PAGERDUTY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "LOG_LEVEL": "DEBUG",  # the most a process ever says
        }
        slack.fail("conversations.setTopic", error="invalid_auth")
        slack.fail("conversations.setPurpose", status=500, times=5)
        async with (
            serve(env) as served,
            SlackRequester(served.events_url, SIGNING_SECRET, fake=slack) as requester,
        ):
            told = slack.new_response_url(channel_id=elsewhere, user_id=ALICE)
            await requester.slash_command(
                "/incident",
                "declare sev1 service:checkout service:search Checkout is down",
                user_id=ALICE,
                channel_id=elsewhere,
                response_url=told,
            )
            await eventually(lambda: slack.response_posts(told), within=30)
            # A payload refused as malformed, on a value that happens to be a secret: one
            # log line, which names the field and never quotes the value.
            broken = await requester.block_actions(
                [{"action_id": "incident_resolve", "type": "button", "value": SIGNING_SECRET}],
                user_id=ALICE,
                channel_id=elsewhere,
                message={"ts": "1700000000.000100", "text": "a card", "blocks": []},
            )
            assert broken.status == 400
            # A forged request and a malformed PagerDuty webhook.
            forged = await requester.raw(b"command=/owner", signature="v0=" + "0" * 64)
            assert forged.status == 401
            suggestion = {"type": "block_suggestion", "action_id": "nothing", "value": "x"}
            await requester.raw(urlencode({"payload": json.dumps(suggestion)}).encode())

        log = "\n".join(served.stderr)
        assert "refused a malformed block_actions" in log  # said, without the value
        assert "invalid_auth" in log and "PagerDuty" in log and "Opsgenie" in log
        assert_no_secret(log)
        said = json.dumps([c.args for c in slack.calls()]) + json.dumps(
            [m.text for channel in slack.channels for m in slack.messages(channel)]
        )
        assert_no_secret(said)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("PORT", SIGNING_SECRET),
        ("LOG_LEVEL", BOT_TOKEN),
        ("LOG_FORMAT", OPSGENIE_KEY),
        ("DATABASE_URL", f"postgresql://bob:{SIGNING_SECRET}@db:{SIGNING_SECRET}/x"),
        ("DATABASE_URL", f"mysql://bob:{SIGNING_SECRET}@db/x"),
        ("SLACK_API_URL", BOT_TOKEN),
    ],
)
def test_a_malformed_setting_is_named_not_echoed(
    setting: str,
    value: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    for name, secret in (("SLACK_BOT_TOKEN", BOT_TOKEN), ("SLACK_SIGNING_SECRET", SIGNING_SECRET)):
        monkeypatch.setenv(name, secret)
    monkeypatch.setenv(setting, value)
    code = main(["serve"])
    out, err = capsys.readouterr()
    assert code == 2
    assert err.startswith(f"switchboard: {setting} is malformed")
    assert_no_secret(out + err)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs SWITCHBOARD_TEST_DATABASE_URL")
async def test_a_wrong_database_password_is_not_echoed(tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    wrong = make_url(POSTGRES_URL).set(password="db-pass-SeCrEt-8888")
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "DATABASE_URL": wrong.render_as_string(hide_password=False),
    }
    code, out, err = await run_cli("db", "upgrade", env=env)
    assert code in (0, 1)  # a server that trusts local connections takes any password
    assert_no_secret(out + err, "db-pass-SeCrEt-8888")
