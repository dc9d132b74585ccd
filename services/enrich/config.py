"""The provider chain the settings describe: fleet file, cache, plate -> VIN provider, vPIC."""

from __future__ import annotations

import logging

import redis

from services.common.errors import InvalidRequest
from services.enrich.cache import ProfileCache
from services.enrich.enricher import Enricher, VinDecoder
from services.enrich.plate_to_vin import AuditLog, HttpPlateToVin
from services.enrich.provider_http import HttpPolicy, MinuteBudget, ProviderHttp
from services.enrich.providers import FleetFile, PlateProvider
from services.enrich.settings import EnrichSettings
from services.enrich.vpic import VpicDecoder

log = logging.getLogger("cardak.enrich")


def http_policy(settings: EnrichSettings, budget_per_minute: int) -> HttpPolicy:
    return HttpPolicy(
        timeout_seconds=settings.http_timeout_seconds,
        max_attempts=settings.http_max_attempts,
        backoff_seconds=settings.http_backoff_seconds,
        backoff_max_seconds=settings.http_backoff_max_seconds,
        max_retry_after_seconds=settings.http_max_retry_after_seconds,
        breaker_failures=settings.breaker_failures,
        breaker_reset_seconds=settings.breaker_reset_seconds,
        budget_per_minute=budget_per_minute,
    )


def provider_http(
    settings: EnrichSettings, client: redis.Redis, name: str, budget_per_minute: int, headers: dict[str, str] | None = None
) -> ProviderHttp:
    budget = MinuteBudget(client, f"{settings.namespace}:enrich:budget:{name}", budget_per_minute)
    return ProviderHttp(name, http_policy(settings, budget_per_minute), budget, headers)


def auth_header(value: str) -> dict[str, str]:
    """'Name: value' -> {Name: value}; InvalidRequest naming the setting when malformed."""
    if not value:
        return {}
    name, sep, rest = value.partition(":")
    if not sep or not name.strip() or not rest.strip():
        raise InvalidRequest("CARDAK_PLATE_VIN_AUTH_HEADER must look like 'Name: value', e.g. 'Authorization: Bearer abc'")
    return {name.strip(): rest.strip()}


def build_enricher(settings: EnrichSettings, client: redis.Redis) -> Enricher:
    """InvalidRequest (with the setting to change) when the configuration cannot be honoured,
    e.g. a plate-to-VIN URL without a DPPA permitted purpose."""
    providers: list[PlateProvider] = []
    if settings.fleet_file:
        fleet = FleetFile(settings.fleet_file)
        log.info("fleet file loaded", extra={"path": settings.fleet_file, "plates": len(fleet)})
        providers.append(fleet)
    if settings.plate_vin_url:
        http = provider_http(
            settings, client, settings.plate_vin_name, settings.plate_vin_budget_per_minute,
            auth_header(settings.plate_vin_auth_header),
        )
        providers.append(
            HttpPlateToVin(
                http, settings.plate_vin_url, settings.plate_vin_vin_path, settings.plate_vin_purpose,
                settings.plate_vin_operator, AuditLog(settings.audit_log),
            )
        )
        log.info(
            "plate-to-VIN look-ups on",
            extra={"provider": settings.plate_vin_name, "purpose": settings.plate_vin_purpose, "audit_log": settings.audit_log},
        )
    decoder: VinDecoder | None = None
    if settings.vpic_url:
        decoder = VpicDecoder(provider_http(settings, client, "vpic", settings.vpic_budget_per_minute), settings.vpic_url)
    cache = ProfileCache(client, settings.namespace, settings.cache_found_ttl_seconds, settings.cache_not_found_ttl_seconds)
    return Enricher(providers, decoder, cache)
