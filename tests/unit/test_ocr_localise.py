"""The row finder on photos the project renders itself, and the state guess from plate words."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from cardak.samples.render import render_plate_photo
from services.ocr.localise import Blob, _split_long, find_lines
from services.ocr.reader import level_crop
from services.ocr.region import guess_state


def grey_photo(plate: str, seed: int, size: tuple[int, int] = (640, 480)) -> np.ndarray:
    pixels = cv2.imdecode(np.frombuffer(render_plate_photo(plate, seed=seed, size=size), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert pixels is not None
    return pixels


@pytest.mark.parametrize(("plate", "seed", "size"), [
    ("CDK4217", 0, (640, 480)), ("7ABC123", 3, (640, 480)), ("JLM7605", 5, (1280, 720)), ("AB1234", 9, (800, 600)),
])
def test_the_number_row_comes_first(plate: str, seed: int, size: tuple[int, int]) -> None:
    grey = grey_photo(plate, seed, size)
    width, height = size
    # Where render_plate_photo puts the plate.
    plate_w, plate_h = int(width * 0.42), int(width * 0.21)
    px, py = (width - plate_w) // 2, int(height * 0.55)

    best = find_lines(grey)[0]
    cx, cy = best.box.x + best.box.width / 2, best.box.y + best.box.height / 2
    assert px < cx < px + plate_w and py + plate_h * 0.3 < cy < py + plate_h * 0.85
    assert best.box.width > 0.5 * plate_w
    assert best.blobs == len(plate)


def test_a_photo_without_characters_has_no_rows() -> None:
    rng = np.random.default_rng(1)
    smooth = cv2.GaussianBlur(rng.integers(0, 255, (480, 640), dtype=np.uint8), (31, 31), 0)
    assert [line for line in find_lines(smooth) if line.blobs] == []


def test_a_burnt_in_timestamp_is_only_an_overlay_candidate() -> None:
    grey = grey_photo("CDK4217", 0, (1024, 768))
    # What a surveillance camera writes into its frames: white digits on a black bar.
    grey[:22, :] = 0
    cv2.putText(grey, "2014-05-14 06:56:56", (4, 17), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 2)
    grey[-22:, -260:] = 0
    cv2.putText(grey, "CAM 03 20140514", (770, 760), cv2.FONT_HERSHEY_SIMPLEX, 0.6, 255, 2)
    lines = find_lines(grey)
    in_strips = [line for line in lines if not (0.05 * 768 < line.box.y + line.box.height and line.box.y < 0.95 * 768)]
    assert in_strips and all(line.overlay for line in in_strips)
    assert len(in_strips) <= 2  # only the best few rows of the strips are read at all
    assert lines[0].blobs == len("CDK4217") and not lines[0].overlay


def test_big_lettering_above_the_plate_does_not_demote_its_number() -> None:
    grey = grey_photo("CDK4217", 0)
    # A maker's name across the tailgate: a row of letters three times taller than the
    # plate's characters, well above the plate.
    cv2.putText(grey, "RAM", (200, 150), cv2.FONT_HERSHEY_SIMPLEX, 5.5, 20, 14)
    best = find_lines(grey)[0]
    assert best.blobs == len("CDK4217")
    assert best.box.y > 250


def test_a_grille_above_the_plate_does_not_push_its_number_out_of_the_rows_read() -> None:
    grey = grey_photo("CDK4217", 0)
    # A grille's slots just above the plate: a row of blobs four times taller than the plate's
    # characters, which the tallest-row rule takes for the plate's number.
    for i in range(6):
        cv2.rectangle(grey, (190 + 45 * i, 100), (220 + 45 * i, 240), 30, 6)
    lines = find_lines(grey, max_lines=3)
    assert lines[0].box.y < 250  # the grille still ranks first ...
    assert any(line.blobs == len("CDK4217") and line.box.y > 300 for line in lines)  # ... but the number is read


def rotated(grey: np.ndarray, degrees: float) -> np.ndarray:
    """The photo turned counter-clockwise (as a camera rolled clockwise sees it)."""
    height, width = grey.shape
    turn = cv2.getRotationMatrix2D((width / 2, height / 2), degrees, 1.0)
    return cv2.warpAffine(grey, turn, (width, height), borderMode=cv2.BORDER_REPLICATE)


@pytest.mark.parametrize("degrees", [-9.0, 0.0, 6.0])
def test_a_row_knows_its_slope_and_its_characters_height(degrees: float) -> None:
    upright = find_lines(grey_photo("CDK4217", 0))[0]
    line = find_lines(rotated(grey_photo("CDK4217", 0), degrees))[0]
    assert line.blobs == len("CDK4217")
    # Turned counter-clockwise, the row rises to the right: y falls as x grows.
    assert math.degrees(line.angle) == pytest.approx(-degrees, abs=1.0)
    assert abs(line.char_height - upright.char_height) <= 0.1 * upright.char_height
    if degrees:
        assert line.box.height > 1.3 * line.char_height  # the upright box holds the slope too


def test_a_level_crop_turns_a_tilted_row_upright() -> None:
    grey = rotated(grey_photo("CDK4217", 0), -9.0)
    line = find_lines(grey)[0]
    level = level_crop(grey, line.box, line.angle, line.char_height)
    # The characters fill the crop's height as in an upright row's crop, and lie level in it.
    assert level.shape[0] == pytest.approx(1.4 * line.char_height + 4, abs=2)
    assert level.shape[1] > 4 * level.shape[0]
    again = find_lines(level)[0]
    assert again.blobs == len("CDK4217")
    assert abs(math.degrees(again.angle)) < 1.0


def xs(pieces: list[list[Blob]]) -> list[list[int]]:
    return [[b.x for b in piece] for piece in pieces]


def test_a_row_too_long_for_a_plate_is_cut_at_its_widest_gaps() -> None:
    def row(*lefts: int) -> list[Blob]:
        return [Blob(x, 0, 12, 20) for x in lefts]

    # A dealer's letter on the frame, 7 plate characters, the next car's "77".
    assert xs(_split_long(row(0, 60, 80, 100, 120, 140, 160, 180, 230, 250))) == [[60, 80, 100, 120, 140, 160, 180]]
    # Two groups: each side is a candidate.
    assert xs(_split_long(row(0, 20, 40, 60, 120, 140, 160, 180, 200))) == [[0, 20, 40, 60], [120, 140, 160, 180, 200]]
    # Evenly spaced (a slogan): no gap stands out, nothing to cut; short rows are left alone.
    assert _split_long(row(*range(0, 180, 20))) == []
    assert _split_long(row(0, 60, 80, 100)) == []


def test_rows_are_ranked_and_capped() -> None:
    lines = find_lines(grey_photo("CDK4217", 0), max_lines=2)
    assert len(lines) <= 2
    assert [line.score for line in lines] == sorted((line.score for line in lines), reverse=True)


@pytest.mark.parametrize(("words", "state"), [
    (["Califomia"], "CA"),  # one misread letter
    (["www.dmv.ca.gov", "LAND OF LINC0LN"], "IL"),
    (["NEWYORK"], "NY"),
    (["the", "Lone Star State"], "TX"),
    (["ABC123", ""], ""),
    ([], ""),
])
def test_state_from_the_words_around_the_number(words: list[str], state: str) -> None:
    assert guess_state(words) == state
