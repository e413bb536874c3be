"""The facts queries, on SQLite and PostgreSQL alike (whichever `database_url` names)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from switchboard.storage import db, scorecard_facts
from switchboard.storage.scorecard_facts import IncidentFact
from switchboard.storage.tables import FollowUp, Incident, IncidentServiceLink

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
TODAY = NOW.date()
PAY, LEDGER, AUTH = (f"component:default/{name}" for name in ("payments", "ledger", "auth"))
TEAM = "group:default/payments"


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    engine = db.create_engine(database_url)
    await db.upgrade(engine)
    async with db.session_factory(engine)() as session:
        yield session
    await engine.dispose()


def incident(
    number: int, days_ago: int, resolved_after: int | None, severity: str, private: bool = False
) -> Incident:
    declared = NOW - timedelta(days=days_ago)
    return Incident(
        id=number,
        private=private,
        number=number,
        request_key=f"k{number}",
        title=f"incident {number}",
        severity=severity,
        status="investigating" if resolved_after is None else "resolved",
        declared_by="U1",
        declared_at=declared,
        resolved_at=None if resolved_after is None else declared + timedelta(hours=resolved_after),
        last_update_at=declared,
    )


def followup(incident_id: int, due: date | None, state: str = "open", team: str = "") -> FollowUp:
    return FollowUp(
        incident_id=incident_id,
        text="fix it",
        due=due,
        state=state,
        owner_team=team,
        created_by="U1",
        created_at=NOW,
    )


async def test_incidents_and_overdue_followups_per_service_and_team(session: AsyncSession) -> None:
    session.add_all(
        [
            incident(1, 2, 3, "SEV2", private=True),  # recent, resolved
            incident(2, 200, None, "SEV1"),  # old but unresolved: kept
            incident(3, 200, 5, "SEV3"),  # old and resolved: outside the window
        ]
    )
    await session.flush()
    session.add_all(
        [
            IncidentServiceLink(incident_id=1, entity_ref=PAY),
            IncidentServiceLink(incident_id=1, entity_ref=LEDGER),
            IncidentServiceLink(incident_id=2, entity_ref=PAY),
            IncidentServiceLink(incident_id=3, entity_ref=AUTH),
            followup(1, TODAY - timedelta(days=1), team=TEAM),  # overdue
            followup(1, TODAY - timedelta(days=3)),  # overdue, no team
            followup(1, TODAY),  # due today: not overdue yet
            followup(2, TODAY - timedelta(days=9), state="done", team=TEAM),  # closed
            followup(3, None, team=TEAM),  # no due date
            followup(3, TODAY - timedelta(days=30), state="open", team=TEAM),  # overdue
        ]
    )
    await session.commit()

    facts = await scorecard_facts.load(session, NOW - timedelta(days=90), TODAY)

    assert set(facts.services) == {PAY, LEDGER, AUTH}
    pay = facts.services[PAY]
    assert sorted(pay.incidents, key=lambda i: i.declared_at) == [
        IncidentFact(NOW - timedelta(days=200), None, "SEV1", 2),
        IncidentFact(NOW - timedelta(days=2), NOW - timedelta(days=2, hours=-3), "SEV2", 1, True),
    ]
    assert pay.overdue_followups == 2
    # what is private is counted, and known apart: per private incident
    assert pay.private_incidents == {1} and pay.private_overdue == {1: 2}
    public = pay.public()
    assert ([i.incident_id for i in public.incidents], public.overdue_followups) == ([2], 0)
    assert facts.team_private_overdue == {TEAM: {1: 1}}
    assert facts.services[LEDGER].overdue_followups == 2
    assert facts.services[AUTH].incidents == []  # its only incident is resolved and old
    assert facts.services[AUTH].overdue_followups == 1
    assert facts.team_overdue_followups == {TEAM: 2}
    assert all(i.declared_at.tzinfo is not None for i in pay.incidents)


async def test_nothing_recorded(session: AsyncSession) -> None:
    facts = await scorecard_facts.load(session, NOW, TODAY)
    assert (facts.services, facts.team_overdue_followups) == ({}, {})
