"""GitHub's REST API (github.com or Enterprise Server's `https://HOST/api/v3`): a
repository's default branch and last push, which paths exist, open pull requests,
Dependabot alerts by severity, the latest release, the deployments, and the total count of
the code searches the scorecards' rules ask for.

Every GET is conditional once answered (304s do not count against the primary limit), the
primary budget (`X-RateLimit-*`) paces requests so it is never overrun, and the secondary
limit (403/429 with `Retry-After`) stops the source until it has passed. Code search has
a budget of its own (`SearchBudget`: GitHub allows 10 a minute): a search it has no room
for is skipped, and the repository keeps its last count, which ages and goes stale."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from switchboard.bot.facts.http import Answer, Clock, JsonClient, http_error, shape_error
from switchboard.bot.facts.source import Budget, Failure, SourceError, Target, Value

DEFAULT_URL = "https://api.github.com"
DEFAULT_PATHS = ("README.md", "CODEOWNERS", "docs/")
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")
_MAX_PAGES = 20  # of Dependabot alerts (100 a page): more is counted as what was read
_LAST_PAGE = re.compile(r'<[^>]*[?&]page=(\d+)[^>]*>;\s*rel="last"')
_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
NAME = "GitHub"
SEARCHES_PER_MINUTE = 10  # GitHub's limit on code search for an authenticated user
MAX_QUERY = 200  # characters of a query; GitHub refuses more than 256 with the qualifier
# A search answered is not asked again for this long, under the source's TTL (6 h) so that
# a regular round renews it: a round run sooner (forced, or another entity's) gives the
# budget to the searches not answered lately, in turn. Its count is fresh for 24 h.
SEARCH_AGAIN_AFTER = 5 * 3600.0
_SEARCHES_KEPT = 100_000  # (repository, query) pairs remembered, oldest dropped first


class SearchBudget:
    """Room for code searches: at most `per_minute` sent in any 60 s (as we count them), and
    none while GitHub says its code-search budget is spent or to wait. `take` never waits:
    a refresh does not sit out the minute, it leaves the rest for the next round."""

    def __init__(self, clock: Clock, per_minute: int = SEARCHES_PER_MINUTE) -> None:
        self._clock = clock
        self.per_minute = per_minute
        self._sent: deque[float] = deque()
        self._closed_until = 0.0
        self.skipped = 0  # searches left for a later round, since the start

    def take(self) -> bool:
        now = self._clock()
        while self._sent and self._sent[0] <= now - 60.0:
            self._sent.popleft()
        if now < self._closed_until or len(self._sent) >= self.per_minute:
            self.skipped += 1
            return False
        self._sent.append(now)
        return True

    def close(self, until: float) -> None:
        self._closed_until = max(self._closed_until, until)

    def observe(self, headers: Mapping[str, str], status: int) -> None:
        """GitHub's word on the search budget (`x-ratelimit-*` of the `code_search`
        resource), and a refusal's wait (`Retry-After`)."""
        if headers.get("x-ratelimit-remaining") == "0":
            self.close(_float(headers.get("x-ratelimit-reset"), self._clock() + 60.0) + 1.0)
        if status in (403, 429) and "retry-after" in headers:
            self.close(self._clock() + _float(headers.get("retry-after"), 60.0))


class GitHub:
    name = "github"
    ttl = timedelta(hours=6)
    concurrency = 8  # well under the secondary limit's 100 concurrent requests

    def __init__(
        self,
        client: JsonClient,
        clock: Clock,
        *,
        wait_for_reset: float = 60.0,
        search: JsonClient | None = None,
        searches_per_minute: int = SEARCHES_PER_MINUTE,
    ) -> None:
        self._client = client
        self._clock = clock
        # Code search through a client of its own: its answers' `x-ratelimit-*` speak of
        # the code-search budget, which must not be taken for the primary one.
        self._search = search
        self.searches = SearchBudget(clock, searches_per_minute)
        self._searched: dict[tuple[str, str], float] = {}  # when each was last answered
        # A spent primary budget that resets within this many seconds is waited for (the
        # pacer sleeps, then the request is sent again once); a longer wait stops the run.
        self._wait_for_reset = wait_for_reset

    @staticmethod
    def headers(token: str) -> dict[str, str]:
        return {
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
            "Authorization": f"Bearer {token}",
            "User-Agent": "switchboard",
        }

    def budget(self) -> Budget | None:
        pacer = self._client.pacer
        if pacer.remaining is None or pacer.reset_at is None:
            return None
        return Budget(max(pacer.remaining, 0), datetime.fromtimestamp(pacer.reset_at, UTC))

    async def fetch(self, target: Target) -> Sequence[Value]:
        repo = target.id
        now = datetime.fromtimestamp(self._clock(), UTC)
        info = await self._repository(repo)
        values = [
            Value("git.repository", info, now),
            Value("git.last_push", info["pushed_at"], now),
        ]
        paths = target.paths or DEFAULT_PATHS
        for path, exists in (await self._files(repo, info["default_branch"], paths)).items():
            values.append(Value(f"git.file:{path}", exists, now))
        values.append(Value("git.pull_requests.open", await self._open_pulls(repo), now))
        if (alerts := await self._vulnerabilities(repo)) is not None:
            values.append(Value("git.vulnerabilities", alerts, now))
        values.append(Value("git.latest_release", await self._latest_release(repo), now))
        values.append(Value("git.deployments", await self._deployments(repo), now))
        for query in target.searches:
            count = await self._code_search(repo, query)
            if count is not None:
                values.append(Value(f"git.code_search:{query}", count, now))
        return values

    async def _code_search(self, repo: str, query: str) -> int | None:
        """The total count of `query` in the repository; None when it is not searched this
        round (no search client, no room in the budget, GitHub said to wait, or it failed):
        the last count is kept and ages. Never a failure of the whole source."""
        if self._search is None or not query or len(query) > MAX_QUERY:
            return None
        if self._clock() - self._searched.get((repo, query), -SEARCH_AGAIN_AFTER) < (
            SEARCH_AGAIN_AFTER
        ):
            return None  # answered lately: the stored count is fresh, let others have the room
        primary = self._client.pacer.remaining
        if (primary is not None and primary <= 0) or not self.searches.take():
            return None
        try:
            answer = await self._search.get(
                "/search/code", {"q": f"{query} repo:{repo}", "per_page": "1"}
            )
        except SourceError:  # timed out, unreachable, not JSON: only this count waits
            return None
        self.searches.observe(answer.headers, answer.status)
        body = answer.body
        total = body.get("total_count") if isinstance(body, dict) else None
        if answer.status != 200 or not isinstance(total, int) or isinstance(total, bool):
            return None
        if len(self._searched) >= _SEARCHES_KEPT:
            self._searched.pop(next(iter(self._searched)))
        self._searched.pop((repo, query), None)
        self._searched[(repo, query)] = self._clock()
        return max(total, 0)

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Answer:
        answer = await self._client.get(path, params)
        self._observe(answer)
        if answer.status in (403, 429) and answer.headers.get("x-ratelimit-remaining") == "0":
            reset = _float(answer.headers.get("x-ratelimit-reset"), 0.0)
            if 0 < reset - self._clock() <= self._wait_for_reset:
                self._client.pacer.block(reset - self._clock() + 1.0)
                answer = await self._client.get(path, params)
                self._observe(answer)
        return answer

    def _observe(self, answer: Answer) -> None:
        headers = answer.headers
        try:
            limit = int(headers["x-ratelimit-limit"])
            remaining = int(headers["x-ratelimit-remaining"])
            reset = float(headers["x-ratelimit-reset"])
        except (KeyError, ValueError):
            return
        self._client.pacer.observe(limit, remaining, reset)

    def _error(self, answer: Answer, what: str) -> SourceError:
        """GitHub says "rate limited" with 403 or 429: by a spent budget
        (`x-ratelimit-remaining: 0`, wait for `x-ratelimit-reset`) or by the secondary
        limit (`Retry-After`, or its message)."""
        headers = answer.headers
        message = answer.body.get("message", "") if isinstance(answer.body, dict) else ""
        if answer.status in (403, 429):
            if headers.get("x-ratelimit-remaining") == "0":
                reset = _float(headers.get("x-ratelimit-reset"), self._clock() + 60)
                wait = max(0.0, reset - self._clock())
                self._client.pacer.block(wait)
                return SourceError(
                    Failure.RATE_LIMITED,
                    f"GitHub API rate limit exceeded; it resets in {wait:.0f} s",
                    wait,
                )
            if "retry-after" in headers or "secondary rate limit" in str(message).lower():
                wait = _float(headers.get("retry-after"), 60.0)
                self._client.pacer.block(wait)
                return SourceError(
                    Failure.RATE_LIMITED,
                    f"GitHub secondary rate limit reached; retry in {wait:g} s",
                    wait,
                )
        if answer.status == 401:
            return SourceError(
                Failure.AUTH,
                f"GitHub refused GITHUB_TOKEN (401 {_excerpt(message) or 'Bad credentials'})",
            )
        return http_error(NAME, answer, what)

    async def _repository(self, repo: str) -> dict[str, Any]:
        answer = await self._get(f"/repos/{_path(repo)}")
        if answer.status != 200:
            raise self._error(answer, f"repository {repo}")
        body = answer.body
        if not isinstance(body, dict):
            raise shape_error(NAME, f"repository {repo}")
        full_name, branch = body.get("full_name"), body.get("default_branch")
        pushed, archived = body.get("pushed_at"), body.get("archived", False)
        if not (
            isinstance(full_name, str)
            and isinstance(branch, str)
            and (pushed is None or isinstance(pushed, str))
            and isinstance(archived, bool)
        ):
            raise shape_error(NAME, f"repository {repo}")
        return {
            "full_name": full_name,
            "default_branch": branch,
            "pushed_at": pushed,
            "archived": archived,
        }

    async def _files(self, repo: str, branch: str, paths: Sequence[str]) -> dict[str, bool]:
        """Whether each path exists on the default branch ("docs/" asks for a folder): one
        request for the whole tree; path by path only when GitHub truncates the tree."""
        answer = await self._get(
            f"/repos/{_path(repo)}/git/trees/{quote(branch, safe='')}", {"recursive": "1"}
        )
        if answer.status in (404, 409):  # 409: "Git Repository is empty."
            return dict.fromkeys(paths, False)
        if answer.status != 200:
            raise self._error(answer, f"the files of {repo}")
        body = answer.body
        tree = body.get("tree") if isinstance(body, dict) else None
        if not isinstance(tree, list):
            raise shape_error(NAME, f"the tree of {repo}")
        if body.get("truncated") is True:
            return {path: await self._exists(repo, path) for path in paths}
        blobs: set[str] = set()
        folders: set[str] = set()
        for item in tree:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                (folders if item.get("type") == "tree" else blobs).add(item["path"])
        return {
            path: (path.rstrip("/") in folders)
            if path.endswith("/")
            else (path in blobs or path in folders)
            for path in paths
        }

    async def _exists(self, repo: str, path: str) -> bool:
        answer = await self._get(f"/repos/{_path(repo)}/contents/{quote(path.rstrip('/'))}")
        if answer.status == 404:
            return False
        if answer.status != 200:
            raise self._error(answer, f"{path} in {repo}")
        return isinstance(answer.body, dict | list)

    async def _open_pulls(self, repo: str) -> int:
        """The open pull requests: the first page of 100, and the last page when there are
        more. Counted from bodies, never from the Link header alone: a conditional request
        is answered 304 when the body is unchanged, whatever the pages around it did."""
        path = f"/repos/{_path(repo)}/pulls"
        answer = await self._get(path, {"state": "open", "per_page": "100"})
        first = self._pulls_page(answer, repo)
        match = _LAST_PAGE.search(answer.headers.get("link", ""))
        if match is None:
            return first
        last = int(match.group(1))
        tail = await self._get(path, {"state": "open", "per_page": "100", "page": str(last)})
        return (last - 1) * 100 + self._pulls_page(tail, repo)

    def _pulls_page(self, answer: Answer, repo: str) -> int:
        if answer.status != 200:
            raise self._error(answer, f"the pull requests of {repo}")
        if not isinstance(answer.body, list):
            raise shape_error(NAME, f"the pull requests of {repo}")
        return len(answer.body)

    async def _vulnerabilities(self, repo: str) -> dict[str, int] | None:
        """Open Dependabot alerts by severity; None when GitHub will not say (alerts
        disabled for the repository, or the token may not read them): the last known
        count is kept."""
        counts = dict.fromkeys(SEVERITIES, 0)
        url: str | None = f"/repos/{_path(repo)}/dependabot/alerts"
        params: dict[str, str] | None = {"state": "open", "per_page": "100"}
        for _ in range(_MAX_PAGES):
            if url is None:
                break
            answer = await self._get(url, params)
            if answer.status in (403, 404) and not self._limited(answer):
                return None
            if answer.status != 200:
                raise self._error(answer, f"the Dependabot alerts of {repo}")
            if not isinstance(answer.body, list):
                raise shape_error(NAME, f"the Dependabot alerts of {repo}")
            for alert in answer.body:
                severity = _severity(alert)
                if severity in counts:
                    counts[severity] += 1
            match = _NEXT.search(answer.headers.get("link", ""))
            url, params = (match.group(1), None) if match else (None, None)
        return counts

    def _limited(self, answer: Answer) -> bool:
        headers = answer.headers
        return headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers

    async def _latest_release(self, repo: str) -> dict[str, Any] | None:
        """The newest published release that is not a pre-release (what GitHub calls the
        latest), from the list: unlike `/releases/latest`, whose 404 for "none" carries no
        ETag, an empty list is answered 304 next time and costs nothing."""
        answer = await self._get(f"/repos/{_path(repo)}/releases", {"per_page": "10"})
        if answer.status != 200:
            raise self._error(answer, f"the releases of {repo}")
        if not isinstance(answer.body, list):
            raise shape_error(NAME, f"the releases of {repo}")
        for release in answer.body:
            if not isinstance(release, dict) or not isinstance(release.get("tag_name"), str):
                raise shape_error(NAME, f"the releases of {repo}")
            if release.get("draft") or release.get("prerelease"):
                continue
            published = release.get("published_at")
            return {
                "tag": release["tag_name"],
                "published_at": published if isinstance(published, str) else None,
            }
        return None

    async def _deployments(self, repo: str) -> list[dict[str, Any]]:
        """The latest deployment of each environment, with the state of its latest status."""
        answer = await self._get(f"/repos/{_path(repo)}/deployments", {"per_page": "30"})
        if answer.status != 200:
            raise self._error(answer, f"the deployments of {repo}")
        if not isinstance(answer.body, list):
            raise shape_error(NAME, f"the deployments of {repo}")
        latest: dict[str, dict[str, Any]] = {}
        for item in answer.body:  # newest first
            if not isinstance(item, dict) or not isinstance(item.get("environment"), str):
                raise shape_error(NAME, f"the deployments of {repo}")
            latest.setdefault(item["environment"], item)
        result = []
        for environment, item in sorted(latest.items()):
            result.append(
                {
                    "environment": environment,
                    "sha": str(item.get("sha", "")),
                    "state": await self._deployment_state(repo, item.get("id")),
                    "created_at": str(item.get("created_at", "")),
                }
            )
        return result

    async def _deployment_state(self, repo: str, deployment: Any) -> str:
        if not isinstance(deployment, int):
            raise shape_error(NAME, f"the deployments of {repo}")
        answer = await self._get(
            f"/repos/{_path(repo)}/deployments/{deployment}/statuses", {"per_page": "1"}
        )
        if answer.status != 200:
            raise self._error(answer, f"the statuses of deployment {deployment} of {repo}")
        body = answer.body
        if not isinstance(body, list):
            raise shape_error(NAME, f"the statuses of deployment {deployment} of {repo}")
        state = body[0].get("state") if body and isinstance(body[0], dict) else ""
        return state if isinstance(state, str) else ""


def _severity(alert: Any) -> str:
    if not isinstance(alert, dict):
        return ""
    for part in ("security_advisory", "security_vulnerability"):
        block = alert.get(part)
        if isinstance(block, dict) and isinstance(block.get("severity"), str):
            return str(block["severity"]).upper()
    return ""


def _path(repo: str) -> str:
    owner, _, name = repo.partition("/")
    return f"{quote(owner, safe='')}/{quote(name, safe='')}"


def _float(value: str | None, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except ValueError:
        return default


def _excerpt(message: Any) -> str:
    return str(message)[:120] if message else ""
