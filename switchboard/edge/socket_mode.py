"""Socket Mode: Slack's requests over a WebSocket the bot opens, instead of HTTP. Bolt reads
them as it reads HTTP ones, through the same middleware (`edge.middleware`); the HTTP
routes, the signature check and the front are not used."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp


async def serve(bolt: AsyncApp, app_token: str) -> None:
    """Answer `bolt`'s requests over Socket Mode until cancelled."""
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    await AsyncSocketModeHandler(bolt, app_token).start_async()  # type: ignore[no-untyped-call]
