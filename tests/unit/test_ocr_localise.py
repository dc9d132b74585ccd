"""The row finder on photos the project renders itself, and the state guess from plate words."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from cardak.samples.render import render_plate_photo
from services.ocr.localise import (
    MIN_STACK_ROW_HEIGHT,
    Blob,
    Line,
    _cut_at_stack,
    _split_long,
    find_lines,
    trimmed,
    with_glued_edges,
)
from services.ocr.plates import Box
from services.ocr.reader import _whole_image_if_plate, crop_line, level_crop
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


def with_stack(grey: np.ndarray, right: int, top: int, char_height: int, letters: str = "DP") -> np.ndarray:
    """`grey` with two letters stacked one over the other (a plate type, as DP for disabled)
    ending at x `right`, each a little under half the number's height, from `top` down."""
    stroke = max(2, char_height // 18)
    scale = cv2.getFontScaleFromHeight(cv2.FONT_HERSHEY_SIMPLEX, int(0.5 * char_height), stroke)
    for i, letter in enumerate(letters):
        (width, _), _ = cv2.getTextSize(letter, cv2.FONT_HERSHEY_SIMPLEX, scale, stroke)
        baseline = top + int((i + 1) * 0.5 * char_height) - stroke
        cv2.putText(grey, letter, (right - width, baseline), cv2.FONT_HERSHEY_SIMPLEX, scale, 20, stroke)
    return grey


def test_stacked_letters_beside_the_number_fence_its_crops() -> None:
    grey = grey_photo("CDK4217", 0, (1280, 720))
    plain = find_lines(grey)[0]
    assert plain.char_height >= 30 and plain.fences == (-math.inf, math.inf)
    box = plain.box
    line = find_lines(with_stack(grey, box.x - 8, box.y, plain.char_height))[0]
    assert line.blobs == len("CDK4217") and abs(line.box.x - box.x) <= 2
    left, right = line.fences
    assert box.x - 12 < left <= box.x and right == math.inf
    # The number's crop stops where the stack ends; without the fence it would take it in.
    assert crop_line(grey, box, fences=line.fences).shape[1] < crop_line(grey, box).shape[1]


def test_a_row_through_stacked_letters_keeps_the_longer_side() -> None:
    grey = grey_photo("CDK4217", 0, (1280, 720))
    plain = find_lines(grey)[0]
    box, h = plain.box, plain.char_height
    # A club's emblem (a ring as tall as the characters) left of the number, stacked letters
    # between: the emblem chains into the row, and the stack cuts it off again.
    grey[box.y - 4:box.y + box.height + 4, box.x - int(1.9 * h):box.x - 2] = 235
    cv2.circle(grey, (box.x - int(1.5 * h), box.y + h // 2), h // 2 - 3, 20, 8)
    line = find_lines(with_stack(grey, box.x - 8, box.y, h))[0]
    assert line.blobs == len("CDK4217")
    assert line.box.x >= box.x - 2 and line.fences[0] > box.x - int(h)


@pytest.mark.parametrize(("scale", "cut"), [(2.0, True), (1.0, False)])
def test_small_rows_are_not_cut_at_stacks(scale: float, cut: bool) -> None:
    # Under MIN_STACK_ROW_HEIGHT the pieces of a blurred character look like stacked letters.
    def px(v: float) -> int:
        return int(v * scale)

    row = [Blob(px(40 + 15 * i), px(10), px(10), px(20)) for i in range(6)]
    stack = np.array([[px(28), px(10), px(8), px(9), 1], [px(28), px(21), px(8), px(9), 1]])
    assert 20 < MIN_STACK_ROW_HEIGHT <= 40
    kept, (left, right) = _cut_at_stack(row, stack)
    assert kept == row and right == math.inf
    assert left == (px(36) if cut else -math.inf)


def test_a_character_broken_at_its_waist_does_not_cut_the_row() -> None:
    # ABC 8 123 with the 8 binarised as two loops: they sit like a stack, with three of the
    # row's characters on either side. Cutting there would lose three characters.
    row = [Blob(x, 20, 24, 40) for x in (0, 30, 60, 120, 150, 180)]
    loops = np.array([[90, 20, 24, 19, 1], [90, 41, 24, 19, 1]])
    kept, fences = _cut_at_stack(row, loops)
    assert kept == row and fences == (-math.inf, math.inf)
    # The same loops with only an emblem to their left are a stack beside the number.
    kept, (left, right) = _cut_at_stack(row[:1] + row[3:], loops)
    assert kept == row[3:] and left == 114 and right == math.inf


def test_a_plate_crops_band_is_fenced_by_the_stacks_beside_its_rows() -> None:
    # A plate crop (320 x 160, as ms1551 of the plates set): the number row with "MC" stacked
    # left of it, and a sticker's row in the bottom corner with a stack of its own.
    grey = np.full((160, 320), 200, np.uint8)
    rows = [Line(Box(73, 42, 223, 75), 4, 3.2, fences=(61.0, math.inf)),
            Line(Box(54, 128, 36, 27), 3, 0.4, fences=(44.0, math.inf))]
    [band] = _whole_image_if_plate(grey, rows)
    assert band.box.width == 320 and band.fences == (61.0, math.inf)
    [band] = _whole_image_if_plate(grey, [])
    assert band.fences == (-math.inf, math.inf)


def framed_plate(text: str, first_x: int, beside: str = "") -> np.ndarray:
    """A plate's frame (x 60-340) with `text` in it from `first_x` (61: the first character
    touches the frame's left side), and `beside` printed just outside that side."""
    grey = np.full((200, 420), 225, np.uint8)
    cv2.rectangle(grey, (60, 50), (340, 120), 20, 3)
    scale = cv2.getFontScaleFromHeight(cv2.FONT_HERSHEY_SIMPLEX, 22, 3)
    x = first_x
    for character in text:
        cv2.putText(grey, character, (x, 97), cv2.FONT_HERSHEY_SIMPLEX, scale, 20, 3)
        x += cv2.getTextSize(character, cv2.FONT_HERSHEY_SIMPLEX, scale, 3)[0][0] + 8
    if beside:
        cv2.putText(grey, beside, (40, 97), cv2.FONT_HERSHEY_SIMPLEX, scale, 20, 3)
    return grey


def test_an_edge_character_glued_to_the_frame_is_chained_back_onto_its_row() -> None:
    grey = framed_plate("EB1234", first_x=61, beside="X")
    row = find_lines(grey)[0]
    assert row.blobs == 5  # the E and the frame are one component, too big for a character
    grown = with_glued_edges(grey, row)
    assert grown is not None and grown.blobs == 6
    # The E (x 63) is in; the X outside the plate's side (x 40-55) is not, though as near.
    assert 60 <= grown.box.x <= 64 and grown.box.x + grown.box.width == row.box.x + row.box.width
    assert (grown.char_height, grown.angle) == (row.char_height, row.angle)


def test_a_row_clear_of_its_frame_grows_nothing() -> None:
    grey = framed_plate("EB1234", first_x=66)
    row = find_lines(grey)[0]
    assert row.blobs == 6 and with_glued_edges(grey, row) is None


def test_a_row_is_trimmed_at_its_top_or_its_bottom() -> None:
    row = Line(Box(100, 50, 120, 30), blobs=6, score=5.0, angle=0.02, char_height=30, fences=(90.0, 240.0))
    cuts = trimmed(row)
    assert [(c.box.y, c.box.height) for c in cuts] == [(50, 21), (59, 21)]  # the bottom 9 px, the top 9 px
    assert all(c.box.x == 100 and c.box.width == 120 and c.char_height == 21 for c in cuts)
    assert all((c.blobs, c.score, c.angle, c.fences) == (6, 5.0, 0.02, (90.0, 240.0)) for c in cuts)
    # A plate region's band, whose characters' height is unknown, stays unknown.
    assert [c.char_height for c in trimmed(Line(Box(0, 0, 90, 20), blobs=0, score=1.0))] == [0, 0]


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
    (["EWest Virginia '", "(Wid, Wonderful  8og,"], "WV"),  # not the VIRGINIA inside it
    (["= \"WshnGToN DC ^ = "], "DC"),
    (["WASHINGTON"], "WA"),
    (["WISCOVSH~ ", "NWV ,amertea's Datryland ,120 "], "WI"),  # not MARYLAND
    (["FEB Catikoia_B", "LL"], "CA"),  # the script logo as the stock network reads it
    (["JUL 2014", "DEALER"], ""),  # nothing like a state name
    (["6' MAH } 'm", "L' WFe ELevateo /I"], "UT"),  # Utah's slogan, not its name, reads
    (["Great Faces. Great Places."], "SD"),
    (["IOWA"], "IA"),  # a short name read exactly still counts
    (["~uemonu ", "An_"], ""),  # California's script, not VERMONT
    (["Tce e", "LaSE"], ""),  # a frame's lettering, not ALASKA
])
def test_state_from_the_words_around_the_number(words: list[str], state: str) -> None:
    assert guess_state(words) == state
