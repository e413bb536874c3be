"""`POST /v1/chat/completions` on loopback, in OpenAI's shapes: the answer's
`choices[0].message.content`, 401 with `{"error": {...}}` for a bad token. Every request's
JSON body is kept (`received`), so a test can tell what left the bot, and that nothing did."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from switchboard.fakes.loopback import LoopbackServer, json_response

PATH = "/v1/chat/completions"


class FakeChatCompletions(LoopbackServer):
    def __init__(self, token: str = "sk-test-summary", reply: str = "All quiet.") -> None:
        super().__init__()
        self.token = token
        self.reply = reply
        self.received: list[dict[str, Any]] = []  # each request's body, as sent

    @property
    def api_url(self) -> str:
        """What the bot is configured with: the base URL the paths hang from."""
        return f"{self.base_url}/v1"

    def error_body(self, status: int) -> dict[str, Any]:
        return {"error": {"message": f"error {status}", "type": "server_error"}}

    def routes(self) -> list[web.RouteDef]:
        return [web.post(PATH, self._complete)]

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            body = {"unreadable": True}
        self.received.append(body if isinstance(body, dict) else {"body": body})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return json_response({"error": {"message": "Incorrect API key provided"}}, 401)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not messages:
            return json_response({"error": {"message": "messages is required"}}, 400)
        return json_response(
            {
                "id": f"chatcmpl-{len(self.received)}",
                "object": "chat.completion",
                "model": body.get("model", ""),
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.reply},
                        "finish_reason": "stop",
                    }
                ],
            }
        )
