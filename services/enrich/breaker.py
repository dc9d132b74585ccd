"""A circuit breaker per provider: stop asking a provider that keeps failing, try again later.

States (all changes under one lock; the guarded call itself runs outside it, so concurrent
requests to a healthy provider never wait on each other, which pybreaker's lock around every
call did: 10 look-ups/s at 32 threads against a 50 ms provider, see bench/enrich.py):

  closed     calls go through; `failures` failures in a row open the circuit.
  open       calls fail at once with CircuitOpen until `reset_seconds` have passed.
  half-open  exactly one trial call goes through (the others still fail at once);
             its success closes the circuit, its failure opens it for another period.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitOpen(Exception):
    def __init__(self, name: str, retry_in: float) -> None:
        super().__init__(f"{name} is failing; not asked again for {retry_in:.0f} s")
        self.retry_in = retry_in


class CircuitBreaker:
    def __init__(
        self, name: str, failures: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.name = name
        self._max_failures = max(1, failures)
        self._reset_seconds = reset_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            return "half-open" if self._clock() - self._opened_at >= self._reset_seconds else "open"

    def before_call(self) -> None:
        """Raise CircuitOpen unless a call may go through now (claiming the trial when half-open)."""
        with self._lock:
            if self._opened_at is None:
                return
            waited = self._clock() - self._opened_at
            if waited < self._reset_seconds or self._trial_running:
                raise CircuitOpen(self.name, max(0.0, self._reset_seconds - waited))
            self._trial_running = True

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._trial_running = False

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            if self._trial_running or self._failures >= self._max_failures:
                self._opened_at = self._clock()
            self._trial_running = False
