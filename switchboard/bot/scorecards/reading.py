"""Typed readers both scorecard formats share, on top of the catalog's line-aware `Node`:
each reports a wrong value once, at its own line, and returns None instead."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from switchboard.bot.catalog.api import Node, describe
from switchboard.bot.scorecards.model import Rule


def number(node: Node, *, required: bool = False, whole: bool = False) -> float | None:
    """A number of at least 0 (a whole one if `whole`); None when absent or wrong."""
    if not node.present:
        if required:
            node.src.error(node.line, f"{node.path} is required")
        return None
    value = node.raw
    wanted = "a whole number" if whole else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        node.src.error(node.line, f"{node.path}: expected {wanted}, got {describe(value)}")
        return None
    if value < 0 or (whole and value != int(value)):
        node.src.error(node.line, f"{node.path}: expected {wanted} of 0 or more, got {value}")
        return None
    return float(value)


def whole(node: Node, *, required: bool = False) -> int | None:
    value = number(node, required=required, whole=True)
    return None if value is None else int(value)


def day(node: Node, *, required: bool = False) -> date | None:
    """A date as YYYY-MM-DD (dates stay text in our YAML loader, so we parse it here)."""
    text = node.text(required=required)
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        node.src.error(node.line, f"{node.path}: expected a date such as 2026-03-31, got {text!r}")
        return None


def words(node: Node) -> tuple[str, ...]:
    """One word or a list of words, lower-cased."""
    if isinstance(node.raw, str):
        return (node.raw.strip().lower(),)
    return tuple(text.lower() for text in node.texts())


def check_level(node: Node, levels: Sequence[str]) -> str:
    """A rule's level: "" when absent, else one of `levels` (reported when not)."""
    level = node.text()
    if level and level not in levels:
        known = ", ".join(levels) if levels else "none are defined"
        node.src.error(node.line, f"{node.path}: {level!r} is not one of the levels ({known})")
    return level


def unique_rules(rules: Sequence[tuple[Rule, Node]]) -> tuple[Rule, ...]:
    """The rules, with a second rule of the same id reported at its line."""
    seen: dict[str, int] = {}
    for rule, node in rules:
        if rule.id in seen:
            node.src.error(
                node.line,
                f"{node.path}: rule id {rule.id!r} is used already on line {seen[rule.id]}",
            )
        seen.setdefault(rule.id, node.line)
    return tuple(rule for rule, _ in rules)
