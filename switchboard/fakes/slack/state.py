"""The in-memory workspace behind the fake: users, channels, messages, views, files, hooks.

Everything is keyed on Slack-shaped ids (`U…`, `C…`/`G…`/`D…`, `V…`, `F…`) and message `ts`
strings. The lookups raise `SlackError` with the code Slack uses, so Web API handlers and test
seeding fail the same recognisable way.
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from switchboard.fakes.slack.args import SlackError
from switchboard.fakes.slack.blocks import check_message_blocks

TRIGGER_TTL = 3.0  # seconds a trigger_id can be exchanged (CONTRACT 1.2)
RESPONSE_URL_USES = 5
RESPONSE_URL_TTL = 30 * 60.0
MODAL_STACK = 3

JSON = dict[str, Any]


@dataclass(frozen=True)
class TeamInfo:
    """Who the fake says the workspace and the bot are (auth.test, event wrappers)."""

    team_id: str = "T0SWITCH01"
    team_name: str = "Switchboard Test"
    domain: str = "switchboard-test"
    app_id: str = "A0SWITCH01"
    bot_user_id: str = "U0SWITCHBOT"
    bot_id: str = "B0SWITCH01"
    bot_name: str = "switchboard"
    scopes: str = (
        "commands,chat:write,channels:manage,groups:write,channels:read,groups:read,"
        "channels:history,groups:history,channels:join,reactions:read,reactions:write,"
        "pins:write,bookmarks:write,files:write,canvases:write,users:read,users:read.email,"
        "usergroups:read"
    )

    @property
    def url(self) -> str:
        return f"https://{self.domain}.slack.com/"


@dataclass
class User:
    id: str
    name: str
    real_name: str
    email: str | None = None
    tz: str = "UTC"
    is_bot: bool = False
    deleted: bool = False

    def to_json(self, team_id: str) -> JSON:
        profile = {"real_name": self.real_name, "display_name": self.name, "team": team_id}
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.real_name,
            "deleted": self.deleted,
            "tz": self.tz,
            "tz_label": self.tz,
            "tz_offset": _utc_offset(self.tz),
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile | ({"email": self.email} if self.email else {}),
        }


def _utc_offset(tz: str) -> int:
    try:
        offset = datetime.now(ZoneInfo(tz)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    return int(offset.total_seconds()) if offset else 0


@dataclass
class Usergroup:
    id: str
    handle: str
    name: str
    users: list[str]

    def to_json(self, team_id: str, *, with_users: bool) -> JSON:
        data = {
            "id": self.id,
            "team_id": team_id,
            "is_usergroup": True,
            "name": self.name,
            "handle": self.handle,
            "user_count": len(self.users),
        }
        return data | ({"users": list(self.users)} if with_users else {})


@dataclass
class Message:
    ts: str
    text: str
    user: str
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    blocks: list[JSON] | None = None
    extra: JSON = field(default_factory=dict)  # attachments, metadata, files, subtype...
    reactions: dict[str, list[str]] = field(default_factory=dict)
    reply_ts: list[str] = field(default_factory=list)
    reply_users: list[str] = field(default_factory=list)
    edited_ts: str | None = None  # when the bot (or a response_url) last changed it

    @property
    def is_reply(self) -> bool:
        return self.thread_ts is not None and self.thread_ts != self.ts

    def to_json(self, team_id: str) -> JSON:
        data: JSON = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        data["team"] = team_id
        if self.edited_ts:
            data["edited"] = {"user": self.user, "ts": self.edited_ts}
        if self.bot_id:
            data |= {"bot_id": self.bot_id, "app_id": self.app_id}
        if self.blocks is not None:
            data["blocks"] = self.blocks
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.reply_ts:
            data |= {
                "thread_ts": self.ts,
                "reply_count": len(self.reply_ts),
                "reply_users": list(self.reply_users),
                "reply_users_count": len(self.reply_users),
                "latest_reply": self.reply_ts[-1],
            }
        if self.reactions:
            data["reactions"] = [
                {"name": name, "users": list(users), "count": len(users)}
                for name, users in self.reactions.items()
            ]
        return data | self.extra


@dataclass
class Bookmark:
    id: str
    channel_id: str
    title: str
    link: str
    emoji: str | None
    created: int

    def to_json(self, updated_by: str) -> JSON:
        return {
            "id": self.id,
            "channel_id": self.channel_id,
            "title": self.title,
            "link": self.link,
            "emoji": self.emoji,
            "icon_url": None,
            "type": "link",
            "entity_id": None,
            "date_created": self.created,
            "date_updated": 0,
            "rank": "g",
            "last_updated_by_user_id": updated_by,
        }


@dataclass
class Channel:
    id: str
    name: str
    created: int
    creator: str
    is_private: bool = False
    is_im: bool = False
    members: list[str] = field(default_factory=list)
    topic: str = ""
    purpose: str = ""
    archived: bool = False
    messages: dict[str, Message] = field(default_factory=dict)  # ts -> message, in ts order
    pins: list[str] = field(default_factory=list)
    bookmarks: list[Bookmark] = field(default_factory=list)
    canvas_id: str | None = None

    def to_json(self, viewer: str) -> JSON:
        def text(value: str) -> JSON:
            return {"value": value, "creator": self.creator if value else "", "last_set": 0}

        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_private and not self.is_im,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_mpim": False,
            "is_private": self.is_private or self.is_im,
            "is_archived": self.archived,
            "is_general": False,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "is_member": viewer in self.members,
            "created": self.created,
            "creator": self.creator,
            "topic": text(self.topic),
            "purpose": text(self.purpose),
            "previous_names": [],
            "num_members": len(self.members),
        }

    def message(self, ts: str) -> Message:
        if ts not in self.messages:
            raise SlackError("message_not_found")
        return self.messages[ts]


@dataclass
class Ephemeral:
    channel: str
    user: str
    ts: str
    text: str
    blocks: list[JSON] | None = None
    thread_ts: str | None = None


@dataclass
class View:
    id: str
    payload: JSON  # the view as the app sent it
    hash: str
    root_view_id: str
    previous_view_id: str | None = None
    user_id: str | None = None  # set for Home tabs
    trigger_id: str | None = None  # what opened or pushed it: says whose screen it is on

    @property
    def external_id(self) -> str:
        return str(self.payload.get("external_id", ""))

    def to_json(self, team: TeamInfo) -> JSON:
        defaults: JSON = {
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "clear_on_close": False,
            "notify_on_close": False,
        }
        return (
            defaults
            | self.payload
            | {
                "id": self.id,
                "team_id": team.team_id,
                "state": {"values": {}},
                "hash": self.hash,
                "root_view_id": self.root_view_id,
                "previous_view_id": self.previous_view_id,
                "app_id": team.app_id,
                "app_installed_team_id": team.team_id,
                "bot_id": team.bot_id,
            }
        )


@dataclass
class File:
    id: str
    name: str
    created: int
    title: str = ""
    content: bytes | None = None  # None until the upload URL has been posted to
    channels: list[str] = field(default_factory=list)
    alt_txt: str = ""  # an image's description, as files.getUploadURLExternal was given it

    def to_json(self) -> JSON:
        return {
            "id": self.id,
            "name": self.name,
            "title": self.title or self.name,
            "size": len(self.content or b""),
            "created": self.created,
            "channels": list(self.channels),
        } | ({"alt_txt": self.alt_txt} if self.alt_txt else {})


@dataclass
class Canvas:
    id: str
    title: str
    markdown: str
    channel_id: str | None = None


@dataclass
class Trigger:
    issued_at: float
    view_id: str | None  # the modal the interaction came from, for views.push
    used: bool = False


@dataclass
class ResponseHook:
    """A response_url: up to 5 posts within 30 minutes (CONTRACT 2.1)."""

    id: str
    created: float
    channel_id: str | None
    user_id: str | None
    message_ts: str | None
    posts: list[JSON] = field(default_factory=list)
    posted: asyncio.Event = field(default_factory=asyncio.Event)  # set by each post


class Workspace:
    """All state of one fake workspace, with seeding and inspection helpers for tests."""

    def __init__(self, team: TeamInfo, clock: Callable[[], float]) -> None:
        self.team = team
        self.clock = clock
        self.home_tab_enabled = True
        self.root_url: str | None = None  # "http://127.0.0.1:PORT/" once served
        self.users: dict[str, User] = {}
        self.usergroups: dict[str, Usergroup] = {}
        self.channels: dict[str, Channel] = {}
        self.ephemeral: list[Ephemeral] = []
        self.views: dict[str, View] = {}
        self.homes: dict[str, View] = {}
        self.files: dict[str, File] = {}
        self.uploads: dict[str, str] = {}  # upload token -> file id
        self.canvases: dict[str, Canvas] = {}
        self.triggers: dict[str, Trigger] = {}
        self.hooks: dict[str, ResponseHook] = {}
        self._ids = itertools.count(1)
        self._last_ts_micros = 0
        # Called after every change a Web API call or response_url post may have made; the
        # demo's page pushes live updates from here.
        self.on_change: list[Callable[[], None]] = []
        self.users[team.bot_user_id] = User(
            team.bot_user_id, team.bot_name, team.bot_name, is_bot=True
        )

    def changed(self) -> None:
        for listener in list(self.on_change):
            listener()

    # ids and time

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08X}"

    def now(self) -> int:
        return int(self.clock())

    def next_ts(self) -> str:
        """A message ts `seconds.micro6`, strictly increasing even within one microsecond."""
        micros = max(int(self.clock() * 1_000_000), self._last_ts_micros + 1)
        self._last_ts_micros = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def url(self, path: str) -> str:
        if self.root_url is None:
            raise RuntimeError("the fake Slack server is not started")
        return self.root_url + path

    def permalink(self, channel_id: str, message: Message) -> str:
        link = f"{self.team.url}archives/{channel_id}/p{message.ts.replace('.', '')}"
        return link + (
            f"?thread_ts={message.thread_ts}&cid={channel_id}" if message.is_reply else ""
        )

    # seeding

    def add_user(
        self,
        name: str,
        *,
        real_name: str | None = None,
        email: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        user_id: str | None = None,
    ) -> str:
        uid = user_id or self.new_id("U")
        self.users[uid] = User(uid, name, real_name or name, email, tz, is_bot, deleted)
        return uid

    def add_usergroup(self, handle: str, users: Iterable[str], *, name: str | None = None) -> str:
        gid = self.new_id("S")
        self.usergroups[gid] = Usergroup(gid, handle, name or handle, list(users))
        return gid

    def add_channel(
        self,
        name: str,
        *,
        members: Iterable[str] = (),
        is_private: bool = False,
        bot_member: bool = True,
        creator: str | None = None,
    ) -> str:
        if self.find_channel(name):
            raise SlackError("name_taken")
        cid = self.new_id("G" if is_private else "C")
        people = ([self.team.bot_user_id] if bot_member else []) + list(members)
        self.channels[cid] = Channel(
            cid, name, self.now(), creator or self.team.bot_user_id, is_private, members=people
        )
        return cid

    def add_message(
        self,
        channel: str,
        text: str,
        *,
        user: str,
        thread_ts: str | None = None,
        blocks: list[JSON] | None = None,
    ) -> str:
        """A message written by a person (no membership checks); returns its ts."""
        message = Message(
            self.next_ts(), text, self.user(user).id, thread_ts=thread_ts, blocks=blocks
        )
        return self.store_message(self.channel(channel), message).ts

    def add_reaction(self, channel: str, ts: str, name: str, *, user: str) -> None:
        users = self.channel(channel).message(ts).reactions.setdefault(name, [])
        if user not in users:
            users.append(user)

    def store_message(self, channel: Channel, message: Message) -> Message:
        channel.messages[message.ts] = message
        parent = channel.messages.get(message.thread_ts or "")
        if message.is_reply and parent:
            parent.reply_ts.append(message.ts)
            if message.user not in parent.reply_users:
                parent.reply_users.append(message.user)
        return message

    # lookups

    def user(self, user_id: str) -> User:
        if user_id not in self.users:
            raise SlackError("user_not_found")
        return self.users[user_id]

    def find_channel(self, ref: str) -> Channel | None:
        """By id, by name or `#name`."""
        return self.channels.get(ref) or self.channel_by_name(ref)

    def channel(self, ref: str) -> Channel:
        found = self.find_channel(ref)
        if found is None:
            raise SlackError("channel_not_found")
        return found

    def dm(self, user_id: str) -> Channel:
        """The bot's direct-message channel with a user, opened on first use."""
        for channel in self.channels.values():
            if channel.is_im and channel.members == [self.team.bot_user_id, user_id]:
                return channel
        cid = self.new_id("D")
        members = [self.team.bot_user_id, user_id]
        self.channels[cid] = Channel(cid, user_id, self.now(), user_id, is_im=True, members=members)
        return self.channels[cid]

    def view(self, view_id: str) -> View:
        if view_id not in self.views:
            raise SlackError("not_found")
        return self.views[view_id]

    # inspection

    def messages(self, channel: str) -> list[Message]:
        """Every message in a channel, thread replies included, oldest first."""
        return list(self.channel(channel).messages.values())

    def thread(self, channel: str, ts: str) -> list[Message]:
        """A thread's parent then its replies."""
        return [m for m in self.messages(channel) if m.ts == ts or m.thread_ts == ts]

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def ephemerals(self, channel: str, user: str) -> list[Ephemeral]:
        cid = self.channel(channel).id
        return [e for e in self.ephemeral if e.channel == cid and e.user == user]

    def home(self, user_id: str) -> View | None:
        return self.homes.get(user_id)

    def stack(self, view_id: str) -> list[View]:
        """The modal stack `view_id` belongs to, root first."""
        root = self.view(view_id).root_view_id
        return [v for v in self.views.values() if v.root_view_id == root]

    # triggers

    def new_trigger_id(self, view_id: str | None = None) -> str:
        """Issue a trigger as Slack does with an interaction; pass the modal it came from."""
        trigger_id = f"{self.now()}.{next(self._ids)}.{secrets.token_hex(16)}"
        self.triggers[trigger_id] = Trigger(self.clock(), view_id)
        return trigger_id

    def exchange_trigger(self, trigger_id: str) -> Trigger:
        trigger = self.triggers.get(trigger_id)
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if self.clock() - trigger.issued_at > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        return trigger

    # response_url hooks

    def new_response_url(
        self,
        *,
        channel_id: str | None = None,
        user_id: str | None = None,
        message_ts: str | None = None,
        kind: str = "commands",
    ) -> str:
        """A loopback response_url. With a channel and user, posts become visible messages:
        `in_channel` ones in the channel, others as ephemerals; with `message_ts` (block
        actions on a message) `replace_original` / `delete_original` act on that message."""
        hook_id = secrets.token_hex(12)
        self.hooks[hook_id] = ResponseHook(hook_id, self.clock(), channel_id, user_id, message_ts)
        return self.url(f"{kind}/{self.team.team_id}/{hook_id}")

    def response_posts(self, url: str) -> list[JSON]:
        return list(self.hooks[url.rstrip("/").rsplit("/", 1)[-1]].posts)

    async def first_response(self, url: str, within: float) -> JSON:
        """The first post to a response_url, waited for up to `within` seconds."""
        hook = self.hooks[url.rstrip("/").rsplit("/", 1)[-1]]
        await asyncio.wait_for(hook.posted.wait(), within)
        return hook.posts[0]

    def deliver_response(self, hook_id: str, payload: Any) -> tuple[int, JSON]:
        """Record one post to a response_url; (HTTP status, JSON body) as Slack answers it."""
        hook = self.hooks.get(hook_id)
        if hook is None:
            return 404, {"ok": False, "error": "no_active_hooks"}
        if self.clock() - hook.created > RESPONSE_URL_TTL:
            return 404, {"ok": False, "error": "expired_url"}
        if len(hook.posts) >= RESPONSE_URL_USES:
            return 404, {"ok": False, "error": "used_url"}
        if not isinstance(payload, dict):
            return 400, {"ok": False, "error": "invalid_payload"}
        try:  # Slack holds response_url messages to the Block Kit limits of chat.postMessage
            check_message_blocks(payload.get("blocks"))
        except SlackError as error:
            return 400, error.body()
        hook.posts.append(payload)
        hook.posted.set()
        if hook.channel_id and hook.user_id:
            self.show_response(hook, payload)
        return 200, {"ok": True}

    def show_response(self, hook: ResponseHook, payload: JSON) -> None:
        """What a response_url post (or a slash command's ack body) shows its user."""
        channel = self.channel(hook.channel_id or "")
        text, blocks = str(payload.get("text", "")), payload.get("blocks")
        original = channel.messages.get(hook.message_ts or "")
        if original is None and hook.message_ts and self._change_ephemeral(hook, payload):
            return
        if original and payload.get("delete_original"):
            del channel.messages[original.ts]
        elif original and payload.get("replace_original"):
            original.text, original.blocks, original.edited_ts = text, blocks, self.next_ts()
        elif payload.get("response_type") == "in_channel":
            self.store_message(channel, self.bot_message(text, blocks, payload.get("thread_ts")))
        else:
            self.ephemeral.append(
                Ephemeral(channel.id, hook.user_id or "", self.next_ts(), text, blocks)
            )

    def _change_ephemeral(self, hook: ResponseHook, payload: JSON) -> bool:
        """`replace_original` / `delete_original` from a button in an ephemeral message act
        on that ephemeral, as in Slack; False when the hook's message is no ephemeral."""
        found = next((e for e in self.ephemeral if e.ts == hook.message_ts), None)
        replace, delete = payload.get("replace_original"), payload.get("delete_original")
        if found is None or not (replace or delete):
            return False
        if delete:
            self.ephemeral.remove(found)
        else:
            found.text, found.blocks = str(payload.get("text", "")), payload.get("blocks")
        return True

    def bot_message(
        self, text: str, blocks: list[JSON] | None, thread_ts: str | None, extra: JSON | None = None
    ) -> Message:
        team = self.team
        return Message(
            self.next_ts(),
            text,
            team.bot_user_id,
            team.bot_id,
            team.app_id,
            thread_ts,
            blocks,
            extra or {},
        )
