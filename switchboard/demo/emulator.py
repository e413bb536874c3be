"""The people at the keyboard of the fake workspace: what the demo page does, turned into the
requests Slack would send the bot (signed slash commands, events, interactions), and what
Slack would show each of them (ephemerals, modals, the Home tab).

The Web API side stays in `switchboard.fakes.slack` (one implementation for the tests and
the demo); this module only plays Slack's client and its outbound HTTP.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from switchboard.bot.catalog.model import Entity
from switchboard.fakes.slack import AppResponse, FakeSlack, SlackError, SlackRequester
from switchboard.fakes.slack.blocks import check_message_blocks, check_view
from switchboard.fakes.slack.state import (
    JSON,
    Channel,
    Ephemeral,
    Message,
    User,
    Usergroup,
    View,
)

# What the bot subscribes to (manifest.yml); Slack sends nothing else. A test keeps these in
# line with `switchboard.handlers`.
COMMANDS = ("/owner", "/incident", "/scorecard")
PUBLIC_CHANNELS = ("general", "incidents")
# A typed `@name` or `#name` (not inside an e-mail address, a word or a `<...>` token), as
# Slack's client recognises them; a name may hold dots, dashes and underscores, not end in one.
_TYPED = re.compile(r"(?<![\w<@#&/])([@#])([a-z0-9](?:[a-z0-9._-]*[a-z0-9])?)", re.IGNORECASE)


class Refusal(Exception):
    """What Slack's client would say instead of doing it (the page shows it)."""


@dataclass
class Person:
    id: str
    name: str
    real_name: str


@dataclass
class Screens:
    """Per person: the modals they closed, and the field errors the bot gave them."""

    closed: set[str] = field(default_factory=set)
    errors: dict[str, dict[str, str]] = field(default_factory=dict)  # view id -> block -> text


def seed(fake: FakeSlack, entities: Iterable[Entity]) -> list[Person]:
    """People, team channels and user groups from the catalog, plus #general and #incidents
    with everyone in them. The bot is in every channel, as if invited (it joins #incidents
    itself in Slack), so team nags and digests land where people can see them."""
    entities = list(entities)
    people: list[Person] = []
    for entity in entities:
        if (
            entity.kind == "user"
            and entity.slack_user_id
            and entity.slack_user_id not in fake.users
        ):
            fake.add_user(
                entity.name,
                real_name=entity.display_name,
                email=entity.email or None,
                user_id=entity.slack_user_id,
            )
            people.append(Person(entity.slack_user_id, entity.name, entity.display_name))
    if not people:  # a catalog without Slack ids: someone must sit at the keyboard
        people.append(Person(fake.add_user("you", real_name="You"), "you", "You"))
    everyone = [p.id for p in people]
    for name in PUBLIC_CHANNELS:
        fake.add_channel(name, members=everyone)
    members = _team_members(entities)
    for entity in entities:
        for ref in entity.slack_channels:
            if ref.startswith("#") and fake.find_channel(ref) is None:
                fake.add_channel(ref[1:], members=members.get(entity.ref, everyone))
        group = entity.slack_usergroup
        if group.startswith("S"):
            users = members.get(entity.ref, [])
            fake.usergroups[group] = Usergroup(group, entity.name, entity.display_name, users)
    return people


def _team_members(entities: list[Entity]) -> dict[str, list[str]]:
    members: dict[str, list[str]] = {}
    for entity in entities:
        for relation in entity.relations:
            if relation.type == "memberOf" and entity.slack_user_id:
                members.setdefault(relation.target, []).append(entity.slack_user_id)
    return members


class Emulator:
    """Slack's client and outbound side, for the people of the fake workspace."""

    def __init__(self, fake: FakeSlack, requester: SlackRequester) -> None:
        self.fake = fake
        self.requester = requester
        self.trigger_users: dict[str, str] = {}
        self.screens: dict[str, Screens] = {}

    def screen(self, user: str) -> Screens:
        return self.screens.setdefault(user, Screens())

    def _trigger(self, user: str, view_id: str | None = None) -> str:
        trigger = self.fake.new_trigger_id(view_id)
        self.trigger_users[trigger] = user
        return trigger

    def _join(self, user: str, channel_id: str) -> Channel:
        """Typing in a channel means being in it (the page only offers channels one sees)."""
        channel = self.fake.channel(channel_id)
        if channel.is_private and user not in channel.members:
            raise Refusal("You are not a member of this private channel.")
        if user not in channel.members:
            channel.members.append(user)
        return channel

    def _notice(self, channel: str, user: str, text: str) -> None:
        self.fake.ephemeral.append(Ephemeral(channel, user, self.fake.next_ts(), text))
        self.fake.changed()

    # what people do

    async def command(self, user: str, channel_id: str, line: str) -> None:
        channel = self._join(user, channel_id)
        name, _, text = line.strip().partition(" ")
        if name not in COMMANDS:
            self._notice(channel.id, user, f"`{name}` is not a valid command.")
            return
        response_url = self.fake.new_response_url(channel_id=channel.id, user_id=user)
        reply = await self.requester.slash_command(
            name,
            # The manifest's commands have `should_escape: true`: Slack sends references with
            # their names, as `<@U…|bob>`, `<!subteam^S…|@payments>`, `<#C…|payments>`.
            mentions(self.fake, user, text.strip(), labels=True),
            user_id=user,
            channel_id=channel.id,
            trigger_id=self._trigger(user),
            response_url=response_url,
        )
        if reply.status != 200:  # Slack's words when an app does not answer well
            self._notice(channel.id, user, f'{name} failed with the error "dispatch_failed"')
        elif reply.body.strip():
            self._show_ack(reply, channel.id, user, response_url)

    def _show_ack(self, reply: AppResponse, channel: str, user: str, response_url: str) -> None:
        """A command's ack body is a message to the user, as a response_url post would be."""
        try:
            body: Any = reply.json()
        except ValueError:
            body = {"text": reply.body}
        try:
            check_message_blocks(body.get("blocks") if isinstance(body, dict) else None)
        except SlackError as error:
            self._notice(channel, user, f"The app's answer broke Slack's rules: \"{error}\"")
            return
        if isinstance(body, dict):  # shown without using up one of the response_url's posts
            hook = self.fake.hooks[response_url.rstrip("/").rsplit("/", 1)[-1]]
            self.fake.show_response(hook, body)
            self.fake.changed()

    async def post(self, user: str, channel_id: str, text: str, thread_ts: str = "") -> str:
        channel = self._join(user, channel_id)
        escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        escaped = mentions(self.fake, user, escaped, labels=False)
        ts = self.fake.add_message(channel.id, escaped, user=user, thread_ts=thread_ts or None)
        self.fake.changed()
        if self.fake.team.bot_user_id in channel.members:
            event: JSON = {
                "type": "message",
                "channel": channel.id,
                "user": user,
                "text": escaped,
                "ts": ts,
                "channel_type": "group" if channel.is_private else "channel",
            }
            if thread_ts:
                event["thread_ts"] = thread_ts
            await self.requester.event(event)
        return ts

    async def react(self, user: str, channel_id: str, ts: str, name: str, add: bool) -> None:
        channel = self._join(user, channel_id)
        message = channel.message(ts)
        users = message.reactions.setdefault(name, [])
        if add == (user in users):
            return
        if add:
            users.append(user)
        else:
            users.remove(user)
            if not users:
                del message.reactions[name]
        self.fake.changed()
        if self.fake.team.bot_user_id in channel.members:
            await self.requester.event(
                {
                    "type": "reaction_added" if add else "reaction_removed",
                    "user": user,
                    "reaction": name,
                    "item_user": message.user,
                    "item": {"type": "message", "channel": channel.id, "ts": ts},
                }
            )

    async def act(self, user: str, source: JSON, action: JSON, values: JSON) -> None:
        """A button click or a selection: in a message, an ephemeral, a modal or the Home."""
        kind = source.get("kind")
        if kind == "view":
            view_id = str(source["view_id"])
            await self.requester.block_actions(
                [action],
                user_id=user,
                view=view_id,
                state_values=values,
                trigger_id=self._trigger(user, view_id),
            )
            return
        channel = self.fake.channel(str(source["channel"]))
        ts = str(source["ts"])
        ephemeral = kind == "ephemeral"
        team = self.fake.team
        message: JSON = (
            _ephemeral_json(self._ephemeral(user, ts)) | {"user": team.bot_user_id}
            if ephemeral
            else channel.message(ts).to_json(team.team_id)
        )
        await self.requester.block_actions(
            [action],
            user_id=user,
            channel_id=channel.id,
            message=message,
            state_values=values,
            trigger_id=self._trigger(user),
            ephemeral=ephemeral,
            response_url=self.fake.new_response_url(
                channel_id=channel.id, user_id=user, message_ts=ts, kind="actions"
            ),
        )

    def _ephemeral(self, user: str, ts: str) -> Ephemeral:
        found = next((e for e in self.fake.ephemeral if e.ts == ts and e.user == user), None)
        if found is None:
            raise Refusal("That message is gone.")
        return found

    async def submit(self, user: str, view_id: str, values: JSON) -> None:
        """Submit a modal; the bot's answer closes, updates, pushes, or shows field errors."""
        view = self._modal(user, view_id)
        reply = await self.requester.view_submission(view.id, user_id=user, values=values)
        if reply.status != 200:
            raise Refusal("We had some trouble connecting. Try again?")
        answer = reply.json() if reply.body.strip() else {}
        action = answer.get("response_action") if isinstance(answer, dict) else None
        screen = self.screen(user)
        screen.errors.pop(view.id, None)
        if action == "errors":
            screen.errors[view.id] = {str(k): str(v) for k, v in answer["errors"].items()}
        elif action == "update":
            view.payload = _checked(answer.get("view"), "modal")
        elif action == "push":
            payload = _checked(answer.get("view"), "modal")
            pushed = View(self.fake.new_id("V"), payload, view.hash, view.root_view_id, view.id)
            pushed.trigger_id = view.trigger_id
            self.fake.views[pushed.id] = pushed
        elif action == "clear":
            screen.closed |= {v.id for v in self.fake.stack(view.id)}
        else:
            screen.closed.add(view.id)
        self.fake.changed()

    async def close(self, user: str, view_id: str) -> None:
        view = self._modal(user, view_id)
        self.screen(user).closed.add(view.id)
        self.fake.changed()
        if view.payload.get("notify_on_close"):
            await self.requester.view_closed(view.id, user_id=user)

    async def suggest(self, user: str, view_id: str, action: JSON, values: JSON) -> list[JSON]:
        """An external select's options, from the bot's options endpoint."""
        reply = await self.requester.block_suggestion(
            self._modal(user, view_id).id,
            user_id=user,
            action_id=str(action.get("action_id", "")),
            block_id=str(action.get("block_id", "")),
            value=str(action.get("value", "")),
            values=values,
        )
        if reply.status != 200 or not reply.body.strip():
            return []
        answer = reply.json()
        options = list(answer.get("options") or [])
        for group in answer.get("option_groups") or []:
            options += group.get("options", [])
        return options

    async def open_home(self, user: str) -> None:
        home = self.fake.home(user)
        event: JSON = {"type": "app_home_opened", "user": user, "tab": "home"}
        event["channel"] = self.fake.dm(user).id
        if home:
            event["view"] = home.to_json(self.fake.team)
        await self.requester.event(event)

    # what each person sees

    def modal(self, user: str) -> View | None:
        """The top of the person's open modal stack."""
        closed = self.screen(user).closed
        mine = [
            v
            for v in self.fake.views.values()
            if v.user_id is None
            and v.trigger_id is not None
            and self.trigger_users.get(v.trigger_id) == user
            and v.id not in closed
        ]
        return mine[-1] if mine else None

    def _modal(self, user: str, view_id: str) -> View:
        view = self.modal(user)
        if view is None or view.id != view_id:
            raise Refusal("That form is no longer open.")
        return view

    def snapshot(self, user: str, channel_id: str) -> JSON:
        """Everything the page shows `user` with `channel_id` open."""
        fake = self.fake
        channels = [c for c in fake.channels.values() if _sees(c, user)]
        current = fake.channels.get(channel_id)
        shown: list[JSON] = []
        if current is not None and _sees(current, user):
            shown = [self._message_json(m) for m in current.messages.values()]
            shown += [
                _ephemeral_json(e) | {"ephemeral": True}
                for e in fake.ephemeral
                if e.channel == current.id and e.user == user
            ]
            shown.sort(key=lambda m: float(m["ts"]))
        modal, home = self.modal(user), fake.home(user)
        return {
            "team": fake.team.team_name,
            "bot": {"id": fake.team.bot_user_id, "name": fake.team.bot_name},
            "users": {
                u.id: {"name": u.name, "real_name": u.real_name} for u in fake.users.values()
            },
            "channels": [_channel_json(c, user, fake.team.bot_user_id) for c in channels],
            "usergroups": {g.id: g.handle for g in fake.usergroups.values()},
            "messages": shown,
            "modal": None
            if modal is None
            else {
                "id": modal.id,
                "view": modal.payload,
                "errors": self.screen(user).errors.get(modal.id, {}),
            },
            "home": home.payload if home else None,
            "home_id": home.id if home else None,
        }

    def _message_json(self, message: Message) -> JSON:
        data = message.to_json(self.fake.team.team_id)
        for file in data.get("files", []):
            file["url"] = f"/api/files/{file['id']}"
        return data


def mentions(fake: FakeSlack, user: str, text: str, *, labels: bool) -> str:
    """What Slack's client sends for typed `@person`, `@group` and `#channel`: Slack's
    references for the ones it knows (people before groups, as its autocomplete lists them;
    only channels `user` can see), the rest as typed. A message carries no labels for people
    and groups; a command with `should_escape` carries them all."""
    people = {u.name.casefold(): (u.id, u.name) for u in fake.users.values() if not u.deleted}
    groups = {g.handle.casefold(): (g.id, g.handle) for g in fake.usergroups.values()}
    channels = {
        c.name.casefold(): (c.id, c.name)
        for c in fake.channels.values()
        if not c.is_im and not c.archived and _sees(c, user)
    }

    def reference(match: re.Match[str]) -> str:
        sigil, key = match.group(1), match.group(2).casefold()
        if sigil == "#" and key in channels:
            return "<#{}|{}>".format(*channels[key])
        if sigil == "@" and key in people:
            found, name = people[key]
            return f"<@{found}|{name}>" if labels else f"<@{found}>"
        if sigil == "@" and key in groups:
            found, handle = groups[key]
            return f"<!subteam^{found}|@{handle}>" if labels else f"<!subteam^{found}>"
        return match.group(0)

    return _TYPED.sub(reference, text)


def _checked(view: Any, kind: str) -> JSON:
    try:
        return check_view(view, kind=kind)
    except SlackError as error:
        raise Refusal(f"The app sent a view Slack refuses: {error.body()}") from None


def _sees(channel: Channel, user: str) -> bool:
    if channel.is_im:
        return user in channel.members
    return not channel.is_private or user in channel.members


def _channel_json(channel: Channel, user: str, bot: str) -> JSON:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_private": channel.is_private,
        "is_im": channel.is_im,
        "is_member": user in channel.members,
        "topic": channel.topic,
        "purpose": channel.purpose,
        "archived": channel.archived,
        "bot_member": bot in channel.members,
    }


def _ephemeral_json(ephemeral: Ephemeral) -> JSON:
    data: JSON = {"type": "message", "ts": ephemeral.ts, "text": ephemeral.text}
    if ephemeral.blocks is not None:
        data["blocks"] = ephemeral.blocks
    if ephemeral.thread_ts:
        data["thread_ts"] = ephemeral.thread_ts
    return data


def dumps(data: Any) -> str:
    return json.dumps(data, default=str)


def _user_json(user: User) -> JSON:
    return {"name": user.name, "real_name": user.real_name}
