"""The Enricher with its real parts: fleet file, Redis cache, plate -> VIN provider and vPIC on the
loopback server. The cache answers repeats with no request; failures are never cached."""

from __future__ import annotations

from pathlib import Path

import pytest
import redis

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.enrich.cache import ProfileCache
from services.enrich.config import build_enricher
from services.enrich.enricher import Enricher
from services.enrich.provider_http import ProviderUnavailable
from services.enrich.settings import EnrichSettings
from tests.enrich.conftest import settings_for
from tests.enrich.provider_server import ProviderServer


def _cache(settings: EnrichSettings, client: redis.Redis) -> ProfileCache:
    return ProfileCache(client, settings.namespace, settings.cache_found_ttl_seconds, settings.cache_not_found_ttl_seconds)


def test_second_lookup_is_answered_from_the_cache(enricher: Enricher, server: ProviderServer) -> None:
    first = enricher.enrich("7ABC123", "CA")
    assert (first.make, first.model, first.model_year) == ("TESLA", "Model S", 2015)
    assert (server.count("/plates/"), server.count("/api/")) == (1, 1)
    again = enricher.enrich("7abc-123", "ca")
    assert again == first  # fetched_at included: it is the cached answer
    assert (server.count("/plates/"), server.count("/api/")) == (1, 1)


def test_found_and_not_found_answers_keep_their_own_ttls(
    server: ProviderServer, tmp_path: Path, client: redis.Redis
) -> None:
    settings = settings_for(server, tmp_path, cache_found_ttl_seconds=5000, cache_not_found_ttl_seconds=60)
    enricher = build_enricher(settings, client)
    enricher.enrich("FRD1234", "NY")
    assert enricher.enrich("NOBODY1", "NY").status == common_pb2.PROFILE_STATUS_NOT_FOUND
    cache = _cache(settings, client)
    assert 4990 <= cache.ttl("plate", "NY:FRD1234") <= 5000
    assert 50 <= cache.ttl("plate", "NY:NOBODY1") <= 60
    assert 4990 <= cache.ttl("vin", "1FTFW1CT5DFC10312") <= 5000
    enricher.enrich("NOBODY1", "NY")
    assert server.count("/plates/") == 2  # the not-found answer was reused too


def test_a_failure_is_not_cached(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    enricher = build_enricher(settings_for(server, tmp_path, http_max_attempts=1), client)
    server.misbehave("drop")
    with pytest.raises(ProviderUnavailable, match="connection failed"):
        enricher.enrich("JLM7605", "TX")
    assert enricher.enrich("JLM7605", "TX").make == "HONDA"
    assert server.count("/plates/") == 2


def test_vpic_outage_fails_the_lookup_for_a_retry(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    enricher = build_enricher(settings_for(server, tmp_path, http_max_attempts=1), client)
    server.misbehave("ok")  # the plate look-up
    server.misbehave("500")  # vPIC
    with pytest.raises(ProviderUnavailable, match="vpic"):
        enricher.enrich("JLM7605", "TX")
    assert enricher.enrich("JLM7605", "TX").model == "Accord"


def test_fleet_file_answers_first_and_is_not_cached(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("- plate: JLM-7605\n  region: TX\n  make: OURS\n  model_year: 2021\n- {plate: VINONLY1, vin: 1FTFW1CT5DFC10312}\n")
    settings = settings_for(server, tmp_path, fleet_file=str(fleet))
    enricher = build_enricher(settings, client)
    ours = enricher.enrich("JLM7605", "TX")
    assert (ours.make, ours.model_year, ours.source) == ("OURS", 2021, "fleet-file")
    assert server.count("/plates/") == 0
    assert _cache(settings, client).ttl("plate", "TX:JLM7605") == -2
    # A fleet row with only a VIN is completed by vPIC.
    vin_only = enricher.enrich("VINONLY1")
    assert (vin_only.make, vin_only.model, vin_only.attributes["vin_decoder"]) == ("FORD", "F-150", "vpic")


def test_fleet_vins_are_decoded_in_one_batch_ahead_of_time(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("plate,vin,make\nA1,1FTFW1CT5DFC10312,\nA2,JH4KA7561PC008269,\nA3,5YJSA1E14FF087599,TESLA\n")
    enricher = build_enricher(settings_for(server, tmp_path, fleet_file=str(fleet)), client)
    assert enricher.warm_fleet_vins() == 2
    assert server.count("/api/vehicles/DecodeVINValuesBatch") == 1
    assert enricher.enrich("A2").model == "Legend"
    assert server.count("/api/") == 1  # answered from the cache the batch filled


def test_decode_vin_uses_vpic_then_the_cache_and_rejects_bad_vins_unasked(
    enricher: Enricher, server: ProviderServer
) -> None:
    profile = enricher.decode_vin("jh4ka7561pc008269")
    assert (profile.make, profile.model, profile.model_year, profile.status) == (
        "ACURA", "Legend", 1993, common_pb2.PROFILE_STATUS_FOUND)
    enricher.decode_vin("JH4KA7561PC008269")
    assert server.count("/api/") == 1
    with pytest.raises(InvalidRequest, match="check digit"):
        enricher.decode_vin("JH4KA7562PC008269")
    assert server.count("/api/") == 1


def test_offline_answer_says_why(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    fleet = tmp_path / "fleet.csv"
    fleet.write_text("plate,vin\nVINONLY1,1FTFW1CT5DFC10312\n")
    enricher = build_enricher(settings_for(server, tmp_path, fleet_file=str(fleet)), client)
    known = enricher.enrich_offline("VINONLY1", "", reason="vpic is failing")
    assert (known.make, known.model_year, known.attributes["vin_decoder"]) == ("FORD", 2013, "vin-offline")
    assert known.attributes["unavailable"] == "vpic is failing"
    unknown = enricher.enrich_offline("ZZZ999", "CA", reason="plate-vin is failing")
    assert unknown.status == common_pb2.PROFILE_STATUS_NOT_FOUND
    assert server.count("/") == 0
