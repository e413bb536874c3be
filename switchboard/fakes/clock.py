"""A clock that only moves when told to, for fakes and the tests that drive them."""

from __future__ import annotations


class ManualClock:
    """Epoch seconds as a callable (`clock()`), moved with `advance()`."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
