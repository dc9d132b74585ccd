"""A loopback provider server per test, and the machine's Redis (embedded when none) for the
cache and the request budgets, under a namespace of its own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import redis

from services.enrich.config import build_enricher, provider_http
from services.enrich.enricher import Enricher
from services.enrich.provider_http import ProviderHttp
from services.enrich.settings import EnrichSettings
from tests.enrich.provider_server import ProviderServer


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    with ProviderServer() as running:
        yield running


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def settings_for(server: ProviderServer, tmp_path: object, **overrides: object) -> EnrichSettings:
    """Settings that point every provider at `server`, with retries quick enough for a test."""
    values: dict[str, object] = {
        "namespace": f"test-{uuid.uuid4().hex[:10]}",
        "vpic_url": f"{server.url}/api",
        "plate_vin_url": server.url + "/plates/{region}/{plate}",
        "plate_vin_vin_path": "data.vehicle.vin",
        "plate_vin_purpose": "insurance",
        "plate_vin_operator": "Acme Claims Ltd (test)",
        "audit_log": str(tmp_path) + "/audit.jsonl",  # type: ignore[operator]
        "http_timeout_seconds": 0.5,
        "http_backoff_seconds": 0.01,
        "http_backoff_max_seconds": 0.05,
        "breaker_failures": 50,
    }
    values.update(overrides)
    return EnrichSettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(server: ProviderServer, tmp_path: object) -> EnrichSettings:
    return settings_for(server, tmp_path)


@pytest.fixture
def enricher(settings: EnrichSettings, client: redis.Redis) -> Enricher:
    return build_enricher(settings, client)


@pytest.fixture
def vpic_http(settings: EnrichSettings, client: redis.Redis) -> ProviderHttp:
    return provider_http(settings, client, "vpic", 0)
