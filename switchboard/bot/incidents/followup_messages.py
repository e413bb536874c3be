"""Follow-ups (action items) as Slack shows and reads them: the `/incident followup` grammar,
the "Follow up" button and its modal, listings with Done / Won't do buttons, and the lines
said in the incident channel. Every piece of user text goes through `safe`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from switchboard.bot.catalog.api import parse_owner_text
from switchboard.bot.incidents.messages import Block, ref
from switchboard.bot.incidents.modal_fields import VALUE, FollowUpField
from switchboard.bot.incidents.service import Refused
from switchboard.bot.incidents.views import FollowUpData, IncidentData, Item
from switchboard.bot.platform import blocks as kit
from switchboard.bot.platform.text import safe
from switchboard.storage.followup_store import DONE, OPEN, WONT_DO

OPEN_ACTION = "followup_open"  # the "Follow up" button: opens the modal
DONE_ACTION = "followup_done"
WONT_DO_ACTION = "followup_wont_do"
MODAL = "followup_add"
CLOSING = {DONE_ACTION: DONE, WONT_DO_ACTION: WONT_DO}  # the state each button leaves
TEXT_LIMIT = 1000
DUE_FORMAT = "Write the due date as `due:YYYY-MM-DD`, for example `due:2026-12-01`."
USAGE = (
    "List follow-ups with `/incident followups` (in an incident channel: its follow-ups; "
    "elsewhere: yours), `/incident followups team:&lt;name&gt;` or `/incident followups @person`."
)
_MARK = {OPEN: "", DONE: ":white_check_mark: ", WONT_DO: ":heavy_minus_sign: "}
# A labelled mention (`<@U1|bob>`, `<#C1|general>`, `<!subteam^S1|@web>`) is stored as its
# label (`@bob`): stored text is plain, so it reads the same wherever it is shown, escaped.
_LABELLED = re.compile(r"<(#|@|!subteam\^)[^|<>]*\|[@#]?([^<>]*)>")
# Only this form: `date.fromisoformat` would also take `20261201` or `2026-W48-1`.
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class BadField(Refused):
    """Refused because of one input: `field` is the modal block to show the message on."""

    def __init__(self, field: FollowUpField, message: str) -> None:
        super().__init__(message, field)


@dataclass(frozen=True, slots=True)
class Draft:
    """A follow-up as asked for; the owner is decided when it is stored."""

    text: str
    owner_user: str = ""
    team: str = ""  # a catalog team's name, as typed
    due: date | None = None
    timeline_entry_id: int | None = None


@dataclass(frozen=True, slots=True)
class Scope:
    """What a listing shows: one incident's follow-ups (`key` is its id), or the open ones of
    a team (`key` is its catalog ref) or a person (a Slack user id)."""

    kind: str  # "incident" | "team" | "user"
    key: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.key}"

    @classmethod
    def parse(cls, text: str) -> Scope:
        kind, _, key = text.partition(":")
        return cls(kind, key)


@dataclass(frozen=True, slots=True)
class Listing:
    scope: Scope
    items: list[Item]
    more: int  # the viewer may read them, but they are not shown
    hidden: int  # of private incidents the viewer takes no part in
    today: date  # in the configured time zone: what is overdue
    incident: IncidentData | None = None  # the incident of an incident scope
    may_add: bool = False  # whether the viewer may add follow-ups to it


# the grammar


def parse(text: str) -> Draft:
    """`<text> [<@owner>] [team:<name>] [due:YYYY-MM-DD]`: the options are the last words,
    in any order; a mention or `due:` inside the text is part of it."""
    words = text.split()
    start = len(words)
    while start and _is_option(words[start - 1]):
        start -= 1
    owner_user, team, due = "", "", None
    for word in words[start:]:  # later options win over earlier ones
        if word.casefold().startswith("due:"):
            due = parse_due(word[4:])
            continue
        query = parse_owner_text(word)
        if query.kind == "person":
            owner_user = query.value
        else:
            team = query.value
    return Draft(_text(" ".join(words[:start])), owner_user, team, due)


def _is_option(word: str) -> bool:
    return word.casefold().startswith("due:") or parse_owner_text(word).kind in ("person", "team")


def _text(text: str) -> str:
    text = _LABELLED.sub(lambda m: ("#" if m[1] == "#" else "@") + m[2], text).strip()
    if not text:
        raise BadField(
            FollowUpField.TEXT, "What should the follow-up say? `/incident followup Add alerts`"
        )
    return text


def parse_due(text: str) -> date:
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:  # no such day, like 2026-13-40
            pass
    raise BadField(FollowUpField.DUE, DUE_FORMAT)


# the button and the modal


def followup_button(incident_id: int, entry_id: int | None = None) -> Block:
    """A "Follow up" button that opens the "Add follow-up" modal for the incident; given a
    timeline entry's id, the follow-up remembers that it came from that entry."""
    value = str(incident_id) if entry_id is None else f"{incident_id}:{entry_id}"
    return kit.button(OPEN_ACTION, "Follow up", value)


def origin(value: str) -> tuple[int, int | None]:
    """The incident and timeline entry ids a "Follow up" button (or its modal) carries."""
    incident, _, entry = value.partition(":")
    return int(incident), int(entry) if entry else None


def modal(value: str, number: int) -> dict[str, Any]:
    """The "Add follow-up" form; `value` is the button's, kept as the modal's metadata."""
    return {
        "type": "modal",
        "callback_id": MODAL,
        "private_metadata": value,
        "title": kit.plain("Add follow-up"),
        "submit": kit.plain("Add"),
        "close": kit.plain("Cancel"),
        "blocks": [
            {"type": "context", "elements": [kit.mrkdwn(f"An action item from *{ref(number)}*.")]},
            kit.input_block(
                FollowUpField.TEXT,
                "What needs doing?",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "multiline": True,
                    "max_length": TEXT_LIMIT,
                },
            ),
            kit.input_block(
                FollowUpField.OWNER, "Owner", {"type": "users_select", "action_id": VALUE}, True
            ),
            kit.input_block(
                FollowUpField.TEAM,
                "Or a team from the catalog",
                {
                    "type": "plain_text_input",
                    "action_id": VALUE,
                    "placeholder": kit.plain("payments"),
                },
                True,
                hint="Neither: the team that owns the first affected service.",
            ),
            kit.input_block(
                FollowUpField.DUE, "Due", {"type": "datepicker", "action_id": VALUE}, True
            ),
        ],
    }


def read_modal(view: dict[str, Any]) -> tuple[int, Draft]:
    """The incident id and the follow-up a submitted modal asks for."""
    values = view["state"]["values"]

    def field(block: FollowUpField, key: str) -> str:
        return str(values.get(block, {}).get(VALUE, {}).get(key) or "").strip()

    incident_id, entry_id = origin(view["private_metadata"])
    due = field(FollowUpField.DUE, "selected_date")
    draft = Draft(
        _text(field(FollowUpField.TEXT, "value")),
        owner_user=field(FollowUpField.OWNER, "selected_user"),
        team=field(FollowUpField.TEAM, "value"),
        due=parse_due(due) if due else None,
        timeline_entry_id=entry_id,
    )
    return incident_id, draft


# messages


def close_value(followup_id: int, scope: Scope) -> str:
    """A Done / Won't do button's value: the follow-up, and the listing to show again."""
    return f"{followup_id} {scope}"


def read_close(value: str) -> tuple[int, Scope]:
    followup_id, _, scope = value.partition(" ")
    return int(followup_id), Scope.parse(scope)


def listing(found: Listing, notice: str = "") -> tuple[str, list[Block]]:
    """A listing in at most 4 + 2 per follow-up blocks (the service keeps it within 50)."""
    title = _title(found)
    blocks: list[Block] = [kit.section(title)]
    if notice:
        blocks.append(kit.context(notice))
    for item in found.items:
        blocks.append(kit.section(_line(item, found.today, found.incident is None)))
        if item.followup.state == OPEN:
            value = close_value(_id(item), found.scope)
            blocks.append(
                {
                    "type": "actions",
                    "block_id": f"followup-{_id(item)}",
                    "elements": [
                        kit.button(DONE_ACTION, "Done", value, "primary"),
                        kit.button(WONT_DO_ACTION, "Won't do", value),
                    ],
                }
            )
    footer = _footer(found)
    if footer:
        blocks.append(kit.context(footer))
    if found.incident and found.incident.id and found.may_add:
        blocks.append({"type": "actions", "elements": [followup_button(found.incident.id)]})
    return title, blocks


def _title(found: Listing) -> str:
    if found.incident:
        return f"*Follow-ups of {ref(found.incident.number)}*"
    key = found.scope.key
    who = f"<@{key}>" if found.scope.kind == "user" else f"team *{safe(_team_name(key), 100)}*"
    return f"*Open follow-ups of {who}*"


def _footer(found: Listing) -> str:
    notes = []
    if not found.items and not found.hidden:
        notes.append("No follow-ups yet." if found.scope.kind == "incident" else "None open.")
    if found.more:
        notes.append(f"{found.more} more not shown.")
    if found.hidden:
        notes.append(f"{_count(found.hidden)} of private incidents.")
    return " ".join(notes)


def _line(item: Item, today: date, with_ref: bool) -> str:
    followup = item.followup
    facts = [_owner(followup)]
    if followup.due:
        overdue = followup.state == OPEN and followup.due < today
        facts.append(f"due {followup.due.isoformat()}" + (" · *overdue*" if overdue else ""))
    if followup.state != OPEN:
        facts.insert(0, f"{_closed(followup.state)} by <@{followup.closed_by}>")
    head = f"*{ref(item.incident.number)}* · " if with_ref else ""
    text = safe(followup.text, TEXT_LIMIT)
    return f"{_MARK[followup.state]}{head}{text}\n" + " · ".join(facts)


def _owner(followup: FollowUpData) -> str:
    people = [f"<@{followup.owner_user}>"] if followup.owner_user else []
    teams = [f"team *{safe(_team_name(followup.owner_team), 100)}*"] if followup.owner_team else []
    return "owner " + " and ".join(people + teams)


def _team_name(team_ref: str) -> str:
    """`group:default/shop` -> `shop`, what `team:` takes."""
    return team_ref.partition("/")[2] or team_ref


def confirmation(item: Item) -> str:
    """What the author is told (only them)."""
    return f"Follow-up added to *{ref(item.incident.number)}*: {_summary(item.followup)}"


def announcement(item: Item, actor: str) -> str:
    """What the incident channel is told about a new or closed follow-up."""
    followup = item.followup
    if followup.state == OPEN:
        return f"<@{actor}> added a follow-up: {_summary(followup)}"
    text = safe(followup.text, 500)
    return f"<@{actor}> marked the follow-up “{text}” {_closed(followup.state)}."


def _summary(followup: FollowUpData) -> str:
    due = f" · due {followup.due.isoformat()}" if followup.due else ""
    return f"{safe(followup.text, TEXT_LIMIT)} · {_owner(followup)}{due}"


def _closed(state: str) -> str:
    return "done" if state == DONE else "won't do"


def _count(n: int) -> str:
    return f"{n} follow-up" + ("" if n == 1 else "s")


def _id(item: Item) -> int:
    assert item.followup.id is not None
    return item.followup.id
