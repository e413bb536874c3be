"""The typed requests of the incident listeners (`/incident`, its cards, reminders, modals,
timeline and follow-up buttons), parsed with `payloads.parse` before anything is acked or
touched: a payload of the wrong shape is `Malformed` (400, one log line).

Each request carries `key`, Slack's own identity of it (a command's trigger id, an action's
`action_ts`, a view's id), on which the services make every change idempotent: a request
replayed within Slack's five minutes is acknowledged and changes nothing."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import BeforeValidator, Field, StringConstraints

from switchboard.bot.incidents import modal_fields as ids
from switchboard.handlers.payloads import (
    Interaction,
    Payload,
    ResponseUrl,
    RowId,
    Text,
    User,
    UserId,
)

# What Slack sends, bounded: trigger ids look like `1234.5678.0abc...`, action timestamps
# like `1712345678.123456`, view ids like `V0123ABC`.
TriggerId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z._-]{1,200}$")]
ActionTs = Annotated[str, StringConstraints(pattern=r"^\d{1,12}(\.\d{1,9})?$")]
ViewId = Annotated[str, StringConstraints(pattern=r"^V[A-Z0-9]{2,30}$")]
ActionId = Annotated[str, StringConstraints(min_length=1, max_length=255)]
# A channel id, or none (Slack always sends one with a command; the bot only reads it).
SomeChannel = Annotated[str, StringConstraints(pattern=r"^([CDG][A-Z0-9]{2,30})?$")]
# An option's value: Slack allows 150 characters (2,000 for external selects' own).
OptionValue = Annotated[str, StringConstraints(max_length=2000)]
Metadata = Annotated[str, StringConstraints(max_length=3000)]
# What a command's text may be: Slack's longest message (an update pasted whole is kept whole).
CommandText = Annotated[str, StringConstraints(max_length=40_000)]


def _incident_and_choice(value: object) -> object:
    """A card select's option value, `<incident id>:<choice>`, as the pair it stands for."""
    if isinstance(value, str):
        incident, _, choice = value.partition(":")
        return (incident, choice)
    return value


# `<incident id>:<status or severity>`, the value of a card select's options.
CardChoice = Annotated[
    tuple[RowId, Annotated[str, Field(max_length=100)]], BeforeValidator(_incident_and_choice)
]


class Command(Payload):
    """A slash command's form fields."""

    user_id: UserId
    channel_id: SomeChannel = ""
    text: CommandText = ""
    trigger_id: TriggerId
    response_url: ResponseUrl  # where the answers after the ack go

    @property
    def key(self) -> str:
        return f"trigger:{self.trigger_id}"


class Action(Payload):
    action_id: ActionId
    action_ts: ActionTs


A = TypeVar("A", bound=Action)


class Clicked(Interaction, Generic[A]):
    """A block action in a message: the first action is the one Bolt dispatched on; the
    answer goes to the message's response URL, which Slack always sends with it."""

    trigger_id: TriggerId
    response_url: ResponseUrl
    actions: Annotated[tuple[A, ...], Field(min_length=1, max_length=5)]

    @property
    def action(self) -> A:
        return self.actions[0]

    @property
    def key(self) -> str:
        action = self.action
        return f"action:{self.user.id}:{action.action_id}:{action.action_ts}"


class IncidentButton(Action):
    """A button whose value is an incident's id (card and reminder buttons)."""

    value: RowId


class PageButton(Action):
    """A timeline page button: `<incident id>:<page>`."""

    value: Annotated[tuple[RowId, RowId], BeforeValidator(_incident_and_choice)]


class TextButton(Action):
    """A button whose value the feature itself reads (follow-ups: `<id>[:<entry>]`...)."""

    value: Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class Option(Payload):
    value: OptionValue


class CardOption(Payload):
    value: CardChoice


class CardSelect(Action):
    """A card's status or severity select."""

    selected_option: CardOption


# modal state: block id -> action id -> element. The ids are `modal_fields`', the ones the
# modals are built with: each model reads them by alias.


class TextInput(Payload):
    value: Text | None = None


class StaticSelect(Payload):
    selected_option: Option | None = None


class MultiSelect(Payload):
    selected_options: Annotated[tuple[Option, ...], Field(max_length=100)] = ()


class UserSelect(Payload):
    selected_user: UserId | None = None


class DatePicker(Payload):
    selected_date: Annotated[str, StringConstraints(max_length=10)] | None = None


class TimePicker(Payload):
    selected_time: Annotated[str, StringConstraints(max_length=5)] | None = None


E = TypeVar("E", bound=Payload)


class Input(Payload, Generic[E]):
    """An input block whose element has the action id `VALUE`."""

    value: E = Field(alias=ids.VALUE)


class Values(Payload):
    """`view.state.values`: extended by each modal with the blocks it reads."""


V = TypeVar("V", bound=Values)


class State(Payload, Generic[V]):
    values: V


class View(Payload, Generic[V]):
    id: ViewId
    private_metadata: Metadata = ""
    state: State[V]


class Submitted(Interaction, Generic[V]):
    """A view submission: who, and the modal with the values it reads."""

    view: View[V]

    @property
    def key(self) -> str:
        return f"view:{self.view.id}"

    @property
    def values(self) -> V:
        return self.view.state.values


class ServicesSearch(Payload):
    search: MultiSelect = Field(MultiSelect(), alias=ids.SERVICES_SEARCH)


class DeclareValues(Values):
    title: Input[TextInput] | None = Field(None, alias=ids.DeclareField.TITLE)
    severity: Input[StaticSelect] | None = Field(None, alias=ids.DeclareField.SEVERITY)
    services: ServicesSearch | None = Field(None, alias=ids.DeclareField.SERVICES)
    started: Input[TextInput] | None = Field(None, alias=ids.DeclareField.STARTED)
    description: Input[TextInput] | None = Field(None, alias=ids.DeclareField.DESCRIPTION)
    options: Input[MultiSelect] | None = Field(None, alias=ids.DeclareField.OPTIONS)


class AssignValues(Values):
    role: Input[StaticSelect] | None = Field(None, alias=ids.AssignField.ROLE)
    user: Input[UserSelect] = Field(alias=ids.AssignField.USER)


class PageSearch(Payload):
    search: StaticSelect = Field(alias=ids.PAGE_SEARCH)


class PageValues(Values):
    target: PageSearch = Field(alias=ids.PageField.TARGET)


class BackfillValues(Values):
    date: Input[DatePicker] = Field(alias=ids.BackfillField.DATE)
    time: Input[TimePicker] = Field(alias=ids.BackfillField.TIME)
    text: Input[TextInput] = Field(alias=ids.BackfillField.TEXT)


class FollowUpValues(Values):
    text: Input[TextInput] | None = Field(None, alias=ids.FollowUpField.TEXT)
    owner: Input[UserSelect] | None = Field(None, alias=ids.FollowUpField.OWNER)
    team: Input[TextInput] | None = Field(None, alias=ids.FollowUpField.TEAM)
    due: Input[DatePicker] | None = Field(None, alias=ids.FollowUpField.DUE)


class ForIncident(Payload):
    """The incident a modal was opened for (its private metadata) or a button names."""

    incident: RowId


class FollowUpOrigin(Payload):
    """A follow-up button's or modal's `<incident id>[:<timeline entry id>]`."""

    value: Annotated[str, StringConstraints(pattern=r"^\d{1,9}(:\d{1,9})?$")]


class Suggest(Payload):
    """An external select's options request: what was typed so far."""

    user: User
    value: Annotated[str, StringConstraints(max_length=200)] = ""
