"""The circuit breaker's states on a controlled clock: closed, open, one half-open trial."""

from __future__ import annotations

import pytest

from services.enrich.breaker import CircuitBreaker, CircuitOpen


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_opens_after_failures_in_a_row_only(clock: Clock) -> None:
    breaker = CircuitBreaker("p", failures=3, reset_seconds=30, clock=clock)
    for _ in range(2):
        breaker.before_call()
        breaker.failed()
    breaker.before_call()
    breaker.succeeded()  # a success in between starts the count again
    for _ in range(2):
        breaker.before_call()
        breaker.failed()
    assert breaker.state == "closed"
    breaker.failed()
    assert breaker.state == "open"
    with pytest.raises(CircuitOpen, match="p is failing; not asked again for 30 s"):
        breaker.before_call()


def test_half_open_lets_exactly_one_trial_through(clock: Clock) -> None:
    breaker = CircuitBreaker("p", failures=1, reset_seconds=30, clock=clock)
    breaker.failed()
    clock.now += 29.5
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 1
    assert breaker.state == "half-open"
    breaker.before_call()  # the trial
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # everyone else waits for its outcome
    breaker.succeeded()
    assert breaker.state == "closed"
    breaker.before_call()


def test_failed_trial_opens_for_another_period(clock: Clock) -> None:
    breaker = CircuitBreaker("p", failures=5, reset_seconds=10, clock=clock)
    for _ in range(5):
        breaker.failed()
    clock.now += 10
    breaker.before_call()
    breaker.failed()  # one failure is enough while half-open
    assert breaker.state == "open"
    clock.now += 9
    with pytest.raises(CircuitOpen, match="for 1 s"):
        breaker.before_call()
