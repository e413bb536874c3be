"""Reading catalog files in worker processes, for big catalogs on machines with more cores.

A worker is `python -m switchboard.bot.catalog.reading`: it reads the (index, file, root)
list pickled on its stdin, reads each file as `loader` does in one process, and writes the
(index, SourceFile) pairs pickled on its stdout. Only this process's own children are read
this way, so what is unpickled is what our own code wrote. A worker imports the catalog
modules only (not the bot, as a multiprocessing child of `switchboard` would: it imports the
main module again), so it starts in a tenth of a second.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from switchboard.bot.catalog.yamlsource import SourceFile

Job = tuple[int, Path, Path]  # the file's place in the wave, the file, its import's folder


def read_apart(
    files: list[tuple[Path, Path]], workers: int, read: Callable[[Path, Path], SourceFile]
) -> list[SourceFile]:
    """`[read(path, root) for path, root in files]`, shared between `workers` processes; the
    files given out biggest first, each to the worker with the fewest bytes so far."""
    shares: list[list[Job]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for index, (path, root) in sorted(enumerate(files), key=lambda job: -_size(job[1][0])):
        least = loads.index(min(loads))
        shares[least].append((index, path, root))
        loads[least] += _size(path)
    results: list[SourceFile | None] = [None] * len(files)
    with ThreadPoolExecutor(workers) as threads:
        for pairs in threads.map(_run_worker, [share for share in shares if share]):
            for index, source in pairs:
                results[index] = source
    return [source if source else read(*files[i]) for i, source in enumerate(results)]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # reported when the file is read
        return 0


def _run_worker(jobs: list[Job]) -> list[tuple[int, SourceFile]]:
    """What a worker read; nothing if it failed (killed, out of memory): then this process
    reads its files."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "switchboard.bot.catalog.reading"],
            input=pickle.dumps(jobs),
            capture_output=True,
            check=True,
        )
        pairs: list[tuple[int, SourceFile]] = pickle.loads(done.stdout)
    except (OSError, subprocess.SubprocessError, pickle.UnpicklingError, EOFError):
        return []
    return pairs


def _work() -> None:
    from switchboard.bot.catalog.loader import read_file_alone

    jobs: list[Job] = pickle.loads(sys.stdin.buffer.read())
    pairs = [(index, read_file_alone(path, root)) for index, path, root in jobs]
    sys.stdout.buffer.write(pickle.dumps(pairs, protocol=pickle.HIGHEST_PROTOCOL))


if __name__ == "__main__":
    _work()
