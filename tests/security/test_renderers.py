"""Every renderer of user text (incident titles and descriptions, notes, follow-ups, service
names, catalog fields), given hostile text: within Block Kit's limits, and never a special
mention, link or date that the text brought in."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, date, datetime, timedelta
from typing import TypeVar

from hypothesis import given
from hypothesis import strategies as st

from switchboard.bot.catalog.model import Entity, Link, OnCall
from switchboard.bot.catalog.owner_message import render
from switchboard.bot.catalog.reader import ChoiceAnswer, NoMatch, OwnedAnswer, ServiceAnswer, Team
from switchboard.bot.home import HomeService
from switchboard.bot.incidents import followup_messages, messages
from switchboard.bot.incidents.followup_messages import Listing, Scope
from switchboard.bot.incidents.timeline import Moment
from switchboard.bot.incidents.views import IncidentView, Item, followup_item, incident_view
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.scorecards.evaluate import evaluate
from switchboard.bot.scorecards.messages import render as scorecard_render
from switchboard.bot.scorecards.model import (
    Exemption,
    FieldPresent,
    Rule,
    Scorecard,
    TagPresent,
    Unsupported,
)
from switchboard.bot.scorecards.service import (
    ScorecardResult,
    ServiceScores,
    Suggestions,
    TeamRow,
    TeamScores,
)
from switchboard.storage.scorecard_facts import Facts
from switchboard.storage.tables import FollowUp, Incident, IncidentRole, IncidentServiceLink
from tests.security.conftest import FAST, FEW
from tests.security.slack_checks import (
    hostile_text,
    hostile_words,
    message_problems,
    smuggled,
    view_problems,
)

T = TypeVar("T")
CONFIG = IncidentsConfig()
NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LINK_TYPES = ["runbook", "repo", "docs", "dashboard", "website", "chat", ""]
urls = st.one_of(
    hostile_text,
    st.sampled_from(["https://ok.example/x", "https://a.example/|<!channel>", "javascript:x"]),
    hostile_text.map(lambda t: "https://x.example/" + t),
)


def many(elements: st.SearchStrategy[T], up_to: int = 60) -> st.SearchStrategy[list[T]]:
    """Lists of up to `up_to` items, from a few distinct ones: long lists, generated fast."""
    return st.tuples(st.lists(elements, max_size=3), st.integers(1, up_to // 3)).map(
        lambda drawn: (drawn[0] * drawn[1])[:up_to]
    )


@st.composite
def entities(draw: st.DrawFn, kind: str = "component") -> Entity:
    """A catalog entity whose every string is hostile, as any catalog file may be."""
    return Entity(
        kind=kind,
        name=draw(hostile_words)[:256],  # what the catalog table holds
        title=draw(hostile_words),
        description=draw(hostile_text),
        owners=draw(st.lists(hostile_words.map(lambda t: "group:default/" + t), max_size=3)),
        tier=draw(st.none() | st.integers(-5, 99)),
        lifecycle=draw(hostile_words),
        system=draw(hostile_words),
        tags=draw(st.lists(hostile_words, max_size=3)),
        aliases=draw(st.lists(hostile_words, max_size=3)),
        links=draw(
            many(st.builds(Link, type=st.sampled_from(LINK_TYPES), url=urls, title=hostile_words))
        ),
        oncall=draw(
            st.lists(
                st.builds(
                    OnCall,
                    provider=st.sampled_from(["pagerduty", "opsgenie", "slack", "x"]),
                    target_type=st.sampled_from(["service", "schedule", "usergroup", "user"]),
                    target_id=hostile_words,
                ),
                max_size=4,
            )
        ),
        slack_channels=draw(st.lists(hostile_words, max_size=3)),
        slack_usergroup=draw(hostile_words),
        slack_user_id=draw(st.sampled_from(["", "U0001ALICE"]) | hostile_words),
        email=draw(hostile_words),
        source_file=draw(hostile_words),
        source_line=draw(st.integers(0, 10**6)),
    )


def assert_message_ok(message: dict[str, object]) -> None:
    assert message_problems(message) == []


@FEW
@given(
    entities(),
    st.lists(
        st.builds(Team, entity=entities("group"), members=many(entities("user"), 6)), max_size=3
    ),
    st.lists(entities("user"), max_size=3),
    st.lists(hostile_words, max_size=5),
    many(hostile_words),
    st.sampled_from(["", "U0001ALICE"]),
)
def test_owner_answers_for_a_service(
    service: Entity,
    teams: list[Team],
    people: list[Entity],
    unresolved: list[str],
    dependencies: list[str],
    shared_by: str,
) -> None:
    answer = ServiceAnswer(service, teams, people, unresolved, dependencies)
    assert_message_ok(render(answer, shared_by=shared_by))


@FEW
@given(
    entities("group"),
    st.lists(entities("group"), max_size=3),
    many(entities()),
    hostile_text,
    st.lists(hostile_words, max_size=8),
)
def test_owner_lists_choices_and_no_matches(
    subject: Entity,
    teams: list[Entity],
    services: list[Entity],
    query: str,
    suggestions: list[str],
) -> None:
    assert_message_ok(render(OwnedAnswer(subject, teams, services)))
    assert_message_ok(render(ChoiceAnswer(query, services[:10])))
    for what in ("service", "team", "person"):
        assert_message_ok(render(NoMatch(query, what, suggestions)))


def incident(title: str, description: str = "", **fields: object) -> Incident:
    values: dict[str, object] = {
        "id": 1,
        "number": 1,
        "request_key": "k",
        "title": title,
        "description": description,
        "severity": "SEV2",
        "status": "investigating",
        "declared_by": "U0001ALICE",
        "declared_at": NOW,
        "last_update_at": NOW,
        "channel_id": "C0INCIDENT",
    }
    return Incident(**(values | fields))


@st.composite
def incident_views(draw: st.DrawFn) -> IncidentView:
    row = incident(
        draw(hostile_words),
        draw(hostile_text),
        number=draw(st.integers(1, 10**9)),
        private=draw(st.booleans()),
        security=draw(st.booleans()),
        severity=draw(st.sampled_from([s.name for s in CONFIG.severities])),
        status=draw(st.sampled_from([s.name for s in CONFIG.statuses])),
        resolved_at=draw(st.none() | st.just(NOW)),
    )
    services = [
        IncidentServiceLink(incident_id=1, entity_ref="component:default/" + name, name=name)
        for name in draw(many(hostile_words, 15))
    ]
    roles = [
        IncidentRole(incident_id=1, role=role, user_id="U0001BOB", assigned_by="U0001ALICE")
        for role in draw(st.lists(st.sampled_from(CONFIG.roles), max_size=3))
    ]
    return incident_view(row, services, roles)


@FAST
@given(incident_views())
def test_incident_cards_and_channel_texts(view: IncidentView) -> None:
    for buttons in (True, False):
        text, blocks = messages.card(view, CONFIG, buttons=buttons)
        assert_message_ok({"text": text, "blocks": blocks})
    text, blocks = messages.private_card(view)
    assert_message_ok({"text": text, "blocks": blocks})
    assert view.incident.title not in text or view.incident.title in "a private incident"
    text, blocks = messages.reminder(view, "U0001ALICE", 30)
    assert_message_ok({"text": text, "blocks": blocks})
    # Topics and purposes are plain text: short enough, mentions not rendered there.
    assert len(messages.topic(view)) <= messages.TOPIC_LIMIT
    assert len(messages.purpose(view)) <= messages.TOPIC_LIMIT
    name = messages.channel_name(
        CONFIG.channel_name, view.incident.number, view.incident.title, NOW
    )
    assert re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,79}", name), name


@FAST
@given(
    st.lists(incident_views(), max_size=4).map(lambda v: v * 3), st.sampled_from(["count", "hide"])
)
def test_incident_lists_and_app_home(views: list[IncidentView], private_in_public: str) -> None:
    config = IncidentsConfig(private_in_public=private_in_public)
    views = [  # distinct ids and numbers, as stored
        dataclasses.replace(v, incident=dataclasses.replace(v.incident, id=n + 1, number=n + 1))
        for n, v in enumerate(views)
    ]
    mine = {v.incident.id for v in views[::2] if v.incident.id is not None}
    listing = messages.listing(views, config, mine)
    assert_message_ok({"text": listing, "blocks": []})
    home = HomeService.view(
        HomeService(None, None, config, None),  # type: ignore[arg-type]
        [v for v in views if v.incident.id in mine],
        views,
        {"component": 3, "group": 1, "user": 2},
    )
    assert view_problems(home) == []
    for view in views:
        if view.incident.private and view.incident.id not in mine:
            shown = listing + str(home["blocks"][3])
            assert f"*{view.ref}* " not in shown  # never listed with its title


@st.composite
def moments(draw: st.DrawFn) -> Moment:
    return Moment(
        at=NOW - timedelta(minutes=draw(st.integers(0, 10**6))),
        source=draw(st.sampled_from(["reaction", "note", "backfill"])),
        author=draw(st.sampled_from(["U0001ALICE", "", "W1"])),
        text=draw(hostile_text),
        entry_id=draw(st.none() | st.integers(1, 100)),
        permalink=draw(st.sampled_from(["", "https://x.slack.com/archives/C1/p1"])),
        files=tuple(draw(st.lists(st.tuples(hostile_words, urls), max_size=7))),
        deleted=draw(st.booleans()),
    )


@FAST
@given(incident_views(), many(moments(), 45), st.integers(-3, 5))
def test_timeline_pages(view: IncidentView, shown: list[Moment], page: int) -> None:
    def accessory(moment: Moment) -> dict[str, object]:
        return followup_messages.followup_button(1, moment.entry_id)

    text, blocks = messages.timeline_page(view, shown, page, UTC, accessory)
    assert_message_ok({"text": text, "blocks": blocks})


@st.composite
def followup_items(draw: st.DrawFn) -> Item:
    followup = FollowUp(
        id=draw(st.integers(1, 10**6)),
        incident_id=1,
        text=draw(hostile_text.filter(str.strip)),
        owner_user=draw(st.sampled_from(["", "U0001BOB"])),
        owner_team=draw(st.sampled_from(["", "group:default/"]) | hostile_words),
        due=draw(st.none() | st.dates(date(2020, 1, 1), date(2030, 1, 1))),
        state=draw(st.sampled_from(["open", "done", "wont_do"])),
        created_by="U0001ALICE",
        created_at=NOW,
        closed_by="U0001CAROL",
    )
    return followup_item(followup, incident(draw(hostile_words), number=draw(st.integers(1, 99))))


@FAST
@given(
    many(followup_items(), 20),
    # A team's ref, as the catalog stores it (names of at most 256 characters)
    st.sampled_from(["incident:1", "team:group:default/shop", "user:U0001BOB"])
    | hostile_words.map(lambda t: "team:group:default/" + t[:256]),
    st.integers(0, 10**6),
    st.integers(0, 10**6),
    hostile_text,
)
def test_followup_listings_and_announcements(
    items: list[Item], scope: str, more: int, hidden: int, notice: str
) -> None:
    parsed = Scope.parse(scope)
    owner = items[0].incident if items and parsed.kind == "incident" else None
    found = Listing(parsed, items, more, hidden, NOW.date(), owner, may_add=True)
    text, blocks = followup_messages.listing(found, notice=f"&lt;{len(notice)}&gt;")
    assert_message_ok({"text": text, "blocks": blocks})
    for item in items:
        assert smuggled(followup_messages.confirmation(item)) == []
        assert smuggled(followup_messages.announcement(item, "U0001ALICE")) == []
        assert len(followup_messages.confirmation(item)) <= 3000


@st.composite
def scorecards(draw: st.DrawFn, service: Entity) -> Scorecard:
    """A scorecard whose every name, title, reason and expression is hostile."""
    levels = tuple(draw(st.lists(hostile_words, max_size=4, unique=True)))
    checks = st.one_of(
        st.just(FieldPresent("owner")),
        st.just(FieldPresent("description")),
        hostile_words.map(lambda t: TagPresent(t.lower())),
        st.builds(Unsupported, expression=hostile_text, why=hostile_text),
    )
    rules = draw(
        many(
            st.builds(
                Rule,
                id=hostile_words,
                title=hostile_words,
                check=checks,
                weight=st.sampled_from([0.5, 1.0, 3.0]),
                level=st.sampled_from(("", *levels)),
                description=hostile_text,
            ),
            30,
        )
    )
    exempt = [
        Exemption(rule.id, service.ref, draw(hostile_text), date(2099, 1, 1)) for rule in rules[:2]
    ]
    return Scorecard(
        id=draw(hostile_words)[:100],
        name=draw(hostile_words),
        levels=levels,
        rules=tuple(rules),
        description=draw(hostile_text),
        exemptions=tuple(exempt),
    )


@FEW
@given(st.data(), many(entities(), 45), st.sampled_from(["", "U0001ALICE"]))
def test_scorecard_answers(data: st.DataObject, services: list[Entity], shared_by: str) -> None:
    service = services[0] if services else data.draw(entities())
    cards = data.draw(st.lists(scorecards(service), min_size=1, max_size=3))
    results = [
        ScorecardResult(card, result)
        for card in cards
        for result in evaluate(card, [service], Facts(), NOW.date())
    ]
    assert_message_ok(scorecard_render(ServiceScores(service, results), shared_by=shared_by))
    team = data.draw(entities("group"))
    rows = [
        TeamRow(s, {c.id: r for c in cards for r in evaluate(c, [s], Facts(), NOW.date())})
        for s in services
    ]
    answer = TeamScores(team, cards, rows, services[:20])
    assert_message_ok(scorecard_render(answer, shared_by=shared_by))
    query = data.draw(hostile_text)
    assert_message_ok(scorecard_render(Suggestions(query, "service", services[:5])))
    assert_message_ok(scorecard_render(Suggestions(query, "team", [])))
