"""Separators between a plate's character groups are painted out; characters never are."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from services.ocr.separators import erase_separators

PLATE, INK = 225, 30


def row(groups: tuple[str, str], mark: str, dark_text: bool = True, gap: float = 0.5) -> tuple[np.ndarray, tuple[int, int]]:
    """A number row as crop_line cuts it: two groups of characters `gap` character heights apart
    with `mark` ("star", "dash", "dot", "none") between them; also the x range of the gap."""
    plate, ink = (PLATE, INK) if dark_text else (INK, PLATE)
    font, size, thickness = cv2.FONT_HERSHEY_SIMPLEX, 1.4, 3
    (w1, h), _ = cv2.getTextSize(groups[0], font, size, thickness)
    (w2, _), _ = cv2.getTextSize(groups[1], font, size, thickness)
    gap = int(gap * h)
    margin_x, margin_y = int(0.4 * h) + 2, int(0.2 * h) + 2
    crop = np.full((h + 2 * margin_y + 4, w1 + gap + w2 + 2 * margin_x), plate, np.uint8)
    base = margin_y + h + 2
    cv2.putText(crop, groups[0], (margin_x, base), font, size, ink, thickness, cv2.LINE_AA)
    cv2.putText(crop, groups[1], (margin_x + w1 + gap, base), font, size, ink, thickness, cv2.LINE_AA)
    cx, cy, r = margin_x + w1 + gap // 2, base - h // 2, max(3, h // 6)
    if mark == "star":
        points = [(cx + (r if k % 2 == 0 else r / 2.5) * np.sin(k * np.pi / 5), cy - (r if k % 2 == 0 else r / 2.5) * np.cos(k * np.pi / 5))
                  for k in range(10)]
        cv2.fillPoly(crop, [np.array(points, np.int32)], ink)
    elif mark == "dash":
        cv2.rectangle(crop, (cx - r, cy - 2), (cx + r, cy + 2), ink, -1)
    elif mark == "dot":
        cv2.circle(crop, (cx, cy), r // 2 + 1, ink, -1)
    return crop, (margin_x + w1 + 2, margin_x + w1 + gap - 2)


@pytest.mark.parametrize("mark", ["star", "dash", "dot"])
@pytest.mark.parametrize("dark_text", [True, False])
def test_a_mark_between_the_groups_is_painted_out(mark: str, dark_text: bool) -> None:
    crop, (g0, g1) = row(("CWM", "3083"), mark, dark_text=dark_text)
    clean, _ = row(("CWM", "3083"), "none", dark_text=dark_text)
    out = erase_separators(crop)
    plate = PLATE if dark_text else INK
    gap = out[:, g0:g1].astype(int)
    assert np.abs(gap - plate).max() < 40  # nothing of the mark is left
    outside = np.ones(crop.shape, bool)
    outside[:, g0 - 2 : g1 + 2] = False
    assert np.array_equal(out[outside], clean[outside])  # the characters are untouched


def test_a_row_without_marks_comes_back_as_it_was() -> None:
    crop, _ = row(("ABC", "1234"), "none")
    assert erase_separators(crop) is crop


def test_a_dot_in_a_gap_wide_enough_for_a_character_stays() -> None:
    # Such a gap may be a character the threshold broke into pieces: they are all that is left of it.
    crop, _ = row(("AB", "1234"), "dot", gap=2.0)
    assert erase_separators(crop) is crop
