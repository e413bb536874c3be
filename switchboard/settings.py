"""Process settings, from the environment or a `.env` file. Everything else lives in the
optional YAML file named by SWITCHBOARD_CONFIG (see `switchboard.bot.platform.config`)."""

from __future__ import annotations

import os
import re

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

from switchboard.bot.facts.settings import FactsSettings, base_url, checked_tokens, web_host
from switchboard.storage.db import normalise_url

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# What stands for a secret in examples (.env.example's `xoxb-...`, `<token>`, `changeme`):
# copied unchanged, it must stop the bot with a line, not reach Slack as a token.
_PLACEHOLDER = re.compile(
    r".*(\.\.\.|…).*|<[^>]*>|x+|changeme|change-me|your[-_ ].*", re.IGNORECASE
)


class SettingsError(Exception):
    """A missing or malformed setting; the message is one line naming it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")
    database_url: str = Field("sqlite+aiosqlite:///./switchboard.db", alias="DATABASE_URL")
    catalog: str = Field("", alias="SWITCHBOARD_CATALOG")
    # Processes reading a big catalog's files (0: one per core, at most 4); see
    # docs/operations.md for what they gain
    catalog_workers: int = Field(1, alias="SWITCHBOARD_CATALOG_WORKERS", ge=0, le=32)
    config_file: str = Field("", alias="SWITCHBOARD_CONFIG")
    port: int = Field(3000, alias="PORT", ge=1, le=65535)
    pagerduty_events_url: str = Field("https://events.pagerduty.com", alias="PAGERDUTY_EVENTS_URL")
    opsgenie_api_url: str = Field("https://api.opsgenie.com", alias="OPSGENIE_API_URL")
    opsgenie_api_key: SecretStr | None = Field(None, alias="OPSGENIE_API_KEY")
    pagerduty_webhook_secret: SecretStr | None = Field(None, alias="PAGERDUTY_WEBHOOK_SECRET")
    # Live facts (see docs/integrations.md): a source without its token is not configured.
    # Opsgenie's on-call is read with OPSGENIE_API_KEY at OPSGENIE_API_URL, as paging is.
    pagerduty_api_token: SecretStr | None = Field(None, alias="PAGERDUTY_API_TOKEN")
    pagerduty_api_url: str = Field("https://api.pagerduty.com", alias="PAGERDUTY_API_URL")
    github_token: SecretStr | None = Field(None, alias="GITHUB_TOKEN")
    # GitHub Enterprise Server: https://HOST/api/v3
    github_api_url: str = Field("https://api.github.com", alias="GITHUB_API_URL")
    github_host: str = Field("", alias="GITHUB_HOST")  # of repository links: see FactsSettings
    sonarqube_url: str = Field("", alias="SONARQUBE_URL")
    sonarqube_token: SecretStr | None = Field(None, alias="SONARQUBE_TOKEN")
    # comma-separated name=token pairs: who may POST /api/facts and /api/deploys
    facts_tokens: SecretStr | None = Field(None, alias="SWITCHBOARD_FACTS_TOKENS")
    # The catch-up's optional summariser: an OpenAI-compatible chat-completions endpoint,
    # off unless the base URL and the model are set (never used for private incidents).
    summary_url: str = Field("", alias="SWITCHBOARD_SUMMARY_URL")
    summary_model: str = Field("", alias="SWITCHBOARD_SUMMARY_MODEL", max_length=200)
    summary_token: SecretStr | None = Field(None, alias="SWITCHBOARD_SUMMARY_TOKEN")
    # Seconds one attempt of any call to Slack, PagerDuty or Opsgenie may take in all; the
    # sync and delivery leases are derived from it (see `switchboard.bot.platform.outside_calls`).
    outside_call_timeout: float = Field(10.0, alias="OUTSIDE_CALL_TIMEOUT", gt=0, le=120)
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_format: str = Field("text", alias="LOG_FORMAT")
    # APScheduler's own logging (each job added, each run started and finished): quiet
    # unless asked; our jobs log each run themselves (`switchboard.bot.platform.jobs`).
    scheduler_log_level: str = Field("WARNING", alias="SCHEDULER_LOG_LEVEL")

    @field_validator(
        "slack_bot_token",
        "slack_signing_secret",
        "slack_app_token",
        "opsgenie_api_key",
        "pagerduty_webhook_secret",
        "pagerduty_api_token",
        "github_token",
        "sonarqube_token",
        "summary_token",
    )
    @classmethod
    def _not_a_placeholder(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and _PLACEHOLDER.fullmatch(value.get_secret_value().strip()):
            raise ValueError(
                "it is still a placeholder (as in .env.example): set the real value, or "
                "leave it out (bin/run then starts the demo)"
            )
        return value

    @field_validator("log_level", "scheduler_log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return value.upper()

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value.lower() not in ("text", "json"):
            raise ValueError("must be text or json")
        return value.lower()

    @field_validator("slack_api_url", "pagerduty_events_url", "opsgenie_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value

    # The facts sources' settings (handed to them as `FactsSettings`), and the summariser's.
    check_facts_urls = field_validator(
        "pagerduty_api_url", "opsgenie_api_url", "github_api_url", "sonarqube_url", "summary_url"
    )(base_url)
    check_facts_tokens = field_validator("facts_tokens")(checked_tokens)
    check_github_host = field_validator("github_host")(web_host)

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        return value if value.endswith("/") else value + "/"

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        try:
            return normalise_url(value)
        except Exception as error:  # sqlalchemy raises several kinds for a malformed URL
            reason = str(error)
            password = value.partition("://")[2].rpartition("@")[0].partition(":")[2]
            if password:  # however the URL is broken, its password is not echoed
                reason = reason.replace(password, "...")
            raise ValueError(f"{reason}; e.g. sqlite:///./switchboard.db") from None

    @property
    def catalog_paths(self) -> list[str]:
        return [p for p in self.catalog.split(os.pathsep) if p.strip()]

    def require(self, *names: str) -> None:
        """Fail with one line naming the first of `names` (env var names) that is unset."""
        for name in names:
            field = next(f for f, info in type(self).model_fields.items() if info.alias == name)
            if not getattr(self, field):
                raise SettingsError(f"{name} is not set (see the README, section Settings)")

    def secrets(self) -> list[str]:
        """Every secret value set, for taking them out of logs and error messages."""
        values = [
            self.slack_bot_token,
            self.slack_signing_secret,
            self.slack_app_token,
            self.opsgenie_api_key,
            self.pagerduty_webhook_secret,
            self.pagerduty_api_token,
            self.github_token,
            self.sonarqube_token,
            self.summary_token,
        ]
        found = [v.get_secret_value() for v in values if v is not None]
        return [*found, *self.facts().tokens().values(), make_url(self.database_url).password or ""]

    def facts(self) -> FactsSettings:
        """What the facts sources read of these settings."""
        return FactsSettings(
            pagerduty_api_token=self.pagerduty_api_token,
            pagerduty_api_url=self.pagerduty_api_url,
            opsgenie_api_key=self.opsgenie_api_key,
            opsgenie_api_url=self.opsgenie_api_url,
            github_token=self.github_token,
            github_api_url=self.github_api_url,
            github_host=self.github_host,
            sonarqube_url=self.sonarqube_url,
            sonarqube_token=self.sonarqube_token,
            facts_tokens=self.facts_tokens,
        )

    @property
    def bot_token(self) -> str:
        return self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""

    @property
    def signing_secret(self) -> str:
        return self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""


def load_settings(**overrides: object) -> Settings:
    """Read the settings; a malformed one raises SettingsError with a one-line message that
    names the variable but never echoes its value (it may be a secret)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        raise SettingsError(f"{name} is malformed: {first['msg']}") from None
