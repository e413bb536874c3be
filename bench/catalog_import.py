"""Importing a 50,000-service Backstage catalog in 50 files: time and peak memory, against
libyaml parsing the same files.

Writes a generated Backstage catalog (`backstage_catalog.py`: Components with owners,
systems, links, annotations and dependencies, and the groups and users they name), then
runs, each in a fresh child process:

- `switchboard catalog import FOLDER --quiet` into a fresh SQLite database (parse, check,
  build records, write them in one transaction), with 1, 2 and 4 reading processes
  (SWITCHBOARD_CATALOG_WORKERS), then again with nothing changed;
- the baseline for memory: a child that only imports Switchboard;
- the baseline for time: `yaml.load_all(text, Loader=yaml.CSafeLoader)` of every file, the
  documents kept (libyaml parsing plain dicts and lists: no line numbers, no checks, no
  database).

Each child reports its own peak RSS (VmHWM from /proc/self/status). Printed: the import's
time as a multiple of CSafeLoader's (aim: at most 2x), its peak memory (aim: under 300 MB)
and what it adds over a bare Switchboard process.

    python bench/catalog_import.py [--services 50000] [--files 50] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AIM_MB = 300
AIM_RATIO = 2.0


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# the children, run as `catalog_import.py --child KIND FILE`


def child_import(path: str) -> dict[str, object]:
    from switchboard import cli

    start = time.perf_counter()
    code = cli.main(["catalog", "import", path, "--quiet"])
    return {"seconds": time.perf_counter() - start, "exit": code}


def child_bare(path: str) -> dict[str, object]:
    from switchboard import app, cli  # noqa: F401  (what every switchboard process loads)

    return {}


def child_yaml(path: str) -> dict[str, object]:
    import yaml

    start = time.perf_counter()
    documents = [
        list(yaml.load_all(file.read_text(), Loader=yaml.CSafeLoader))
        for file in sorted(Path(path).glob("*.yaml"))
    ]
    return {"seconds": time.perf_counter() - start, "documents": sum(map(len, documents))}


CHILDREN = {"import": child_import, "bare": child_bare, "yaml": child_yaml}


def run_child(kind: str, path: Path, folder: Path, database: str, **env: str) -> dict[str, float]:
    """Run one child in `folder` (no .env there) on `database`; its report."""
    environment = {**os.environ, "DATABASE_URL": database, **env}
    environment.pop("SWITCHBOARD_CATALOG", None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{kind} child failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def fresh_database(url: str, folder: Path, name: str) -> str:
    """A new SQLite file in `folder`, or `url` emptied (PostgreSQL)."""
    if not url:
        return f"sqlite:///{folder / f'{name}.db'}"
    import asyncio

    from sqlalchemy import text

    from switchboard.storage import db

    async def empty() -> None:
        engine = db.create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(empty())
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--files", type=int, default=50)
    parser.add_argument("--database-url", default="", help="default: a SQLite file")
    parser.add_argument("--workers", default="1,2,4", help="reading processes to try, in turn")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        report = CHILDREN[kind](path)
        print(json.dumps({**report, "peak_mb": peak_rss_mb()}))
        return

    from backstage_catalog import write_backstage  # bench/ is on sys.path when run as a script

    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        folder = Path(tmp)
        catalog = folder / "catalog"
        write_backstage(catalog, args.services, args.files)
        size_mb = sum(f.stat().st_size for f in catalog.iterdir()) / 2**20
        bare = run_child("bare", catalog, folder, fresh_database("", folder, "bare"))
        plain = [run_child("yaml", catalog, folder, fresh_database("", folder, "yaml"))]
        runs = {}
        for workers in map(int, args.workers.split(",")):  # between baselines: the load drifts
            database = fresh_database(args.database_url, folder, f"import-{workers}")
            runs[workers] = run_child(
                "import", catalog, folder, database, SWITCHBOARD_CATALOG_WORKERS=str(workers)
            )
            plain.append(run_child("yaml", catalog, folder, fresh_database("", folder, "yaml")))
        again = run_child("import", catalog, folder, database, SWITCHBOARD_CATALOG_WORKERS="1")
        plain.append(run_child("yaml", catalog, folder, fresh_database("", folder, "yaml")))
    store = "PostgreSQL" if args.database_url else "SQLite"
    around = {w: (plain[i]["seconds"] + plain[i + 1]["seconds"]) / 2 for i, w in enumerate(runs)}
    around["again"] = (plain[-2]["seconds"] + plain[-1]["seconds"]) / 2
    first = next(iter(runs))
    imported = runs[first]
    base = around[first]
    ratio = imported["seconds"] / base
    print(
        f"catalog import: {args.services} services in {args.files} Backstage files "
        f"({size_mb:.1f} MB) into {store}, {first} reading process(es), in "
        f"{imported['seconds']:.1f} s; "
        f"yaml.load_all(CSafeLoader) of the same files {base:.1f} s (just before and after): "
        f"{ratio:.2f}x "
        f"(aim <= {AIM_RATIO:.1f}x): {'ok' if ratio <= AIM_RATIO else 'OVER'}"
    )
    print(
        "  reading processes: "
        + ", ".join(
            f"{w}: {r['seconds']:.1f} s ({r['seconds'] / base:.2f}x)" for w, r in runs.items()
        )
        + f"; again, nothing changed: {again['seconds']:.1f} s ({again['seconds'] / base:.2f}x)"
    )
    peak = imported["peak_mb"]
    print(
        f"  peak RSS {peak:.0f} MB (aim < {AIM_MB} MB): {'ok' if peak < AIM_MB else 'OVER'}; "
        f"a bare switchboard process {bare['peak_mb']:.0f} MB, so the import adds "
        f"{peak - bare['peak_mb']:.0f} MB; CSafeLoader's child {plain[0]['peak_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
