"""Web API method handlers: one function per method, registered in `METHODS`.

A handler gets the workspace and the call's arguments (required ones already checked against
the descriptors), and returns the fields of a successful answer (the server adds `ok: true`)
or raises `SlackError`. Behaviour and error codes follow CONTRACT section 3.2.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from switchboard.fakes.slack.args import Args, SlackError, invalid_arguments
from switchboard.fakes.slack.blocks import check_attachments, check_message_blocks, check_view
from switchboard.fakes.slack.state import (
    JSON,
    MODAL_STACK,
    Bookmark,
    Canvas,
    Channel,
    Ephemeral,
    File,
    Message,
    View,
    Workspace,
)

Handler = Callable[[Workspace, Args], JSON]
METHODS: dict[str, Handler] = {}

MESSAGE_TEXT = 40_000  # Slack truncates beyond this; the fake refuses
UPDATE_TEXT = 4_000  # chat.update documents msg_too_long above 4,000 characters
CHANNEL_TEXT = 250  # topic and purpose
CHANNEL_NAME = 80
HISTORY_LIMIT = 999
_CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
_EMOJI_NAME = re.compile(r"[a-z0-9_+'-]+(::skin-tone-[2-6])?")


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name] = handler
        return handler

    return register


# channel access, as the bot sees it


def _visible(ws: Workspace, ref: str) -> Channel:
    """A private channel or DM the bot is not in does not exist, as far as the bot can tell."""
    channel = ws.channel(ref)
    if (channel.is_private or channel.is_im) and ws.team.bot_user_id not in channel.members:
        raise SlackError("channel_not_found")
    return channel


def _member(ws: Workspace, ref: str) -> Channel:
    channel = _visible(ws, ref)
    if ws.team.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    return channel


def _writable(ws: Workspace, ref: str) -> Channel:
    channel = _member(ws, ref)
    if channel.archived:
        raise SlackError("is_archived")
    return channel


def _content(args: Args, max_text: int) -> tuple[str, list[JSON] | None, JSON]:
    """Text, blocks and other message fields, checked the way chat.* methods check them."""
    text, markdown = args.text("text"), args.opt("markdown_text")
    blocks = args.parsed("blocks", error="invalid_blocks_format")
    attachments = args.parsed("attachments")
    if markdown and (text or blocks):
        raise SlackError("markdown_text_conflict")
    if not (text or blocks or attachments or markdown):
        raise SlackError("no_text")
    if len(text) > max_text:
        raise SlackError("msg_too_long")
    check_message_blocks(blocks)
    check_attachments(attachments)
    extra = {"attachments": attachments, "metadata": args.parsed("metadata")}
    return markdown or text, blocks, {k: v for k, v in extra.items() if v}


# auth, chat


@method("auth.test")
def auth_test(ws: Workspace, args: Args) -> JSON:
    team = ws.team
    return {
        "url": team.url,
        "team": team.team_name,
        "user": team.bot_name,
        "team_id": team.team_id,
        "user_id": team.bot_user_id,
        "bot_id": team.bot_id,
        "is_enterprise_install": False,
    }


@method("chat.postMessage")
def chat_post_message(ws: Workspace, args: Args) -> JSON:
    ref = args.text("channel")
    channel = ws.dm(ref) if ref in ws.users else _writable(ws, ref)  # a user id means their DM
    text, blocks, extra = _content(args, MESSAGE_TEXT)
    thread_ts = args.opt("thread_ts")
    if thread_ts and args.flag("reply_broadcast"):
        extra["subtype"] = "thread_broadcast"
    message = ws.store_message(channel, ws.bot_message(text, blocks, thread_ts, extra))
    return {"channel": channel.id, "ts": message.ts, "message": message.to_json(ws.team.team_id)}


@method("chat.update")
def chat_update(ws: Workspace, args: Args) -> JSON:
    channel = _visible(ws, args.text("channel"))
    message = channel.message(args.text("ts"))
    if message.bot_id != ws.team.bot_id:
        raise SlackError("cant_update_message")
    text, blocks, extra = _content(args, UPDATE_TEXT)
    message.text, message.edited_ts = text, ws.next_ts()
    message.blocks = message.blocks if blocks is None else blocks  # omitted blocks are kept
    message.extra |= extra
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.to_json(ws.team.team_id),
    }


@method("chat.postEphemeral")
def chat_post_ephemeral(ws: Workspace, args: Args) -> JSON:
    channel = _writable(ws, args.text("channel"))
    user = ws.user(args.text("user"))
    if user.id not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, _ = _content(args, MESSAGE_TEXT)
    ephemeral = Ephemeral(channel.id, user.id, ws.next_ts(), text, blocks, args.opt("thread_ts"))
    ws.ephemeral.append(ephemeral)
    return {"message_ts": ephemeral.ts}


@method("chat.getPermalink")
def chat_get_permalink(ws: Workspace, args: Args) -> JSON:
    channel = _visible(ws, args.text("channel"))
    message = channel.message(args.text("message_ts"))
    return {"channel": channel.id, "permalink": ws.permalink(channel.id, message)}


# conversations


def _check_channel_name(name: str) -> None:
    if len(name) > CHANNEL_NAME:
        raise SlackError("invalid_name_maxlength")
    if not _CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise SlackError("invalid_name_punctuation")


@method("conversations.create")
def conversations_create(ws: Workspace, args: Args) -> JSON:
    name = args.text("name")
    _check_channel_name(name)
    channel = ws.channel(ws.add_channel(name, is_private=args.flag("is_private")))
    return {"channel": channel.to_json(ws.team.bot_user_id)}


def _invite_error(ws: Workspace, channel: Channel, user_id: str) -> str | None:
    user = ws.users.get(user_id)
    if user_id == ws.team.bot_user_id:
        return "cant_invite_self"
    if user is None:
        return "user_not_found"
    if user.deleted:
        return "cant_invite"
    return "already_in_channel" if user_id in channel.members else None


@method("conversations.invite")
def conversations_invite(ws: Workspace, args: Args) -> JSON:
    """Without `force`, one bad user fails the whole call; `errors` lists each failure."""
    channel = _writable(ws, args.text("channel"))
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    users = list(dict.fromkeys(args.csv("users")))
    errors = {uid: error for uid in users if (error := _invite_error(ws, channel, uid))}
    failures = [{"user": uid, "ok": False, "error": error} for uid, error in errors.items()]
    if errors and not args.flag("force"):
        raise SlackError(next(iter(errors.values())), errors=failures)
    channel.members += [uid for uid in users if uid not in errors]
    reported = {"errors": failures} if failures else {}
    return {"channel": channel.to_json(ws.team.bot_user_id)} | reported


def _set_channel_text(ws: Workspace, args: Args, field: str) -> JSON:
    channel = _writable(ws, args.text("channel"))
    value = args.text(field)
    if len(value) > CHANNEL_TEXT:
        raise SlackError("too_long")
    setattr(channel, field, value)
    return {"channel": channel.to_json(ws.team.bot_user_id)}


METHODS["conversations.setTopic"] = lambda ws, args: _set_channel_text(ws, args, "topic")
METHODS["conversations.setPurpose"] = lambda ws, args: _set_channel_text(ws, args, "purpose")


@method("conversations.archive")
def conversations_archive(ws: Workspace, args: Args) -> JSON:
    channel = _visible(ws, args.text("channel"))
    if channel.archived:
        raise SlackError("already_archived")
    if channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    _member(ws, channel.id).archived = True
    return {}


@method("conversations.join")
def conversations_join(ws: Workspace, args: Args) -> JSON:
    channel = _visible(ws, args.text("channel"))
    if channel.archived:
        raise SlackError("is_archived")
    if channel.is_private or channel.is_im:
        raise SlackError("method_not_supported_for_channel_type")
    bot = ws.team.bot_user_id
    if bot in channel.members:
        return {
            "channel": channel.to_json(bot),
            "warning": "already_in_channel",
            "response_metadata": {"warnings": ["already_in_channel"]},
        }
    channel.members.append(bot)
    return {"channel": channel.to_json(bot)}


@method("conversations.info")
def conversations_info(ws: Workspace, args: Args) -> JSON:
    return {"channel": _visible(ws, args.text("channel")).to_json(ws.team.bot_user_id)}


@method("conversations.list")
def conversations_list(ws: Workspace, args: Args) -> JSON:
    """Channels the bot can see, by creation order, paged by an index cursor."""
    types = set(args.csv("types") or ["public_channel"])
    show_private, show_public = "private_channel" in types, "public_channel" in types
    bot = ws.team.bot_user_id
    visible = [
        c
        for c in ws.channels.values()
        if not c.is_im
        and not (c.archived and args.flag("exclude_archived"))
        and (
            (c.is_private and show_private and bot in c.members)
            or (not c.is_private and show_public)
        )
    ]
    start = int(_list_cursor(args))
    limit = min(max(args.number("limit", 100), 1), 1000)
    page = visible[start : start + limit]
    more = start + limit < len(visible)
    next_cursor = base64.b64encode(f"index:{start + limit}".encode()).decode() if more else ""
    return {
        "channels": [c.to_json(bot) for c in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def _list_cursor(args: Args) -> str:
    cursor = args.opt("cursor")
    if not cursor:
        return "0"
    try:
        kind, _, value = base64.b64decode(cursor).decode().partition(":")
    except ValueError:
        raise SlackError("invalid_cursor") from None
    if kind != "index" or not value.isdigit():
        raise SlackError("invalid_cursor")
    return value


def _ts_bound(args: Args, name: str, error: str) -> Decimal | None:
    value = args.opt(name)
    try:
        return None if value is None else Decimal(value)
    except InvalidOperation:
        raise SlackError(error) from None


def _cursor(args: Args) -> Decimal | None:
    """Cursors are base64 of `next_ts:<ts>`, the shape Slack's own cursors decode to."""
    cursor = args.opt("cursor")
    if cursor is None:
        return None
    try:
        prefix, _, ts = base64.b64decode(cursor, validate=True).decode().partition(":")
        if prefix != "next_ts":
            raise ValueError(cursor)
        return Decimal(ts)
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidOperation):
        raise SlackError("invalid_cursor") from None


def _page(ws: Workspace, messages: list[Message], args: Args, *, newest_first: bool) -> JSON:
    """Window (oldest/latest/inclusive), cursor and limit, as history and replies apply them."""
    oldest = _ts_bound(args, "oldest", "invalid_ts_oldest") or Decimal(0)
    latest = _ts_bound(args, "latest", "invalid_ts_latest")
    inclusive, cursor = args.flag("inclusive"), _cursor(args)
    limit = min(max(args.number("limit", 100), 1), HISTORY_LIMIT)

    def wanted(ts: Decimal) -> bool:
        after = ts >= oldest if inclusive else ts > oldest
        before = latest is None or (ts <= latest if inclusive else ts < latest)
        past_cursor = cursor is None or (ts <= cursor if newest_first else ts >= cursor)
        return after and before and past_cursor

    chosen = [m for m in messages if wanted(Decimal(m.ts))]
    chosen.sort(key=lambda m: Decimal(m.ts), reverse=newest_first)
    page, rest = chosen[:limit], chosen[limit:]
    next_cursor = base64.b64encode(f"next_ts:{rest[0].ts}".encode()).decode() if rest else ""
    return {
        "messages": [m.to_json(ws.team.team_id) for m in page],
        "has_more": bool(rest),
        "response_metadata": {"next_cursor": next_cursor},
    }


@method("conversations.history")
def conversations_history(ws: Workspace, args: Args) -> JSON:
    channel = _member(ws, args.text("channel"))
    in_channel = [
        m
        for m in channel.messages.values()
        if not m.is_reply or m.extra.get("subtype") == "thread_broadcast"
    ]
    return _page(ws, in_channel, args, newest_first=True) | {"pin_count": len(channel.pins)}


@method("conversations.replies")
def conversations_replies(ws: Workspace, args: Args) -> JSON:
    channel = _member(ws, args.text("channel"))
    parent = channel.messages.get(args.text("ts"))
    if parent is None:
        raise SlackError("thread_not_found")
    thread = [m for m in channel.messages.values() if m is parent or m.thread_ts == parent.ts]
    return _page(ws, thread, args, newest_first=False)


# users and groups


@method("users.info")
def users_info(ws: Workspace, args: Args) -> JSON:
    return {"user": ws.user(args.text("user")).to_json(ws.team.team_id)}


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, args: Args) -> JSON:
    email = args.text("email").lower()
    for user in ws.users.values():
        if user.email and user.email.lower() == email and not user.deleted:
            return {"user": user.to_json(ws.team.team_id)}
    raise SlackError("users_not_found")


@method("usergroups.users.list")
def usergroups_users_list(ws: Workspace, args: Args) -> JSON:
    group = ws.usergroups.get(args.text("usergroup"))
    if group is None:
        raise SlackError("no_such_subteam")
    return {"users": list(group.users)}


@method("usergroups.list")
def usergroups_list(ws: Workspace, args: Args) -> JSON:
    with_users = args.flag("include_users")
    groups = ws.usergroups.values()
    return {"usergroups": [g.to_json(ws.team.team_id, with_users=with_users) for g in groups]}


# views


def _new_hash(ws: Workspace) -> str:
    return f"{ws.now()}.{secrets.token_hex(4)}"


def _check_external_id(ws: Workspace, payload: JSON, view_id: str | None = None) -> None:
    external_id = payload.get("external_id")
    if external_id and any(
        v.external_id == external_id and v.id != view_id for v in ws.views.values()
    ):
        raise SlackError("duplicate_external_id")


def _add_view(
    ws: Workspace,
    payload: JSON,
    base: View | None = None,
    user_id: str | None = None,
    trigger_id: str | None = None,
) -> View:
    view_id = ws.new_id("V")
    root = base.root_view_id if base else view_id
    previous = base.id if base else None
    view = View(view_id, payload, _new_hash(ws), root, previous, user_id, trigger_id)
    ws.views[view_id] = view
    return view


def _trigger_view(ws: Workspace, args: Args) -> tuple[str, JSON]:
    """The trigger to exchange (checked before the view) and the validated modal."""
    trigger_id = args.opt("trigger_id") or args.opt("interactivity_pointer")
    if trigger_id is None:
        raise invalid_arguments("[ERROR] missing required field: trigger_id")
    ws.exchange_trigger(trigger_id)
    payload = check_view(args.parsed("view"), kind="modal")
    _check_external_id(ws, payload)
    return trigger_id, payload


@method("views.open")
def views_open(ws: Workspace, args: Args) -> JSON:
    trigger_id, payload = _trigger_view(ws, args)
    ws.triggers[trigger_id].used = True
    return {"view": _add_view(ws, payload, trigger_id=trigger_id).to_json(ws.team)}


@method("views.push")
def views_push(ws: Workspace, args: Args) -> JSON:
    """Pushes onto the stack of the modal the trigger came from (`new_trigger_id(view_id)`)."""
    trigger_id, payload = _trigger_view(ws, args)
    from_view = ws.triggers[trigger_id].view_id
    if from_view is None:
        raise SlackError("not_found")
    stack = ws.stack(from_view)
    if len(stack) >= MODAL_STACK:
        raise SlackError("push_limit_reached")
    ws.triggers[trigger_id].used = True
    view = _add_view(ws, payload, base=stack[-1], trigger_id=trigger_id)
    return {"view": view.to_json(ws.team)}


def _replace_view(ws: Workspace, view: View, args: Args) -> JSON:
    if args.opt("hash") is not None and args.text("hash") != view.hash:
        raise SlackError("hash_conflict")
    payload = check_view(args.parsed("view"), kind=str(view.payload.get("type")))
    if view.external_id and "external_id" not in payload:
        payload = payload | {"external_id": view.external_id}  # it names the view: keep it
    _check_external_id(ws, payload, view.id)
    view.payload, view.hash = payload, _new_hash(ws)
    return {"view": view.to_json(ws.team)}


@method("views.update")
def views_update(ws: Workspace, args: Args) -> JSON:
    view_id, external_id = args.opt("view_id"), args.opt("external_id")
    if view_id:
        return _replace_view(ws, ws.view(view_id), args)
    if external_id is None:
        raise invalid_arguments("[ERROR] missing required field: view_id or external_id")
    view = next((v for v in ws.views.values() if v.external_id == external_id), None)
    if view is None:
        raise SlackError("not_found")
    return _replace_view(ws, view, args)


@method("views.publish")
def views_publish(ws: Workspace, args: Args) -> JSON:
    if not ws.home_tab_enabled:
        raise SlackError("not_enabled")
    user_id = args.text("user_id")
    current = ws.homes.get(user_id)
    if current:
        return _replace_view(ws, current, args)
    payload = check_view(args.parsed("view"), kind="home")
    _check_external_id(ws, payload)
    ws.homes[user_id] = _add_view(ws, payload, user_id=user_id)
    return {"view": ws.homes[user_id].to_json(ws.team)}


# pins, bookmarks, reactions


@method("pins.add")
def pins_add(ws: Workspace, args: Args) -> JSON:
    channel = _member(ws, args.text("channel"))
    ts = args.opt("timestamp")
    if ts is None:
        raise SlackError("no_item_specified")
    channel.message(ts)
    if ts in channel.pins:
        raise SlackError("already_pinned")
    channel.pins.append(ts)
    return {}


@method("bookmarks.add")
def bookmarks_add(ws: Workspace, args: Args) -> JSON:
    channel = _visible(ws, args.text("channel_id"))
    if args.text("type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = args.text("link")
    if not link.startswith(("http://", "https://")):
        raise SlackError("invalid_link")
    bookmark = Bookmark(
        ws.new_id("Bk"), channel.id, args.text("title"), link, args.opt("emoji"), ws.now()
    )
    channel.bookmarks.append(bookmark)
    return {"bookmark": bookmark.to_json(ws.team.bot_user_id)}


@method("reactions.add")
def reactions_add(ws: Workspace, args: Args) -> JSON:
    channel = _visible(ws, args.text("channel"))
    if channel.archived:
        raise SlackError("is_archived")
    message = channel.message(args.text("timestamp"))
    name = args.text("name").strip(":")
    if not _EMOJI_NAME.fullmatch(name):
        raise SlackError("invalid_name")
    users = message.reactions.setdefault(name, [])
    if ws.team.bot_user_id in users:
        raise SlackError("already_reacted")
    users.append(ws.team.bot_user_id)
    return {}


@method("reactions.remove")
def reactions_remove(ws: Workspace, args: Args) -> JSON:
    """Take the app's own reaction off a message; `no_reaction` when it has none there."""
    channel = _visible(ws, args.text("channel"))
    message = channel.message(args.text("timestamp"))
    name = args.text("name").strip(":")
    users = message.reactions.get(name, [])
    if ws.team.bot_user_id not in users:
        raise SlackError("no_reaction")
    users.remove(ws.team.bot_user_id)
    if not users:
        del message.reactions[name]
    return {}


@method("reactions.get")
def reactions_get(ws: Workspace, args: Args) -> JSON:
    if "channel" not in args or "timestamp" not in args:
        raise SlackError("no_item_specified")
    channel = _visible(ws, args.text("channel"))
    message = channel.message(args.text("timestamp"))
    permalink = ws.permalink(channel.id, message)
    data = message.to_json(ws.team.team_id) | {"permalink": permalink}
    return {"type": "message", "channel": channel.id, "message": data}


# files and canvases


@method("files.getUploadURLExternal")
def files_get_upload_url_external(ws: Workspace, args: Args) -> JSON:
    if args.number("length", -1) < 0:
        raise invalid_arguments("[ERROR] length must be a non-negative integer")
    alt_txt = str(args.opt("alt_txt") or "")
    if len(alt_txt) > 1000:
        raise SlackError("alt_txt_too_large")
    file = File(ws.new_id("F"), args.text("filename"), ws.now(), alt_txt=alt_txt)
    ws.files[file.id] = file
    token = secrets.token_urlsafe(16)
    ws.uploads[token] = file.id
    return {"upload_url": ws.url(f"upload/v1/{token}"), "file_id": file.id}


def _uploaded_files(ws: Workspace, entries: Any) -> list[tuple[File, str]]:
    if not isinstance(entries, list) or not all(isinstance(e, dict) and "id" in e for e in entries):
        raise invalid_arguments("[ERROR] files must be a JSON array of objects with an id")
    found = [(ws.files.get(str(e["id"])), str(e.get("title") or "")) for e in entries]
    if any(file is None or file.content is None for file, _ in found):
        raise SlackError("file_not_found")
    return [(file, title) for file, title in found if file]


@method("files.completeUploadExternal")
def files_complete_upload_external(ws: Workspace, args: Args) -> JSON:
    """Shares the uploaded files to `channel_id` / `channels` as one file message each."""
    uploads = _uploaded_files(ws, args.parsed("files"))
    refs = [args.text("channel_id")] if "channel_id" in args else args.csv("channels")
    channels = [_writable(ws, ref) for ref in refs]
    for file, title in uploads:
        file.title = title or file.name
    files = [file for file, _ in uploads]
    for channel in channels:
        for file in files:
            file.channels.append(channel.id)
        extra = {"files": [f.to_json() for f in files], "upload": True}
        message = ws.bot_message(args.text("initial_comment"), None, args.opt("thread_ts"), extra)
        ws.store_message(channel, message)
    return {"files": [f.to_json() for f in files]}


def _markdown(args: Args) -> str:
    content = args.parsed("document_content") or {}
    if not isinstance(content, dict) or content.get("type", "markdown") != "markdown":
        raise SlackError("canvas_creation_failed", detail="document_content must be markdown")
    return str(content.get("markdown", ""))


@method("canvases.create")
def canvases_create(ws: Workspace, args: Args) -> JSON:
    channel_id = _visible(ws, args.text("channel_id")).id if "channel_id" in args else None
    canvas = Canvas(ws.new_id("F"), args.text("title"), _markdown(args), channel_id)
    ws.canvases[canvas.id] = canvas
    return {"canvas_id": canvas.id}


@method("conversations.canvases.create")
def conversations_canvases_create(ws: Workspace, args: Args) -> JSON:
    channel = _member(ws, args.text("channel_id"))
    if channel.canvas_id:
        raise SlackError("channel_canvas_already_exists")
    canvas = Canvas(ws.new_id("F"), args.text("title"), _markdown(args), channel.id)
    ws.canvases[canvas.id] = canvas
    channel.canvas_id = canvas.id
    return {"canvas_id": canvas.id}


@method("canvases.edit")
def canvases_edit(ws: Workspace, args: Args) -> JSON:
    """Whole-document edits only: replace (without section_id), insert at start or end."""
    canvas = ws.canvases.get(args.text("canvas_id"))
    if canvas is None:
        raise SlackError("canvas_not_found")
    changes = args.parsed("changes")
    if not isinstance(changes, list) or not all(isinstance(c, dict) for c in changes):
        raise invalid_arguments("[ERROR] changes must be a JSON array of objects")
    for change in changes:
        markdown = str((change.get("document_content") or {}).get("markdown", ""))
        operation = change.get("operation")
        if operation == "replace" and "section_id" not in change:
            canvas.markdown = markdown
        elif operation == "insert_at_end":
            canvas.markdown += markdown
        elif operation == "insert_at_start":
            canvas.markdown = markdown + canvas.markdown
        else:
            raise SlackError("canvas_editing_failed", detail=f"unsupported change: {operation}")
    return {}
