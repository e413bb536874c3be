"""How long work tells how far it got, and how a terminal shows it.

Work takes a `Progress`: a callable told `(what, done, total)` ("files read", 12, 50) as it
goes, from any thread. `quiet` ignores it. `on_terminal` gives a rich progress display on
stderr that appears only once the work has run for a second (with a rate and an estimate
when the total is known), and vanishes when it ends, leaving the command's one summary line;
`quiet` when stderr is no terminal, or when asked to be.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, Any

Progress = Callable[[str, int, int], None]  # what, done so far, total (0: not known)
SHOW_AFTER = 1.0  # seconds: shorter work shows nothing


def quiet(what: str, done: int, total: int) -> None:
    return None


@contextmanager
def on_terminal(
    *, asked_quiet: bool = False, stream: IO[str] | None = None, after: float = SHOW_AFTER
) -> Iterator[Progress]:
    """A `Progress` shown on `stream` (stderr) from `after` seconds on while the block runs,
    if it is a terminal."""
    out = stream or sys.stderr
    if asked_quiet or not out.isatty():
        yield quiet
        return
    display = _Display(out)
    timer = threading.Timer(after, display.show)
    timer.daemon = True
    timer.start()
    try:
        yield display.tell
    finally:
        timer.cancel()
        display.close()


class _Display:
    """rich's Progress, started late; one task per `what`, the stage before it completed."""

    def __init__(self, out: IO[str]) -> None:
        from rich.console import Console  # rich only where a terminal shows it
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as RichProgress

        self._bar = RichProgress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("left"),
            console=Console(file=out),
            transient=True,
        )
        self._tasks: dict[str, Any] = {}
        self._began: dict[str, float] = {}
        self._lock = threading.Lock()
        self._shown = False
        self._closed = False

    def tell(self, what: str, done: int, total: int) -> None:
        with self._lock:
            task = self._tasks.get(what)
            if task is None:
                task = self._bar.add_task(what, total=total or None, rate="")
                self._tasks[what] = task
                self._began[what] = time.monotonic()
            took = time.monotonic() - self._began[what]
            rate = f"{done / took:,.0f}/s" if total > 1 and took > 0.1 else ""
            self._bar.update(task, completed=done, total=total or None, rate=rate)

    def show(self) -> None:
        with self._lock:
            if not self._closed:
                self._bar.start()
                self._shown = True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._shown:
                self._bar.stop()


def stage(progress: Progress, what: str) -> Callable[[], None]:
    """For work with no count: tells `what` has begun (a spinner); the result ends it."""
    progress(what, 0, 0)
    return lambda: progress(what, 1, 1)
