"""Reading scorecard files and folders: our own format, and Cortex scorecard YAML.

Files and folders are walked as the catalog loader walks them, and every document is read
through the catalog's line-aware YAML, so each problem is a `file:line: message`. A document
with any error yields no scorecard: the caller keeps the ones it had.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.bot.catalog.api import (
    Node,
    Problem,
    SourceFile,
    YMap,
    describe,
    expand_path,
    link_type,
    load_documents,
    parse_ref,
    read_text,
)
from switchboard.bot.scorecards import cortex
from switchboard.bot.scorecards.model import (
    DEFAULT_REMINDERS,
    DEFAULT_SEVERITIES,
    FIELDS,
    Check,
    DependenciesDeclared,
    Exemption,
    FieldPresent,
    Filter,
    IncidentCount,
    Initiative,
    LifecycleIn,
    LinkExists,
    MeanTimeToResolve,
    NoOldUnresolvedIncidents,
    NoOverdueFollowUps,
    Rule,
    Scorecard,
    TagAbsent,
    TagPresent,
    TierAtMost,
    TierIn,
    Unsupported,
)
from switchboard.bot.scorecards.reading import (
    check_level,
    day,
    number,
    unique_rules,
    whole,
    words,
)

NOT_A_SCORECARD = (
    "not a scorecard file (Switchboard `scorecard:` or Cortex `tag:` + `rules:`), skipped"
)

_TOP_FIELDS = {
    "scorecard",
    "name",
    "description",
    "filter",
    "levels",
    "rules",
    "exemptions",
    "initiatives",
}
_FILTER_FIELDS = {"kinds", "types", "tiers", "lifecycles", "tags"}
_RULE_FIELDS = {
    "id",
    "title",
    "description",
    "level",
    "weight",
    "check",
    "expression",
    "failure_message",
}
_EXEMPTION_FIELDS = {"rule", "service", "reason", "until"}
_INITIATIVE_FIELDS = {
    "id",
    "name",
    "description",
    "level",
    "rule",
    "filter",
    "services",
    "deadline",
    "reminders",
}
_SCOPES = ("service", "team")


@dataclass(slots=True)
class LoadResult:
    scorecards: list[Scorecard] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def load_paths(paths: Sequence[str | Path]) -> LoadResult:
    """Read scorecard files, and folders recursively; two scorecards may not share an id."""
    result = LoadResult()
    files: list[Path] = []
    for path in paths:
        files += [f for f in expand_path(Path(path), result.errors) if f not in files]
    for path in files:
        source = SourceFile(path)
        result.scorecards += _read_file(source)
        result.files.append(str(path))
        result.errors += source.errors
        result.warnings += source.warnings
    _check_unique(result)
    result.errors.sort()
    result.warnings.sort()
    return result


def _read_file(source: SourceFile) -> list[Scorecard]:
    text = read_text(source)
    if text is None:
        return []
    found: list[Scorecard] = []
    for doc in load_documents(text, source):
        if doc.raw is None:
            continue
        if not isinstance(doc.raw, YMap):
            source.error(doc.line, f"a scorecard must be a mapping, got {describe(doc.raw)}")
            continue
        reader = _detect(doc.raw)
        if reader is None:
            source.warning(doc.line, NOT_A_SCORECARD)
            continue
        errors = len(source.errors)
        scorecard = reader(doc)
        if scorecard is not None and len(source.errors) == errors:
            found.append(scorecard)
    return found


def _detect(doc: YMap) -> Callable[[Node], Scorecard | None] | None:
    if "scorecard" in doc:
        return read
    if "tag" in doc and "rules" in doc:
        return cortex.read
    return None


def _check_unique(result: LoadResult) -> None:
    first: dict[str, Scorecard] = {}
    for scorecard in result.scorecards:
        if seen := first.get(scorecard.id):
            result.errors.append(
                Problem(
                    scorecard.source_file,
                    scorecard.source_line,
                    f"scorecard {scorecard.id!r} is defined already at "
                    f"{seen.source_file}:{seen.source_line}",
                )
            )
        first.setdefault(scorecard.id, scorecard)
    # Reminders and the ledger are keyed on an initiative's id alone, so it is unique across
    # every scorecard, not only within its own.
    initiatives: dict[str, Initiative] = {}
    for initiative in (i for s in result.scorecards for i in s.initiatives):
        if seen_initiative := initiatives.get(initiative.id):
            result.errors.append(
                Problem(
                    initiative.source_file,
                    initiative.source_line,
                    f"initiative {initiative.id!r} is defined already at "
                    f"{seen_initiative.source_file}:{seen_initiative.source_line}",
                )
            )
        initiatives.setdefault(initiative.id, initiative)


# Our format --------------------------------------------------------------------------------


def read(doc: Node) -> Scorecard | None:
    """One scorecard in Switchboard's format (docs/scorecards.md)."""
    doc.warn_unknown(_TOP_FIELDS)
    scorecard_id = doc.child("scorecard").name()
    levels = _levels(doc.child("levels"))
    items = doc.child("rules").items()
    if not items:
        doc.src.error(doc.child("rules").line, "rules: a scorecard needs at least one rule")
    rules = unique_rules([(rule, item) for item in items if (rule := _rule(item, levels))])
    exemptions = tuple(
        e for item in doc.child("exemptions").items() if (e := _exemption(item, rules))
    )
    initiatives = _initiatives(doc.child("initiatives"), scorecard_id, levels, rules)
    if not scorecard_id:
        return None
    return Scorecard(
        id=scorecard_id,
        name=doc.child("name").text() or scorecard_id,
        description=doc.child("description").text(),
        filter=_filter(doc.child("filter").mapping()),
        levels=levels,
        rules=rules,
        exemptions=exemptions,
        initiatives=initiatives,
        source_file=str(doc.src.path),
        source_line=doc.line,
    )


def _levels(node: Node) -> tuple[str, ...]:
    levels: list[str] = []
    for item in node.items():
        name = item.text(required=True)
        if name in levels:
            item.src.error(item.line, f"{item.path}: level {name!r} is listed twice")
        elif name:
            levels.append(name)
    return tuple(levels)


def _filter(node: Node, default_kinds: frozenset[str] = Filter().kinds) -> Filter:
    node.warn_unknown(_FILTER_FIELDS)
    tiers = frozenset(t for item in node.child("tiers").items() if (t := item.tier()) is not None)
    kinds = node.child("kinds")
    return Filter(
        kinds=frozenset(_lower(kinds)) if kinds.present else default_kinds,
        types=frozenset(_lower(node.child("types"))),
        tiers=tiers,
        lifecycles=frozenset(_lower(node.child("lifecycles"))),
        tags=frozenset(_lower(node.child("tags"))),
    )


def _lower(node: Node) -> list[str]:
    return [text.lower() for text in node.texts()]


def _rule(node: Node, levels: tuple[str, ...]) -> Rule | None:
    node = node.mapping(required=True)
    rule_id = node.child("id").name() if node.present else ""
    check = _check(node) if node.present else None
    level = check_level(node.child("level"), levels)
    weight = number(node.child("weight"))
    if not rule_id or check is None:
        return None
    return Rule(
        id=rule_id,
        title=node.child("title").text() or rule_id,
        check=check,
        weight=1.0 if weight is None else weight,
        level=level,
        description=node.child("description").text(),
        failure_message=node.child("failure_message").text(),
    )


def _check(node: Node) -> Check | None:
    if node.child("expression").present:
        return _expression(node)
    kind = node.child("check")
    word = kind.text(required=True)
    if not word:
        return None
    entry = _CHECKS.get(word)
    if entry is None:
        kind.src.error(
            kind.line, f"{kind.path}: unknown rule kind {word!r} (known: {', '.join(_CHECKS)})"
        )
        return None
    params, reader = entry
    node.warn_unknown(_RULE_FIELDS | params)
    return reader(node)


def _expression(node: Node) -> Check | None:
    """A CQL rule (docs/cql.md), compiled now: one that does not compile is an error of
    the file, at its line, as any other malformed rule."""
    source = node.child("expression")
    expression = source.text(required=True)
    if node.child("check").present:
        source.src.error(source.line, f"{source.path}: give `check:` or `expression:`, not both")
        return None
    node.warn_unknown(_RULE_FIELDS)
    if not expression:
        return None
    where = cortex.position(source, expression)
    check = cortex.map_expression(expression, str(source.src.path), *where)
    if isinstance(check, Unsupported):
        source.src.error(source.line, f"{source.path}: {check.why.removeprefix('unsupported: ')}")
        return None
    return check


def _field_present(node: Node) -> Check | None:
    name = node.child("field")
    value = name.text(required=True)
    if value and value not in FIELDS:
        name.src.error(name.line, f"{name.path}: {value!r} is not one of {', '.join(FIELDS)}")
        return None
    return FieldPresent(value) if value else None


def _link_exists(node: Node) -> Check | None:
    word = node.need("type")
    return LinkExists(link_type(word)) if word else None


def _tag_present(node: Node) -> Check | None:
    tag = node.need("tag").lower()
    return TagPresent(tag) if tag else None


def _tag_absent(node: Node) -> Check | None:
    tag = node.need("tag").lower()
    return TagAbsent(tag) if tag else None


def _tier_at_most(node: Node) -> Check | None:
    tier = node.child("tier")
    if not tier.present:
        tier.src.error(tier.line, f"{tier.path} is required")
    value = tier.tier()
    return TierAtMost(value) if value is not None else None


def _tier_in(node: Node) -> Check | None:
    items = node.child("tiers").items()
    tiers = tuple(t for item in items if (t := item.tier()) is not None)
    if not items:
        node.src.error(node.line, f"{node.path}.tiers: list at least one tier")
    return TierIn(tiers) if tiers and len(tiers) == len(items) else None


def _lifecycle_in(node: Node) -> Check | None:
    lifecycles = tuple(_lower(node.child("lifecycles")))
    if not lifecycles:
        node.src.error(node.line, f"{node.path}.lifecycles: list at least one lifecycle")
        return None
    return LifecycleIn(lifecycles)


def _dependencies_declared(node: Node) -> Check | None:
    minimum = whole(node.child("minimum"))
    return DependenciesDeclared(1 if minimum is None else max(minimum, 1))


def _no_overdue_followups(node: Node) -> Check | None:
    scope = node.child("scope")
    value = scope.text().lower() or "service"
    if value not in _SCOPES:
        scope.src.error(scope.line, f"{scope.path}: expected service or team, got {value!r}")
        return None
    return NoOverdueFollowUps(value)


def _severities(node: Node, default: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(text.upper() for text in node.texts()) or default


def _no_unresolved_incidents(node: Node) -> Check | None:
    days = whole(node.child("older_than_days"), required=True)
    severities = _severities(node.child("severities"), DEFAULT_SEVERITIES)
    return None if days is None else NoOldUnresolvedIncidents(days, severities)


def _mean_time_to_resolve(node: Node) -> Check | None:
    days = whole(node.child("days"), required=True)
    hours = number(node.child("under_hours"), required=True)
    return None if days is None or hours is None else MeanTimeToResolve(days, hours)


def _incident_count(node: Node) -> Check | None:
    days = whole(node.child("days"), required=True)
    fewer = whole(node.child("fewer_than"), required=True)
    severities = _severities(node.child("severities"), ())
    return None if days is None or fewer is None else IncidentCount(days, fewer, severities)


# Rule kinds over live facts: each is written as the CQL rule it means (docs/scorecards.md),
# so it reads the same facts, says what it needs the same way, and shows its facts' age.
_FACT_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")  # as a pushed fact's key
_PATH = re.compile(r"[A-Za-z0-9_.][A-Za-z0-9_./-]{0,255}")
_BOUNDS = {"at_least": ">=", "at_most": "<=", "equals": "=="}
_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW")


def _as_cql(node: Node, expression: str) -> Check | None:
    check = cortex.map_expression(expression)
    if isinstance(check, Unsupported):  # our own text: a bug if it ever shows
        node.src.error(node.line, f"{node.path}: {check.why.removeprefix('unsupported: ')}")
        return None
    return check


def _text_matching(node: Node, name: str, pattern: re.Pattern[str], what: str) -> str:
    value = node.need(name)
    if value and not pattern.fullmatch(value):
        child = node.child(name)
        child.src.error(child.line, f"{child.path}: {value!r} is not {what}")
        return ""
    return value


def _bound(node: Node) -> tuple[str, float] | None:
    """The one comparison a fact rule gives: `at_least`, `at_most` or `equals` N."""
    given = [(name, node.child(name)) for name in _BOUNDS if node.child(name).present]
    if len(given) != 1:
        node.src.error(node.line, f"{node.path}: give one of at_least, at_most or equals")
        return None
    name, child = given[0]
    value = number(child)
    return None if value is None else (_BOUNDS[name], value)


def _number_text(value: float) -> str:
    return str(int(value)) if value == int(value) else repr(value)


def _fact(node: Node) -> Check | None:
    key = _text_matching(node, "fact", _FACT_KEY, "a fact key (letters, digits, . _ : -)")
    bound = _bound(node)
    if not key or bound is None:
        return None
    op, value = bound
    return _as_cql(node, f'custom("{key.removeprefix("custom.")}") {op} {_number_text(value)}')


def _sonarqube_metric(node: Node) -> Check | None:
    key = _text_matching(node, "metric", _FACT_KEY, "a SonarQube metric key")
    bound = _bound(node)
    if not key or bound is None:
        return None
    op, value = bound
    return _as_cql(node, f'sonarqube.metric("{key}") {op} {_number_text(value)}')


def _file_exists(node: Node) -> Check | None:
    path = _text_matching(node, "path", _PATH, "a repository path (README.md, docs/)")
    return _as_cql(node, f'git.fileExists("{path}")') if path else None


def _vulnerabilities_at_most(node: Node) -> Check | None:
    levels = tuple(word.upper() for word in words(node.child("severities"))) or _LEVELS
    wrong = [s for s in levels if s not in _LEVELS]
    if wrong:
        child = node.child("severities")
        child.src.error(
            child.line, f"{child.path}: {wrong[0]!r} is not one of {', '.join(_LEVELS)}"
        )
        return None
    most = whole(node.child("at_most"), required=True)
    if most is None:
        return None
    listed = ", ".join(f'"{s}"' for s in levels)
    return _as_cql(node, f"git.numOfVulnerabilities(severity=[{listed}]) <= {most}")


def _oncall_now(node: Node) -> Check | None:
    return _as_cql(node, "oncall.details().current.length > 0")


# rule kind -> (its parameters, its reader)
_CHECKS: dict[str, tuple[set[str], Callable[[Node], Check | None]]] = {
    "field_present": ({"field"}, _field_present),
    "link_exists": ({"type"}, _link_exists),
    "tag_present": ({"tag"}, _tag_present),
    "tag_absent": ({"tag"}, _tag_absent),
    "tier_at_most": ({"tier"}, _tier_at_most),
    "tier_in": ({"tiers"}, _tier_in),
    "lifecycle_in": ({"lifecycles"}, _lifecycle_in),
    "dependencies_declared": ({"minimum"}, _dependencies_declared),
    "no_overdue_followups": ({"scope"}, _no_overdue_followups),
    "no_unresolved_incidents": ({"older_than_days", "severities"}, _no_unresolved_incidents),
    "mean_time_to_resolve": ({"days", "under_hours"}, _mean_time_to_resolve),
    "incident_count": ({"days", "fewer_than", "severities"}, _incident_count),
    "fact": ({"fact", *_BOUNDS}, _fact),
    "sonarqube_metric": ({"metric", *_BOUNDS}, _sonarqube_metric),
    "file_exists": ({"path"}, _file_exists),
    "vulnerabilities_at_most": ({"severities", "at_most"}, _vulnerabilities_at_most),
    "oncall_now": (set(), _oncall_now),
}


def _exemption(node: Node, rules: tuple[Rule, ...]) -> Exemption | None:
    node = node.mapping(required=True)
    if not node.present:
        return None
    node.warn_unknown(_EXEMPTION_FIELDS)
    rule = node.child("rule")
    rule_id = rule.text(required=True)
    if rule_id and all(r.id != rule_id for r in rules):
        rule.src.error(rule.line, f"{rule.path}: no rule has the id {rule_id!r}")
    service, reason = node.need("service"), node.need("reason")
    until = day(node.child("until"), required=True)
    if not (rule_id and service and reason and until):
        return None
    return Exemption(rule_id, parse_ref(service, "component"), reason, until)


def _initiatives(
    node: Node, scorecard_id: str, levels: tuple[str, ...], rules: tuple[Rule, ...]
) -> tuple[Initiative, ...]:
    found: list[Initiative] = []
    seen: dict[str, int] = {}
    for item in node.items():
        initiative = _initiative(item, scorecard_id, levels, rules)
        if initiative is None:
            continue
        if initiative.id in seen:
            item.src.error(
                item.line,
                f"{item.path}: initiative id {initiative.id!r} is used already on line "
                f"{seen[initiative.id]}",
            )
            continue
        seen[initiative.id] = item.line
        found.append(initiative)
    return tuple(found)


def _initiative(
    node: Node, scorecard_id: str, levels: tuple[str, ...], rules: tuple[Rule, ...]
) -> Initiative | None:
    node = node.mapping(required=True)
    if not node.present:
        return None
    node.warn_unknown(_INITIATIVE_FIELDS)
    errors = len(node.src.errors)
    initiative_id = node.child("id").name()
    level, rule = _target(node, levels, rules)
    deadline = day(node.child("deadline"), required=True)
    reminders = _reminders(node.child("reminders"))
    services = frozenset(parse_ref(name, "component") for name in node.child("services").texts())
    # With no kinds given the initiative keeps every entity its scorecard applies to.
    which = _filter(node.child("filter").mapping(), default_kinds=frozenset())
    if len(node.src.errors) > errors or not (initiative_id and scorecard_id and deadline):
        return None
    return Initiative(
        id=initiative_id,
        name=node.child("name").text() or initiative_id,
        description=node.child("description").text(),
        scorecard=scorecard_id,
        level=level,
        rule=rule,
        filter=which,
        services=services,
        deadline=deadline,
        reminders=reminders,
        source_file=str(node.src.path),
        source_line=node.line,
    )


def _target(node: Node, levels: tuple[str, ...], rules: tuple[Rule, ...]) -> tuple[str, str]:
    """(level, rule): exactly one of them, and one the scorecard has."""
    level_node, rule_node = node.child("level"), node.child("rule")
    if level_node.present == rule_node.present:
        which = "not both" if level_node.present else "one of them is required"
        node.src.error(node.line, f"{node.path}: the target is a level or a rule, {which}")
        return "", ""
    if level_node.present:
        level_node.text(required=True)  # reports `level: ""`
        return check_level(level_node, levels), ""
    rule = rule_node.text(required=True)
    if rule and all(r.id != rule for r in rules):
        rule_node.src.error(rule_node.line, f"{rule_node.path}: no rule has the id {rule!r}")
    return "", rule


def _reminders(node: Node) -> tuple[int, ...]:
    """Days before the deadline, largest first; the default when absent, none for `[]`."""
    if not node.present:
        return DEFAULT_REMINDERS
    days = {d for item in node.items() if (d := whole(item, required=True)) is not None}
    return tuple(sorted(days, reverse=True))
