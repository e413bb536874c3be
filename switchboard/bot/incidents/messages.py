"""What incidents look like in Slack: channel names, topics, cards and change messages.
Every piece of user text goes through `safe`; topics take plain text (Slack shows no
formatting there)."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, tzinfo
from typing import Any

from switchboard.bot.incidents.views import IncidentView
from switchboard.bot.incidents.views import ref as ref
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.config import IncidentsConfig
from switchboard.bot.platform.text import duration, safe, shorten

Block = dict[str, Any]
CHANNEL_NAME_LIMIT = 80
TOPIC_LIMIT = 250

# action ids on the cards
STATUS_ACTION = "incident_status"
SEVERITY_ACTION = "incident_severity"
ASSIGN_ACTION = "incident_assign"
PAGE_ACTION = "incident_page"
RESOLVE_ACTION = "incident_resolve"
SNOOZE_ACTION = "incident_snooze"
DISMISS_ACTION = "incident_dismiss"


def slug(text: str) -> str:
    """Lower-case ASCII words joined by dashes: what Slack accepts in a channel name."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def channel_name(
    template: str, number: int, title: str, declared: datetime, attempt: int = 0
) -> str:
    """The channel's name from the template, valid for Slack and at most 80 characters: the
    title's slug is what gets shortened. `attempt` > 0 adds a suffix for a taken name."""
    suffix = f"-{attempt + 1}" if attempt else ""
    base = template.format(date=declared.strftime("%Y%m%d"), number=number, slug="{slug}")
    room = CHANNEL_NAME_LIMIT - len(slug(base.replace("{slug}", ""))) - len(suffix)
    words = slug(title)[: max(room, 0)].rstrip("-") or "incident"
    name = slug(base.replace("{slug}", words))[: CHANNEL_NAME_LIMIT - len(suffix)].rstrip("-")
    return name + suffix


def topic(view: IncidentView, commander_name: str = "") -> str:
    """Plain text: Slack shows a topic as typed, so a `<@U…>` would stay a raw id there. The
    commander is named by `commander_name`, their display name."""
    incident = view.incident
    text = f"{view.ref} · {incident.severity} · {incident.status} · {incident.title}"
    commander = commander_name if view.holder("commander") else ""
    return shorten(text + (f" · commander {commander}" if commander else ""), TOPIC_LIMIT)


def purpose(view: IncidentView) -> str:
    return shorten(f"Incident {view.ref}: {view.incident.title}", TOPIC_LIMIT)


def oncall_invited(services: list[tuple[str, list[str]]]) -> str:
    """Said in the incident channel at declare: who is on call for each affected service
    (its name, and the Slack user ids on call now) and that they were invited; "" when no
    service has anybody on call. Names are escaped as in every note, users are mentions."""
    lines = [
        f"• *{safe(name, 100)}*: " + ", ".join(f"<@{user}>" for user in users)
        for name, users in services
        if users
    ]
    return "\n".join(["On call now, invited to this channel:", *lines]) if lines else ""


def card(view: IncidentView, config: IncidentsConfig, *, buttons: bool) -> tuple[str, list[Block]]:
    """The summary card: in the incident channel with buttons, in the announcement without."""
    incident = view.incident
    title = f"{view.ref}: {incident.title}"
    blocks: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": shorten(title, 150)}},
        {"type": "section", "fields": [kit.mrkdwn(f) for f in _facts(view, config)]},
    ]
    if incident.description:
        blocks.append(kit.section(safe(incident.description, 2900)))
    if not buttons:
        blocks += _where_to_go(view)
    if buttons and incident.closed_at is None:
        blocks.append(_actions(view, config))
    # The fallback text notifies and renders mentions: it gets the escaped title.
    summary = f"{view.ref}: {safe(incident.title, 200)} ({incident.severity}, {incident.status})"
    return summary, blocks


def _where_to_go(view: IncidentView) -> list[Block]:
    """The announcement's last line: an open incident asks for help, one that is over says
    so, with when and how long it lasted (declared to resolved)."""
    incident = view.incident
    channel = f"<#{incident.channel_id}>" if incident.channel_id else ""
    if incident.resolved_at is None:
        return [kit.context(f"Join {channel} to help.")] if channel else []
    lasted = duration(incident.resolved_at - incident.declared_at)
    over = f"Over: resolved at {_when(incident.resolved_at)} after {lasted}"
    if incident.closed_at is not None:
        over += f", closed at {_when(incident.closed_at)}"
    return [kit.context(over + (f". The record stays in {channel}." if channel else "."))]


def severity_bar(view: IncidentView, config: IncidentsConfig) -> list[Block] | None:
    """The severity's configured colour, as Slack apps show one: the bar of an attachment,
    here beside one line naming the severity. The card itself stays in the message's own
    blocks: Slack keeps attachments for secondary content and may fold long ones behind
    "Show more", which would hide the card's buttons."""
    severity = config.severity(view.incident.severity)
    if severity is None:
        return None
    words = f"*{severity.name}*" + (
        f" · {safe(severity.description, 100)}" if severity.description else ""
    )
    return [{"color": severity.color, "fallback": severity.name, "blocks": [kit.context(words)]}]


def private_card(view: IncidentView) -> tuple[str, list[Block]]:
    """What public places show of a private incident: that it exists, and its state."""
    state = "resolved" if view.resolved else "open"
    text = f"{view.ref}: a private incident ({state})"
    return text, [kit.section(safe(text))]


def _facts(view: IncidentView, config: IncidentsConfig) -> list[str]:
    incident = view.incident
    services = ", ".join(safe(s.name or s.entity_ref, 100) for s in view.services[:10])
    roles = [f"{r.role}: <@{r.user_id}>" for r in view.roles]
    sev = config.severity(incident.severity)
    sev_text = f"{incident.severity}" + (
        f" ({safe(sev.description, 100)})" if sev and sev.description else ""
    )
    facts = [
        f"*Severity*\n{sev_text}",
        f"*Status*\n{incident.status}",
        f"*Services*\n{services or 'none named'}",
        f"*Roles*\n{chr(10).join(roles) or 'nobody yet: assign a commander'}",
        f"*Declared*\n<@{incident.declared_by}> at {_when(incident.declared_at)}",
    ]
    if incident.private or incident.security:
        facts.append("*Visibility*\n" + ("security, private" if incident.security else "private"))
    return facts


def _actions(view: IncidentView, config: IncidentsConfig) -> Block:
    value = str(view.incident.id)
    # The card is one message everyone sees: a status only some may set (`restricted`) is
    # left out of its select and set with a command; the service checks on submit anyway.
    statuses = [s.name for s in config.statuses if not config.restricted(s.name)]
    elements: list[Block] = [
        _select(STATUS_ACTION, "Status", value, statuses, view.incident.status),
        _select(
            SEVERITY_ACTION,
            "Severity",
            value,
            [s.name for s in config.severities],
            view.incident.severity,
        ),
        kit.button(ASSIGN_ACTION, "Assign role", value),
        kit.button(PAGE_ACTION, "Page", value),
    ]
    if not view.resolved:
        resolve = kit.button(RESOLVE_ACTION, "Resolve", value, style="danger")
        resolve["confirm"] = {
            "title": kit.plain("Resolve this incident?"),
            "text": kit.plain("Pages we opened are resolved too."),
            "confirm": kit.plain("Resolve"),
            "deny": kit.plain("Not yet"),
        }
        elements.append(resolve)
    return {"type": "actions", "block_id": f"incident-{value}", "elements": elements}


def _select(action: str, placeholder: str, incident: str, names: list[str], current: str) -> Block:
    options = [{"text": kit.plain(n), "value": f"{incident}:{n}"} for n in names[:100]]
    select: Block = {
        "type": "static_select",
        "action_id": action,
        "placeholder": kit.plain(placeholder),
        "options": options,
    }
    chosen = [o for o in options if o["value"] == f"{incident}:{current}"]
    if chosen:
        select["initial_option"] = chosen[0]
    return select


def reminder(view: IncidentView, user: str, minutes: int) -> tuple[str, list[Block]]:
    who = f"<@{user}>" if user else "Commander"
    text = (
        f"{who}, no status update on {view.ref} for {minutes} minutes: "
        "post one with `/incident update &lt;text&gt;`."
    )
    value = str(view.incident.id)
    buttons = {
        "type": "actions",
        "elements": [
            kit.button(SNOOZE_ACTION, "Snooze 30 min", value),
            kit.button(DISMISS_ACTION, "Stop reminders", value),
        ],
    }
    return text, [kit.section(text), buttons]


def incident_line(view: IncidentView, config: IncidentsConfig, show_private: bool) -> str:
    """One line for lists and App Home."""
    incident = view.incident
    if incident.private and not show_private:
        return f"• {view.ref}: a private incident ({incident.status})"
    channel = f" <#{incident.channel_id}>" if incident.channel_id else ""
    title = safe(incident.title, 150)
    return f"• *{view.ref}* {title} · {incident.severity} · {incident.status}{channel}"


def _when(at: datetime) -> str:
    # Slack renders the date in each reader's own time zone; the fallback is UTC.
    stamp = int(at.timestamp())
    return f"<!date^{stamp}^{{date_short_pretty}} {{time}}|{at:%Y-%m-%d %H:%M} UTC>"


def listing(views: list[IncidentView], config: IncidentsConfig, viewer_in: set[int]) -> str:
    """Open incidents for `/incident list`: private ones only to their participants, else
    as "a private incident" or not at all, as configured."""
    lines = []
    for view in views:
        mine = view.incident.id in viewer_in
        if view.incident.private and not mine and config.private_in_public == "hide":
            continue
        lines.append(incident_line(view, config, show_private=mine))
    return "\n".join(lines) or "No open incidents."


TIMELINE_PAGE = 20  # moments per message: 20 sections and their buttons stay under 50 blocks
TIMELINE_TEXT = 2500  # characters of one moment shown in Slack (kept whole in the record)
TIMELINE_NEXT = "timeline_page"
TIMELINE_ADD = "timeline_add"


def timeline_page(
    view: IncidentView, moments: list[Any], page: int, tz: tzinfo, accessory: Any = None
) -> tuple[str, list[Block]]:
    """One page of the timeline, times in `tz` with dates. `accessory(moment)` may give a
    button for a captured entry (a follow-up from it)."""
    pages = max(1, -(-len(moments) // TIMELINE_PAGE))
    page = min(max(page, 1), pages)
    shown = moments[(page - 1) * TIMELINE_PAGE : page * TIMELINE_PAGE]
    title = f"Timeline of {view.ref}" + (f" ({page}/{pages})" if pages > 1 else "")
    blocks: list[Block] = [kit.header(title)]
    for moment in shown:
        section = kit.section(moment_text(moment, tz))
        button = accessory(moment) if accessory and moment.entry_id else None
        if button:
            section["accessory"] = button
        blocks.append(section)
    if not shown:
        blocks.append(kit.section("Nothing on the timeline yet."))
    blocks.append(_timeline_actions(view, page, pages))
    return f"{title}: {len(moments)} moments", blocks


def moment_text(moment: Any, tz: tzinfo) -> str:
    """One timeline moment as a line of mrkdwn, user text escaped."""
    when = moment.at.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")
    who = f"<@{moment.author}>" if moment.author.startswith(("U", "W")) else ""
    if moment.source == "lifecycle":
        body = moment.text  # written by us, already escaped
        if who in body:  # it names who did it already ("<@U1> changed the status...")
            who = ""
    else:
        body = safe(moment.text, TIMELINE_TEXT) or "(no text)"
        if moment.deleted:
            body = f"~{body}~ (deleted)"
    extra = [f"<{moment.permalink}|message>"] if moment.permalink.startswith("https://") else []
    extra += [f"📎 {safe(name, 100)}" for name, _ in moment.files[:5]]
    tail = " · ".join(extra)
    return f"*{when}* " + " ".join(filter(None, (who, body))) + (f"\n{tail}" if tail else "")


def _timeline_actions(view: IncidentView, page: int, pages: int) -> Block:
    incident = str(view.incident.id)
    elements = [kit.button(TIMELINE_ADD, "Add timeline event", incident)]
    if page > 1:
        elements.append(kit.button(f"{TIMELINE_NEXT}:prev", "Previous", f"{incident}:{page - 1}"))
    if page < pages:
        elements.append(kit.button(f"{TIMELINE_NEXT}:next", "Next", f"{incident}:{page + 1}"))
    return {"type": "actions", "elements": elements}
