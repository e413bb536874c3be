"""Telling glibc's malloc to give memory back to the system (a no-op elsewhere).

CPython's small objects live in its own arenas, but every larger allocation (the catalog
import's batches, SQLite's page caches, request bodies) goes to malloc. glibc gives each
thread that allocates an arena of its own (aiosqlite runs each SQLite connection in a
thread), and keeps what is freed in them: measured under `bench/load.py`, the bot's peak
RSS was 20 MB lower with two arenas than with glibc's default of eight per core."""

from __future__ import annotations

import contextlib
import ctypes
import functools

_M_ARENA_MAX = -8  # mallopt's parameter, from glibc's malloc.h
ARENAS = 2


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library the interpreter runs on, when it is glibc (only glibc has malloc_trim)."""
    try:
        libc = ctypes.CDLL(None)  # the process's own symbols, the C library's among them
    except OSError:
        return None
    return libc if hasattr(libc, "malloc_trim") else None


def fewer_arenas() -> None:
    """At most ARENAS malloc arenas from now on: call it before threads start."""
    if (libc := _libc()) is not None:
        libc.mallopt(_M_ARENA_MAX, ARENAS)


def give_back() -> None:
    """Return the free memory at the top and inside malloc's heaps to the system: after
    the catalog import, whose transient objects are gone by then."""
    if (libc := _libc()) is not None:
        with contextlib.suppress(OSError):
            libc.malloc_trim(0)
