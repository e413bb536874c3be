"""What `switchboard scorecards check` tells of each rule: `evaluable`, `needs` (the
sources it reads that are not configured) or `unsupported` (what, and where)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from switchboard.bot.scorecards.cql.compiler import (
    EVALUABLE,
    NEEDS_SOURCES,
    SOURCE_LABELS,
    UNSUPPORTED_RULE,
)
from switchboard.bot.scorecards.cql.context import ONCALL, PUSHED, RECORDS
from switchboard.bot.scorecards.model import CqlRule, Rule, Scorecard, Unsupported

STATUSES = (EVALUABLE, NEEDS_SOURCES, UNSUPPORTED_RULE)
_ALWAYS = {PUSHED, ONCALL, RECORDS}  # from the catalog, from CI, from our own records


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
        if self.status == NEEDS_SOURCES:
            return f"{head} ({', '.join(SOURCE_LABELS.get(n, n) for n in self.needs)})"
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
        missing = tuple(sorted(set(check.compiled.sources) - _ALWAYS - set(configured)))
        if missing:
            names = ", ".join(SOURCE_LABELS.get(n, n) for n in missing)
            return RuleCheck(
                scorecard.id, rule.id, NEEDS_SOURCES, missing, f"needs {names}, not configured"
            )
    return RuleCheck(scorecard.id, rule.id, EVALUABLE)


def check_all(scorecards: Iterable[Scorecard], configured: Collection[str]) -> list[RuleCheck]:
    return [check_rule(s, r, configured) for s in scorecards for r in s.rules]


def summary(checks: Iterable[RuleCheck]) -> str:
    counts = Counter(c.status for c in checks)
    return ", ".join(f"{counts[s]} {s}" for s in STATUSES)
