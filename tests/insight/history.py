"""A seeded month, written straight into the tables: incidents with exact milestones (one
across the night the clocks went back in Europe/Berlin, 2026-10-25), a private one, deploys
pushed and seen on GitHub, follow-ups, and scorecard history. Every expected value in the
tests is worked out by hand from these rows, in the comments beside them."""

from __future__ import annotations

from datetime import UTC, date, datetime

from switchboard.storage import db
from switchboard.storage.facts_tables import Deploy, FactChange
from switchboard.storage.tables import (
    FollowUp,
    Incident,
    IncidentServiceLink,
    ScorecardChange,
)
from tests.incidents.conftest import World

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)  # a Monday; the 30 days start 2026-10-03 12:00
CHECKOUT, SEARCH, STOREFRONT = (
    "component:default/checkout",
    "component:default/search",
    "component:default/storefront",
)
SECRET = "Card numbers in the logs"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (number, severity, private, declared, impact started, acknowledged, mitigated, resolved,
# services)
INCIDENTS = [
    # before the window, within the 30 days before it: INC-1 repeats it
    (
        1,
        "SEV2",
        False,
        "2026-09-20 10:00",
        None,
        "2026-09-20 10:10",
        None,
        "2026-09-30 10:00",
        [CHECKOUT],
    ),
    # from the impact: ack 40 min, mitigated 1 h 30, resolved 2 h; in Berlin, Sunday 01:30
    (
        2,
        "SEV1",
        False,
        "2026-10-24 23:30",
        "2026-10-24 23:00",
        "2026-10-24 23:40",
        "2026-10-25 00:30",
        "2026-10-25 01:00",
        [CHECKOUT],
    ),
    # ack 5 min, mitigated = resolved 4 h
    (
        3,
        "SEV2",
        False,
        "2026-10-26 10:00",
        None,
        "2026-10-26 10:05",
        None,
        "2026-10-26 14:00",
        [CHECKOUT, SEARCH],
    ),
    # private: ack 20 min, resolved 1 h
    (
        4,
        "SEV2",
        True,
        "2026-10-28 09:00",
        None,
        "2026-10-28 09:20",
        None,
        "2026-10-28 10:00",
        [SEARCH],
    ),
    # Sunday 23:30 UTC is Monday 00:30 in Berlin: the week of 2026-11-02 there; ack 30 min
    (5, "SEV3", False, "2026-11-01 23:30", None, "2026-11-02 00:00", None, None, [STOREFRONT]),
]


async def seed(world: World) -> None:
    world.clock.now = NOW
    sessions = db.session_factory(world.sb.core.engine)
    async with sessions() as session:
        ids = {}
        for number, sev, private, declared, impact, ack, mitigated, resolved, services in INCIDENTS:
            row = Incident(
                number=number,
                request_key=f"seed:{number}",
                title=SECRET if private else f"Incident {number}",
                severity=sev,
                status="resolved" if resolved else "investigating",
                private=private,
                declared_by="U0001ALICE",
                declared_at=at(declared),
                impact_started_at=at(impact) if impact else None,
                acknowledged_at=at(ack) if ack else None,
                mitigated_at=at(mitigated) if mitigated else None,
                resolved_at=at(resolved) if resolved else None,
                last_update_at=at(declared),
            )
            session.add(row)
            await session.flush()
            ids[number] = row.id
            for ref in services:
                session.add(IncidentServiceLink(incident_id=row.id, entity_ref=ref, name=ref))
        for incident, due, state, closed in (
            (2, date(2026, 10, 28), "done", "2026-10-28 22:30"),  # 23:30 in Berlin: on time
            (3, date(2026, 10, 29), "done", "2026-10-29 23:30"),  # 00:30 the 30th: late
            (3, date(2026, 10, 31), "open", None),  # overdue
            (5, date(2026, 11, 10), "open", None),  # not due yet
            (4, date(2026, 10, 30), "wont_do", "2026-10-29 09:00"),  # the private one's
        ):
            session.add(
                FollowUp(
                    incident_id=ids[incident],
                    text="do it",
                    due=due,
                    state=state,
                    created_by="U0001ALICE",
                    created_at=at("2026-10-20 09:00"),
                    closed_at=at(closed) if closed else None,
                )
            )
        for entity, env, sha, status, finished, commits in (
            # lead 24 h; INC-2's impact starts 1 h later: a change failure
            (
                CHECKOUT,
                "production",
                "d1",
                "success",
                "2026-10-24 22:00",
                ["2026-10-24 10:00", "2026-10-23 22:00"],
            ),
            (
                CHECKOUT,
                "production",
                "d2",
                "success",
                "2026-10-20 12:00",
                ["2026-10-20 10:00"],
            ),  # lead 2 h
            (SEARCH, "production", "d3", "failure", "2026-10-22 12:00", []),  # failed
            (
                STOREFRONT,
                "Production",
                "d4",
                "success",
                "2026-10-30 12:00",
                ["2026-10-30 11:00"],
            ),  # 1 h
            (CHECKOUT, "staging", "d5", "success", "2026-10-21 12:00", []),  # not production
            (CHECKOUT, "production", "d6", "in_progress", None, []),  # not finished
        ):
            session.add(
                Deploy(
                    entity=entity,
                    environment=env,
                    sha=sha,
                    status=status,
                    finished_at=at(finished) if finished else None,
                    commits=[{"sha": "c0", "authored_at": at(c).isoformat()} for c in commits],
                    received_at=NOW,
                )
            )
        # GitHub saw d4 (pushed already: counted once) and d7 (only there: no lead time)
        for observed, value in (
            (
                "2026-10-30 12:05",
                [
                    {
                        "environment": "production",
                        "sha": "d4",
                        "state": "success",
                        "created_at": "2026-10-30T12:00:00Z",
                    }
                ],
            ),
            (
                "2026-10-31 12:05",
                [
                    {
                        "environment": "production",
                        "sha": "d7",
                        "state": "success",
                        "created_at": "2026-10-31T12:00:00Z",
                    }
                ],
            ),
        ):
            session.add(
                FactChange(
                    entity=STOREFRONT,
                    source="github",
                    key="git.deployments",
                    value=value,
                    observed_at=at(observed),
                )
            )
        # Ready: checkout Bronze from 2026-08-01, Silver from 2026-10-25 12:00 (after INC-2,
        # before INC-3); search Gold since 2026-08-01; storefront no level since 2026-10-19.
        for service, when, level in (
            (CHECKOUT, "2026-08-01 00:00", "Bronze"),
            (CHECKOUT, "2026-10-25 12:00", "Silver"),
            (SEARCH, "2026-08-01 00:00", "Gold"),
            (STOREFRONT, "2026-10-19 12:00", ""),
        ):
            session.add(
                ScorecardChange(scorecard="ready", service=service, at=at(when), level=level)
            )
        await session.commit()
