"""Slack's side of inbound traffic: signing, and sending Slack-shaped requests to an app.

`SlackSigner` signs raw bytes exactly as Slack does (CONTRACT 1.1). `SlackRequester` POSTs
slash commands (form fields), events (JSON event_callback) and interactions (`payload` form
field) to a running app, signed; every helper takes `timestamp=` (send a stale one) and
`signature=` (send a forged one), and `raw()` sends arbitrary or unsigned bodies.

Given the `FakeSlack` the app talks to, the requester issues real trigger_ids and
response_urls from it and fills in channel names, messages and views from its state.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urlencode

import aiohttp

from switchboard.fakes.slack.state import JSON, TeamInfo, Workspace

FORM = "application/x-www-form-urlencoded"
VERIFICATION_TOKEN = "fake-verification-token"  # the deprecated `token` field Slack still sends


class SlackSigner:
    """`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`, keyed with the signing secret."""

    def __init__(self, signing_secret: str, clock: Callable[[], float] = time.time) -> None:
        self._secret = signing_secret.encode()
        self._clock = clock

    def signature(self, body: bytes, timestamp: int | str) -> str:
        base = b"v0:" + str(timestamp).encode() + b":" + body
        return "v0=" + hmac.new(self._secret, base, hashlib.sha256).hexdigest()

    def headers(
        self, body: bytes, timestamp: int | str | None = None, signature: str | None = None
    ) -> dict[str, str]:
        """The two signing headers; the timestamp defaults to now."""
        ts = str(int(self._clock()) if timestamp is None else timestamp)
        return {
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature or self.signature(body, ts),
        }


@dataclass(frozen=True)
class AppResponse:
    status: int
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)

    def json(self) -> Any:
        return json.loads(self.body)


class SlackRequester:
    """Sends signed Slack requests to `app_url` (e.g. `http://127.0.0.1:3000/slack/events`)."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        session: aiohttp.ClientSession | None = None,
        *,
        fake: Workspace | None = None,
        team: TeamInfo | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.app_url = app_url
        self.signer = SlackSigner(signing_secret, clock)
        self.fake = fake
        self.team = team or (fake.team if fake else TeamInfo())
        self._clock = clock
        self._session = session
        self._own_session = session is None

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> SlackRequester:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def raw(
        self,
        body: bytes,
        headers: Mapping[str, str] | None = None,
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
        signed: bool = True,
    ) -> AppResponse:
        """POST `body` as is; `signed=False` leaves both signing headers out."""
        all_headers = {"Content-Type": FORM} | dict(headers or {})
        if signed:
            all_headers |= self.signer.headers(body, timestamp, signature)
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(self.app_url, data=body, headers=all_headers) as response:
            return AppResponse(response.status, await response.text(), dict(response.headers))

    # slash commands

    async def slash_command(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        response_url: str | None = None,
        trigger_id: str | None = None,
        channel_name: str | None = None,
        user_name: str | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> AppResponse:
        fields = self.command_fields(
            command,
            text,
            user_id=user_id,
            channel_id=channel_id,
            response_url=response_url,
            trigger_id=trigger_id,
            channel_name=channel_name,
            user_name=user_name,
        )
        return await self.send_command(fields, timestamp=timestamp, signature=signature)

    def command_fields(
        self,
        command: str,
        text: str = "",
        *,
        user_id: str,
        channel_id: str,
        response_url: str | None = None,
        trigger_id: str | None = None,
        channel_name: str | None = None,
        user_name: str | None = None,
    ) -> dict[str, str]:
        """The form fields of a slash command, as Slack sends them (a new response_url and
        trigger_id unless given)."""
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team.team_id,
            "team_domain": self.team.domain,
            "channel_id": channel_id,
            "channel_name": channel_name or self._channel_name(channel_id),
            "user_id": user_id,
            "user_name": user_name or self._user_name(user_id),
            "command": command,
            "text": text,
            "api_app_id": self.team.app_id,
            "is_enterprise_install": "false",
            "response_url": response_url or self._response_url(channel_id, user_id),
            "trigger_id": trigger_id or self._trigger_id(),
        }

    async def send_command(
        self,
        fields: Mapping[str, str],
        *,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> AppResponse:
        body = urlencode(fields).encode()
        return await self.raw(body, timestamp=timestamp, signature=signature)

    async def answer(
        self, command: str, text: str = "", *, user_id: str, channel_id: str, within: float = 10
    ) -> AppResponse:
        """A slash command's answer as the person sees it: the ack's message or, when the ack
        is empty, the first post to the command's response_url (as a 200 with that body)."""
        if self.fake is None:
            raise ValueError("answer() reads the response_url's posts from the fake Slack")
        url = self._response_url(channel_id, user_id)
        response = await self.slash_command(
            command, text, user_id=user_id, channel_id=channel_id, response_url=url
        )
        if response.status != 200 or response.body.strip():
            return response
        try:
            answer = await self.fake.first_response(url, within)
        except TimeoutError:
            raise TimeoutError(f"{command} {text!r}: acked, then no answer in {within} s") from None
        return AppResponse(200, json.dumps(answer), {"content-type": "application/json"})

    # events

    async def event(
        self,
        inner_event: Mapping[str, Any],
        *,
        event_id: str | None = None,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        event_time: int | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> AppResponse:
        """An event_callback around `inner_event`; `retry_num` sends it as Slack's retry N."""
        now = int(self._clock())
        team = self.team
        wrapper = {
            "token": VERIFICATION_TOKEN,
            "team_id": team.team_id,
            "api_app_id": team.app_id,
            "event": {"event_ts": f"{now}.000100"} | dict(inner_event),
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": event_time or now,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": team.team_id,
                    "user_id": team.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": f"4-{secrets.token_urlsafe(24)}",
            "context_team_id": team.team_id,
            "context_enterprise_id": None,
        }
        headers = {"Content-Type": "application/json"}
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(wrapper).encode()
        return await self.raw(body, headers, timestamp=timestamp, signature=signature)

    async def url_verification(self, challenge: str = "fake-challenge") -> AppResponse:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return await self.raw(json.dumps(body).encode(), {"Content-Type": "application/json"})

    # interactivity

    async def block_actions(
        self,
        actions: Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        channel_id: str | None = None,
        message: str | Mapping[str, Any] | None = None,
        view: str | Mapping[str, Any] | None = None,
        state_values: Mapping[str, Any] | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        ephemeral: bool = False,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> AppResponse:
        """Buttons/selects clicked (see `block_actions_payload`)."""
        payload = self.block_actions_payload(
            actions,
            user_id=user_id,
            channel_id=channel_id,
            message=message,
            view=view,
            state_values=state_values,
            trigger_id=trigger_id,
            response_url=response_url,
            ephemeral=ephemeral,
        )
        return await self.send_payload(payload, timestamp, signature)

    def block_actions_payload(
        self,
        actions: Sequence[Mapping[str, Any]],
        *,
        user_id: str,
        channel_id: str | None = None,
        message: str | Mapping[str, Any] | None = None,
        view: str | Mapping[str, Any] | None = None,
        state_values: Mapping[str, Any] | None = None,
        trigger_id: str | None = None,
        response_url: str | None = None,
        ephemeral: bool = False,
    ) -> JSON:
        """Buttons/selects clicked in a message (`channel_id` + `message`, a ts or the
        message JSON; `ephemeral` for one only its user sees) or in a view (`view`, an id or
        the view JSON). CONTRACT 2.6."""
        action_ts = f"{self._clock():.6f}"
        payload: JSON = self._interaction("block_actions", user_id, trigger_id)
        payload["actions"] = [{"action_ts": action_ts} | dict(a) for a in actions]
        if view is not None:
            view_json = self._view(view, state_values)
            payload |= {
                "container": {"type": "view", "view_id": view_json["id"]},
                "view": view_json,
            }
        elif channel_id is not None and message is not None:
            message_json = self._message(channel_id, message)
            ts = message_json["ts"]
            payload |= {
                "container": {
                    "type": "message",
                    "message_ts": ts,
                    "channel_id": channel_id,
                    "is_ephemeral": ephemeral,
                },
                "channel": {"id": channel_id, "name": self._channel_name(channel_id)},
                "message": message_json,
                "state": {"values": dict(state_values or {})},
                "response_url": response_url
                or self._response_url(channel_id, user_id, ts, kind="actions"),
            }
        else:
            raise ValueError("block_actions needs a view, or a channel_id and a message")
        return payload

    async def view_submission(
        self,
        view: str | Mapping[str, Any],
        *,
        user_id: str,
        values: Mapping[str, Any] | None = None,
        trigger_id: str | None = None,
        response_urls: Sequence[Mapping[str, Any]] = (),
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> AppResponse:
        """Submit a modal (see `view_submission_payload`)."""
        payload = self.view_submission_payload(
            view, user_id=user_id, values=values, trigger_id=trigger_id, response_urls=response_urls
        )
        return await self.send_payload(payload, timestamp, signature)

    def view_submission_payload(
        self,
        view: str | Mapping[str, Any],
        *,
        user_id: str,
        values: Mapping[str, Any] | None = None,
        trigger_id: str | None = None,
        response_urls: Sequence[Mapping[str, Any]] = (),
    ) -> JSON:
        """A modal submitted (`view`: an id known to the fake, or the view JSON) with `values`
        as `view.state.values` (block_id -> action_id -> value object). CONTRACT 2.7."""
        payload = self._interaction("view_submission", user_id, trigger_id)
        payload |= {"view": self._view(view, values), "response_urls": list(response_urls)}
        return payload

    async def view_closed(
        self, view: str | Mapping[str, Any], *, user_id: str, is_cleared: bool = False
    ) -> AppResponse:
        """The user closed a modal that asked for `notify_on_close`."""
        payload = self._interaction("view_closed", user_id, None)
        payload |= {"view": self._view(view, None), "is_cleared": is_cleared}
        return await self.send_payload(payload, None, None)

    async def block_suggestion(
        self,
        view: str | Mapping[str, Any],
        *,
        user_id: str,
        action_id: str,
        block_id: str,
        value: str,
        values: Mapping[str, Any] | None = None,
    ) -> AppResponse:
        """An external select's options load request (see `block_suggestion_payload`)."""
        payload = self.block_suggestion_payload(
            view,
            user_id=user_id,
            action_id=action_id,
            block_id=block_id,
            value=value,
            values=values,
        )
        return await self.send_payload(payload, None, None)

    def block_suggestion_payload(
        self,
        view: str | Mapping[str, Any],
        *,
        user_id: str,
        action_id: str,
        block_id: str,
        value: str,
        values: Mapping[str, Any] | None = None,
    ) -> JSON:
        """An external select's options load request, as typing in it sends one."""
        view_json = self._view(view, values)
        payload = self._interaction("block_suggestion", user_id, None)
        del payload["trigger_id"]  # options requests carry none
        payload |= {
            "action_id": action_id,
            "block_id": block_id,
            "value": value,
            "container": {"type": "view", "view_id": view_json["id"]},
            "view": view_json,
        }
        return payload

    def _interaction(self, kind: str, user_id: str, trigger_id: str | None) -> JSON:
        team, name = self.team, self._user_name(user_id)
        return {
            "type": kind,
            "team": {"id": team.team_id, "domain": team.domain},
            "user": {"id": user_id, "username": name, "name": name, "team_id": team.team_id},
            "api_app_id": team.app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id or self._trigger_id(),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    async def send_payload(
        self, payload: JSON, timestamp: int | str | None = None, signature: str | None = None
    ) -> AppResponse:
        """An interaction payload, as the `payload` form field Slack sends it in, signed."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.raw(body, timestamp=timestamp, signature=signature)

    # defaults, from the fake when there is one

    def _channel_name(self, channel_id: str) -> str:
        channel = self.fake.find_channel(channel_id) if self.fake else None
        if channel is None:
            return "unknown"
        if channel.is_im:
            return "directmessage"
        return "privategroup" if channel.is_private else channel.name

    def _user_name(self, user_id: str) -> str:
        user = self.fake.users.get(user_id) if self.fake else None
        return user.name if user else user_id.lower()

    def _trigger_id(self) -> str:
        if self.fake:
            return self.fake.new_trigger_id()
        return f"{int(self._clock())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"

    def _response_url(
        self, channel_id: str, user_id: str, message_ts: str | None = None, kind: str = "commands"
    ) -> str:
        if self.fake:
            return self.fake.new_response_url(
                channel_id=channel_id, user_id=user_id, message_ts=message_ts, kind=kind
            )
        return f"https://hooks.slack.com/{kind}/{self.team.team_id}/1/{secrets.token_urlsafe(18)}"

    def _message(self, channel_id: str, message: str | Mapping[str, Any]) -> JSON:
        if not isinstance(message, str):
            return dict(message)
        if self.fake:
            return self.fake.channel(channel_id).message(message).to_json(self.team.team_id)
        return {"type": "message", "ts": message, "text": ""}

    def _view(self, view: str | Mapping[str, Any], values: Mapping[str, Any] | None) -> JSON:
        if not isinstance(view, str):
            found = dict(view)
        elif self.fake:
            found = self.fake.view(view).to_json(self.team)
        else:
            found = {"id": view, "type": "modal"}
        return found | {"state": {"values": dict(values or {})}}
