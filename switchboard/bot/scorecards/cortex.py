"""Cortex scorecard YAML (`tag`, `name`, `ladder.levels`, `rules[].expression`) -> Scorecard.

Cortex rules are CQL expressions: each is compiled once (`cql/`, docs/cql.md) and evaluated
over the catalog, the facts we store and our incidents. One that does not compile (a
placeholder such as `/* Replace with ... */`, a function we hold no data for) becomes an
`Unsupported` rule saying what and where.
"""

from __future__ import annotations

import re

from switchboard.bot.catalog.api import Node, slugify
from switchboard.bot.scorecards.cql.compiler import compile_rule
from switchboard.bot.scorecards.cql.errors import CqlError
from switchboard.bot.scorecards.model import (
    Check,
    CqlRule,
    Filter,
    Rule,
    Scorecard,
    Unsupported,
)
from switchboard.bot.scorecards.reading import check_level, number, unique_rules

_NAME = r"\(\s*\"([^\"]+)\"\s*\)"  # `("runbook")`
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


def map_expression(expression: str, file: str = "", line: int = 0, column: int = 0) -> Check:
    """The compiled CQL rule, or `Unsupported` saying what and where (`file`, `line` and
    `column` place the expression in its file, for the caret)."""
    try:
        return CqlRule(expression, compile_rule(expression))
    except CqlError as error:
        return Unsupported(
            expression.strip(),
            f"unsupported: {error.message} (at {error.where(line, column)})",
            error.located(expression, file, line, column),
        )


def position(source: Node, expression: str) -> tuple[int, int]:
    """The line and column where a rule's expression starts in its file: on the key's own
    line (a plain scalar), or on the next, indented (a block scalar)."""
    try:
        lines = source.src.path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return source.line, 0
    first = expression.strip().splitlines()[0] if expression.strip() else ""
    here = lines[source.line - 1] if 0 < source.line <= len(lines) else ""
    if first and first in here:
        return source.line, here.index(first)
    below = lines[source.line] if source.line < len(lines) else ""
    return source.line + 1, len(below) - len(below.lstrip())


def _catalog_only(check: CqlRule) -> bool:
    """Whether a rule reads the catalog and nothing else (what a filter may read)."""
    return not check.compiled.sources and not check.compiled.namespaces & {"git", "sonarqube"}


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
    if isinstance(check, Unsupported):  # placed in its file only when it did not compile
        check = map_expression(expression, str(source.src.path), *position(source, expression))
    condition = _rule_filter(node.child("filter").mapping())
    if condition and not isinstance(check, Unsupported):
        # applying the rule to every service would fail services it was never meant for
        why = f"unsupported: a rule filter ({condition}): {expression}"
        check = Unsupported(expression, why, f"{source.src.path}:{source.line}: {why}")
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
        failure_message=node.child("failureMessage").text(),
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
    compiled = None
    if text := query.text():
        match = re.fullmatch(rf"hasGroup{_NAME}", text.strip())
        check = None if match else map_expression(text)
        if match:
            tags.add(match.group(1).lower())
        elif isinstance(check, CqlRule) and _catalog_only(check):
            compiled = check.compiled  # reads the catalog only: evaluated per entity
        else:
            why = check.why if isinstance(check, Unsupported) else "it reads more than the catalog"
            query.src.warning(
                query.line, f"{query.path}: CQL filter {text!r} is not supported ({why}), ignored"
            )
    if types.child("exclude").texts():
        excluded = types.child("exclude")
        excluded.src.warning(excluded.line, f"{excluded.path}: excluded types are ignored")
    return Filter(kinds=frozenset(kinds), tags=frozenset(tags), query=compiled)
