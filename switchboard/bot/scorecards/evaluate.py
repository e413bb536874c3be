"""Evaluating a scorecard: pure functions over a snapshot (entities, facts, today).

Each rule is turned once per run into a checker closure bound to its parameters and to
`today`, so the loop over tens of thousands of services does no dispatching and no date
arithmetic it could have done once; a rule whose reason does not depend on the service
answers with one of two outcomes built in advance instead of a new one per service.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from switchboard.bot.catalog.api import DEPENDS_ON, MAX_TIER, Entity, on_call
from switchboard.bot.facts.api import age_text
from switchboard.bot.platform.text import duration
from switchboard.bot.scorecards.cql import compiler as cql
from switchboard.bot.scorecards.cql.context import RECORDS, FactTable, Snapshot
from switchboard.bot.scorecards.cql.context import Facts as LiveFacts
from switchboard.bot.scorecards.cql.messages import fill
from switchboard.bot.scorecards.cql.view import ServiceView
from switchboard.bot.scorecards.model import (
    EXEMPT,
    FAIL,
    NEEDS,
    PASS,
    UNSUPPORTED,
    CqlRule,
    DependenciesDeclared,
    Exemption,
    FieldPresent,
    Filter,
    IncidentCount,
    LifecycleIn,
    LinkExists,
    MeanTimeToResolve,
    NoOldUnresolvedIncidents,
    NoOverdueFollowUps,
    Rule,
    RuleOutcome,
    Scorecard,
    ServiceResult,
    TagAbsent,
    TagPresent,
    TierAtMost,
    TierIn,
    Unsupported,
)
from switchboard.storage.scorecard_facts import Facts, IncidentFact, ServiceFacts


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may read besides the service and its own facts."""

    team_overdue: Mapping[str, int]  # open follow-ups past due, by owning team ref
    teams: Mapping[str, Entity]  # the owning teams, by ref (for their on-call)
    # of team_overdue, those of private incidents: by owning team ref, then incident id
    team_private_overdue: Mapping[str, Mapping[int, int]] = field(default_factory=dict)

    def private_overdue(self, entity: Entity) -> frozenset[int]:
        """The private incidents with overdue follow-ups owned by the entity's teams."""
        return frozenset(
            i for owner in entity.owners for i in self.team_private_overdue.get(owner, {})
        )

    def public(self) -> Context:
        """The same context without anything from a private incident."""
        overdue = {
            team: count - sum(self.team_private_overdue.get(team, {}).values())
            for team, count in self.team_overdue.items()
        }
        return Context(overdue, self.teams)


# (entity, its facts, the context) -> the rule's outcome
Checker = Callable[[Entity, ServiceFacts, Context], RuleOutcome]
_NO_FACTS = ServiceFacts()  # read only


@dataclass(frozen=True, slots=True)
class Sources:
    """What CQL rules may read besides the entity and its incident facts: the stored live
    facts (GitHub, SonarQube, on-call now, pushed), the sources configured in this process
    (cql.context's GITHUB, SONARQUBE; None when not known: needs are then told per service)
    and the catalog's reverse dependencies (refs depending on each ref; None when not loaded)."""

    live: LiveFacts | None = None
    configured: Collection[str] | None = None
    dependents: Mapping[str, Sequence[str]] | None = None


def evaluate(
    scorecard: Scorecard,
    entities: Iterable[Entity],
    facts: Facts,
    today: date,
    teams: Mapping[str, Entity] | None = None,
    live: LiveFacts | Sources | None = None,
) -> list[ServiceResult]:
    """The result of every entity the scorecard's filter selects, in the given order;
    `teams` holds the owning teams (by ref) that rules about on-call read, `live` the
    stored facts CQL rules read (or `Sources`, those and more)."""
    sources = live if isinstance(live, Sources) else Sources(live)
    plan = _Plan(scorecard, today, sources)
    context = Context(facts.team_overdue_followups, teams or {}, facts.team_private_overdue)
    return [plan.result(e, facts, context) for e in entities if applies(scorecard.filter, e)]


def reads_cql(scorecards: Iterable[Scorecard], source: str) -> bool:
    """Whether any CQL rule reads `source` (cql.context's RECORDS, DEPENDENTS...)."""
    return any(
        isinstance(rule.check, CqlRule) and source in rule.check.compiled.sources
        for scorecard in scorecards
        for rule in scorecard.rules
    )


def dependents_index(entities: Iterable[Entity]) -> dict[str, list[str]]:
    """Ref -> the refs of the entities declaring a dependency on it: `dependencies.in()`,
    built once per evaluation rather than a scan of the catalog per service."""
    index: dict[str, list[str]] = {}
    for entity in entities:
        for relation in entity.relations:
            if relation.type == DEPENDS_ON:
                index.setdefault(relation.target, []).append(entity.ref)
    return index


def reads_teams(scorecards: Iterable[Scorecard]) -> bool:
    """Whether any rule reads the owning teams (so they must be given to `evaluate`)."""
    return any(
        (isinstance(rule.check, FieldPresent) and rule.check.field == "oncall")
        or (isinstance(rule.check, CqlRule) and "oncall" in rule.check.expression)
        for scorecard in scorecards
        for rule in scorecard.rules
    )


def applies(which: Filter, entity: Entity) -> bool:
    return (
        (not which.kinds or entity.kind in which.kinds)
        and (not which.types or entity.type.lower() in which.types)
        and (not which.tiers or entity.tier in which.tiers)
        and (not which.lifecycles or entity.lifecycle.lower() in which.lifecycles)
        and (not which.tags or any(tag.lower() in which.tags for tag in entity.tags))
        and (which.query is None or _selects(which.query, entity))
    )


# A filter query reads the catalog only (cortex.py refuses others), so no facts, no records.
_CATALOG_ONLY = Snapshot(datetime(1970, 1, 1, tzinfo=UTC))


def _selects(query: cql.CompiledRule, entity: Entity) -> bool:
    return query.evaluate(entity, _CATALOG_ONLY).status == cql.PASS


def lookback_days(scorecards: Iterable[Scorecard]) -> int:
    """How many days of resolved incidents the facts must hold for these scorecards."""
    windows = [
        rule.check.days
        if isinstance(rule.check, MeanTimeToResolve | IncidentCount)
        else rule.check.compiled.lookback_days
        for scorecard in scorecards
        for rule in scorecard.rules
        if isinstance(rule.check, MeanTimeToResolve | IncidentCount | CqlRule)
    ]
    return max(windows, default=0)


def active_exemptions(scorecard: Scorecard, today: date) -> dict[tuple[str, str], Exemption]:
    """(rule id, service ref) -> exemption, for those not expired: `until` is the last day."""
    return {(e.rule, e.service): e for e in scorecard.exemptions if e.until >= today}


# (entity, its facts, the context) -> the private incidents the rule would read there
PrivateReads = Callable[[Entity, ServiceFacts, Context], frozenset[int]]


@dataclass(frozen=True, slots=True)
class _Step:
    rule: Rule
    level: int  # index in the scorecard's levels; len(levels) for a rule without a level
    check: Checker
    private: PrivateReads | None  # None for a rule that reads no incident record

    def outcome(self, entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        """The outcome over every record, told from public records only: the one place
        where what a private incident changes is kept off public surfaces."""
        outcome = self.check(entity, service, context)
        if self.private is None or not (ids := self.private(entity, service, context)):
            return outcome
        public = self.check(entity, service.public(), context.public())
        if (public.status, public.reason) == (outcome.status, outcome.reason):
            return outcome  # the private incidents changed nothing that is shown
        withheld = public.status != outcome.status
        return RuleOutcome(
            outcome.rule,
            outcome.status,
            "" if withheld else public.reason,
            withheld=withheld,
            private_reason=f"{outcome.reason} ({_private(len(ids))})",
            private_incidents=ids,
        )


def _private(count: int) -> str:
    return "including a private incident" if count == 1 else f"including {count} private incidents"


def _private_reads(rule: Rule) -> PrivateReads | None:
    match rule.check:
        case NoOldUnresolvedIncidents() | MeanTimeToResolve() | IncidentCount():
            return lambda entity, service, context: service.private_incidents
        case CqlRule() if RECORDS in rule.check.compiled.sources:
            return lambda entity, service, context: service.private_incidents
        case NoOverdueFollowUps(scope="service"):
            return lambda entity, service, context: frozenset(service.private_overdue)
        case NoOverdueFollowUps():
            return lambda entity, service, context: context.private_overdue(entity)
        case _:
            return None


class _Plan:
    """A scorecard made ready for one run: checkers bound, levels indexed, exemptions
    filtered by date and grouped by service."""

    def __init__(self, scorecard: Scorecard, today: date, sources: Sources) -> None:
        index = {name: i for i, name in enumerate(scorecard.levels)}
        self.levels = scorecard.levels
        # one view for every CQL rule of the run (docs/cql.md): now, the facts, dependents
        view = ServiceView(datetime.combine(today, time(), UTC), sources.live, sources.dependents)
        self.steps = [
            _Step(
                rule,
                index.get(rule.level, len(self.levels)),
                _checker(rule, today, sources, view),
                _private_reads(rule),
            )
            for rule in scorecard.rules
        ]
        rules = {rule.id: rule for rule in scorecard.rules}
        self.waived: dict[str, dict[str, RuleOutcome]] = {}
        for (rule_id, ref), exemption in active_exemptions(scorecard, today).items():
            if rule_id in rules:
                reason = f"exempt until {exemption.until.isoformat()}: {exemption.reason}"
                self.waived.setdefault(ref, {})[rule_id] = RuleOutcome(
                    rules[rule_id], EXEMPT, reason
                )

    def result(self, entity: Entity, facts: Facts, context: Context) -> ServiceResult:
        ref = entity.ref
        service = facts.services.get(ref, _NO_FACTS)
        waived = self.waived.get(ref)
        outcomes: list[RuleOutcome] = []
        blocked = len(self.levels)  # the lowest level with a rule not passing
        passed = applicable = 0.0
        for step in self.steps:
            if waived and (exempt := waived.get(step.rule.id)):
                outcomes.append(exempt)
                continue
            outcome = step.outcome(entity, service, context)
            outcomes.append(outcome)
            if outcome.status == PASS:
                passed += step.rule.weight
                applicable += step.rule.weight
                continue
            if outcome.status == FAIL:  # unsupported, needs: not applicable, yet they block
                applicable += step.rule.weight
            blocked = min(blocked, step.level)
        return self._result(ref, outcomes, blocked, passed / applicable if applicable else None)

    def _result(
        self, ref: str, outcomes: list[RuleOutcome], blocked: int, score: float | None
    ) -> ServiceResult:
        level = self.levels[blocked - 1] if blocked > 0 else None
        if blocked >= len(self.levels):  # at the top, or no levels at all
            return ServiceResult(ref, level, score, tuple(outcomes))
        blockers = tuple(
            outcome
            for outcome, step in zip(outcomes, self.steps, strict=True)
            if outcome.status in (FAIL, UNSUPPORTED, NEEDS) and step.level <= blocked
        )
        return ServiceResult(ref, level, score, tuple(outcomes), self.levels[blocked], blockers)


# Checkers ----------------------------------------------------------------------------------


def _checker(rule: Rule, today: date, sources: Sources, view: ServiceView) -> Checker:
    check = rule.check
    match check:
        case FieldPresent(field="oncall"):
            return _oncall(rule)
        case FieldPresent():
            return _field_present(rule, check.field)
        case LinkExists():
            return _link_exists(rule, check.link_type)
        case TagPresent():
            return _tag(rule, check.tag, wanted=True)
        case TagAbsent():
            return _tag(rule, check.tag, wanted=False)
        case TierAtMost():
            return _tier(rule, tuple(range(check.tier + 1)), f"{check.tier} or lower")
        case TierIn():
            return _tier(rule, check.tiers, "one of " + ", ".join(map(str, check.tiers)))
        case LifecycleIn():
            return _lifecycle_in(rule, check.lifecycles)
        case DependenciesDeclared():
            return _dependencies(rule, check.minimum)
        case NoOverdueFollowUps():
            return _overdue(rule, check.scope)
        case NoOldUnresolvedIncidents():
            return _unresolved(rule, check, today)
        case MeanTimeToResolve():
            return _mean_time_to_resolve(rule, check, today)
        case IncidentCount():
            return _incident_count(rule, check, today)
        case CqlRule():
            return _cql(rule, check.compiled, sources, view)
        case Unsupported():
            return _constant(RuleOutcome(rule, UNSUPPORTED, check.why))


def _cql(rule: Rule, compiled: cql.CompiledRule, sources: Sources, view: ServiceView) -> Checker:
    """A CQL rule: pass or fail with its reason; a fact it needs that we cannot have for
    this service is NEEDS, saying what is needed; an error while it ran is unsupported for
    this service, saying which, never a plain fail."""
    unconfigured = {  # sources this process has no settings for: the same reason everywhere
        source: cql.needed([source])
        for source in cql.SOURCE_SETTINGS
        if sources.configured is not None and source not in sources.configured
    }

    # Many services get the same outcome ("links("runbook").length is 0, must be > 0"):
    # outcomes are frozen, so one is built per distinct (status, reason, facts), up to a bound.
    seen: dict[tuple[str, str, str], RuleOutcome] = {}

    def outcome(status: str, reason: str, facts: str) -> RuleOutcome:
        key = (status, reason, facts)
        found = seen.get(key)
        if found is None:
            found = RuleOutcome(rule, status, reason, facts=facts)
            if len(seen) < _MAX_SHARED:
                seen[key] = found
        return found

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        at = view.at(entity, service.incidents, context.teams)
        verdict = compiled.evaluate(entity, at, at.ref)
        facts = _ages(sources.live, view.read) if view.read else ""
        if verdict.status == cql.PASS:
            return outcome(PASS, verdict.reason, facts)
        if verdict.status == cql.FAIL:
            message = fill(rule.failure_message, verdict.captures) or verdict.reason
            return outcome(FAIL, message, facts)
        if verdict.status == cql.NEEDS:
            reason = unconfigured.get(verdict.needs) or (
                f"needs {cql.SOURCE_LABELS.get(verdict.needs, verdict.needs)}: {verdict.reason}"
            )
            return outcome(NEEDS, reason, facts)
        return outcome(UNSUPPORTED, f"error: {verdict.reason}", facts)

    return check


_MAX_SHARED = 1_000  # distinct outcomes kept per CQL rule and run


# a facts source as an outcome names it
_SOURCE_NAMES = {
    "github": "GitHub",
    "sonarqube": "SonarQube",
    "pagerduty": "PagerDuty",
    "opsgenie": "Opsgenie",
    "slack": "Slack",
}


def _ages(live: LiveFacts | None, read: Sequence[tuple[str, str]]) -> str:
    """ "GitHub, 12 min ago" for the facts a rule read: per source its oldest value, and
    "stale" when any of them is past its TTL or its source failed since."""
    if not isinstance(live, FactTable) or live.about is None:
        return ""
    oldest: dict[str, tuple[timedelta, bool]] = {}
    for pair in dict.fromkeys(read):
        if (about := live.about.get(pair)) is None:
            continue
        name = _SOURCE_NAMES.get(about.source) or (
            "pushed" if about.source.startswith("push:") else about.source
        )
        age, stale = oldest.get(name, (timedelta(0), False))
        oldest[name] = (max(age, about.age), stale or about.stale)
    return "; ".join(
        f"{name}, {age_text(age)}" + (", stale" if stale else "")
        for name, (age, stale) in oldest.items()
    )


def _constant(outcome: RuleOutcome) -> Checker:
    return lambda entity, service, context: outcome


def _outcome(rule: Rule, ok: bool, reason: str) -> RuleOutcome:
    return RuleOutcome(rule, PASS if ok else FAIL, reason)


# field -> (what it is called, does the entity have it)
_FIELD_TESTS: dict[str, tuple[str, Callable[[Entity], bool]]] = {
    "owner": ("an owner", lambda e: bool(e.owners)),
    "slack_channel": ("a Slack channel", lambda e: bool(e.slack_channels)),
    "runbook": ("a runbook link", lambda e: any(k.type == "runbook" for k in e.links)),
    "repo": ("a repository link", lambda e: any(k.type == "repo" for k in e.links)),
    "docs": ("a docs link", lambda e: any(k.type == "docs" for k in e.links)),
    "description": ("a description", lambda e: bool(e.description.strip())),
}


def _field_present(rule: Rule, name: str) -> Checker:
    noun, test = _FIELD_TESTS[name]
    yes = RuleOutcome(rule, PASS, f"has {noun}")
    no = RuleOutcome(rule, FAIL, "no " + noun.split(" ", 1)[1])

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        return yes if test(entity) else no

    return check


def _oncall(rule: Rule) -> Checker:
    """On-call as `/owner` tells it (`oncall.on_call`): the service's own, else its owning
    teams'; the reason says which."""
    none = RuleOutcome(rule, FAIL, "no on-call, of its own or through its owning team")
    own = RuleOutcome(rule, PASS, "has an on-call of its own")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        if entity.oncall:
            return own
        teams = [team for ref in entity.owners if (team := context.teams.get(ref))]
        found = on_call(entity, teams)
        if not found.entries:
            return none
        return RuleOutcome(rule, PASS, f"has an on-call {found.whose}")

    return check


def _link_exists(rule: Rule, link_type: str) -> Checker:
    yes = RuleOutcome(rule, PASS, f"has a {link_type} link")
    no = RuleOutcome(rule, FAIL, f"no {link_type} link")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        return yes if any(link.type == link_type for link in entity.links) else no

    return check


def _tag(rule: Rule, tag: str, *, wanted: bool) -> Checker:
    tagged = _outcome(rule, wanted, f"tagged {tag}")
    untagged = _outcome(rule, not wanted, f"not tagged {tag}")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        return tagged if any(t.lower() == tag for t in entity.tags) else untagged

    return check


def _tier(rule: Rule, allowed: Sequence[int], wanted: str) -> Checker:
    # one outcome per tier there can be, and one for none
    outcomes = {
        tier: _outcome(rule, True, f"tier {tier}")
        if tier in allowed
        else _outcome(rule, False, f"tier {tier} (must be {wanted})")
        for tier in range(MAX_TIER + 1)
    }
    untiered = RuleOutcome(rule, FAIL, f"no tier (must be {wanted})")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        return untiered if entity.tier is None else outcomes[entity.tier]

    return check


def _lifecycle_in(rule: Rule, lifecycles: Sequence[str]) -> Checker:
    wanted = ", ".join(lifecycles)
    missing = RuleOutcome(rule, FAIL, f"no lifecycle (must be {wanted})")
    seen: dict[str, RuleOutcome] = {}  # lifecycles are few: one outcome for each

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        lifecycle = entity.lifecycle
        if not lifecycle:
            return missing
        if (outcome := seen.get(lifecycle)) is None:
            ok = lifecycle.lower() in lifecycles
            reason = f"lifecycle {lifecycle}" + ("" if ok else f" (must be {wanted})")
            outcome = seen[lifecycle] = _outcome(rule, ok, reason)
        return outcome

    return check


def _dependencies(rule: Rule, minimum: int) -> Checker:
    none = RuleOutcome(rule, FAIL, "no dependencies declared")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        declared = sum(1 for r in entity.relations if r.type == DEPENDS_ON)
        if not declared:
            return none
        ok = declared >= minimum
        counted = f"{_count(declared, 'dependency', 'dependencies')} declared"
        return _outcome(rule, ok, counted if ok else f"{counted}, {minimum} wanted")

    return check


def _overdue(rule: Rule, scope: str) -> Checker:
    whose = "of its incidents" if scope == "service" else "owned by its team"
    fine = RuleOutcome(rule, PASS, f"no overdue follow-ups {whose}")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        if scope == "service":
            overdue = service.overdue_followups
        else:
            overdue = sum(context.team_overdue.get(owner, 0) for owner in entity.owners)
        if not overdue:
            return fine
        return RuleOutcome(rule, FAIL, f"{_count(overdue, 'overdue follow-up')} {whose}")

    return check


def _unresolved(rule: Rule, params: NoOldUnresolvedIncidents, today: date) -> Checker:
    severities = frozenset(params.severities)
    names = "/".join(params.severities)
    days = params.older_than_days
    fine = _outcome(rule, True, f"no unresolved {names} incident older than {_count(days, 'day')}")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        old = [
            i
            for i in service.incidents
            if i.resolved_at is None
            and i.severity.upper() in severities
            and (today - i.declared_at.date()).days > days
        ]
        if not old:
            return fine
        oldest = min(old, key=lambda i: i.declared_at)
        return RuleOutcome(
            rule,
            FAIL,
            f"{_count(len(old), f'unresolved {names} incident')} older than "
            f"{_count(days, 'day')}, the oldest declared {oldest.declared_at:%Y-%m-%d}",
        )

    return check


def _mean_time_to_resolve(rule: Rule, params: MeanTimeToResolve, today: date) -> Checker:
    since, bound = _window_start(today, params.days), timedelta(hours=params.under_hours)
    window = f"in the last {_count(params.days, 'day')}"
    quiet = RuleOutcome(rule, PASS, f"no incident resolved {window}")

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        times = [
            i.resolved_at - i.declared_at
            for i in service.incidents
            if i.resolved_at is not None and i.declared_at >= since
        ]
        if not times:
            return quiet
        mean = sum(times, timedelta()) / len(times)
        return _outcome(
            rule,
            mean < bound,
            f"mean time to resolve {duration(mean)} over {_count(len(times), 'incident')} "
            f"{window} (must be under {duration(bound)})",
        )

    return check


def _incident_count(rule: Rule, params: IncidentCount, today: date) -> Checker:
    since = _window_start(today, params.days)
    severities = frozenset(params.severities)
    what = ("/".join(params.severities) + " incident") if severities else "incident"
    window = f"in the last {_count(params.days, 'day')} (must be fewer than {params.fewer_than})"
    # a few counts cover nearly every service: build their outcomes once
    by_count = [
        _outcome(rule, n < params.fewer_than, f"{_count(n, what)} {window}") for n in range(4)
    ]

    def counted(incident: IncidentFact) -> bool:
        return incident.declared_at >= since and (
            not severities or incident.severity.upper() in severities
        )

    def check(entity: Entity, service: ServiceFacts, context: Context) -> RuleOutcome:
        found = sum(1 for i in service.incidents if counted(i)) if service.incidents else 0
        if found < len(by_count):
            return by_count[found]
        return _outcome(rule, found < params.fewer_than, f"{_count(found, what)} {window}")

    return check


def _window_start(today: date, days: int) -> datetime:
    """The start of "the last N days": midnight UTC N days before today."""
    return datetime.combine(today - timedelta(days=days), time(), UTC)


def _count(n: int, word: str, plural: str = "") -> str:
    return f"{n} {word if n == 1 else plural or word + 's'}"
