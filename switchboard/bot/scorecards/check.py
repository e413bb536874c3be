"""What `switchboard scorecards check` tells of each rule: `evaluable`, `needs` (the
sources it reads that are not configured) or `unsupported` (what, and where)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from switchboard.bot.scorecards.cql.compiler import (
    ALWAYS,
    EVALUABLE,
    NEEDS_SOURCES,
    UNSUPPORTED_RULE,
    needed,
)
from switchboard.bot.scorecards.model import CqlRule, Rule, Scorecard, Unsupported

STATUSES = (EVALUABLE, NEEDS_SOURCES, UNSUPPORTED_RULE)


@dataclass(frozen=True, slots=True)
class RuleCheck:
    scorecard: str
    rule: str
    status: str  # one of STATUSES
    needs: tuple[str, ...] = ()  # source names, when NEEDS_SOURCES
    reason: str = ""  # for UNSUPPORTED_RULE: `file:line:col: message`, the line, a caret

    def as_json(self) -> dict[str, Any]:
        return {
            "scorecard": self.scorecard,
            "rule": self.rule,
            "status": self.status,
            "needs": list(self.needs),
            "reason": self.reason,
        }

    def line(self) -> str:
        head = f"{self.scorecard}: {self.rule}: {self.status}"
        if self.status == NEEDS_SOURCES:  # "needs GitHub (set GITHUB_TOKEN)"
            return f"{self.scorecard}: {self.rule}: {self.reason}"
        if self.status == UNSUPPORTED_RULE:
            first, _, rest = self.reason.partition("\n")
            return f"{head}: {first}" + (f"\n{rest}" if rest else "")
        return head


def check_rule(scorecard: Scorecard, rule: Rule, configured: Collection[str]) -> RuleCheck:
    """`configured`: the integrations set up (cql.context's GITHUB, SONARQUBE...)."""
    check = rule.check
    if isinstance(check, Unsupported):
        reason = check.located or check.why.removeprefix("unsupported: ")
        return RuleCheck(scorecard.id, rule.id, UNSUPPORTED_RULE, (), reason)
    if isinstance(check, CqlRule):
        missing = tuple(sorted(set(check.compiled.sources) - ALWAYS - set(configured)))
        if missing:
            return RuleCheck(scorecard.id, rule.id, NEEDS_SOURCES, missing, needed(missing))
    return RuleCheck(scorecard.id, rule.id, EVALUABLE)


def check_all(scorecards: Iterable[Scorecard], configured: Collection[str]) -> list[RuleCheck]:
    return [check_rule(s, r, configured) for s in scorecards for r in s.rules]


def summary(checks: Iterable[RuleCheck]) -> str:
    counts = Counter(c.status for c in checks)
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES)


def what_it_needs(scorecard: Scorecard, rule: Rule, configured: Collection[str] | None) -> str:
    """What a rule stored as needing a fact needs, as the digest tells it: "needs GitHub
    (set GITHUB_TOKEN)" when a source it reads has no settings here, else that the facts
    it reads have not been reported for those services."""
    if configured is not None:
        checked = check_rule(scorecard, rule, configured)
        if checked.status == NEEDS_SOURCES:
            return checked.reason
    return "needs facts not reported for them yet"
