"""What CI pushes: `POST /api/facts` (Cortex's "custom data") and `POST /api/deploys`,
parsed and checked as plain functions; the HTTP route only maps `PushError` to its status.

Tokens come from SWITCHBOARD_FACTS_TOKENS (`name=token,name=token`): every one is compared
in constant time, the name (never the token) says who pushed."""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from switchboard.storage.facts_store import DeployRow

MAX_BODY = 256 * 1024  # bytes of one push; more is refused (413) unread
MAX_FACTS = 200  # keys in one push
MAX_DEPTH = 16  # nesting of one value
MAX_COMMITS = 1000
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_SHA = re.compile(r"[0-9a-fA-F]{4,64}")
DEPLOY_STATUSES = ("in_progress", "success", "failure", "cancelled", "rolled_back")


class PushError(Exception):
    """A push refused: `status` is the HTTP answer, `field` the part of the body at fault."""

    def __init__(self, status: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.field = field

    def body(self) -> dict[str, str]:
        return {"error": str(self), **({"field": self.field} if self.field else {})}


@dataclass(frozen=True, slots=True)
class PushedFacts:
    entity: str  # as given: an id or an alias, resolved by the caller (404 when unknown)
    facts: dict[str, Any]  # "custom.<key>" -> JSON value

    def source(self, token_name: str) -> str:
        return f"push:{token_name}"


def parse_tokens(text: str) -> dict[str, str]:
    """`name=token,name=token` -> {name: token}; ValueError naming the pair at fault
    (never echoing a token)."""
    tokens: dict[str, str] = {}
    for number, pair in enumerate((p.strip() for p in text.split(",")), start=1):
        if not pair:
            continue
        name, sep, token = pair.partition("=")
        name, token = name.strip(), token.strip()
        if not sep or not _NAME.fullmatch(name) or len(token) < 16:
            raise ValueError(
                f"pair {number} must be name=token (a name of letters, digits, '.', '_' or "
                "'-', a token of at least 16 characters)"
            )
        if name in tokens:
            raise ValueError(f"pair {number}: the name {name!r} is given twice")
        tokens[name] = token
    return tokens


def authenticate(authorization: str | None, tokens: dict[str, str]) -> str:
    """The name of the token in an `Authorization: Bearer <token>` header; PushError(401)
    for anything else, and always when no token is configured. Every token is compared
    (in constant time), so the answer's time says nothing of which came close."""
    scheme, _, given = (authorization or "").partition(" ")
    found = ""
    candidate = given.strip().encode()
    for name, token in tokens.items():
        if hmac.compare_digest(candidate, token.encode()) and scheme.lower() == "bearer":
            found = name
    if not found:
        raise PushError(401, "a valid bearer token is required (SWITCHBOARD_FACTS_TOKENS)")
    return found


def parse_facts(body: bytes) -> PushedFacts:
    data = _object(body)
    entity = _text(data, "entity", 512)
    facts = data.get("facts")
    if not isinstance(facts, dict) or not facts:
        raise PushError(400, "facts must be a non-empty object of key: value", "facts")
    if len(facts) > MAX_FACTS:
        raise PushError(400, f"at most {MAX_FACTS} facts in one push", "facts")
    parsed = {}
    for key, value in facts.items():
        if not _KEY.fullmatch(key):
            raise PushError(
                400,
                "a fact key is letters, digits, '.', '_', ':' or '-', at most 128",
                f"facts.{key[:64]}",
            )
        if _depth(value) > MAX_DEPTH:
            raise PushError(400, f"nested deeper than {MAX_DEPTH}", f"facts.{key}")
        parsed[f"custom.{key.removeprefix('custom.')}"] = value
    return PushedFacts(entity, parsed)


def parse_deploy(body: bytes, entity: str = "", reported_by: str = "") -> tuple[str, DeployRow]:
    """(the service as given, the deploy row with `entity` once the caller resolved it)."""
    data = _object(body)
    service = _text(data, "service", 512)
    environment = _text(data, "environment", 128)
    sha = _text(data, "sha", 64)
    if not _SHA.fullmatch(sha):
        raise PushError(400, "sha must be a commit hash (hex)", "sha")
    status = _text(data, "status", 32)
    if status not in DEPLOY_STATUSES:
        raise PushError(400, f"status must be one of {', '.join(DEPLOY_STATUSES)}", "status")
    started = _time(data, "started_at")
    finished = _time(data, "finished_at")
    if started and finished and finished < started:
        raise PushError(400, "finished_at is before started_at", "finished_at")
    author = data.get("author", "")
    if not isinstance(author, str) or len(author) > 256:
        raise PushError(400, "author must be text of at most 256 characters", "author")
    commits = _commits(data.get("commits", []))
    return service, DeployRow(
        entity or service,
        environment,
        sha.lower(),
        status,
        started,
        finished,
        author,
        commits,
        reported_by,
    )


def _object(body: bytes) -> dict[str, Any]:
    if len(body) > MAX_BODY:
        raise PushError(413, f"the body is over {MAX_BODY} bytes")
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise PushError(400, "the body is not JSON") from None
    if not isinstance(data, dict):
        raise PushError(400, "the body must be a JSON object")
    return data


def _text(data: dict[str, Any], field: str, most: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > most:
        raise PushError(400, f"{field} must be non-empty text of at most {most} characters", field)
    return value.strip()


def _time(data: dict[str, Any], field: str) -> datetime | None:
    value = data.get(field)
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise PushError(400, f"{field} must be an ISO 8601 time with its offset", field)
    return parsed


def _commits(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list) or len(value) > MAX_COMMITS:
        raise PushError(400, f"commits must be a list of at most {MAX_COMMITS}", "commits")
    commits = []
    for n, commit in enumerate(value):
        sha = commit.get("sha") if isinstance(commit, dict) else None
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise PushError(400, "each commit needs its sha (hex)", f"commits[{n}].sha")
        authored = _time(commit, "authored_at")
        if authored is None:
            raise PushError(400, "each commit needs authored_at", f"commits[{n}].authored_at")
        commits.append({"sha": sha.lower(), "authored_at": authored.isoformat()})
    return commits


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level
