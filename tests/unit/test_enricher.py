"""FleetFile (the operator's CSV of vehicles) and the Enricher's provider chain."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.enrich.enricher import Enricher
from services.enrich.providers import FleetFile

HONDA_VIN = "1HGCM82633A004352"  # HONDA, 2003


def _fleet(tmp_path: Path, text: str, name: str = "fleet.csv") -> FleetFile:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return FleetFile(path)


FLEET_CSV = (
    "plate,region,vin,model_year,make,model,body_class,fuel_type\n"
    "CDK-4217,,,2019,TOYOTA,Prius,Hatchback,Hybrid\n"
    "ABC123,,,2015,FORD,Focus,,\n"
    "abc 123,ca,,2021,TESLA,Model 3,Sedan,Electric\n"
    f"VIN0NLY,,{HONDA_VIN.lower()},,,,,\n"
    f"HALF1,,{HONDA_VIN},,KEEPME,,,\n"
    f"FULL1,,{HONDA_VIN},1999,SOMEMAKE,,,\n"
    "BADVIN1,,1HGCM82643A004352,,,,,\n"
    ",,,2000,GHOST,,,\n"
)


@pytest.fixture
def fleet(tmp_path: Path) -> FleetFile:
    return _fleet(tmp_path, FLEET_CSV)


# --- FleetFile -------------------------------------------------------------------------------


def test_fleet_file_reads_rows_and_skips_rows_without_plate(fleet: FleetFile) -> None:
    # 7 rows with a plate; the row with an empty plate is dropped.
    assert len(fleet) == 7


def test_fleet_file_lookup_fills_every_column(fleet: FleetFile) -> None:
    profile = fleet.lookup("CDK4217", "")
    assert profile is not None
    assert (profile.plate, profile.make, profile.model, profile.model_year) == ("CDK4217", "TOYOTA", "Prius", 2019)
    assert (profile.body_class, profile.fuel_type) == ("Hatchback", "Hybrid")
    assert profile.source == "fleet-file"
    assert profile.status == common_pb2.PROFILE_STATUS_FOUND


def test_region_specific_row_beats_region_less_row(fleet: FleetFile) -> None:
    california = fleet.lookup("ABC123", "ca")
    assert california is not None
    assert (california.make, california.region) == ("TESLA", "CA")
    elsewhere = fleet.lookup("ABC123", "ny")
    assert elsewhere is not None
    assert (elsewhere.make, elsewhere.region) == ("FORD", "NY")


def test_region_specific_row_wins_whatever_the_row_order(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, "plate,region,make\nXYZ9,TX,DODGE\nXYZ9,,JEEP\n")
    assert fleet.lookup("XYZ9", "TX").make == "DODGE"  # type: ignore[union-attr]
    assert fleet.lookup("XYZ9", "").make == "JEEP"  # type: ignore[union-attr]


def test_region_only_row_does_not_match_another_region(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, "plate,region,make\nXYZ9,TX,DODGE\n")
    assert fleet.lookup("XYZ9", "OK") is None
    assert fleet.lookup("XYZ9", "") is None


def test_fleet_file_with_only_a_plate_column(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, "plate\nabc-1\n")
    profile = fleet.lookup("ABC1", "NV")
    assert profile is not None
    assert (profile.make, profile.model_year, profile.region) == ("", 0, "NV")


def test_non_numeric_model_year_becomes_zero(tmp_path: Path) -> None:
    fleet = _fleet(tmp_path, "plate,model_year\nP1,unknown\n")
    assert fleet.lookup("P1", "").model_year == 0  # type: ignore[union-attr]


def test_unknown_columns_raise(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="colour"):
        _fleet(tmp_path, "plate,colour\nABC1,red\n")


@pytest.mark.parametrize("text", ["vin,make\n1HGCM82633A004352,HONDA\n", "", "Plate,make\nA1,X\n"])
def test_missing_plate_header_raises(tmp_path: Path, text: str) -> None:
    with pytest.raises(InvalidRequest, match="plate"):
        _fleet(tmp_path, text)


# --- Enricher --------------------------------------------------------------------------------


def test_plate_is_normalised_before_lookup(fleet: FleetFile) -> None:
    profile = Enricher([fleet]).enrich("cdk-4217")
    assert profile.status == common_pb2.PROFILE_STATUS_FOUND
    assert profile.plate == "CDK4217"
    assert profile.make == "TOYOTA"


def test_region_is_passed_to_the_provider(fleet: FleetFile) -> None:
    assert Enricher([fleet]).enrich(" abc.123 ", "CA").make == "TESLA"


def test_row_with_only_a_vin_gets_make_and_year_from_the_vin(fleet: FleetFile) -> None:
    profile = Enricher([fleet]).enrich("vin0nly")
    assert profile.vin == HONDA_VIN
    assert profile.make == "HONDA"
    assert profile.model_year == 2003
    assert profile.source == "fleet-file"
    assert profile.status == common_pb2.PROFILE_STATUS_FOUND


def test_vin_fills_only_the_gaps(fleet: FleetFile) -> None:
    half = Enricher([fleet]).enrich("HALF1")
    assert (half.make, half.model_year) == ("KEEPME", 2003)
    full = Enricher([fleet]).enrich("FULL1")
    assert (full.make, full.model_year) == ("SOMEMAKE", 1999)


def test_unusable_vin_is_kept_without_raising(fleet: FleetFile) -> None:
    profile = Enricher([fleet]).enrich("BADVIN1")
    assert profile.vin == "1HGCM82643A004352"
    assert (profile.make, profile.model_year) == ("", 0)
    assert profile.status == common_pb2.PROFILE_STATUS_FOUND


def test_unknown_plate_gives_not_found_profile(fleet: FleetFile) -> None:
    profile = Enricher([fleet]).enrich("zz 999", "OR")
    assert profile.status == common_pb2.PROFILE_STATUS_NOT_FOUND
    assert (profile.plate, profile.region, profile.source) == ("ZZ999", "OR", "none")
    assert profile.make == ""
    assert profile.HasField("fetched_at")


def test_no_providers_gives_not_found() -> None:
    assert Enricher([]).enrich("ABC1").status == common_pb2.PROFILE_STATUS_NOT_FOUND


@pytest.mark.parametrize("plate", ["", "   ", "-- . --"])
def test_empty_plate_raises(fleet: FleetFile, plate: str) -> None:
    with pytest.raises(InvalidRequest, match="empty"):
        Enricher([fleet]).enrich(plate)


def test_first_provider_that_knows_the_plate_answers(tmp_path: Path) -> None:
    first = _fleet(tmp_path, "plate,make\nONE1,FIRST\n", "first.csv")
    second = _fleet(tmp_path, "plate,make\nONE1,SECOND\nTWO2,SECOND\n", "second.csv")
    enricher = Enricher([first, second])
    assert enricher.enrich("ONE1").make == "FIRST"
    assert enricher.enrich("TWO2").make == "SECOND"


def test_fetched_at_is_set_to_now(fleet: FleetFile) -> None:
    before = datetime.now(timezone.utc) - timedelta(seconds=1)
    profile = Enricher([fleet]).enrich("CDK4217")
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    assert profile.HasField("fetched_at")
    assert before <= profile.fetched_at.ToDatetime(timezone.utc) <= after


def test_decode_vin_is_partial_with_fetched_at() -> None:
    profile = Enricher([]).decode_vin(HONDA_VIN)
    assert profile.status == common_pb2.PROFILE_STATUS_PARTIAL
    assert profile.make == "HONDA"
    assert profile.HasField("fetched_at")
    with pytest.raises(InvalidRequest):
        Enricher([]).decode_vin("NOTAVIN")
