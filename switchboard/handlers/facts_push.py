"""`POST /api/facts` and `POST /api/deploys`: what CI pushes (see `docs/integrations.md`).
A bearer token from SWITCHBOARD_FACTS_TOKENS (401 without one, and always with none
configured), a body checked field by field (400 naming the field), an entity the catalog
knows (404 naming it), at most `MAX_BODY` bytes (413); all of a push is stored or none.
Tokens are never logged: only the name of the one used."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime

from aiohttp import web

from switchboard.bot.facts.api import DeployRow, FactsStore
from switchboard.bot.facts.pushed import (
    MAX_BODY,
    PushError,
    authenticate,
    parse_deploy,
    parse_facts,
)

log = logging.getLogger(__name__)
FACTS_PATH = "/api/facts"
DEPLOYS_PATH = "/api/deploys"
Resolve = Callable[[str], Awaitable[str]]  # an id, alias or ref -> the entity ref, "" if none
Handler = Callable[[web.Request], Awaitable[web.Response]]
# Told of each deploy once stored (the incidents' timeline: `bot/incidents/changes.py`).
Deployed = Callable[[DeployRow, datetime], Awaitable[object]]


def routes(
    tokens: dict[str, str],
    resolve: Resolve,
    store: FactsStore,
    clock: Callable[[], datetime],
    pushed: Callable[[], None] = lambda: None,
    deployed: Sequence[Deployed] = (),
) -> list[web.RouteDef]:
    async def facts(request: web.Request) -> web.Response:
        name = authenticate(request.headers.get("Authorization"), tokens)
        push = parse_facts(await _body(request))
        ref = await _entity(resolve, push.entity, "entity")
        stored = await store.push(ref, push.source(name), push.facts, clock())
        pushed()
        log.info("facts: %d pushed for %s by %s (%d changed)", len(push.facts), ref, name, stored)
        return web.json_response({"entity": ref, "facts": len(push.facts), "changed": stored})

    async def deploys(request: web.Request) -> web.Response:
        name = authenticate(request.headers.get("Authorization"), tokens)
        service, deploy = parse_deploy(await _body(request), reported_by=name)
        ref = await _entity(resolve, service, "service")
        stored, now = replace(deploy, entity=ref), clock()
        await store.add_deploy(stored, now)
        log.info("deploy of %s to %s reported by %s", ref, deploy.environment, name)
        for hook in deployed:
            try:
                await hook(stored, now)
            except Exception:  # stored: CI is told so, and never sends it twice for this
                log.exception("a deploy of %s was stored; telling its incidents failed", ref)
        return web.json_response({"service": ref, "sha": deploy.sha}, status=201)

    return [web.post(FACTS_PATH, _answering(facts)), web.post(DEPLOYS_PATH, _answering(deploys))]


def _answering(handler: Handler) -> Handler:
    async def answer(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except PushError as error:
            return web.json_response(error.body(), status=error.status)

    return answer


async def _body(request: web.Request) -> bytes:
    """The body, refused unread past `MAX_BODY` (413)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        raise PushError(413, f"the body is over {MAX_BODY} bytes")
    body = await request.content.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise PushError(413, f"the body is over {MAX_BODY} bytes")
    return body


async def _entity(resolve: Resolve, given: str, field: str) -> str:
    ref = await resolve(given)
    if not ref:
        raise PushError(404, f"the catalog has no entity called {given[:200]!r}", field)
    return ref
