"""Calling a provider's HTTP API without hammering it or hanging on it.

Every request of a provider goes through one `ProviderHttp`:

  budget   at most N requests a minute, counted in Redis so every enrich replica shares it
           (a paid plate-to-VIN account is billed per request, however many pods ask);
  breaker  after `breaker_failures` failed requests in a row the provider is skipped for
           `breaker_reset_seconds`, then one trial request decides (breaker.py);
  retries  timeouts, dropped connections and 5xx are retried with exponential backoff and full
           jitter (tenacity); a 429 waits what its Retry-After asks, when that is short enough.

What cannot be answered now raises `ProviderUnavailable` (or `BudgetExhausted`): the enrich task
is retried later through sentinel, so a provider outage delays a profile but never loses it.
A 4xx other than 429 is the provider saying no (`ProviderRejected`): not retried, not a failure
of the provider.
"""

from __future__ import annotations

import email.utils
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import httpx
import redis
from prometheus_client import Counter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from services.common.errors import Overloaded, Unavailable
from services.enrich.breaker import CircuitBreaker, CircuitOpen

log = logging.getLogger("cardak.enrich")


REQUESTS = Counter(
    "cardak_enrich_provider_requests_total",
    "Requests sent to an enrichment provider, by outcome (ok, refused, throttled, error)",
    ["provider", "outcome"],
)
SKIPPED = Counter(
    "cardak_enrich_provider_skipped_total", "Requests not sent, by reason (circuit_open, budget)", ["provider", "reason"]
)


class ProviderUnavailable(Unavailable):
    """The provider could not answer now (down, slow, throttling, circuit open). Retry later."""


class BudgetExhausted(Overloaded):
    """This minute's request budget for the provider is spent. Retry later."""


class ProviderRejected(Exception):
    """The provider answered 4xx (other than 429): the request itself is refused; `status` tells."""

    def __init__(self, provider: str, status: int, body: str) -> None:
        super().__init__(f"{provider} answered HTTP {status}: {body[:200]}")
        self.status = status


class _Retryable(Exception):
    """One attempt failed in a way another attempt may not (timeout, drop, 5xx, 429)."""

    def __init__(self, message: str, retry_after: float | None = None, throttled: bool = False) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.throttled = throttled


class _Throttled(ProviderUnavailable):
    """A 429 asking for a longer wait than is worth holding a worker thread for."""


@dataclass(frozen=True)
class HttpPolicy:
    """How hard to try one provider; every field comes from EnrichSettings."""

    timeout_seconds: float = 5.0
    max_attempts: int = 4
    backoff_seconds: float = 0.2
    backoff_max_seconds: float = 5.0
    # A 429 asking for a longer wait than this is not waited out in-process: the task retries later.
    max_retry_after_seconds: float = 10.0
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0
    budget_per_minute: int = 0  # 0: no budget


# INCR the minute's counter; the first request of a minute sets it to expire with the minute.
_TAKE = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class MinuteBudget:
    """At most `limit` requests per wall-clock minute for one provider, shared through Redis."""

    def __init__(self, client: redis.Redis, key: str, limit: int) -> None:
        self._client = client
        self._key = key
        self._limit = limit
        self._take = client.register_script(_TAKE)

    def take(self) -> bool:
        """Count one request; False when this minute's budget was already spent."""
        if self._limit <= 0:
            return True
        minute = int(time.time() // 60)
        used = int(self._take(keys=[f"{self._key}:{minute}"], args=[120]))
        return used <= self._limit


class ProviderHttp:
    """GET/POST JSON for one named provider under an HttpPolicy. Thread-safe."""

    def __init__(
        self,
        name: str,
        policy: HttpPolicy,
        budget: MinuteBudget | None = None,
        headers: dict[str, str] | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.name = name
        self._policy = policy
        self._budget = budget
        self._client = client or httpx.Client(
            timeout=policy.timeout_seconds,
            headers={"User-Agent": "cardak-enrich/0.1", **(headers or {})},
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
        )
        self.breaker = CircuitBreaker(name, policy.breaker_failures, policy.breaker_reset_seconds)
        self.requests_sent = 0  # for tests and the benchmark: what actually went on the wire

    def get_json(self, url: str, params: dict[str, str] | None = None) -> Any:
        return self._call("GET", url, params=params)

    def post_form_json(self, url: str, data: dict[str, str]) -> Any:
        return self._call("POST", url, data=data)

    def close(self) -> None:
        self._client.close()

    def _call(self, method: str, url: str, **kwargs: Any) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self._policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Retryable),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._attempt(method, url, **kwargs)
        except _Retryable as exc:
            tries = self._policy.max_attempts
            raise ProviderUnavailable(
                f"{self.name} did not answer after {tries} attempt{'s' if tries != 1 else ''}: {exc}"
            ) from exc
        except CircuitOpen as exc:
            raise ProviderUnavailable(str(exc)) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _attempt(self, method: str, url: str, **kwargs: Any) -> Any:
        if self._budget is not None and not self._budget.take():
            SKIPPED.labels(provider=self.name, reason="budget").inc()
            raise BudgetExhausted(
                f"{self.name}: the budget of {self._policy.budget_per_minute} requests a minute is spent"
            )
        try:
            self.breaker.before_call()
        except CircuitOpen:
            SKIPPED.labels(provider=self.name, reason="circuit_open").inc()
            raise
        try:
            answer = self._send(method, url, **kwargs)
        except Exception as exc:
            # Only real outages count against the provider: a refusal or throttling does not.
            if _not_an_outage(exc):
                self.breaker.succeeded()
                outcome = "refused" if isinstance(exc, ProviderRejected) else "throttled"
            else:
                self.breaker.failed()
                outcome = "error"
            REQUESTS.labels(provider=self.name, outcome=outcome).inc()
            raise
        self.breaker.succeeded()
        REQUESTS.labels(provider=self.name, outcome="ok").inc()
        return answer

    def _send(self, method: str, url: str, **kwargs: Any) -> Any:
        self.requests_sent += 1
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timed out after {self._policy.timeout_seconds:g} s") from exc
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed: {exc.__class__.__name__}: {exc}") from exc
        if response.status_code == 429:
            wait = retry_after_seconds(response.headers.get("Retry-After"))
            if wait is not None and wait > self._policy.max_retry_after_seconds:
                # Not worth holding a worker thread: let the queue bring the task back later.
                raise _Throttled(f"{self.name} is throttling us for {wait:g} s (HTTP 429 Retry-After)")
            raise _Retryable("HTTP 429 Too Many Requests", retry_after=wait, throttled=True)
        if response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        if response.status_code >= 400:
            raise ProviderRejected(self.name, response.status_code, response.text)
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            # A proxy's error page or a truncated body: the next attempt may get the real answer.
            raise _Retryable(f"answer is not JSON ({exc})") from exc

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        jitter = wait_random_exponential(multiplier=self._policy.backoff_seconds, max=self._policy.backoff_max_seconds)
        return float(jitter(state))


def _not_an_outage(exc: BaseException) -> bool:
    """A refusal or throttling: the provider is up, so its circuit stays closed."""
    return isinstance(exc, (ProviderRejected, _Throttled)) or (isinstance(exc, _Retryable) and exc.throttled)


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header (delay-seconds or an HTTP-date) as seconds from now; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
