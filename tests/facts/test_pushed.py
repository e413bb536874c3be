"""Facts and deploys CI pushes: the body checked field by field (400 naming the field, 413
over the size), tokens compared in constant time and never echoed, and the store taking all
of a push or none of it."""

from __future__ import annotations

import json

import pytest
from pydantic import SecretStr

from switchboard.bot.facts.pushed import (
    MAX_BODY,
    PushError,
    authenticate,
    parse_deploy,
    parse_facts,
    parse_tokens,
)
from switchboard.bot.facts.settings import FactsSettings
from switchboard.storage.facts_store import FactsStore
from tests.facts.conftest import Clock

TOKENS = {"ci": "s3cret-token-for-ci-0001", "deployer": "s3cret-token-for-deploys-2"}


def body(value: object) -> bytes:
    return json.dumps(value).encode()


def test_tokens_parse_and_never_echo() -> None:
    assert (
        parse_tokens(" ci = s3cret-token-for-ci-0001 ,deployer=s3cret-token-for-deploys-2")
        == TOKENS
    )
    with pytest.raises(ValueError, match="pair 2 must be name=token") as error:
        parse_tokens("ci=s3cret-token-for-ci-0001,short=abc")
    assert "abc" not in str(error.value)
    with pytest.raises(ValueError, match="given twice"):
        parse_tokens("ci=s3cret-token-for-ci-0001,ci=s3cret-token-for-ci-0002")


def test_settings_read_the_tokens() -> None:
    settings = FactsSettings(facts_tokens=SecretStr("ci=s3cret-token-for-ci-0001"))
    assert settings.tokens() == {"ci": "s3cret-token-for-ci-0001"}
    assert FactsSettings().tokens() == {}
    assert "s3cret" not in repr(settings)


def test_authentication() -> None:
    assert authenticate("Bearer s3cret-token-for-deploys-2", TOKENS) == "deployer"
    for header in (
        None,
        "",
        "Bearer nope",
        "Basic s3cret-token-for-ci-0001",
        "s3cret-token-for-ci-0001",
    ):
        with pytest.raises(PushError) as error:
            authenticate(header, TOKENS)
        assert error.value.status == 401
    with pytest.raises(PushError):  # none configured: always 401
        authenticate("Bearer anything-at-all-here", {})


def test_facts_are_parsed_as_custom_keys() -> None:
    pushed = parse_facts(
        body({"entity": "payments", "facts": {"test.coverage": 81.5, "custom.owner": {"a": [1]}}})
    )
    assert pushed.entity == "payments"
    assert pushed.facts == {"custom.test.coverage": 81.5, "custom.owner": {"a": [1]}}
    assert pushed.source("ci") == "push:ci"


@pytest.mark.parametrize(
    ("raw", "status", "field"),
    [
        (b"{nope", 400, ""),
        (body([1, 2]), 400, ""),
        (body({"facts": {"a": 1}}), 400, "entity"),
        (body({"entity": "x", "facts": {}}), 400, "facts"),
        (body({"entity": "x", "facts": {"bad key!": 1}}), 400, "facts.bad key!"),
        (
            body({"entity": "x", "facts": {"deep": json.loads("[" * 40 + "]" * 40)}}),
            400,
            "facts.deep",
        ),
        (b" " * (MAX_BODY + 1), 413, ""),
    ],
)
def test_bad_fact_bodies(raw: bytes, status: int, field: str) -> None:
    with pytest.raises(PushError) as error:
        parse_facts(raw)
    assert (error.value.status, error.value.field) == (status, field)


DEPLOY = {
    "service": "payments",
    "environment": "production",
    "sha": "ABC1234",
    "status": "success",
    "started_at": "2026-12-04T10:00:00+00:00",
    "finished_at": "2026-12-04T10:05:00Z",
    "author": "alice",
    "commits": [{"sha": "abc1234", "authored_at": "2026-12-03T09:00:00+01:00"}],
}


def test_a_deploy_is_parsed() -> None:
    service, deploy = parse_deploy(body(DEPLOY), "component:default/payments", "deployer")
    assert service == "payments"
    assert (deploy.entity, deploy.sha, deploy.status, deploy.reported_by) == (
        "component:default/payments",
        "abc1234",
        "success",
        "deployer",
    )
    assert deploy.commits == [{"sha": "abc1234", "authored_at": "2026-12-03T09:00:00+01:00"}]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"status": "done"}, "status"),
        ({"sha": "not-a-sha"}, "sha"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"finished_at": "2026-12-04T10:05:00"}, "finished_at"),  # no offset
        ({"finished_at": "2026-12-04T09:00:00Z"}, "finished_at"),  # before it started
        ({"commits": [{"sha": "abc1234"}]}, "commits[0].authored_at"),
        ({"environment": ""}, "environment"),
    ],
)
def test_bad_deploys_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(PushError) as error:
        parse_deploy(body({**DEPLOY, **change}))
    assert (error.value.status, error.value.field) == (400, field)


async def test_pushed_facts_and_deploys_are_stored(store: FactsStore, clock: Clock) -> None:
    pushed = parse_facts(body({"entity": "payments", "facts": {"test.coverage": 81.5}}))
    await store.push("component:default/payments", pushed.source("ci"), pushed.facts, clock.now)
    fact = await store.fact("component:default/payments", "custom.test.coverage")
    assert fact is not None and (fact.value, fact.source, fact.fetched_at) == (
        81.5,
        "push:ci",
        clock.now,
    )
    _, deploy = parse_deploy(body(DEPLOY), "component:default/payments", "deployer")
    await store.add_deploy(deploy, clock.now)
    assert await store.deploys("component:default/payments") == [deploy]
