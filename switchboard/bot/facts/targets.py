"""Which sources say something about an entity, from what the catalog keeps of it:

- on call: its first PagerDuty target (a schedule, else an escalation policy, else a
  service: Backstage `pagerduty.com/service-id`, Cortex `x-cortex-oncall`, native `oncall`,
  OpsLevel alert sources), else its Opsgenie schedule or team, else its Slack user group.
  One on-call source per entity: `oncall.now` is one fact.
- GitHub: its first repository link on GitHub's host (Backstage `github.com/project-slug`,
  Cortex `x-cortex-git.github.repository`, OpsLevel `repositories`).
- SonarQube: its project key (Backstage `sonarqube.org/project-key`, Cortex
  `x-cortex-static-analysis.sonarqube.project`, native `sonarqube_project`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from switchboard.bot.catalog.api import Entity
from switchboard.bot.facts.github import DEFAULT_PATHS
from switchboard.bot.facts.source import Target

_PAGERDUTY_ORDER = ("schedule", "escalation_policy", "service")
_OPSGENIE_ORDER = ("schedule", "team")
_REPO_PATH = re.compile(r"/([A-Za-z0-9_.-]+)/([A-Za-z0-9_.-]+?)(?:\.git)?/?$")


def targets_of(
    entity: Entity,
    *,
    github_host: str = "github.com",
    paths: Sequence[str] = (),
    searches: Sequence[str] = (),
) -> list[Target]:
    """The targets of `entity`, at most one per source."""
    found = []
    if (oncall := oncall_target(entity)) is not None:
        found.append(oncall)
    if repo := github_repository(entity, github_host):
        wanted = tuple(dict.fromkeys((*DEFAULT_PATHS, *paths)))
        found.append(Target("github", entity.ref, "repository", repo, wanted, tuple(searches)))
    if entity.sonarqube_project:
        found.append(Target("sonarqube", entity.ref, "project", entity.sonarqube_project))
    return found


def oncall_target(entity: Entity) -> Target | None:
    for provider, order in (("pagerduty", _PAGERDUTY_ORDER), ("opsgenie", _OPSGENIE_ORDER)):
        for kind in order:
            for oncall in entity.oncall:
                if oncall.provider == provider and oncall.target_type == kind and oncall.target_id:
                    return Target(provider, entity.ref, kind, oncall.target_id)
    if entity.slack_usergroup:
        return Target("slack", entity.ref, "usergroup", entity.slack_usergroup)
    return None


def github_repository(entity: Entity, host: str = "github.com") -> str:
    """`org/name` of the entity's first repository link on `host`, "" when none."""
    for link in entity.links:
        if link.type != "repo":
            continue
        parts = urlsplit(link.url)
        same_host = bool(parts.hostname) and str(parts.hostname).lower() == host.lower()
        if same_host and (match := _REPO_PATH.fullmatch(parts.path)):
            return f"{match.group(1)}/{match.group(2)}"
    return ""


def github_host(api_url: str) -> str:
    """The web host of repositories for a GitHub API URL: github.com for api.github.com,
    HOST for Enterprise Server's `https://HOST/api/v3`."""
    host = (urlsplit(api_url).hostname or "").lower()
    return "github.com" if host in ("api.github.com", "") else host
