"""Offline VIN decoding: syntax, check digit, manufacturer (WMI) and model year.

What the 17 characters alone tell, with no network: the result is a partial profile.
"""

from __future__ import annotations

import re

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest

_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")  # I, O and Q are never used
_TRANSLITERATION = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9))),
    **dict(zip("JKLMN", range(1, 6))),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10))),
}
_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Position 10 cycles every 30 years through these codes, starting at 1980 (and 2010).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"

# World manufacturer identifiers of common makes on North American roads (first 3 characters).
_WMI = {
    "1FA": "FORD", "1FD": "FORD", "1FM": "FORD", "1FT": "FORD", "2FA": "FORD", "3FA": "FORD",
    "1G1": "CHEVROLET", "1GC": "CHEVROLET", "1GN": "CHEVROLET", "2G1": "CHEVROLET", "3GN": "CHEVROLET",
    "1GT": "GMC", "1GK": "GMC", "1G6": "CADILLAC", "1GY": "CADILLAC", "2GT": "GMC",
    "1C3": "CHRYSLER", "2C3": "CHRYSLER", "1C4": "JEEP", "1J4": "JEEP", "1D7": "DODGE", "2D3": "DODGE", "1C6": "RAM",
    "1HG": "HONDA", "2HG": "HONDA", "19X": "HONDA", "5FN": "HONDA", "JHM": "HONDA", "5J6": "HONDA",
    "19U": "ACURA", "JH4": "ACURA",
    "4T1": "TOYOTA", "4T3": "TOYOTA", "5TD": "TOYOTA", "5TF": "TOYOTA", "JTD": "TOYOTA", "JTE": "TOYOTA",
    "2T1": "TOYOTA", "JTH": "LEXUS", "2T2": "LEXUS",
    "1N4": "NISSAN", "1N6": "NISSAN", "3N1": "NISSAN", "5N1": "NISSAN", "JN1": "NISSAN", "JN8": "NISSAN",
    "KNA": "KIA", "KND": "KIA", "5XY": "KIA", "KMH": "HYUNDAI", "5NP": "HYUNDAI", "5NM": "HYUNDAI",
    "JF1": "SUBARU", "JF2": "SUBARU", "4S3": "SUBARU", "4S4": "SUBARU",
    "JM1": "MAZDA", "JM3": "MAZDA", "3MZ": "MAZDA",
    "WBA": "BMW", "WBS": "BMW", "5UX": "BMW", "WDD": "MERCEDES-BENZ", "WDB": "MERCEDES-BENZ", "4JG": "MERCEDES-BENZ",
    "WAU": "AUDI", "WA1": "AUDI", "WVW": "VOLKSWAGEN", "WVG": "VOLKSWAGEN", "3VW": "VOLKSWAGEN", "1VW": "VOLKSWAGEN",
    "5YJ": "TESLA", "7SA": "TESLA", "YV1": "VOLVO", "YV4": "VOLVO", "SAL": "LAND ROVER", "SAJ": "JAGUAR",
    "WP0": "PORSCHE", "WP1": "PORSCHE", "ZFA": "FIAT", "ZAR": "ALFA ROMEO", "JA3": "MITSUBISHI", "JA4": "MITSUBISHI",
}


def normalise_vin(vin: str) -> str:
    return vin.strip().upper()


def check_digit(vin: str) -> str:
    """The check digit (position 9) that `vin` should carry."""
    total = sum(_TRANSLITERATION[c] * w for c, w in zip(vin, _WEIGHTS))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(vin: str) -> str:
    """The normalised VIN, or InvalidRequest saying what is wrong with it."""
    vin = normalise_vin(vin)
    if len(vin) != 17:
        raise InvalidRequest(f"a VIN has 17 characters; {vin!r} has {len(vin)}")
    if not _VIN.match(vin):
        raise InvalidRequest(f"VIN {vin!r} has characters a VIN never uses (only A-Z without I, O, Q, and 0-9)")
    expected = check_digit(vin)
    if vin[8] != expected:
        raise InvalidRequest(f"VIN {vin!r} fails its check digit: position 9 is {vin[8]}, expected {expected}")
    return vin


def model_year(vin: str) -> int:
    """Model year from position 10; position 7 tells the 30-year cycle (letter: 2010 on)."""
    index = _YEAR_CODES.find(vin[9])
    if index < 0:
        return 0
    return (2010 if vin[6].isalpha() else 1980) + index


def decode_offline(vin: str) -> common_pb2.VehicleProfile:
    """What the VIN's structure tells: a PARTIAL profile. InvalidRequest for a bad VIN."""
    vin = validate_vin(vin)
    return common_pb2.VehicleProfile(
        vin=vin,
        model_year=model_year(vin),
        make=_WMI.get(vin[:3], ""),
        source="vin-offline",
        status=common_pb2.PROFILE_STATUS_PARTIAL,
        attributes={"wmi": vin[:3]},
    )
