"""The settings of the facts sources, as `switchboard.settings` reads them, and the checks it
applies to them. A source without its token is simply not configured; `integrations
status` says so."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import SecretStr

from switchboard.bot.facts import github, opsgenie, pagerduty
from switchboard.bot.facts.pushed import parse_tokens


def base_url(value: str) -> str:
    """A source's base URL without its trailing slash; "" for none."""
    value = value.strip().rstrip("/")
    if value and not value.startswith(("https://", "http://")):
        raise ValueError("must be an http(s):// URL")
    return value


_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})(?::[0-9]{1,5})?")


def web_host(value: str) -> str:
    """A host name (with an optional port), lower-cased; "" for none."""
    value = value.strip().lower()
    if value and not _HOST.fullmatch(value):
        raise ValueError("must be a host name such as github.example.com")
    return value


def checked_tokens(value: SecretStr | None) -> SecretStr | None:
    """`SWITCHBOARD_FACTS_TOKENS` as given, once its pairs parse (a ValueError names the bad
    pair, never its token)."""
    if value is not None:
        parse_tokens(value.get_secret_value())
    return value


@dataclass(frozen=True, slots=True)
class FactsSettings:
    """What the facts sources read of the process settings (`Settings.facts()`), which read
    and checked them (with the validators above)."""

    pagerduty_api_token: SecretStr | None = None
    pagerduty_api_url: str = pagerduty.DEFAULT_URL
    opsgenie_api_key: SecretStr | None = None
    opsgenie_api_url: str = opsgenie.DEFAULT_URL  # US; EU: https://api.eu.opsgenie.com
    github_token: SecretStr | None = None
    github_api_url: str = github.DEFAULT_URL  # Enterprise Server: https://HOST/api/v3
    # The host the catalog's repository links name; "" for github.com with GitHub's own
    # API, the API URL's host with Enterprise Server.
    github_host: str = ""
    sonarqube_url: str = ""
    sonarqube_token: SecretStr | None = None
    facts_tokens: SecretStr | None = None  # name=token pairs: who may push facts and deploys

    def tokens(self) -> dict[str, str]:
        """Token name -> token; {} when none are configured (the endpoints answer 401)."""
        if self.facts_tokens is None:
            return {}
        return parse_tokens(self.facts_tokens.get_secret_value())
