"""Block Kit for `/owner` answers. Every catalog or user string goes through `safe`/`link`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from switchboard.bot.catalog.model import Entity, OnCall
from switchboard.bot.catalog.oncall import on_call
from switchboard.bot.catalog.reader import (
    Answer,
    ChoiceAnswer,
    DepsAnswer,
    NoMatch,
    OwnedAnswer,
    ServiceAnswer,
    Team,
    Usage,
)
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.text import link, safe, shorten

Block = dict[str, Any]
Message = dict[str, Any]

PICK_ACTION = "owner_pick"  # buttons `owner_pick:<n>`, value = the entity ref
SHARE_ACTION = "owner_share"
MAX_LISTED = 40  # services listed in one message; the rest are counted
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")
_USERGROUP_ID = re.compile(r"^S[A-Z0-9]{2,}$")
_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")

USAGE = (
    "*/owner* tells who owns what.\n"
    "• `/owner &lt;service&gt;`: owner, on-call, channel, tier, runbook, repo, docs, dependencies\n"
    "• `/owner &lt;service&gt; deps`: what it depends on, and what depends on it\n"
    "• `/owner team:&lt;name&gt;` or `/owner @team-handle`: what a team owns\n"
    "• `/owner @person`: what that person's teams own"
)


def render(answer: Answer, *, shared_by: str = "") -> Message:
    """The Slack message for an answer; `shared_by` (a user id) renders the in-channel copy."""
    if isinstance(answer, ServiceAnswer):
        return _service(answer, shared_by)
    if isinstance(answer, DepsAnswer):
        return _deps(answer)
    if isinstance(answer, OwnedAnswer):
        return _owned(answer, shared_by)
    if isinstance(answer, ChoiceAnswer):
        return _choices(answer)
    if isinstance(answer, NoMatch):
        return _no_match(answer)
    assert isinstance(answer, Usage)
    return {"text": "How to use /owner", "blocks": [kit.section(USAGE)]}


def _service(answer: ServiceAnswer, shared_by: str) -> Message:
    service = answer.service
    blocks: list[Block] = [kit.header(service.display_name)]
    if service.description:
        blocks.append(kit.section(safe(service.description, 1000)))
    fields = [
        f"*Owner*\n{_owners(answer)}",
        f"*On call*\n{_oncall(answer)}",
        f"*Tier*\n{service.tier if service.tier is not None else 'not set'}",
        f"*Lifecycle*\n{safe(service.lifecycle, 100) or 'not set'}",
    ]
    blocks.append({"type": "section", "fields": [kit.mrkdwn(_fit(f, 2000)) for f in fields]})
    if answer.health:
        blocks.append(kit.section(_fit(answer.health, 2900)))
    if links := _links(service):
        blocks.append(kit.section(links))
    if answer.dependencies:
        blocks.append(kit.section("*Depends on* " + safe(", ".join(answer.dependencies), 2900)))
    if answer.depended_on_by:
        blocks.append(kit.section(depended_on_by(answer)))
    blocks.append(kit.context(_origin(service, shared_by)))
    if not shared_by:
        blocks.append(share_button(SHARE_ACTION, service.ref))
    # The fallback text notifies and renders mentions: escaped like the blocks.
    text = f"{safe(service.display_name, 150)}: owned by {_plain_owners(answer)}"
    return {"text": text, "blocks": blocks}


def depended_on_by(answer: ServiceAnswer) -> str:
    services = _count(answer.depended_on_by, "service")
    teams = _count(answer.dependent_teams, "team")
    name = safe(answer.service.name, 100)
    return f"*Depended on by* {services} ({teams}): `/owner {name} deps` lists them"


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


def _deps(answer: DepsAnswer) -> Message:
    """The two lists, each bounded (`MAX_LISTED`, a section's characters)."""
    service = answer.service
    uses = [f"• {safe(name, 150)}" for name in answer.dependencies[:MAX_LISTED]]
    used = [
        f"• *{safe(name, 150)}*" + (f" ({safe(', '.join(teams), 200)})" if teams else "")
        for name, teams in answer.dependents[:MAX_LISTED]
    ]
    blocks: list[Block] = [kit.header(f"{shorten(service.display_name, 120)}: dependencies")]
    for title, lines, total in (
        (f"*Depends on* ({len(answer.dependencies)})", uses, len(answer.dependencies)),
        (f"*Depended on by* ({len(answer.dependents)})", used, len(answer.dependents)),
    ):
        if total > MAX_LISTED:
            lines.append(f"…and {total - MAX_LISTED} more")
        chunks = _chunk_lines([title, *(lines or ["• nothing in the catalog"])])
        blocks += [kit.section(chunk) for chunk in chunks]
    text = (
        f"{safe(service.display_name, 150)} depends on {len(answer.dependencies)} and is "
        f"depended on by {_count(len(answer.dependents), 'service')}"
    )
    return {"text": text, "blocks": blocks}


def _owners(answer: ServiceAnswer) -> str:
    lines = [_team_line(team) for team in answer.teams]
    lines += [_person(p) for p in answer.people]
    lines += [safe(ref, 200) + " (not in the catalog)" for ref in answer.unresolved_owners]
    return "\n".join(lines) or "nobody: add an owner to the catalog"


def _plain_owners(answer: ServiceAnswer) -> str:
    names = [t.entity.display_name for t in answer.teams] + [p.display_name for p in answer.people]
    return safe(", ".join(names) or "nobody", 200)


def _team_line(team: Team) -> str:
    parts = [f"*{safe(team.entity.display_name, 200)}*"]
    parts += [_channel(c) for c in team.entity.slack_channels[:2]]
    if team.members:
        parts.append("(" + ", ".join(_person(m) for m in team.members[:5]) + ")")
    return " ".join(parts)


def _person(person: Entity) -> str:
    if _USER_ID.match(person.slack_user_id):
        return f"<@{person.slack_user_id}>"
    return safe(person.display_name, 100)


def _channel(channel: str) -> str:
    if _CHANNEL_ID.match(channel):
        return f"<#{channel}>"
    return safe("#" + channel.lstrip("#"), 100)


def _oncall(answer: ServiceAnswer) -> str:
    """How to page whoever is on call, and whose on-call it is when not the service's own:
    the notion the scorecard rule "has an on-call" reads too."""
    found = on_call(answer.service, [t.entity for t in answer.teams])
    lines = [_oncall_line(o) for o in found.entries][:5]
    if answer.oncall_now:
        lines.insert(0, answer.oncall_now)
    if lines and found.teams:
        lines.append(f"_{safe(found.whose, 200)}_")
    return "\n".join(lines) or "not set"


def _oncall_line(oncall: OnCall) -> str:
    if oncall.provider == "slack":
        return _usergroup(oncall.target_id)
    provider = {"pagerduty": "PagerDuty", "opsgenie": "Opsgenie"}.get(oncall.provider, "")
    what = oncall.target_type.replace("_", " ")
    return safe(f"{provider or oncall.provider} {what} {oncall.target_id}", 200)


def _usergroup(group: str) -> str:
    if _USERGROUP_ID.match(group):
        return f"<!subteam^{group}>"
    return safe("@" + group.lstrip("@"), 100)


def _links(service: Entity) -> str:
    wanted = ("runbook", "repo", "docs", "dashboard")
    shown = [k for kind in wanted for k in service.links if k.type == kind][:8]
    lines = [f"*{k.type.capitalize()}*: {link(k.url, k.title or k.url)}" for k in shown]
    return _fit("\n".join(lines), 3000)  # eight long URLs would overflow a section


def _origin(entity: Entity, shared_by: str) -> str:
    origin = f"From {safe(Path(entity.source_file).name, 200)}:{entity.source_line}"
    return f"{origin} · shared by <@{shared_by}>" if shared_by else origin


def _owned(answer: OwnedAnswer, shared_by: str) -> Message:
    subject = answer.subject
    blocks: list[Block] = [kit.header(subject.display_name)]
    about = [_channel(c) for c in subject.slack_channels[:3]]
    if subject.slack_usergroup:
        about.append(_usergroup(subject.slack_usergroup))
    if answer.teams:
        about.append("member of " + ", ".join(safe(t.display_name, 100) for t in answer.teams))
    if about:
        blocks.append(kit.section(" · ".join(about)))
    blocks += _service_list(answer.services)
    blocks.append(kit.context(_origin(subject, shared_by)))
    if not shared_by:
        blocks.append(share_button(SHARE_ACTION, subject.ref))
    count = len(answer.services)
    return {"text": f"{safe(subject.display_name, 150)} owns {count} services", "blocks": blocks}


def _service_list(services: list[Entity]) -> list[Block]:
    if not services:
        return [kit.section("Owns nothing in the catalog yet.")]
    lines = [_service_line(s) for s in services[:MAX_LISTED]]
    if len(services) > MAX_LISTED:
        lines.append(f"…and {len(services) - MAX_LISTED} more")
    return [kit.section(chunk) for chunk in _chunk_lines(lines)]


def _service_line(service: Entity) -> str:
    facts = [f"tier {service.tier}"] if service.tier is not None else []
    if service.lifecycle:
        facts.append(safe(service.lifecycle, 40))
    suffix = f" ({', '.join(facts)})" if facts else ""
    return f"• *{safe(service.display_name, 150)}*{suffix}"


def _chunk_lines(lines: list[str], limit: int = 2900) -> list[str]:
    chunks: list[str] = []
    for line in lines:
        if chunks and len(chunks[-1]) + len(line) + 1 <= limit:
            chunks[-1] += "\n" + line
        else:
            chunks.append(line)
    return chunks


def _choices(answer: ChoiceAnswer) -> Message:
    shown = answer.choices[:5]
    blocks = did_you_mean(PICK_ACTION, answer.query, shown)
    return {"text": f"Did you mean one of {len(shown)} services?", "blocks": blocks}


def did_you_mean(action: str, query: str, choices: list[Entity]) -> list[Block]:
    """The close matches for `query` as buttons `<action>:<n>` whose value is the ref."""
    buttons = [
        kit.button(f"{action}:{n}", f"{e.display_name} ({e.type or e.kind})", e.ref)
        for n, e in enumerate(choices)
    ]
    return [
        kit.section(f"Nothing is called exactly *{safe(query, 200)}*. Did you mean:"),
        {"type": "actions", "elements": buttons},
    ]


def _no_match(answer: NoMatch) -> Message:
    text = f"I found no {answer.what} called *{safe(answer.query, 200)}* in the catalog."
    if answer.suggestions:
        names = ", ".join(f"`{safe(s.partition('/')[2], 100)}`" for s in answer.suggestions)
        text += f"\nClosest: {names}"
    return {"text": text, "blocks": [kit.section(text), kit.section(USAGE)]}


def _fit(lines: str, limit: int) -> str:
    """Whole lines up to `limit` characters: cutting between lines never splits a mention."""
    while len(lines) > limit and "\n" in lines:
        lines = lines.rsplit("\n", 1)[0]
    return lines if len(lines) <= limit else shorten(lines, limit)


def share_button(action: str, ref: str) -> Block:
    return {"type": "actions", "elements": [kit.button(action, "Share in channel", ref)]}
