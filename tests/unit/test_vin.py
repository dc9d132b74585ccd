"""Offline VIN checks: check digit, validation messages, model year and the partial profile."""

from __future__ import annotations

import pytest

from cardak.v1 import common_pb2
from services.common.errors import InvalidRequest
from services.enrich.vin import check_digit, decode_offline, model_year, validate_vin

HONDA_ACCORD_2003 = "1HGCM82633A004352"
ALL_ONES = "11111111111111111"
DIGITS = "0123456789"


def _with(vin: str, position: int, char: str) -> str:
    """`vin` with the character at 1-based `position` replaced."""
    return vin[: position - 1] + char + vin[position:]


def _vin_with_check_digit_x() -> str:
    """Brute-force the serial digits of a few base VINs until the check digit comes out as 'X'."""
    for base in (HONDA_ACCORD_2003, ALL_ONES, "5YJ3E1EA7KF000000"):
        for a in DIGITS:
            for b in DIGITS:
                candidate = base[:15] + a + b
                if check_digit(candidate) == "X":
                    return _with(candidate, 9, "X")
    raise AssertionError("no VIN with check digit X among the candidates")


# --- check_digit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vin", "expected"),
    [
        (HONDA_ACCORD_2003, "3"),
        (ALL_ONES, "1"),
        ("1M8GDM9AXKP042788", "X"),  # the textbook example with an X check digit
    ],
)
def test_check_digit_of_known_good_vins(vin: str, expected: str) -> None:
    assert check_digit(vin) == expected
    assert vin[8] == expected


def test_check_digit_ignores_position_9_itself() -> None:
    # Position 9 has weight 0: whatever it holds, the expected digit is the same.
    for char in "0123456789X":
        assert check_digit(_with(HONDA_ACCORD_2003, 9, char)) == "3"


def test_check_digit_reacts_to_a_single_changed_character() -> None:
    # Last position has weight 2: raising its value by 1 adds 2 to the sum, 3 + 2 = 5 (mod 11).
    assert check_digit(_with(HONDA_ACCORD_2003, 17, "3")) == "5"
    # Position 8 has weight 10: 'H' (8) instead of '6' adds 20, (3 + 20) % 11 = 1.
    assert check_digit(_with(HONDA_ACCORD_2003, 8, "H")) == "1"


def test_constructed_vin_with_check_digit_x_validates() -> None:
    vin = _vin_with_check_digit_x()
    assert vin[8] == "X"
    assert validate_vin(vin) == vin
    with pytest.raises(InvalidRequest, match="expected X"):
        validate_vin(_with(vin, 9, "0"))


# --- validate_vin ----------------------------------------------------------------------------


def test_validate_vin_normalises_case_and_whitespace() -> None:
    assert validate_vin(f"  {HONDA_ACCORD_2003.lower()}\n") == HONDA_ACCORD_2003


@pytest.mark.parametrize("vin", ["", HONDA_ACCORD_2003[:16], HONDA_ACCORD_2003 + "1"])
def test_validate_vin_rejects_wrong_length(vin: str) -> None:
    with pytest.raises(InvalidRequest, match="17 characters") as info:
        validate_vin(vin)
    assert f"has {len(vin)}" in str(info.value)


@pytest.mark.parametrize("letter", ["I", "O", "Q", "i", "o", "q"])
def test_validate_vin_rejects_forbidden_letters(letter: str) -> None:
    vin = _with(HONDA_ACCORD_2003, 5, letter)
    with pytest.raises(InvalidRequest, match="I, O, Q"):
        validate_vin(vin)


@pytest.mark.parametrize("char", ["-", "*", " "])
def test_validate_vin_rejects_punctuation_inside(char: str) -> None:
    with pytest.raises(InvalidRequest, match="never uses"):
        validate_vin(_with(HONDA_ACCORD_2003, 12, char))


def test_validate_vin_wrong_check_digit_names_the_expected_one() -> None:
    vin = _with(HONDA_ACCORD_2003, 9, "4")
    with pytest.raises(InvalidRequest) as info:
        validate_vin(vin)
    message = str(info.value)
    assert "check digit" in message
    assert "position 9 is 4" in message
    assert "expected 3" in message


def test_validate_vin_rejects_a_changed_serial() -> None:
    with pytest.raises(InvalidRequest, match="expected 5"):
        validate_vin(_with(HONDA_ACCORD_2003, 17, "3"))


# --- model_year ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("position_7", "position_10", "year"),
    [
        ("2", "3", 2003),
        ("2", "A", 1980),
        ("2", "Y", 2000),
        ("2", "1", 2001),
        ("2", "9", 2009),
        ("K", "A", 2010),
        ("K", "F", 2015),
        ("K", "L", 2020),
        ("K", "Y", 2030),
        ("K", "1", 2031),
        ("K", "9", 2039),
    ],
)
def test_model_year_uses_position_7_for_the_cycle(position_7: str, position_10: str, year: int) -> None:
    vin = _with(_with(HONDA_ACCORD_2003, 7, position_7), 10, position_10)
    assert model_year(vin) == year


@pytest.mark.parametrize("position_10", ["U", "Z", "0"])
def test_model_year_is_zero_for_codes_never_used_as_years(position_10: str) -> None:
    assert model_year(_with(HONDA_ACCORD_2003, 10, position_10)) == 0


# --- decode_offline --------------------------------------------------------------------------


def test_decode_offline_gives_a_partial_profile_with_make_and_year() -> None:
    profile = decode_offline(HONDA_ACCORD_2003.lower())
    assert profile.vin == HONDA_ACCORD_2003
    assert profile.make == "HONDA"
    assert profile.model_year == 2003
    assert profile.status == common_pb2.PROFILE_STATUS_PARTIAL
    assert profile.source == "vin-offline"
    assert dict(profile.attributes) == {"wmi": "1HG"}
    assert profile.model == ""


def test_decode_offline_unknown_wmi_leaves_make_empty() -> None:
    profile = decode_offline(ALL_ONES)
    assert profile.make == ""
    assert profile.status == common_pb2.PROFILE_STATUS_PARTIAL
    assert profile.attributes["wmi"] == "111"
    assert profile.model_year == 2001  # position 7 is a digit, position 10 is '1'


def test_decode_offline_rejects_an_invalid_vin() -> None:
    with pytest.raises(InvalidRequest, match="check digit"):
        decode_offline(_with(HONDA_ACCORD_2003, 9, "7"))


# Public VINs with known answers (manufacturers' and NHTSA's documentation, recall notices and
# decoder examples): the check digit holds, and the year follows position 10 with the position-7
# rule (a letter there: the 2010-2039 cycle; a digit: 1980-2009).
REAL_VINS = [
    ("1HGCM82633A004352", "HONDA", 2003),      # Honda Accord
    ("JH4KA7561PC008269", "ACURA", 1993),      # Acura Legend
    ("1FTFW1CT5DFC10312", "FORD", 2013),       # Ford F-150 (position 7 'C': 2010 cycle)
    ("1FAFP40634F172825", "FORD", 2004),       # Ford Mustang (position 7 '6': 1980 cycle)
    ("5YJSA1E14FF087599", "TESLA", 2015),      # Tesla Model S
    ("1G1JC5444R7252367", "CHEVROLET", 1994),  # Chevrolet Cavalier
    ("1GNEK13ZX3R298984", "CHEVROLET", 2003),  # Chevrolet Tahoe, check digit X
    ("1C4RJFAG0FC625797", "JEEP", 2015),       # Jeep Grand Cherokee, check digit 0
    ("WP0AA2A79BL017244", "PORSCHE", 2011),    # Porsche, a European WMI
    ("1M8GDM9AXKP042788", "", 1989),           # the textbook check-digit example (coach maker)
]


@pytest.mark.parametrize(("vin", "make", "year"), REAL_VINS)
def test_real_vins_decode_offline(vin: str, make: str, year: int) -> None:
    assert check_digit(vin) == vin[8]
    profile = decode_offline(vin.lower())
    assert (profile.vin, profile.make, profile.model_year) == (vin, make, year)
    assert profile.status == common_pb2.PROFILE_STATUS_PARTIAL
