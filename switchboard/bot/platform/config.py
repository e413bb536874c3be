"""The optional YAML configuration (SWITCHBOARD_CONFIG): everything that is not a secret or a
connection string. Every key has a default, so no file at all is a valid configuration."""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

MAX_DEPTH = 16  # the deepest real setting is 4 levels down; a deeper file is a mistake or worse
MAX_BYTES = 1_000_000
_FORMATTER = string.Formatter()


class ConfigError(Exception):
    """The config file is unreadable or invalid; the message is one `file: key: problem` line."""


def placeholders(*names: str, required: tuple[str, ...] = ()) -> Callable[[str], str]:
    """A validator for a setting that is a `str.format` template: only `{name}` for the
    given names, each at most plainly (no `{number.__class__}`, `{x[0]}`, `{number!r}` or
    `{number:>99999}`: attribute and index access reach into Python, and a width can make
    a string of any size), with braces balanced and the `required` ones present. Checked
    at load, so a template cannot fail later, when it is used."""
    allowed = ", ".join(f"{{{n}}}" for n in names)

    def check(template: str) -> str:
        try:
            parsed = [
                (f, spec, conv) for _, f, spec, conv in _FORMATTER.parse(template) if f is not None
            ]
        except ValueError as error:  # a lone brace
            raise ValueError(f"{error} (write {{{{ or }}}} for a brace); use {allowed}") from None
        for field, spec, conversion in parsed:
            if any(c in field for c in ".["):
                raise ValueError(f"{{{field}}}: no attribute or index access; use {allowed}")
            if field not in names:
                raise ValueError(f"{{{field}}} is not a placeholder here; use {allowed}")
            if spec or conversion:
                raise ValueError(f"{{{field}}}: no format or conversion; use {allowed}")
        for name in required:
            if name not in {field for field, _, _ in parsed}:
                raise ValueError(f"must contain {{{name}}}, so every name is unique")
        return template

    return check


class CatalogConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # How often SWITCHBOARD_CATALOG is read again and the database brought in line with it.
    sync_minutes: int = Field(15, ge=1, le=24 * 60)


class Severity(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")
    description: str = ""
    color: str = Field("#888888", pattern=r"^#[0-9a-fA-F]{6}$")
    # With no status update for this long, the commander is reminded to post one.
    reminder_minutes: int = Field(60, ge=1, le=7 * 24 * 60)


class Status(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_-]{1,30}$")
    # Entering this status stamps the milestone column of that name.
    milestone: Literal["mitigated", "resolved", "closed"] | None = None
    # Whether only the commander (the first role) and `responders_group` may move an incident
    # into this status, whatever the way (command, card select, button); unset: only the
    # last status (where incidents end, and which nobody can reopen) is restricted.
    restricted: bool | None = None


DEFAULT_SEVERITIES = (
    Severity(
        name="SEV1",
        description="Critical: customers badly affected",
        color="#d1242f",
        reminder_minutes=30,
    ),
    Severity(
        name="SEV2",
        description="Major: a core feature degraded",
        color="#e36209",
        reminder_minutes=60,
    ),
    Severity(
        name="SEV3", description="Minor: limited impact", color="#d4a72c", reminder_minutes=120
    ),
    Severity(
        name="SEV4",
        description="Low: no customer impact yet",
        color="#0969da",
        reminder_minutes=240,
    ),
)
DEFAULT_STATUSES = (
    Status(name="investigating"),
    Status(name="identified"),
    Status(name="monitoring", milestone="mitigated"),
    Status(name="resolved", milestone="resolved"),
    Status(name="closed", milestone="closed"),
)


class IncidentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Where every incident is announced: a channel name or id.
    announce_channel: str = "incidents"
    # Placeholders: {date} (yyyymmdd), {number}, {slug} (from the title).
    channel_name: Annotated[
        str, AfterValidator(placeholders("date", "number", "slug", required=("number",)))
    ] = "inc-{date}-{number}-{slug}"
    severities: tuple[Severity, ...] = DEFAULT_SEVERITIES  # most severe first
    default_severity: str = ""  # "" = the least severe
    # The first is where every incident starts, the last where it ends.
    statuses: tuple[Status, ...] = DEFAULT_STATUSES
    roles: tuple[str, ...] = ("commander", "communications", "scribe")  # the first leads
    # How public places show a private incident: as "a private incident" or not at all.
    private_in_public: Literal["count", "hide"] = "count"
    # Slack user group ids: who may declare ("" = anyone), and who may move an incident into
    # a restricted status (by default the last: close) besides the commander ("" = only the
    # commander).
    declare_group: str = ""
    responders_group: str = ""
    # Retry unfinished Slack steps and failed pages this often.
    retry_seconds: int = Field(30, ge=5, le=3600)
    # How long a process may hold an incident while syncing it; a process killed mid-sync
    # leaves the incident to the next one after this long.
    lease_seconds: int = Field(120, ge=2, le=3600)
    # Reacting with one of these puts a message on the timeline; the bot answers with
    # `confirm_emoji`. Names without colons, as Slack sends them.
    timeline_emojis: tuple[str, ...] = ("pushpin",)
    confirm_emoji: str = "white_check_mark"
    # A team's own Jinja2 template for postmortem drafts ("" = the built-in one).
    postmortem_template: str = ""
    # The responder context: deploys this long before declare are "what changed", and
    # dependents this many dependsOn levels away are "what else is affected".
    changes_window_minutes: int = Field(120, ge=1, le=7 * 24 * 60)
    dependents_depth: int = Field(2, ge=1, le=5)

    @model_validator(mode="after")
    def _consistent(self) -> IncidentsConfig:
        names = [s.name.upper() for s in self.severities]
        if not names or len(set(names)) != len(names):
            raise ValueError("severities must be a non-empty list of distinct names")
        if self.default_severity and self.default_severity.upper() not in names:
            raise ValueError(f"default_severity {self.default_severity!r} is not a severity")
        statuses = [s.name for s in self.statuses]
        if len(statuses) < 2 or len(set(statuses)) != len(statuses):
            raise ValueError("statuses must name at least two distinct statuses")
        resolved = [s for s in self.statuses if s.milestone == "resolved"]
        if len(resolved) != 1:
            raise ValueError("exactly one status must have milestone: resolved")
        if not self.roles or len(set(self.roles)) != len(self.roles):
            raise ValueError("roles must be a non-empty list of distinct names")
        return self

    def severity(self, name: str) -> Severity | None:
        return next((s for s in self.severities if s.name.upper() == name.upper()), None)

    def status(self, name: str) -> Status | None:
        return next((s for s in self.statuses if s.name == name), None)

    def restricted(self, status: str) -> bool:
        """Whether moving an incident into `status` is for the commander and the responders
        group only (see `Status.restricted`)."""
        found = self.status(status)
        if found is None or found.restricted is None:
            return status == self.final_status
        return found.restricted

    @property
    def initial_status(self) -> str:
        return self.statuses[0].name

    @property
    def final_status(self) -> str:
        return self.statuses[-1].name

    @property
    def resolved_status(self) -> str:
        return next(s.name for s in self.statuses if s.milestone == "resolved")

    @property
    def lowest_severity(self) -> Severity:
        return self.severity(self.default_severity) or self.severities[-1]


class DeliveryConfig(BaseModel):
    """How nags and digests reach Slack (`bot/platform/delivery.py`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # chat.postMessage allows about one message a second per channel, and a workspace-wide
    # cap Slack does not publish; pacing under both keeps 429s the exception.
    channel_interval_seconds: float = Field(1.1, ge=0.5, le=60)
    posts_per_minute: int = Field(300, ge=1, le=60_000)
    # A claim this old that was never marked sent belongs to a process that died while
    # sending; another run takes it over (after checking Slack for the message).
    lease_seconds: int = Field(120, ge=1, le=3600)
    # Where a team without a Slack channel gets its nags ("" = skipped, with a warning).
    fallback_channel: str = ""


_TIME_OF_DAY = r"^([01]\d|2[0-3]):[0-5]\d$"  # HH:MM, 24-hour


class NagsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # From this time of day (configured time zone), overdue follow-ups are nagged about,
    # once a day per owner.
    followups_at: str = Field("09:30", pattern=_TIME_OF_DAY)
    snooze_days: int = Field(7, ge=1, le=90)  # what the Snooze button of a nag buys
    # From this time of day, each team hears once a day of its services that got worse on a
    # scorecard since the day before (dropped a level, or fail a rule they passed).
    scorecards_at: str = Field("10:00", pattern=_TIME_OF_DAY)


class DigestConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The weekly digest in each team's channel: on this day, from this time (configured time
    # zone); a bot that was down then sends it when it is back, that same week.
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    at: str = Field("09:00", pattern=_TIME_OF_DAY)


class ScorecardsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Scorecard files or folders, relative to the config file's folder or absolute; read on
    # start and on every catalog sync (a malformed file keeps the scorecards the bot had).
    paths: tuple[str, ...] = ()
    # How often every service is evaluated and the changes stored (for nags and digests).
    evaluate_minutes: int = Field(60, ge=1, le=24 * 60)

    @field_validator("paths")
    @classmethod
    def _from_config_folder(cls, paths: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        folder = (info.context or {}).get("folder")
        return tuple(str(Path(folder, p)) if folder else p for p in paths)


class InsightConfig(BaseModel):
    """What insight's measures count (docs/insight.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # The deploy environments DORA's keys count (compared without case).
    environments: tuple[str, ...] = ("production", "prod")
    # A deploy followed by an incident on its service within this long is a change failure.
    failure_window_hours: int = Field(24, ge=1, le=24 * 14)
    # Standards against outcomes says "too few to compare" below these: services in each
    # group (below and at-or-above the level), and incidents in both together.
    min_services: int = Field(3, ge=1, le=1000)
    min_incidents: int = Field(3, ge=1, le=1000)


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    catalog: CatalogConfig = CatalogConfig()
    incidents: IncidentsConfig = IncidentsConfig()
    delivery: DeliveryConfig = DeliveryConfig()
    nags: NagsConfig = NagsConfig()
    digest: DigestConfig = DigestConfig()
    scorecards: ScorecardsConfig = ScorecardsConfig()
    insight: InsightConfig = InsightConfig()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/Berlin") from None
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def load_config(path: str) -> Config:
    if not path:
        return Config()
    try:
        text = _read(Path(path))
        _within_depth(text, path)
        data = yaml.safe_load(text) or {}
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ConfigError(f"{where}: not valid YAML") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings at the top level")
    try:
        return Config.model_validate(data, context={"folder": Path(path).parent})
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: {key}: {first['msg']}") from None


def _read(path: Path) -> str:
    with path.open("rb") as file:
        data = file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_BYTES:,} bytes: not a config file")
    return data.decode("utf-8")


def _within_depth(text: str, path: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before building anything: PyYAML builds nested
    values recursively (a deep enough file is a RecursionError), and its event stream, read
    here, is not recursive; reading stops at the first level too deep."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1 if event.start_mark else 0
                raise ConfigError(f"{path}:{line}: nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
