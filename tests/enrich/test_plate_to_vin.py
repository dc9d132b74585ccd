"""The plate -> VIN provider: refuses to run without a DPPA permitted purpose and an operator,
and writes every look-up (found, unknown or failed) to the audit log before and after it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import redis

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.enrich.config import build_enricher
from services.enrich.provider_http import ProviderUnavailable
from tests.enrich.conftest import settings_for
from tests.enrich.provider_server import ProviderServer


def _audit(path: Path) -> list[dict[str, str]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"plate_vin_purpose": ""}, "need a DPPA permitted purpose: set CARDAK_PLATE_VIN_PURPOSE to one of"),
        ({"plate_vin_purpose": "curiosity"}, r"got 'curiosity'"),
        ({"plate_vin_operator": ""}, "CARDAK_PLATE_VIN_OPERATOR"),
        ({"plate_vin_url": "http://127.0.0.1:9/lookup"}, r"must contain \{plate\}"),
        ({"plate_vin_auth_header": "Bearer abc"}, "must look like 'Name: value'"),
    ],
)
def test_refuses_to_start_without_what_the_law_and_the_url_need(
    server: ProviderServer, tmp_path: Path, client: redis.Redis, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        build_enricher(settings_for(server, tmp_path, **overrides), client)
    assert server.count("/plates/") == 0


def test_lookup_is_audited_before_and_after(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    enricher = build_enricher(settings_for(server, tmp_path), client)
    profile = enricher.enrich("jlm 7605", "tx", requester="sighting s-1")
    assert (profile.vin, profile.make, profile.model, profile.model_year) == ("1HGCM82633A004352", "HONDA", "Accord", 2003)
    assert profile.status == common_pb2.PROFILE_STATUS_FOUND
    assert (profile.source, profile.attributes["vin_decoder"]) == ("plate-vin", "vpic")
    lookup, result = _audit(tmp_path / "audit.jsonl")
    for record in (lookup, result):
        assert record["plate"] == "JLM7605" and record["region"] == "TX"
        assert record["purpose"] == "insurance" and record["provider"] == "plate-vin"
        assert record["who"].startswith("Acme Claims Ltd (test) via ")
        assert record["requester"] == "sighting s-1"
        assert record["at"].endswith("+00:00")
    assert (lookup["event"], result["event"], result["outcome"], result["vin"]) == ("lookup", "result", "found", "1HGCM82633A004352")


def test_unknown_plate_and_failures_are_audited_too(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    enricher = build_enricher(settings_for(server, tmp_path, http_max_attempts=1), client)
    assert enricher.enrich("NOPE1", "CA").status == common_pb2.PROFILE_STATUS_NOT_FOUND
    server.misbehave("500")
    with pytest.raises(ProviderUnavailable):
        enricher.enrich("7ABC123", "CA")
    outcomes = [(r["plate"], r["event"], r.get("outcome", "")) for r in _audit(tmp_path / "audit.jsonl")]
    assert outcomes == [
        ("NOPE1", "lookup", ""), ("NOPE1", "result", "not found"),
        ("7ABC123", "lookup", ""), ("7ABC123", "result", "failed: plate-vin did not answer after 1 attempt: HTTP 500"),
    ]


def test_auth_header_reaches_the_provider(server: ProviderServer, tmp_path: Path, client: redis.Redis) -> None:
    enricher = build_enricher(settings_for(server, tmp_path, plate_vin_auth_header="X-Api-Key: s3cret"), client)
    enricher.enrich("7ABC123", "CA")
    assert server.headers_seen("X-Api-Key") == ["s3cret"]  # the plate look-up only, not vPIC
