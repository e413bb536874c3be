"""Scorecard definitions and results, as typed values.

A scorecard is read once (from our YAML or Cortex's) and evaluated many times, so everything
here is frozen and checked when loaded: the evaluator never meets an unknown rule kind, a
level that does not exist or a weight that is not a number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import ClassVar

from switchboard.bot.scorecards.cql.compiler import CompiledRule

# Fields `field_present` can ask for, each answered from the neutral Entity.
FIELDS = ("owner", "oncall", "slack_channel", "runbook", "repo", "docs", "description")
DEFAULT_SEVERITIES = ("SEV1", "SEV2")
DEFAULT_REMINDERS = (30, 14, 7, 1)  # days before an initiative's deadline

# A rule's outcome for one service. NEEDS: a CQL rule reads a fact we cannot have for this
# service (its source is not configured, or has not reported it): neither passing nor
# failing, it counts in no score, and like UNSUPPORTED it blocks its level.
PASS, FAIL, EXEMPT, UNSUPPORTED, NEEDS = "pass", "fail", "exempt", "unsupported", "needs"


@dataclass(frozen=True, slots=True)
class FieldPresent:
    kind: ClassVar[str] = "field_present"
    field: str  # one of FIELDS


@dataclass(frozen=True, slots=True)
class LinkExists:
    kind: ClassVar[str] = "link_exists"
    link_type: str  # one of catalog LINK_TYPES, or a source's own word


@dataclass(frozen=True, slots=True)
class TagPresent:
    kind: ClassVar[str] = "tag_present"
    tag: str  # lower-case: tags are compared without case


@dataclass(frozen=True, slots=True)
class TagAbsent:
    kind: ClassVar[str] = "tag_absent"
    tag: str


@dataclass(frozen=True, slots=True)
class TierAtMost:
    """Tier 1 is the most critical, so "at most 2" means tier 1 or 2; no tier fails."""

    kind: ClassVar[str] = "tier_at_most"
    tier: int


@dataclass(frozen=True, slots=True)
class TierIn:
    kind: ClassVar[str] = "tier_in"
    tiers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class LifecycleIn:
    kind: ClassVar[str] = "lifecycle_in"
    lifecycles: tuple[str, ...]  # lower-case


@dataclass(frozen=True, slots=True)
class DependenciesDeclared:
    kind: ClassVar[str] = "dependencies_declared"
    minimum: int = 1


@dataclass(frozen=True, slots=True)
class NoOverdueFollowUps:
    """Open follow-ups past due: of the service's incidents ("service"), or owned by any of
    the service's owning teams ("team")."""

    kind: ClassVar[str] = "no_overdue_followups"
    scope: str = "service"


@dataclass(frozen=True, slots=True)
class NoOldUnresolvedIncidents:
    kind: ClassVar[str] = "no_unresolved_incidents"
    older_than_days: int
    severities: tuple[str, ...] = DEFAULT_SEVERITIES  # upper-case


@dataclass(frozen=True, slots=True)
class MeanTimeToResolve:
    """The mean time to resolve the incidents declared in the last `days` days and resolved
    since; unresolved ones are left to `no_unresolved_incidents`."""

    kind: ClassVar[str] = "mean_time_to_resolve"
    days: int
    under_hours: float


@dataclass(frozen=True, slots=True)
class IncidentCount:
    kind: ClassVar[str] = "incident_count"
    days: int
    fewer_than: int
    severities: tuple[str, ...] = ()  # upper-case; () = every severity


@dataclass(frozen=True, slots=True)
class CqlRule:
    """A CQL expression (docs/cql.md), compiled once when its file is read."""

    kind: ClassVar[str] = "cql"
    expression: str
    compiled: CompiledRule = field(compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A rule we cannot evaluate (a Cortex CQL expression with no equivalent here): shown as
    unsupported, never passed, never counted in the score, and it blocks its level."""

    kind: ClassVar[str] = "unsupported"
    expression: str
    why: str
    # `file:line:col: message`, the expression's line and a caret, when CQL told where
    located: str = field(default="", compare=False)


Check = (
    FieldPresent
    | LinkExists
    | TagPresent
    | TagAbsent
    | TierAtMost
    | TierIn
    | LifecycleIn
    | DependenciesDeclared
    | NoOverdueFollowUps
    | NoOldUnresolvedIncidents
    | MeanTimeToResolve
    | IncidentCount
    | CqlRule
    | Unsupported
)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    title: str
    check: Check
    weight: float = 1.0
    level: str = ""  # "" = counts in the score only, not towards a level
    description: str = ""
    # shown instead of the reason when a CQL rule fails; `{{context.evaluation.captures.x}}`
    # is replaced by what `captures("x", ...)` held
    failure_message: str = ""


@dataclass(frozen=True, slots=True)
class Exemption:
    """A rule waived for one service until (and including) a day."""

    rule: str  # rule id
    service: str  # entity ref
    reason: str
    until: date


@dataclass(frozen=True, slots=True)
class Filter:
    """Which entities a scorecard applies to. Each non-empty set must match; `tags` match
    when the entity has any of them (lower-case)."""

    kinds: frozenset[str] = frozenset({"component"})
    types: frozenset[str] = frozenset()
    tiers: frozenset[int] = frozenset()
    lifecycles: frozenset[str] = frozenset()
    tags: frozenset[str] = frozenset()
    # a Cortex filter query over catalog data only (`hasGroup("a") || hasGroup("b")`)
    query: CompiledRule | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Initiative:
    """A target (a level, or one rule) that a scorecard's services are to reach by a day.

    Exactly one of `level` and `rule` is set. `filter` and `services` narrow the scorecard's
    own services: an initiative's filter starts with no kinds, so by default it keeps every
    entity the scorecard applies to, and an empty `services` means every one of those."""

    id: str
    name: str
    scorecard: str  # the id of the scorecard it belongs to
    deadline: date
    level: str = ""  # "" when the target is a rule
    rule: str = ""  # a rule id; "" when the target is a level
    description: str = ""
    filter: Filter = Filter(kinds=frozenset())
    services: frozenset[str] = frozenset()  # entity refs; empty = no narrowing
    reminders: tuple[int, ...] = DEFAULT_REMINDERS  # days before the deadline, largest first
    source_file: str = ""
    source_line: int = 0


@dataclass(frozen=True, slots=True)
class Scorecard:
    id: str
    name: str
    levels: tuple[str, ...]  # lowest first
    rules: tuple[Rule, ...]
    description: str = ""
    filter: Filter = Filter()
    exemptions: tuple[Exemption, ...] = ()
    initiatives: tuple[Initiative, ...] = ()
    source_file: str = ""
    source_line: int = 0


@dataclass(frozen=True, slots=True)
class RuleOutcome:
    """A rule's outcome for one service. Private incidents count in `status` (the score
    stays honest) but never show on a public surface: `reason` is built from public records
    only, and when the private ones changed the status the outcome is `withheld` (neither
    its rule nor its reason is shown there). `private_reason`, over every record, is for
    the participants of every one of `private_incidents`."""

    rule: Rule
    status: str  # PASS, FAIL, EXEMPT, UNSUPPORTED or NEEDS
    reason: str  # short and human: "no runbook link"; "" when withheld
    withheld: bool = False
    private_reason: str = ""  # "" when no private incident changed anything
    private_incidents: frozenset[int] = frozenset()
    # the live facts the rule read, oldest first per source: "GitHub, 12 min ago"; "" when
    # it read none, or the evaluation was not asked to tell (the scheduled one is not)
    facts: str = ""

    def seen_by(self, insider_of: frozenset[int]) -> RuleOutcome:
        """The outcome as someone taking part in `insider_of` (incident ids) may read it."""
        if self.private_reason and self.private_incidents <= insider_of:
            return RuleOutcome(self.rule, self.status, self.private_reason, facts=self.facts)
        return self


@dataclass(frozen=True, slots=True)
class ServiceResult:
    service: str  # entity ref
    level: str | None  # None: below the first level
    score: float | None  # passing / applicable weight; None when no rule is applicable
    outcomes: tuple[RuleOutcome, ...]  # in the scorecard's rule order
    next_level: str | None = None  # None at the top
    blockers: tuple[RuleOutcome, ...] = ()  # rules not passing (nor exempt) up to next_level

    @property
    def private_incidents(self) -> frozenset[int]:
        return frozenset(i for o in self.outcomes for i in o.private_incidents)

    def seen_by(self, insider_of: frozenset[int]) -> ServiceResult:
        """The result as someone taking part in `insider_of` (incident ids) may read it."""
        if not self.private_incidents:
            return self
        return ServiceResult(
            self.service,
            self.level,
            self.score,
            tuple(o.seen_by(insider_of) for o in self.outcomes),
            self.next_level,
            tuple(o.seen_by(insider_of) for o in self.blockers),
        )
