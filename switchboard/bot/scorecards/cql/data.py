"""CQL's data functions: what each reads from the entity, the facts or our records.

Every one reads prefetched data only (`Context`). One whose source is not configured for
the entity raises `Needs`, naming the source, so that "we cannot tell" is never mistaken
for "false"; one whose fact has not been fetched yet raises `Needs` too, saying so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from switchboard.bot.catalog.api import DEPENDS_ON, Entity, link_type
from switchboard.bot.scorecards.cql.ast import Pos
from switchboard.bot.scorecards.cql.context import GITHUB, ONCALL, PUSHED, SONARQUBE, Context
from switchboard.bot.scorecards.cql.errors import TYPE, CqlError
from switchboard.bot.scorecards.cql.values import as_datetime, show, type_name

SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
MAX_LISTED = 10_000  # items a count becomes when a rule wants a list (`pullRequests()`)


class Needs(Exception):
    """The rule cannot be evaluated for this entity: `source` is not configured, or has
    not reported the fact yet."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(reason)
        self.source = source
        self.reason = reason


_MISSING = {
    GITHUB: "no GitHub repository for this service",
    SONARQUBE: "no SonarQube project for this service",
    ONCALL: "no on-call for this service",
}


def _require(e: Entity, r: str, c: Context, source: str) -> None:
    if not c.facts.configured(r, source):
        raise Needs(source, _MISSING[source])


def _fact(e: Entity, r: str, c: Context, source: str, key: str, who: str) -> Any:
    """A fact its source must have reported; `Needs` until it has."""
    _require(e, r, c, source)
    value = c.facts.get(r, key)
    if value is None:
        raise Needs(source, f"{who} has not reported `{key}` for this service yet")
    return value


# Catalog -----------------------------------------------------------------------------------


def description(e: Entity, r: str, c: Context, pos: Pos) -> str | None:
    return e.description.strip() or None


def entity_name(e: Entity, r: str, c: Context, pos: Pos) -> str:
    return e.display_name


def entity_tag(e: Entity, r: str, c: Context, pos: Pos) -> str:
    return e.name


def entity_type(e: Entity, r: str, c: Context, pos: Pos) -> str | None:
    return e.type or None


def ownership(e: Entity, r: str, c: Context) -> dict[str, Any] | None:
    return {"owners": list(e.owners)} if e.owners else None


def _owner(ref: str) -> dict[str, Any]:
    kind, _, rest = ref.partition(":")
    namespace, _, name = rest.partition("/")
    item: dict[str, Any] = {"tag": name, "type": kind, "ref": ref}
    if namespace == "email":
        item["email"] = name
    return item


def owner_teams(e: Entity, r: str, c: Context, pos: Pos) -> list[dict[str, Any]]:
    return [_owner(r) for r in e.owners if r.startswith("group:")]


def all_owners(e: Entity, r: str, c: Context, pos: Pos) -> list[dict[str, Any]]:
    return [_owner(r) for r in e.owners]


def slack(e: Entity, r: str, c: Context) -> dict[str, Any] | None:
    return {"channels": slack_channels(e, r, c, Pos(1, 1))} if e.slack_channels else None


def slack_channels(e: Entity, r: str, c: Context, pos: Pos) -> list[dict[str, Any]]:
    return [{"name": ch.removeprefix("#")} for ch in e.slack_channels]


def links(e: Entity, r: str, c: Context, pos: Pos, kind: Any = None) -> list[dict[str, Any]]:
    if kind is not None and not isinstance(kind, str):
        raise CqlError(TYPE, f"links() needs a link type string, got {type_name(kind)}", pos)
    wanted = None if kind is None else link_type(kind)
    return [
        {"name": link.title, "type": link.type, "url": link.url}
        for link in e.links
        if wanted is None or link.type == wanted
    ]


def groups(e: Entity, r: str, c: Context, pos: Pos) -> list[str]:
    return list(e.tags)


def has_group(e: Entity, r: str, c: Context, pos: Pos, group: Any) -> bool:
    if not isinstance(group, str):
        raise CqlError(TYPE, f"hasGroup() needs a string, got {type_name(group)}", pos)
    wanted = group.lower()
    return any(t.lower() == wanted for t in e.tags)


def dependencies(e: Entity, r: str, c: Context) -> dict[str, Any]:
    return {}


def _refs(refs: Sequence[str]) -> list[dict[str, Any]]:
    return [{"tag": r.rpartition("/")[2], "ref": r} for r in refs]


def dependencies_out(e: Entity, r: str, c: Context, pos: Pos) -> list[dict[str, Any]]:
    return _refs([r.target for r in e.relations if r.type == DEPENDS_ON])


def dependencies_in(e: Entity, r: str, c: Context, pos: Pos) -> list[dict[str, Any]]:
    return _refs(c.dependents(r))


def custom(e: Entity, r: str, c: Context, pos: Pos, key: Any) -> Any:
    """Pushed custom data, `custom.<key>`: null when nothing was pushed (not "needs": a
    missing custom value is the very thing `custom("slos") != null` asks about)."""
    if not isinstance(key, str):
        raise CqlError(TYPE, f"custom() needs a key string, got {type_name(key)}", pos)
    return c.facts.get(r, f"custom.{key}")


# On-call and our incidents -----------------------------------------------------------------


def has_oncall(e: Entity, r: str, c: Context) -> bool:
    """As `/owner` tells it (bot/oncall.py): the service's own on-call, else an owning
    team's rotation, else an owning team's Slack user group."""
    if e.oncall:
        return True
    teams = [team for ref in e.owners if (team := c.team(ref)) is not None]
    return any(t.kind == "group" and (t.oncall or t.slack_usergroup) for t in teams)


def oncall(e: Entity, r: str, c: Context) -> dict[str, Any] | None:
    return {"configured": True} if has_oncall(e, r, c) else None


def oncall_details(e: Entity, r: str, c: Context, pos: Pos) -> dict[str, Any]:
    """Who is on call now and next (`oncall.now`, `oncall.next`), as `/owner` reads them:
    the service's own, else the first owning team's; `Needs` until a source reported it."""
    if not has_oncall(e, r, c):
        raise Needs(ONCALL, _MISSING[ONCALL])
    for ref in (r, *e.owners):
        current = c.facts.get(ref, "oncall.now")
        if current is not None:
            return {
                "current": current if isinstance(current, list) else [],
                "next": c.facts.get(ref, "oncall.next") or [],
                "escalations": current if isinstance(current, list) else [],
            }
    raise Needs(ONCALL, "no on-call source has reported who is on call for this service yet")


def oncall_escalations(e: Entity, r: str, c: Context, pos: Pos) -> int:
    current = oncall_details(e, r, c, pos)["current"]
    return len({item.get("level") for item in current if isinstance(item, dict)})


def _lookback(value: Any, default: timedelta, what: str, pos: Pos) -> timedelta:
    if value is None:
        return default
    if not isinstance(value, timedelta):
        raise CqlError(TYPE, f"{what}: lookback needs a duration(...), got {type_name(value)}", pos)
    return abs(value)


def oncall_analysis(
    e: Entity, r: str, c: Context, pos: Pos, lookback: Any = None
) -> dict[str, Any]:
    """From our own incidents (private ones included, never named): the mean seconds from
    declared to acknowledged and to resolved, over those declared within the lookback."""
    since = c.now - _lookback(lookback, timedelta(days=7), "oncall.analysis", pos)
    recent = [i for i in c.incidents(r) if i.declared_at >= since]
    acks = [
        (i.acknowledged_at - i.declared_at).total_seconds() for i in recent if i.acknowledged_at
    ]
    fixes = [(i.resolved_at - i.declared_at).total_seconds() for i in recent if i.resolved_at]
    return {
        "numIncidents": len(recent),
        "meanSecondsToFirstAck": sum(acks) / len(acks) if acks else None,
        "meanSecondsToResolve": sum(fixes) / len(fixes) if fixes else None,
    }


def incidents(
    e: Entity, r: str, c: Context, pos: Pos, lookback: Any = None, severity: Any = None
) -> list[dict[str, Any]]:
    """Our incidents declared within the lookback (30 days by default): severity, whether
    resolved and how long they took; no ids, titles or dates, as private ones are listed."""
    since = c.now - _lookback(lookback, timedelta(days=30), "incidents", pos)
    wanted = _severities(severity, None, "incidents", pos)
    return [
        {
            "severity": i.severity,
            "resolved": i.resolved_at is not None,
            "durationSeconds": (i.resolved_at - i.declared_at).total_seconds()
            if i.resolved_at
            else None,
        }
        for i in c.incidents(r)
        if i.declared_at >= since and (wanted is None or i.severity.upper() in wanted)
    ]


def _severities(
    value: Any, default: Sequence[str] | None, what: str, pos: Pos
) -> frozenset[str] | None:
    if value is None:
        return None if default is None else frozenset(default)
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(s, str) for s in items):
        raise CqlError(
            TYPE, f"{what}: severity needs a string or a list of strings, got {show(value)}", pos
        )
    return frozenset(s.upper() for s in items)


# GitHub ------------------------------------------------------------------------------------


def git(e: Entity, r: str, c: Context) -> dict[str, Any] | None:
    return {"source": GITHUB} if c.facts.configured(r, GITHUB) else None


def git_file_exists(e: Entity, r: str, c: Context, pos: Pos, path: Any) -> bool:
    if not isinstance(path, str):
        raise CqlError(TYPE, f"git.fileExists() needs a path string, got {type_name(path)}", pos)
    return bool(_fact(e, r, c, GITHUB, f"git.file:{path}", "GitHub"))


MAX_QUERY = 200  # characters of a code search query (GitHub's limit is 256 with `repo:`)
_SCOPE = re.compile(r"\b(?:repo|org|user):", re.IGNORECASE)


def code_search_problem(query: Any) -> str:
    """Why a `git.codeSearch` query cannot be asked ("" when it can): GitHub searches
    for it in the service's own repository only, so it names none of its own."""
    if not isinstance(query, str) or not query.strip():
        return "git.codeSearch(): the query must be a non-empty string literal"
    if len(query) > MAX_QUERY or any(ord(ch) < 32 for ch in query):
        return f"git.codeSearch(): the query must be one line of at most {MAX_QUERY} characters"
    if _SCOPE.search(query):
        return (
            "git.codeSearch(): the query may not name a repository, org or user "
            "(it searches the service's own repository)"
        )
    return ""


def git_code_search(e: Entity, r: str, c: Context, pos: Pos, query: Any) -> list[dict[str, Any]]:
    """GitHub's code search in the service's repository: as many results as GitHub counts
    (`git.code_search:<query>`, a total count), each an empty object: compare `.length`."""
    if problem := code_search_problem(query):
        raise CqlError(TYPE, problem, pos)
    _require(e, r, c, GITHUB)
    count = c.facts.get(r, f"git.code_search:{query}")
    if count is None:
        raise Needs(
            GITHUB,
            f"the code search for {query!r} is queued under GitHub's code-search limit "
            "(10 a minute) and has not run for this service yet",
        )
    return [{}] * min(int(count) if isinstance(count, int) else 0, MAX_LISTED)


def _repository(e: Entity, r: str, c: Context) -> dict[str, Any]:
    repo = _fact(e, r, c, GITHUB, "git.repository", "GitHub")
    return repo if isinstance(repo, dict) else {}


def git_default_branch(e: Entity, r: str, c: Context, pos: Pos) -> str | None:
    return _repository(e, r, c).get("default_branch")


def git_vulnerabilities(e: Entity, r: str, c: Context, pos: Pos, severity: Any = None) -> int:
    counts = _fact(e, r, c, GITHUB, "git.vulnerabilities", "GitHub")
    wanted = _severities(severity, SEVERITIES, "git.numOfVulnerabilities", pos) or frozenset()
    if not isinstance(counts, dict):
        return 0
    return sum(int(n) for s, n in counts.items() if s.upper() in wanted and isinstance(n, int))


def git_pull_requests(
    e: Entity, r: str, c: Context, pos: Pos, status: Any = None
) -> list[dict[str, Any]]:
    """Open pull requests, as a list of that many (GitHub facts count them, no more)."""
    if status is not None and str(status).upper() != "OPEN":
        raise CqlError(
            TYPE, f'git.pullRequests(): only status="OPEN" is known here, not {show(status)}', pos
        )
    count = _fact(e, r, c, GITHUB, "git.pull_requests.open", "GitHub")
    return [{"status": "OPEN"}] * min(int(count or 0), MAX_LISTED)


def git_last_commit(e: Entity, r: str, c: Context, pos: Pos) -> dict[str, Any]:
    """The last push to the repository: `{date}` (GitHub's `pushed_at`)."""
    pushed = c.facts.get(r, "git.last_push") if c.facts.configured(r, GITHUB) else None
    if pushed is None:
        pushed = _repository(e, r, c).get("pushed_at")
    return {"date": pushed}


def git_releases(e: Entity, r: str, c: Context, pos: Pos) -> list[dict[str, Any]]:
    """The latest release only, as `[{tag, date}]`; `[]` when there is none."""
    _require(e, r, c, GITHUB)
    latest = c.facts.get(r, "git.latest_release")
    if not isinstance(latest, dict):
        return []
    return [{"tag": latest.get("tag"), "date": latest.get("published_at")}]


def deploys(e: Entity, r: str, c: Context, pos: Pos, lookback: Any = None) -> list[Any]:
    """Deployments (`git.deployments`) within the lookback (a year by default)."""
    since = c.now - _lookback(lookback, timedelta(days=365), "deploys", pos)
    found = _fact(e, r, c, GITHUB, "git.deployments", "GitHub")
    if not isinstance(found, list):
        return []
    kept = []
    for item in found:
        when = (
            item
            if not isinstance(item, dict)
            else (item.get("created_at") or item.get("timestamp") or item.get("date"))
        )
        moment = as_datetime(when, "deploys()", pos) if when is not None else None
        if moment is not None and moment >= since:
            kept.append(item)
    return kept


# SonarQube and pushed tools ----------------------------------------------------------------


def sonarqube(e: Entity, r: str, c: Context) -> dict[str, Any] | None:
    return {"source": SONARQUBE} if c.facts.configured(r, SONARQUBE) else None


def sonarqube_metric(e: Entity, r: str, c: Context, pos: Pos, key: Any) -> Any:
    if not isinstance(key, str):
        raise CqlError(
            TYPE, f"sonarqube.metric() needs a metric key string, got {type_name(key)}", pos
        )
    return _fact(e, r, c, SONARQUBE, f"sonarqube.{key}", "SonarQube")


def pushed_namespace(e: Entity, r: str, c: Context, name: str) -> Any:
    return c.facts.get(r, name)


def pushed(e: Entity, r: str, c: Context, key: str) -> Any:
    """A fact a team pushes from CI for a tool we do not pull from (`snyk.issues`)."""
    value = c.facts.get(r, key)
    if value is None:
        raise Needs(PUSHED, f"no `{key}` fact pushed for this service")
    return value
