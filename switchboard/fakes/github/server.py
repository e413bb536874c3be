"""GitHub's REST API on loopback: repositories, their trees and contents, pull requests,
Dependabot alerts, releases, deployments and their statuses, and code search in one
repository (`GET /search/code?q=TERMS repo:OWNER/NAME`), answered in GitHub's shapes.

It keeps GitHub's limits, scaled: a primary budget of `limit` requests per `window`
seconds (`X-RateLimit-*` on every answer; spent, it answers 403 "API rate limit exceeded"),
conditional requests (a matching `If-None-Match` answers 304 and costs nothing), and a
secondary limit on concurrent requests (403 with `Retry-After`). Code search has its own
budget, as GitHub's: `search_limit` searches a minute (`x-ratelimit-resource: code_search`;
spent, it answers 429 with `Retry-After` and counts the refusal in `search_refused`)."""

from __future__ import annotations

import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from switchboard.fakes.loopback import LoopbackServer

DOCS = "https://docs.github.com/rest"
PRIMARY = (
    "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, "
    "please include the request ID."
)
SECONDARY = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try "
    "again. If you reach out to GitHub Support for help, please include the request ID."
)


@dataclass
class Deployment:
    id: int
    environment: str
    sha: str
    created_at: str
    statuses: list[str] = field(default_factory=list)  # states, oldest first


@dataclass
class Repo:
    full_name: str
    default_branch: str = "main"
    pushed_at: str = "2026-11-30T12:00:00Z"
    archived: bool = False
    files: set[str] = field(default_factory=lambda: {"README.md"})  # paths of blobs
    open_pulls: int = 0
    alerts: list[str] = field(default_factory=list)  # severities of open alerts: "high"...
    releases: list[tuple[str, str]] = field(default_factory=list)  # (tag, published_at)
    deployments: list[Deployment] = field(default_factory=list)  # newest first
    truncated: bool = False  # answer the tree as GitHub does for very large ones
    contents: dict[str, str] = field(default_factory=dict)  # path -> text, for code search


class FakeGitHub(LoopbackServer):
    def __init__(
        self,
        token: str = "ghp_test",
        *,
        limit: int = 5000,
        window: float = 3600.0,
        max_concurrent: int = 100,
        clock: Callable[[], float] = time.time,
        search_limit: int = 10,
    ) -> None:
        super().__init__()
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.limit = limit
        self.window = window
        self.max_concurrent = max_concurrent
        self._clock = clock
        self._window_start: float | None = None
        self.used = 0  # in the current window
        self.spent = 0  # counted requests since the start, all windows
        self.not_modified = 0
        self._in_flight = 0
        self.search_limit = search_limit
        self._search_window: float | None = None
        self.searched = 0  # in the current minute
        self.searches = 0  # answered searches since the start
        self.search_refused = 0  # searches refused for the limit since the start

    def add(self, repo: Repo) -> Repo:
        self.repos[repo.full_name.lower()] = repo
        return repo

    def error_body(self, status: int) -> dict[str, Any]:
        messages = {401: "Bad credentials", 403: "Forbidden", 404: "Not Found"}
        return {"message": messages.get(status, "Server Error"), "documentation_url": DOCS}

    def routes(self) -> list[web.RouteDef]:
        base = "/repos/{owner}/{name}"
        return [
            web.get(base, self._wrap(self._repo)),
            web.get(base + "/git/trees/{branch}", self._wrap(self._tree)),
            web.get(base + "/contents/{path:.*}", self._wrap(self._contents)),
            web.get(base + "/pulls", self._wrap(self._pulls)),
            web.get(base + "/dependabot/alerts", self._wrap(self._alerts)),
            web.get(base + "/releases", self._wrap(self._releases)),
            web.get(base + "/releases/latest", self._wrap(self._release)),
            web.get(base + "/deployments", self._wrap(self._deployments)),
            web.get(base + "/deployments/{id}/statuses", self._wrap(self._statuses)),
            web.get("/search/code", self._code_search),
            web.get("/rate_limit", self._rate_limit),
        ]

    # the limits

    def _reset_at(self) -> int:
        now = self._clock()
        if self._window_start is None or now >= self._window_start + self.window:
            self._window_start = float(math.floor(now))
            self.used = 0
        return math.ceil(self._window_start + self.window)

    def _limit_headers(self) -> dict[str, str]:
        reset = self._reset_at()
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(max(self.limit - self.used, 0)),
            "x-ratelimit-used": str(self.used),
            "x-ratelimit-reset": str(reset),
            "x-ratelimit-resource": "core",
        }

    def _wrap(
        self, handler: Callable[[web.Request, Repo], tuple[int, Any, dict[str, str]]]
    ) -> Callable[[web.Request], Any]:
        async def serve(request: web.Request) -> web.StreamResponse:
            if request.headers.get("Authorization", "") not in (
                f"Bearer {self.token}",
                f"token {self.token}",
            ):
                return self._json(401, self.error_body(401), {})
            self._in_flight += 1
            try:
                if self._in_flight > self.max_concurrent:
                    return self._json(
                        403,
                        {"message": SECONDARY, "documentation_url": DOCS},
                        {"retry-after": "60"},
                    )
                return self._answer(request, handler)
            finally:
                self._in_flight -= 1

        return serve

    def _answer(
        self,
        request: web.Request,
        handler: Callable[[web.Request, Repo], tuple[int, Any, dict[str, str]]],
    ) -> web.StreamResponse:
        self._reset_at()
        repo = self.repos.get(f"{request.match_info['owner']}/{request.match_info['name']}".lower())
        headers: dict[str, str]
        if repo is None:
            status, body, headers = 404, self.error_body(404), {}
        else:
            status, body, headers = handler(request, repo)
        text = json.dumps(body)
        etag = 'W/"' + hashlib.sha256(text.encode()).hexdigest()[:40] + '"'
        if status == 200 and request.headers.get("If-None-Match") == etag:
            self.not_modified += 1  # free: 304s do not count against the primary limit
            return web.Response(status=304, headers={**self._limit_headers(), "ETag": etag})
        if self.used >= self.limit:
            return self._json(403, {"message": PRIMARY, "documentation_url": DOCS}, {})
        self.used += 1
        self.spent += 1
        if status == 200:
            headers = {**headers, "ETag": etag}
        return self._json(status, body, headers)

    def _json(self, status: int, body: Any, headers: dict[str, str]) -> web.Response:
        return web.Response(
            status=status,
            text=json.dumps(body),
            content_type="application/json",
            headers={**self._limit_headers(), **headers},
        )

    async def _rate_limit(self, request: web.Request) -> web.StreamResponse:
        headers = self._limit_headers()
        core = {
            "limit": self.limit,
            "remaining": int(headers["x-ratelimit-remaining"]),
            "reset": int(headers["x-ratelimit-reset"]),
            "used": self.used,
            "resource": "core",
        }
        return self._json(200, {"resources": {"core": core}, "rate": core}, {})

    # code search

    def _search_headers(self) -> dict[str, str]:
        now = self._clock()
        if self._search_window is None or now >= self._search_window + 60.0:
            self._search_window = float(math.floor(now))
            self.searched = 0
        return {
            "x-ratelimit-limit": str(self.search_limit),
            "x-ratelimit-remaining": str(max(self.search_limit - self.searched, 0)),
            "x-ratelimit-used": str(self.searched),
            "x-ratelimit-reset": str(math.ceil(self._search_window + 60.0)),
            "x-ratelimit-resource": "code_search",
        }

    async def _code_search(self, request: web.Request) -> web.StreamResponse:
        """Files of the one repository the query names (`repo:`) whose path or content
        holds every other term of the query, case-insensitively."""
        if request.headers.get("Authorization", "") != f"Bearer {self.token}":
            return self._json(401, self.error_body(401), {})
        headers = self._search_headers()
        body: dict[str, Any]
        if self.searched >= self.search_limit:
            self.search_refused += 1
            wait = str(max(1, int(headers["x-ratelimit-reset"]) - math.floor(self._clock())))
            body = {"message": PRIMARY, "documentation_url": DOCS}
            return self._search_json(429, body, {**headers, "retry-after": wait})
        self.searched += 1
        self.searches += 1
        headers = self._search_headers()
        terms = request.query.get("q", "").split()
        scopes = [t[5:].lower() for t in terms if t.lower().startswith("repo:")]
        words = [t.lower() for t in terms if ":" not in t]
        repo = self.repos.get(scopes[0]) if len(scopes) == 1 else None
        if repo is None or not words:
            body = {"message": "Validation Failed", "documentation_url": DOCS}
            return self._search_json(422, body, headers)
        paths = sorted(repo.files | set(repo.contents))
        found = [
            p
            for p in paths
            if all(w in p.lower() or w in repo.contents.get(p, "").lower() for w in words)
        ]
        per_page = _per_page(request.query.get("per_page", "30"))
        items = [{"name": p.rsplit("/", 1)[-1], "path": p, "score": 1.0} for p in found]
        body = {"total_count": len(found), "incomplete_results": False, "items": items[:per_page]}
        return self._search_json(200, body, headers)

    def _search_json(self, status: int, body: Any, headers: dict[str, str]) -> web.Response:
        return web.Response(
            status=status, text=json.dumps(body), content_type="application/json", headers=headers
        )

    # the resources

    def _repo(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        owner, _, name = repo.full_name.partition("/")
        return (
            200,
            {
                "id": abs(hash(repo.full_name)) % 10**9,
                "name": name,
                "full_name": repo.full_name,
                "owner": {"login": owner, "type": "Organization"},
                "private": True,
                "html_url": f"https://github.com/{repo.full_name}",
                "default_branch": repo.default_branch,
                "archived": repo.archived,
                "pushed_at": repo.pushed_at,
                "open_issues_count": repo.open_pulls,
            },
            {},
        )

    def _tree(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        if request.match_info["branch"] != repo.default_branch:
            return 404, self.error_body(404), {}
        if not repo.files:
            return 409, {"message": "Git Repository is empty.", "documentation_url": DOCS}, {}
        folders = {
            "/".join(path.split("/")[:depth])
            for path in repo.files
            for depth in range(1, path.count("/") + 1)
        }
        tree: list[dict[str, Any]] = [
            {"path": p, "mode": "040000", "type": "tree", "sha": _sha(p)} for p in sorted(folders)
        ]
        tree += [
            {"path": p, "mode": "100644", "type": "blob", "sha": _sha(p), "size": 100}
            for p in sorted(repo.files)
        ]
        if repo.truncated:
            tree = tree[:1]
        return 200, {"sha": _sha(repo.full_name), "tree": tree, "truncated": repo.truncated}, {}

    def _contents(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        path = request.match_info["path"].strip("/")
        if path in repo.files:
            return 200, {"type": "file", "path": path, "name": path.rsplit("/", 1)[-1]}, {}
        inside = [f for f in repo.files if f.startswith(path + "/")]
        if inside:
            return 200, [{"type": "file", "path": f} for f in sorted(inside)], {}
        return 404, self.error_body(404), {}

    def _pulls(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(request.query.get("per_page", "30")), 100)
        page = int(request.query.get("page", "1"))
        count = repo.open_pulls if request.query.get("state", "open") == "open" else 0
        first = (page - 1) * per_page + 1
        items = [
            {"number": n, "state": "open", "title": f"PR {n}"}
            for n in range(first, min(first + per_page, count + 1))
        ]
        pages = max(math.ceil(count / per_page), 1)
        url = f"{request.url.with_query(None)}?state=open&per_page={per_page}"
        links = []
        if page < pages:
            links += [f'<{url}&page={page + 1}>; rel="next"', f'<{url}&page={pages}>; rel="last"']
        return 200, items, {"Link": ", ".join(links)} if links else {}

    def _alerts(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(request.query.get("per_page", "30")), 100)
        start = int(request.query.get("after", "0") or 0)
        chunk = repo.alerts[start : start + per_page]
        items = [
            {
                "number": start + i + 1,
                "state": "open",
                "security_advisory": {"severity": severity},
                "security_vulnerability": {"severity": severity},
            }
            for i, severity in enumerate(chunk)
        ]
        headers = {}
        if start + per_page < len(repo.alerts):
            url = request.url.with_query(
                {"state": "open", "per_page": str(per_page), "after": str(start + per_page)}
            )
            headers["Link"] = f'<{url}>; rel="next"'
        return 200, items, headers

    def _release(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        if not repo.releases:
            return 404, self.error_body(404), {}
        tag, published = repo.releases[0]
        return 200, {"tag_name": tag, "name": tag, "published_at": published, "draft": False}, {}

    def _releases(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(request.query.get("per_page", "30")), 100)
        return (
            200,
            [
                {
                    "tag_name": tag,
                    "name": tag,
                    "published_at": published,
                    "draft": False,
                    "prerelease": "-rc" in tag,
                }
                for tag, published in repo.releases[:per_page]
            ],
            {},
        )

    def _deployments(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        per_page = min(int(request.query.get("per_page", "30")), 100)
        return (
            200,
            [
                {
                    "id": d.id,
                    "sha": d.sha,
                    "ref": repo.default_branch,
                    "environment": d.environment,
                    "created_at": d.created_at,
                }
                for d in repo.deployments[:per_page]
            ],
            {},
        )

    def _statuses(self, request: web.Request, repo: Repo) -> tuple[int, Any, dict[str, str]]:
        wanted = request.match_info["id"]
        for d in repo.deployments:
            if str(d.id) == wanted:
                return (
                    200,
                    [
                        {"id": i, "state": state, "created_at": d.created_at}
                        for i, state in reversed(list(enumerate(d.statuses)))
                    ],
                    {},
                )
        return 404, self.error_body(404), {}


def _per_page(text: str) -> int:
    try:
        return min(max(int(text), 1), 100)
    except ValueError:
        return 30


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()
