"""Cortex scorecard YAML (`tag`, `name`, `ladder.levels`, `rules[].expression`) -> Scorecard.

Cortex rules are CQL expressions evaluated against Cortex's own integrations. The few that
ask about catalog data we hold (git, on-call, Slack, owners, links, groups, description,
dependencies) are mapped onto our rule kinds; every other expression, and every placeholder
such as `/* Replace with ... */`, becomes an `Unsupported` rule carrying the original text.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from switchboard.bot.catalog.api import Node, link_type, slugify
from switchboard.bot.scorecards.model import (
    Check,
    DependenciesDeclared,
    FieldPresent,
    Filter,
    LinkExists,
    Rule,
    Scorecard,
    TagAbsent,
    TagPresent,
    Unsupported,
)
from switchboard.bot.scorecards.reading import check_level, number, unique_rules

_SET = r"\s*!=\s*null"  # `x != null`
_ANY = r"\.length\s*(?:>\s*0|>=\s*1)"  # `x.length > 0`
_NAME = r"\(\s*\"([^\"]+)\"\s*\)"  # `("runbook")`

# CQL (whole expression, spaces allowed) -> our check, from the pattern's one group if any.
_MAPPINGS: tuple[tuple[re.Pattern[str], Callable[[str], Check]], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), make)
    for pattern, make in (
        (rf"git{_SET}", lambda _: FieldPresent("repo")),
        (rf"oncall(?:\.details\(\))?{_SET}", lambda _: FieldPresent("oncall")),
        (rf"slack{_SET}|slack\.channels\(\){_ANY}", lambda _: FieldPresent("slack_channel")),
        (rf"(?:entity\.)?description(?:\(\))?{_SET}", lambda _: FieldPresent("description")),
        (
            rf"ownership{_SET}|ownership\.(?:allOwners|teams|owners)\(\){_ANY}",
            lambda _: FieldPresent("owner"),
        ),
        (rf"links{_NAME}{_ANY}", lambda word: LinkExists(link_type(word))),
        (rf"hasGroup{_NAME}", lambda group: TagPresent(group.lower())),
        (rf"!\s*hasGroup{_NAME}", lambda group: TagAbsent(group.lower())),
        (rf"dependencies\.out\(\){_ANY}", lambda _: DependenciesDeclared()),
    )
)
_PLACEHOLDER = re.compile(r"/\*.*\*/", re.DOTALL)
# Cortex entity type -> our kind: its "service" is any component (website, library...), and
# custom types are imported as resources (see catalog/cortex.py).
_KINDS = {"service": "component"}


def read(doc: Node) -> Scorecard | None:
    tag = doc.child("tag").name()
    levels = _levels(doc.child("ladder").mapping())
    rules = unique_rules(
        [(rule, item) for item in doc.child("rules").items() if (rule := _rule(item, levels))]
    )
    if not tag:
        return None
    return Scorecard(
        id=tag,
        name=doc.child("name").text() or tag,
        description=doc.child("description").text(),
        filter=_filter(doc.child("filter").mapping()),
        levels=levels,
        rules=rules,
        source_file=str(doc.src.path),
        source_line=doc.line,
    )


def map_expression(expression: str) -> Check:
    """Our check for a CQL expression, or `Unsupported` with the expression in its reason."""
    text = expression.strip()
    for pattern, make in _MAPPINGS:
        if match := pattern.fullmatch(text):
            return make(match.group(1) if match.groups() else "")
    if not text or _PLACEHOLDER.fullmatch(text):
        return Unsupported(text, f"unsupported: a placeholder, not a rule: {text or '(empty)'}")
    return Unsupported(text, f"unsupported: Cortex CQL we cannot evaluate: {text}")


def _levels(ladder: Node) -> tuple[str, ...]:
    """The ladder's level names, lowest rank first (Cortex ranks from 1 = lowest)."""
    ranked: list[tuple[float, int, str]] = []
    for index, item in enumerate(ladder.child("levels").items()):
        level = item.mapping(required=True)
        name, rank = level.need("name"), number(level.child("rank"))
        if name:
            ranked.append((index if rank is None else rank, index, name))
    return tuple(name for _, _, name in sorted(ranked))


def _rule(node: Node, levels: tuple[str, ...]) -> Rule | None:
    node = node.mapping(required=True)
    if not node.present:
        return None
    title = node.need("title")
    rule_id = node.child("identifier").text() or slugify(title)
    weight = number(node.child("weight"))
    level = check_level(node.child("level"), levels)
    source = node.child("expression")
    expression = source.text()
    check = map_expression(expression)
    condition = _rule_filter(node.child("filter").mapping())
    if condition and not isinstance(check, Unsupported):
        # applying the rule to every service would fail services it was never meant for
        check = Unsupported(expression, f"unsupported: a rule filter ({condition}): {expression}")
    if isinstance(check, Unsupported):
        source.src.warning(source.line, f"{source.path}: {check.why}")
    if not rule_id:
        return None
    return Rule(
        id=rule_id,
        title=title or rule_id,
        check=check,
        weight=1.0 if weight is None else weight,
        level=level,
        description=node.child("description").text(),
    )


def _rule_filter(node: Node) -> str:
    """What a rule's own filter restricts, "" for none: Cortex writes an empty one
    (`kind: GENERIC`, `types: {}`) on every rule of its library."""
    types = node.child("types").mapping()
    parts = [
        f"{key}: {', '.join(types.child(key).texts())}"
        for key in ("include", "exclude")
        if types.child(key).texts()
    ]
    if query := node.child("query").text():
        parts.append(f"query: {query}")
    return "; ".join(parts)


def _filter(node: Node) -> Filter:
    """Cortex's entity types and `hasGroup(...)` query; another query is ignored, warned."""
    types = node.child("types").mapping()
    included = [t.lower() for t in types.child("include").texts()]
    kinds = {_KINDS.get(t, "resource") for t in included} or {"component"}
    tags: set[str] = set()
    query = node.child("query")
    if text := query.text():
        match = re.fullmatch(rf"hasGroup{_NAME}", text.strip())
        if match:
            tags.add(match.group(1).lower())
        else:
            query.src.warning(
                query.line, f"{query.path}: CQL filter {text!r} is not supported, ignored"
            )
    if types.child("exclude").texts():
        excluded = types.child("exclude")
        excluded.src.warning(excluded.line, f"{excluded.path}: excluded types are ignored")
    return Filter(kinds=frozenset(kinds), tags=frozenset(tags))
