"""Mapping rules every importer shares: tiers, link types, repository URLs, Slack channels.

Kept in one place so that a runbook, a tier or a Slack channel means the same thing whether
it came from Backstage, Cortex, OpsLevel or our own format.
"""

from __future__ import annotations

import re
from typing import TypeVar

from switchboard.bot.catalog.model import Entity, Link

T = TypeVar("T")

# At most three digits: int() refuses very long digit strings, and no one has tier 1000.
_TIER = re.compile(r"(?:tier)?[\s_-]*(\d{1,3})", re.IGNORECASE)
MAX_TIER = 9

# A source's own word for a link (Cortex link type, OpsLevel tool category, a title word)
# -> one of LINK_TYPES. Words not listed are kept as they are ("errors", "openapi"...).
_LINK_WORDS = {
    **dict.fromkeys(("runbook", "runbooks", "playbook", "playbooks"), "runbook"),
    **dict.fromkeys(
        ("docs", "doc", "documentation", "wiki", "readme", "techdocs", "manual"), "docs"
    ),
    **dict.fromkeys(("dashboard", "dashboards", "metrics", "monitoring", "grafana"), "dashboard"),
    **dict.fromkeys(("logs", "log", "logging"), "logs"),
    **dict.fromkeys(
        (
            "repo",
            "repository",
            "repositories",
            "source",
            "code",
            "git",
            "github",
            "gitlab",
            "bitbucket",
        ),
        "repo",
    ),
    **dict.fromkeys(("incidents", "incident", "pagerduty", "opsgenie"), "incidents"),
    **dict.fromkeys(("chat", "slack"), "chat"),
}
_LINK_HOSTS = (
    (re.compile(r"https?://(www\.)?(github\.com|gitlab\.com|bitbucket\.org)/"), "repo"),
    (re.compile(r"(slack://|https?://[^/]*slack\.com/)"), "chat"),
    (re.compile(r"https?://[^/]*pagerduty\.com/"), "incidents"),
)

_REPO_HOSTS = {
    "github": "https://github.com/",
    "gitlab": "https://gitlab.com/",
    "bitbucket": "https://bitbucket.org/",
}
_HOST_AND_PATH = re.compile(r"([\w-]+(?:\.[\w-]+)+):/?(\S+)")  # "github.com:org/repo"

_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,}")
_SLACK_CHANNEL_URLS = (
    re.compile(r"slack://channel\?(?:\S*&)?id=([CG][A-Z0-9]+)"),
    re.compile(r"https?://[^/\s]*slack\.com/archives/([CG][A-Z0-9]+)"),
)
_PAGERDUTY_SERVICE_URL = re.compile(
    r"https?://[^/\s]*pagerduty\.com/(?:services|service-directory)/(P[A-Z0-9]+)"
)
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{6,}")


def add_unique(items: list[T], item: T) -> None:
    if item not in items:
        items.append(item)


def slugify(text: str) -> str:
    """An entity name from a display name: "Support Console" -> "support-console"."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def tier_number(value: object) -> int | None:
    """1, "1", "tier1", "tier-1", "tier_1", "Tier 1" -> 1; anything else (or > 9) -> None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and (match := _TIER.fullmatch(value.strip())):
        number = int(match.group(1))
    else:
        return None
    return number if 0 <= number <= MAX_TIER else None


def link_type(word: str) -> str:
    """The link type for a source's category word; unknown words are kept, lower-cased."""
    word = word.strip().lower()
    return _LINK_WORDS.get(word, word or "other")


def guess_link_type(url: str, title: str = "", icon: str = "") -> str:
    """A link type for a link that has none (Backstage): from its icon, a word of its title,
    then its host; "other" when nothing matches."""
    for word in (icon.lower(), *re.findall(r"[a-z]+", title.lower())):
        if word in _LINK_WORDS:
            return _LINK_WORDS[word]
    for pattern, kind in _LINK_HOSTS:
        if pattern.match(url):
            return kind
    return "other"


def repo_url(provider: str, name: str) -> str:
    """A browsable URL for a repository given as provider + "org/repo" (or already as a URL,
    or as "github.com:org/repo"); "" when the provider is unknown."""
    name = name.strip()
    if "://" in name:
        return name
    if match := _HOST_AND_PATH.fullmatch(name):
        return f"https://{match.group(1)}/{match.group(2)}"
    host = _REPO_HOSTS.get(provider.strip().lower())
    return host + name.strip("/") if host and name else ""


def slack_channel(value: str) -> str:
    """A channel as we store it: a channel id ("C0123ABCD") as is, a name as "#name"."""
    value = value.strip()
    if _CHANNEL_ID.fullmatch(value):
        return value
    name = value.lstrip("#").strip()
    return f"#{name}" if name else ""


def slack_channel_in_url(url: str) -> str:
    """The channel id of a Slack channel link (slack://channel?team=T1&id=C123 or
    https://x.slack.com/archives/C123), or ""."""
    for pattern in _SLACK_CHANNEL_URLS:
        if match := pattern.match(url):
            return match.group(1)
    return ""


def pagerduty_service_in_url(url: str) -> str:
    """The service id of a PagerDuty service page URL (…/services/PXXXXXX), or ""."""
    match = _PAGERDUTY_SERVICE_URL.match(url)
    return match.group(1) if match else ""


def add_link(entity: Entity, link: Link) -> None:
    """Add a link once per URL; a Slack channel link also tells us the entity's channel."""
    if not link.url or any(known.url == link.url for known in entity.links):
        return
    entity.links.append(link)
    if channel := slack_channel_in_url(link.url):
        add_unique(entity.slack_channels, channel)
