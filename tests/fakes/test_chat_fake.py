"""The chat-completions fake answers in OpenAI's shapes and keeps every body it received."""

from __future__ import annotations

from aiohttp import ClientSession

from switchboard.fakes.chat.server import FakeChatCompletions


async def test_answers_and_records() -> None:
    async with FakeChatCompletions(token="sk-1", reply="Short.") as fake, ClientSession() as http:
        body = {"model": "m", "messages": [{"role": "user", "content": "hello"}]}
        url = f"{fake.api_url}/chat/completions"
        async with http.post(url, json=body, headers={"Authorization": "Bearer sk-1"}) as ok:
            answer = await ok.json()
        assert answer["choices"][0]["message"] == {"role": "assistant", "content": "Short."}
        async with http.post(url, json=body, headers={"Authorization": "Bearer nope"}) as bad:
            assert bad.status == 401
            assert "Incorrect API key" in (await bad.json())["error"]["message"]
        async with http.post(
            url, json={"model": "m"}, headers={"Authorization": "Bearer sk-1"}
        ) as empty:
            assert empty.status == 400
        assert fake.received == [body, body, {"model": "m"}]
