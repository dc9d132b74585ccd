"""ProviderHttp against a real loopback server: retries on slow answers, 500s, broken JSON and
dropped connections; Retry-After on 429; the circuit breaker; the per-minute budget in Redis."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from services.enrich.config import provider_http
from services.enrich.provider_http import BudgetExhausted, ProviderHttp, ProviderUnavailable, retry_after_seconds
from services.enrich.settings import EnrichSettings
from tests.enrich.conftest import settings_for
from tests.enrich.provider_server import ProviderServer

VIN = "1HGCM82633A004352"


def _decode(http: ProviderHttp, server: ProviderServer, vin: str = VIN) -> dict[str, object]:
    answer = http.get_json(f"{server.url}/api/vehicles/DecodeVinValues/{vin}", params={"format": "json"})
    assert isinstance(answer, dict)
    return answer["Results"][0]  # type: ignore[no-any-return]


def test_clean_answer_in_one_request(vpic_http: ProviderHttp, server: ProviderServer) -> None:
    assert _decode(vpic_http, server)["Make"] == "HONDA"
    assert server.count("/api/") == 1


@pytest.mark.parametrize("failure", [("slow", 1.5), ("500",), ("malformed",), ("drop",)])
def test_one_bad_answer_is_retried(vpic_http: ProviderHttp, server: ProviderServer, failure: tuple[object, ...]) -> None:
    server.misbehave(*failure)
    assert _decode(vpic_http, server)["Model"] == "Accord"
    assert server.count("/api/") == 2


def test_gives_up_after_max_attempts_with_a_message(vpic_http: ProviderHttp, server: ProviderServer, settings: EnrichSettings) -> None:
    for _ in range(settings.http_max_attempts):
        server.misbehave("500")
    with pytest.raises(ProviderUnavailable, match=r"vpic did not answer after 4 attempts: HTTP 500"):
        _decode(vpic_http, server)
    assert server.count("/api/") == settings.http_max_attempts


def test_429_waits_what_retry_after_asks(vpic_http: ProviderHttp, server: ProviderServer) -> None:
    server.misbehave("429", 1)
    started = time.monotonic()
    assert _decode(vpic_http, server)["Make"] == "HONDA"
    assert time.monotonic() - started >= 0.95  # the jittered backoff alone is under 0.05 s
    assert server.count("/api/") == 2


def test_429_with_a_long_retry_after_leaves_it_to_the_queue(vpic_http: ProviderHttp, server: ProviderServer) -> None:
    server.misbehave("429", 120)
    started = time.monotonic()
    with pytest.raises(ProviderUnavailable, match="throttling us for 120 s"):
        _decode(vpic_http, server)
    assert time.monotonic() - started < 1.0
    assert server.count("/api/") == 1


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    assert retry_after_seconds("7") == 7.0
    soon = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= (retry_after_seconds(soon) or 0) <= 31
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: go now
    assert retry_after_seconds("soon-ish") is None
    assert retry_after_seconds(None) is None


def test_circuit_opens_after_failures_in_a_row_and_closes_after_a_good_trial(
    server: ProviderServer, tmp_path: object, client: redis.Redis
) -> None:
    settings = settings_for(server, tmp_path, breaker_failures=3, breaker_reset_seconds=1.0, http_max_attempts=1)
    http = provider_http(settings, client, "vpic", 0)
    for _ in range(3):
        server.misbehave("500")
    for _ in range(3):
        with pytest.raises(ProviderUnavailable):
            _decode(http, server)
    assert server.count("/api/") == 3
    # Open: no request reaches the provider.
    with pytest.raises(ProviderUnavailable, match="is failing; not asked again for 1 s"):
        _decode(http, server)
    assert server.count("/api/") == 3
    time.sleep(1.1)
    assert _decode(http, server)["Make"] == "HONDA"  # the half-open trial succeeds and closes it
    assert _decode(http, server)["Make"] == "HONDA"
    assert server.count("/api/") == 5


def test_throttling_does_not_open_the_circuit(server: ProviderServer, tmp_path: object, client: redis.Redis) -> None:
    settings = settings_for(server, tmp_path, breaker_failures=2, http_max_attempts=1)
    http = provider_http(settings, client, "vpic", 0)
    for _ in range(3):
        server.misbehave("429", 0)
        with pytest.raises(ProviderUnavailable, match="1 attempt: HTTP 429"):
            _decode(http, server)
    assert _decode(http, server)["Make"] == "HONDA"


def test_budget_is_shared_by_replicas_through_redis(server: ProviderServer, tmp_path: object, client: redis.Redis) -> None:
    settings = settings_for(server, tmp_path)
    name = f"budgeted-{uuid.uuid4().hex[:6]}"
    replica_a = provider_http(settings, client, name, 3)
    replica_b = provider_http(settings, client, name, 3)
    # A minute boundary in the middle would refill the budget; start just after one.
    if time.time() % 60 > 55:
        time.sleep(60 - time.time() % 60 + 0.1)
    _decode(replica_a, server)
    _decode(replica_b, server)
    _decode(replica_a, server)
    with pytest.raises(BudgetExhausted, match="budget of 3 requests a minute is spent"):
        _decode(replica_b, server)
    assert server.count("/api/") == 3
