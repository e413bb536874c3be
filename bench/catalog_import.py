"""Importing a 50,000-service catalog: time and peak memory, against plain PyYAML.

Writes the native catalog `bench/load.py` imports on start (same generator), then runs, each
in a fresh child process:

- `switchboard catalog import FILE` into a fresh SQLite database (the code `serve` runs on
  start: parse, build records, write them in one transaction);
- the baseline for memory: a child that only imports Switchboard;
- the baseline for time: `yaml.load(text, Loader=yaml.CSafeLoader)` of the same file (libyaml
  parsing plain dicts and lists, no line numbers, no checks, no database).

Each child reports its own peak RSS (VmHWM from /proc/self/status). Printed: the import's
time and peak (aim: under 300 MB), what the import adds over a bare Switchboard process, and
the import's time as a multiple of plain CSafeLoader's.

    python bench/catalog_import.py [--services 50000]
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


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# the children, run as `catalog_import.py --child KIND FILE`


def child_import(path: str) -> dict[str, object]:
    from switchboard import cli

    start = time.perf_counter()
    code = cli.main(["catalog", "import", path])
    return {"seconds": time.perf_counter() - start, "exit": code}


def child_bare(path: str) -> dict[str, object]:
    from switchboard import app, cli  # noqa: F401  (what every switchboard process loads)

    return {}


def child_yaml(path: str) -> dict[str, object]:
    import yaml

    text = Path(path).read_text()
    start = time.perf_counter()
    data = yaml.load(text, Loader=yaml.CSafeLoader)
    return {"seconds": time.perf_counter() - start, "services": len(data["services"])}


CHILDREN = {"import": child_import, "bare": child_bare, "yaml": child_yaml}


def run_child(kind: str, path: Path, folder: Path) -> dict[str, float]:
    """Run one child in `folder` (no .env there) with its own SQLite database; its report."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / f'{kind}.db'}"}
    env.pop("SWITCHBOARD_CATALOG", None)
    done = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(path)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{kind} child failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--services", type=int, default=50_000)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, path = args.child
        report = CHILDREN[kind](path)
        print(json.dumps({**report, "peak_mb": peak_rss_mb()}))
        return

    from load import write_catalog  # bench/ is on sys.path when run as a script

    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        folder = Path(tmp)
        path = folder / "catalog.yaml"
        write_catalog(path, args.services)
        size_mb = path.stat().st_size / 2**20
        bare = run_child("bare", path, folder)
        plain = run_child("yaml", path, folder)
        imported = run_child("import", path, folder)
    peak = imported["peak_mb"]
    print(
        f"catalog import: {args.services} services ({size_mb:.1f} MB of YAML) in "
        f"{imported['seconds']:.1f} s, peak RSS {peak:.0f} MB (aim < {AIM_MB} MB): "
        f"{'ok' if peak < AIM_MB else 'OVER'}"
    )
    print(
        f"baseline: bare switchboard process peak RSS {bare['peak_mb']:.0f} MB; the import "
        f"adds {peak - bare['peak_mb']:.0f} MB ({peak / bare['peak_mb']:.2f}x)"
    )
    print(
        f"baseline: yaml.load(CSafeLoader) of the same file {plain['seconds']:.1f} s, peak RSS "
        f"{plain['peak_mb']:.0f} MB; the import takes {imported['seconds'] / plain['seconds']:.2f}x"
        " its time"
    )


if __name__ == "__main__":
    main()
