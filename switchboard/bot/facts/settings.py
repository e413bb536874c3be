"""The settings of the facts sources, from the environment or `.env`, in the style of
`switchboard.settings` (for the lead to fold into it). A source without its token is
simply not configured; `integrations status` says so."""

from __future__ import annotations

import re

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

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


class FactsSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    pagerduty_api_token: SecretStr | None = Field(None, alias="PAGERDUTY_API_TOKEN")
    pagerduty_api_url: str = Field(pagerduty.DEFAULT_URL, alias="PAGERDUTY_API_URL")
    opsgenie_api_key: SecretStr | None = Field(None, alias="OPSGENIE_API_KEY")
    # US by default; EU accounts use https://api.eu.opsgenie.com
    opsgenie_api_url: str = Field(opsgenie.DEFAULT_URL, alias="OPSGENIE_API_URL")
    github_token: SecretStr | None = Field(None, alias="GITHUB_TOKEN")
    # GitHub Enterprise Server: https://HOST/api/v3
    github_api_url: str = Field(github.DEFAULT_URL, alias="GITHUB_API_URL")
    # The host the catalog's repository links name; by default github.com for GitHub's own
    # API, the API URL's host for Enterprise Server.
    github_host: str = Field("", alias="GITHUB_HOST")
    sonarqube_url: str = Field("", alias="SONARQUBE_URL")
    sonarqube_token: SecretStr | None = Field(None, alias="SONARQUBE_TOKEN")
    # comma-separated name=token pairs: who may POST /api/facts and /api/deploys
    facts_tokens: SecretStr | None = Field(None, alias="SWITCHBOARD_FACTS_TOKENS")

    check_urls = field_validator(
        "pagerduty_api_url", "opsgenie_api_url", "github_api_url", "sonarqube_url"
    )(base_url)
    check_tokens = field_validator("facts_tokens")(checked_tokens)
    check_host = field_validator("github_host")(web_host)

    def tokens(self) -> dict[str, str]:
        """Token name -> token; {} when none are configured (the endpoints answer 401)."""
        if self.facts_tokens is None:
            return {}
        return parse_tokens(self.facts_tokens.get_secret_value())
