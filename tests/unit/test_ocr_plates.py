"""pick_plate: which of the recognised text lines is the plate number."""

from __future__ import annotations

import pytest

from cardak.v1 import common_pb2
from services.ocr.plates import Box, Detection, PlateResult, pick_plate


def _line(text: str, confidence: float, height: int, y: int = 0) -> Detection:
    return Detection(text=text, confidence=confidence, box=Box(x=10, y=y, width=4 * height, height=height))


def test_tallest_line_wins_over_a_smaller_more_confident_one() -> None:
    state = _line("California", 0.99, 12, y=0)
    number = _line("7abc 123", 0.60, 40, y=20)
    result = pick_plate([state, number])
    assert result is not None
    assert result.text == "7ABC123"
    assert result.raw_text == "7abc 123"
    assert result.confidence == 0.6
    assert result.box == number.box


def test_confidence_decides_between_lines_of_the_same_height() -> None:
    result = pick_plate([_line("8XYZ111", 0.4, 40), _line("8XYZ777", 0.9, 40)])
    assert result is not None
    assert result.text == "8XYZ777"
    assert result.candidates == [("8XYZ777", 0.9), ("8XYZ111", 0.4)]


@pytest.mark.parametrize("text", ["A", "7", " - 7 - ", "", "ABCDEFGHJ", "LAND OF LINCOLN", "1234-5678-9"])
def test_too_short_or_too_long_lines_are_ignored(text: str) -> None:
    huge = _line(text, 0.99, 200)
    result = pick_plate([huge, _line("ABC123", 0.5, 30)])
    assert result is not None
    assert result.text == "ABC123"
    assert all(candidate != text for candidate, _ in result.candidates)


@pytest.mark.parametrize(("text", "normalised"), [("AB", "AB"), ("AB-12-CD-34", "AB12CD34"), ("x 1", "X1")])
def test_two_and_eight_characters_are_plausible(text: str, normalised: str) -> None:
    result = pick_plate([_line(text, 0.5, 30)])
    assert result is not None
    assert result.text == normalised


def test_nothing_plausible_gives_none() -> None:
    assert pick_plate([]) is None
    assert pick_plate([_line("I", 0.9, 50), _line("WWW.DEALERSHIP.COM", 0.9, 20), _line("...", 0.9, 30)]) is None


def test_candidates_keep_only_lines_of_similar_height_best_first() -> None:
    detections = [
        # Scores above a runner-up, but 27 < 0.7 * 40: a state name, not a reading of the number.
        _line("TEXAS", 0.99, 27),
        _line("ABC 1234", 0.70, 40),
        _line("ABC1Z34", 0.80, 28),  # exactly 0.7 of the best height: kept
        _line("A8C1234", 0.60, 36),
        _line("abc-1234", 0.30, 38),  # same text as the best once normalised: deduplicated
    ]
    result = pick_plate(detections)
    assert result is not None
    assert result.text == "ABC1234"
    assert result.candidates == [("ABC1234", 0.7), ("A8C1234", 0.6), ("ABC1Z34", 0.8)]
    assert "TEXAS" not in [text for text, _ in result.candidates]


def test_candidates_are_capped() -> None:
    detections = [_line(f"PLATE{i}", 0.9 - i / 100, 40) for i in range(8)]
    result = pick_plate(detections, max_candidates=3)
    assert result is not None
    assert [text for text, _ in result.candidates] == ["PLATE0", "PLATE1", "PLATE2"]


def test_confidences_are_rounded_to_four_places() -> None:
    result = pick_plate([_line("ABC123", 0.123456789, 40)])
    assert result is not None
    assert result.confidence == 0.1235
    assert result.candidates == [("ABC123", 0.1235)]


def test_as_proto_round_trips_every_field() -> None:
    result = PlateResult(
        text="ABC123",
        confidence=0.875,
        box=Box(x=3, y=5, width=120, height=40),
        raw_text="abc 123",
        candidates=[("ABC123", 0.875), ("A8C123", 0.25)],
        region="CA",
    )
    read = result.as_proto()
    assert isinstance(read, common_pb2.PlateRead)
    assert read.text == "ABC123"
    assert read.confidence == pytest.approx(0.875)
    assert [(c.text, c.confidence) for c in read.candidates] == [("ABC123", 0.875), ("A8C123", 0.25)]
    assert (read.box.x, read.box.y, read.box.width, read.box.height) == (3, 5, 120, 40)
    assert read.region == "CA"
    assert read.raw_text == "abc 123"
    # And through the wire format.
    assert common_pb2.PlateRead.FromString(read.SerializeToString()) == read


def test_as_proto_of_a_picked_plate() -> None:
    result = pick_plate([_line("ohio", 0.95, 10), _line("jkl-9876", 0.8, 44, y=30)])
    assert result is not None
    read = result.as_proto()
    assert read.text == "JKL9876"
    assert read.raw_text == "jkl-9876"
    assert read.confidence == pytest.approx(0.8)
    assert read.box.y == 30 and read.box.height == 44
    assert [c.text for c in read.candidates] == ["JKL9876"]
    assert read.region == ""
