"""Retry delay policy for nack()."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff: base * factor**(attempt-1), capped, then spread by +/- jitter.

    jitter is a fraction (0.2 = +/-20%) so retries of tasks that failed together
    (e.g. a downstream outage) don't come back in one burst.
    """

    base: float = 1.0
    factor: float = 2.0
    cap: float = 300.0
    jitter: float = 0.2

    def __post_init__(self) -> None:
        if self.base < 0 or self.factor < 1 or self.cap < 0 or not 0 <= self.jitter <= 1:
            raise ValueError(f"invalid backoff {self!r}")

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before the retry that follows failed attempt ``attempt`` (1-based)."""
        exponent = max(attempt, 1) - 1
        try:
            raw = self.base * self.factor**exponent
        except OverflowError:
            raw = self.cap
        capped = min(raw, self.cap)
        if self.jitter:
            spread = (rng or random).uniform(-self.jitter, self.jitter)
            capped *= 1.0 + spread
        return max(capped, 0.0)
