"""How close the GitHub refresh comes to what GitHub's rate limit allows, and what a second
refresh costs when nothing changed.

5,000 services with repositories, against the GitHub fake holding GitHub's limits scaled to
the run (a budget of `--limit` requests per `--window` seconds instead of 5,000 an hour;
304s free), through the real refresh engine into a SQLite file. Prints:

- the first refresh's time beside the rate-limit floor for the requests it needed (the
  moment the last window it needed opens: no client can finish earlier), aim <= 1.1x;
- the second refresh's budget used as a share of the first's, nothing having changed
  (every answer a 304), aim <= 5%.

    python bench/facts_refresh.py [--services 5000] [--limit 2000] [--window 4]

`/owner`'s ack with the on-call shown, beside today's: `bench/owner_oncall.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from switchboard.bot.facts.engine import RefreshEngine
from switchboard.bot.facts.github import GitHub
from switchboard.bot.facts.http import JsonClient, Pacer
from switchboard.bot.facts.source import Target
from switchboard.bot.platform.outside_calls import HttpSession
from switchboard.fakes.github.server import Deployment, FakeGitHub, Repo
from switchboard.storage import db
from switchboard.storage.facts_store import FactsStore


def seed(fake: FakeGitHub, services: int) -> list[Target]:
    targets = []
    for n in range(services):
        repo = fake.add(
            Repo(
                f"acme/service-{n}",
                files={"README.md", "src/main.py", *(["CODEOWNERS"] if n % 2 else [])},
                open_pulls=n % 7,
                alerts=["high"] * (n % 3) + ["critical"] * (n % 11 == 0),
                releases=[(f"v1.{n % 10}.0", "2026-11-01T00:00:00Z")] if n % 4 else [],
            )
        )
        if n % 10 == 0:
            repo.deployments = [
                Deployment(n, "production", "abc123", "2026-12-01T00:00:00Z", ["success"])
            ]
        targets.append(
            Target("github", f"component:default/service-{n}", "repository", repo.full_name)
        )
    return targets


async def main(services: int, limit: int, window: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        engine = db.create_engine(f"sqlite:///{Path(folder) / 'facts.db'}")
        await db.upgrade(engine)
        store = FactsStore(db.session_factory(engine))
        http = HttpSession(timeout=10.0)
        offset = timedelta(0)

        def now() -> datetime:
            return datetime.now(UTC) + offset

        async with FakeGitHub(limit=limit, window=window) as fake:
            targets = seed(fake, services)
            pacer = Pacer(time.time, asyncio.sleep, margin=0.02)
            client = JsonClient(
                http,
                fake.base_url,
                GitHub.headers("ghp_test"),
                timeout=10.0,
                pacer=pacer,
                name="GitHub",
            )
            source = GitHub(client, time.time)
            source.concurrency = 16
            refresher = RefreshEngine(store, now, "bench", lease=timedelta(minutes=10))
            await asyncio.sleep(math.ceil(time.time()) - time.time())  # windows start on the second
            started = time.perf_counter()
            first = await refresher.refresh(source, targets)
            took = time.perf_counter() - started
            spent_first = fake.spent
            floor = (math.ceil(spent_first / limit) - 1) * window
            offset = timedelta(hours=7)  # past the TTL: everything is due again
            started = time.perf_counter()
            second = await refresher.refresh(source, targets)
            took_second = time.perf_counter() - started
            spent_second = fake.spent - spent_first
        await http.close()
        await engine.dispose()
    assert first.fetched == services and not first.stopped and not first.errors, first
    assert second.fetched == services and second.changed == 0, second
    print(f"services: {services}, GitHub budget scaled to {limit} requests per {window:g} s")
    print(
        f"first refresh: {took:.2f} s for {spent_first} counted requests; rate-limit floor "
        f"{floor:.2f} s; ratio {took / floor if floor else float('inf'):.3f}x (aim <= 1.1x)"
    )
    print(
        f"second refresh, nothing changed: {spent_second} counted requests "
        f"({fake.not_modified} answered 304) in {took_second:.2f} s; budget "
        f"{100 * spent_second / spent_first:.1f}% of the first's (aim <= 5%)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=5000)
    parser.add_argument("--limit", type=int, default=2000)
    parser.add_argument("--window", type=float, default=4.0)
    args = parser.parse_args()
    asyncio.run(main(args.services, args.limit, args.window))
