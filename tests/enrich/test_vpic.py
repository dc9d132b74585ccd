"""VpicDecoder on vPIC-shaped answers from the loopback server: single and batch decoding."""

from __future__ import annotations

import pytest

from cardak.v1 import common_pb2
from services.enrich.provider_http import ProviderHttp, ProviderUnavailable
from services.enrich.vpic import BATCH_LIMIT, VpicDecoder, profile_from_result
from tests.enrich.provider_server import VEHICLES, ProviderServer


@pytest.fixture
def vpic(vpic_http: ProviderHttp, server: ProviderServer) -> VpicDecoder:
    return VpicDecoder(vpic_http, f"{server.url}/api/")


def test_decode_fills_the_profile_from_vpic_fields(vpic: VpicDecoder) -> None:
    profile = vpic.decode("5YJSA1E14FF087599")
    assert (profile.model_year, profile.make, profile.model) == (2015, "TESLA", "Model S")
    assert (profile.body_class, profile.fuel_type) == ("Hatchback/Liftback/Notchback", "Electricity")
    assert profile.status == common_pb2.PROFILE_STATUS_FOUND
    assert profile.source == "vpic"
    assert profile.attributes["PlantCity"] == "FREMONT"
    assert "vpic_error_code" not in profile.attributes


def test_vin_vpic_knows_nothing_about_is_not_found_with_vpics_reason(vpic: VpicDecoder) -> None:
    profile = vpic.decode("1M8GDM9AXKP042788")
    assert profile.status == common_pb2.PROFILE_STATUS_NOT_FOUND
    assert profile.attributes["vpic_error_code"] == "8"
    assert "No detailed data" in profile.attributes["vpic_error_text"]


def test_errors_with_a_make_are_partial() -> None:
    result = {"Make": "FORD", "Model": "", "ModelYear": "2013", "ErrorCode": "1,11", "ErrorText": "1 - Check Digit..."}
    profile = profile_from_result("1FTFW1CT5DFC10312", result)
    assert profile.status == common_pb2.PROFILE_STATUS_PARTIAL
    assert (profile.make, profile.model_year) == ("FORD", 2013)


def test_batch_decodes_many_vins_per_request(vpic: VpicDecoder, server: ProviderServer) -> None:
    known = sorted(VEHICLES)
    decoded = vpic.decode_many(known + [known[0]])  # a repeat is asked once
    assert {vin: p.make for vin, p in decoded.items()} == {vin: VEHICLES[vin]["Make"] for vin in known}
    assert server.count("/api/vehicles/DecodeVINValuesBatch") == 1


def test_batch_splits_at_vpics_limit(vpic: VpicDecoder, server: ProviderServer) -> None:
    vins = [f"1HGCM82633A{n:06d}" for n in range(BATCH_LIMIT + 10)]
    decoded = vpic.decode_many(vins)
    assert len(decoded) == len(vins)
    assert server.count("/api/vehicles/DecodeVINValuesBatch") == 2


def test_a_200_without_results_is_retried_as_an_outage(vpic: VpicDecoder, server: ProviderServer) -> None:
    server.misbehave("no-results")
    with pytest.raises(ProviderUnavailable, match="no Results"):
        vpic.decode("1HGCM82633A004352")
