"""How fast `/owner` finds a service in a 50,000-service catalog, against difflib.

Builds the catalog in a throwaway SQLite file, then times 1,000 mixed exact and fuzzy
lookups through `OwnerService.answer`, the code `/owner` runs (index, database reads and
all), and `difflib.get_close_matches` answering the same queries over the same names in the
same run. Prints p50/p99 of both and their ratio; the aim is p99 <= 1/50 of difflib's.

    python bench/owner_lookup.py [--services 50000] [--queries 1000] [--baseline-every 10]

difflib takes a third of a second per query here, so by default it answers every 10th
query (100 of them); `--baseline-every 1` makes it answer all.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from switchboard.bot.catalog.model import Entity
from switchboard.bot.catalog.records import to_record
from switchboard.bot.owner import OwnerService
from switchboard.bot.slack_gateway import SlackGateway, make_client
from switchboard.storage import catalog_store, db

WORDS = (
    "payments",
    "ledger",
    "checkout",
    "cart",
    "search",
    "catalog",
    "orders",
    "billing",
    "invoice",
    "auth",
    "identity",
    "notify",
    "email",
    "sms",
    "push",
    "inventory",
    "shipping",
    "pricing",
    "promo",
    "gateway",
    "edge",
    "mobile",
    "web",
    "data",
    "stream",
    "events",
    "audit",
    "risk",
    "fraud",
    "profile",
    "session",
    "media",
    "upload",
    "report",
    "export",
)
ENVIRONMENTS = ("api", "worker", "service", "db", "cache", "ui", "batch", "proxy")


def catalog(size: int, rng: random.Random) -> list[Entity]:
    teams = [Entity(kind="group", name=f"team-{n}", type="team") for n in range(200)]
    services = []
    for n in range(size):
        name = f"{rng.choice(WORDS)}-{rng.choice(WORDS)}-{rng.choice(ENVIRONMENTS)}-{n}"
        aliases = [name.replace("-", "")] if n % 10 == 0 else []
        owner = teams[n % len(teams)].ref
        services.append(
            Entity(
                kind="component",
                name=name,
                type="service",
                owners=[owner],
                aliases=aliases,
                tier=n % 4 + 1,
                source_file="bench.yaml",
            )
        )
    return teams + services


def typo(name: str, rng: random.Random) -> str:
    chars = list(name)
    i = rng.randrange(1, len(chars) - 1)
    if rng.random() < 0.5:
        del chars[i]
    else:
        chars[i], chars[i + 1] = chars[i + 1], chars[i]
    return "".join(chars)


def queries(names: list[str], count: int, rng: random.Random) -> list[str]:
    picked = rng.sample(names, count)
    # Half exact (in any case), half with a typo: the two paths /owner takes.
    return [
        n.upper() if i % 4 == 0 else n if i % 2 == 0 else typo(n, rng) for i, n in enumerate(picked)
    ]


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[98]


async def time_switchboard(path: Path, entities: list[Entity], asked: list[str]) -> list[float]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{path}")
    await db.upgrade(engine)
    sessions = db.session_factory(engine)
    async with sessions() as session, session.begin():
        await catalog_store.apply_import(session, [to_record(e) for e in entities], set(), [])
    owner = OwnerService(sessions, SlackGateway(make_client("", "http://127.0.0.1:9/")))
    await owner.answer(asked[0])  # builds the in-memory index once, as the first /owner does
    samples = []
    for query in asked:
        started = time.perf_counter()
        await owner.answer(query)
        samples.append(time.perf_counter() - started)
    await engine.dispose()
    return samples


def time_difflib(names: list[str], asked: list[str]) -> list[float]:
    samples = []
    for query in asked:
        started = time.perf_counter()
        difflib.get_close_matches(query, names, n=5)
        samples.append(time.perf_counter() - started)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=1_000)
    parser.add_argument("--baseline-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    entities = catalog(args.services, rng)
    names = [e.name for e in entities if e.kind == "component"]
    asked = queries(names, args.queries, rng)
    with tempfile.TemporaryDirectory() as folder:
        ours = asyncio.run(time_switchboard(Path(folder) / "bench.db", entities, asked))
    theirs = time_difflib(names, asked[:: args.baseline_every])
    (our50, our99), (their50, their99) = percentiles(ours), percentiles(theirs)
    ratio = our99 / their99
    print(f"owner_lookup: {len(names)} services, {len(asked)} queries (half exact, half typos)")
    print(f"  switchboard /owner   p50 {our50 * 1e3:8.2f} ms   p99 {our99 * 1e3:8.2f} ms")
    print(
        f"  difflib baseline     p50 {their50 * 1e3:8.2f} ms   p99 {their99 * 1e3:8.2f} ms"
        f"   ({len(theirs)} of the queries)"
    )
    verdict = "meets" if ratio <= 1 / 50 else "misses"
    print(f"  p99 ratio {ratio:.4f} (1/{1 / ratio:.0f}); {verdict} the aim of 1/50")
    return 0


if __name__ == "__main__":
    sys.exit(main())
