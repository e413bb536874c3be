"""The `/incident` grammar: text in, a typed command out, or a message saying what is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass

from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.text import safe

_NUMBER = re.compile(r"^(?:inc-?|#)(\d{1,9})$", re.IGNORECASE)
_USER = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_SEVERITY_LIKE = re.compile(r"^sev-?\d+$", re.IGNORECASE)
ACTIONS = ("status", "severity", "assign", "resolve", "close", "page", "update")
RECORDS = (
    *("note", "timeline", "postmortem", "followup", "followups", "stats", "catchup", "started"),
    "changes",  # the responder context's deploys before declare (handlers/affected.py)
)


@dataclass(frozen=True, slots=True)
class Declare:
    title: str
    severity: str  # a configured severity name
    services: tuple[str, ...] = ()  # what was typed after `service:`


@dataclass(frozen=True, slots=True)
class OpenDeclareModal:
    pass


@dataclass(frozen=True, slots=True)
class Act:
    """A change to one incident: in its channel, or named by `number`."""

    action: str  # one of ACTIONS
    number: int | None
    value: str = ""  # the status, severity, role, page target or update text
    user: str = ""  # for assign: who gets the role


@dataclass(frozen=True, slots=True)
class ListOpen:
    pass


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Record:
    """A record-keeping command on one incident: `note <text>`, `timeline [page]`,
    `postmortem`, `followup <text> [<@owner>] [due:YYYY-MM-DD]` (`text` is the rest, as typed),
    or the incident-less `followups [team:<name>|<@user>]` and `stats [days]`."""

    verb: str  # one of RECORDS
    number: int | None
    text: str = ""


@dataclass(frozen=True, slots=True)
class Invalid:
    message: str  # mrkdwn, user text already escaped by the caller of `explain`


Command = Declare | OpenDeclareModal | Act | Record | ListOpen | Help | Invalid


def parse(text: str, config: IncidentsConfig) -> Command:
    words = text.split()
    if not words or words[0].casefold() in ("help", "?"):
        return Help()
    verb, rest = words[0].casefold(), words[1:]
    if verb == "declare":
        return _declare(rest, config)
    if verb == "list":
        return ListOpen()
    if verb in ACTIONS:
        return _act(verb, rest, config)
    if verb in RECORDS:
        return _record(verb, rest)
    return Invalid(f"I don't know `{_code(words[0])}`. Try `/incident help`.")


def _declare(words: list[str], config: IncidentsConfig) -> Command:
    if not words:
        return OpenDeclareModal()
    severity, services = config.lowest_severity.name, []
    while words:
        word = words[0]
        if config.severity(word):
            severity = config.severity(word).name  # type: ignore[union-attr]
        elif _SEVERITY_LIKE.match(word):
            return Invalid(
                f"Unknown severity `{_code(word)}`. Choose one of {_severities(config)}."
            )
        elif word.casefold().startswith("service:") and len(word) > 8:
            services.append(word[8:])
        else:
            break
        words = words[1:]
    if not words:
        return Invalid("An incident needs a title: `/incident declare sev2 Checkout is down`.")
    return Declare(" ".join(words), severity, tuple(services))


def _act(verb: str, words: list[str], config: IncidentsConfig) -> Command:
    number, kept = _take_number(words)
    value = " ".join(kept)
    if verb == "status":
        return _choice(verb, number, value, [s.name for s in config.statuses])
    if verb == "severity":
        return _choice(verb, number, value, [s.name for s in config.severities])
    if verb == "assign":
        return _assign(number, kept, config)
    if verb in ("page", "update") and not value:
        example = (
            "page payments-api" if verb == "page" else "update Rolled back, error rate falling"
        )
        return Invalid(f"What should I {verb}? For example `/incident {example}`.")
    return Act(verb, number, value)


def _record(verb: str, words: list[str]) -> Command:
    number, kept = _take_number(words) if verb not in ("followups", "stats") else (None, words)
    text = " ".join(kept)
    if verb in ("note", "followup") and not text:
        return Invalid(f"What should the {verb} say? For example `/incident {verb} Disk full`.")
    if verb == "started" and not text:
        return Invalid("When did the impact start? For example `/incident started 14:05`.")
    return Record(verb, number, text)


def _take_number(words: list[str]) -> tuple[int | None, list[str]]:
    """The first `INC-n` (or `#n`) among the words, and the other words."""
    number, kept = None, []
    for word in words:
        match = _NUMBER.match(word)
        if match and number is None:
            number = int(match.group(1))
        else:
            kept.append(word)
    return number, kept


def _choice(verb: str, number: int | None, value: str, names: list[str]) -> Command:
    chosen = next((n for n in names if n.casefold() == value.casefold()), None)
    if chosen is None:
        shown = ", ".join(f"`{n}`" for n in names)
        what = f"`{_code(value)}` is not a {verb}" if value else f"Which {verb}?"
        return Invalid(f"{what}. Choose one of {shown}.")
    return Act(verb, number, chosen)


def _assign(number: int | None, words: list[str], config: IncidentsConfig) -> Command:
    users = [m.group(1) for w in words if (m := _USER.match(w))]
    others = [w for w in words if not _USER.match(w)]
    role = others[0].casefold() if others else config.roles[0]
    roles = ", ".join(f"`{r}`" for r in config.roles)
    if role not in config.roles:
        return Invalid(f"`{_code(role)}` is not a role. Choose one of {roles}.")
    if len(users) != 1 or len(others) > 1:
        return Invalid(f"Say who: `/incident assign {role} @someone` (roles: {roles}).")
    return Act("assign", number, role, users[0])


def _severities(config: IncidentsConfig) -> str:
    return ", ".join(f"`{s.name}`" for s in config.severities)


def _code(text: str) -> str:
    """User text for inside backticks: escaped, and without backticks to break out."""
    return safe(text.replace("`", "'"), 100)


HELP = "\n".join(
    (
        "*/incident* runs incidents from Slack.",
        "• `/incident declare`: a form; or at once: "
        "`/incident declare [sev1|sev2|…] [service:&lt;id&gt;]… &lt;title&gt;`",
        "• `/incident status &lt;status&gt;` · `severity &lt;severity&gt;` · "
        "`assign [role] @person`",
        "• `/incident update &lt;text&gt;`: post a status update · "
        "`page &lt;service|team:name&gt;`: page more people",
        "• `/incident note &lt;text&gt;` · `timeline` · `postmortem`: the record · "
        "`catchup`: what has happened so far · `changes`: deploys before declare",
        "• `/incident followup &lt;text&gt; [@owner] [due:YYYY-MM-DD]` · "
        "`followups [team:&lt;name&gt;|@person]`",
        "• `/incident started &lt;time&gt;`: when the impact started (`14:05`, "
        "`yesterday 23:40`, `2026-03-29 01:30`)",
        "• `/incident resolve` · `close` · `list` · "
        "`stats [days] [service:&lt;id&gt;|team:&lt;name&gt;] [sev:&lt;n&gt;]` · "
        "`stats chart` · `help`",
        "In an incident channel these act on its incident; anywhere else name it: "
        "`/incident status INC-4 identified`.",
    )
)
