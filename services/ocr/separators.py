"""Separators between a plate's character groups, painted out before the row is read.

Many US plates print a mark between the groups of their number: a dash, a dot, a star (Texas),
a state silhouette or a small graphic (Florida, Georgia). Beside a character the recogniser
reads one with it: CWM*3083 read CWM8083 (the star closing the 3 into an 8), SGT-E5 read S6T4E5.
"""

from __future__ import annotations

import cv2
import numpy as np

# A separator is this small against the characters' height and sits this near their middle.
MIN_MARK, MAX_MARK = 0.12, 0.6
MIDDLE = (0.3, 0.7)
# ... in a gap between two characters at most this many character widths wide: a wider gap may
# hold a character the threshold broke into pieces, which must not be painted out.
MAX_GAP = 1.3


def erase_separators(crop: np.ndarray) -> np.ndarray:
    """`crop` (greyscale, a row with crop_line's margins) with the marks between its characters
    painted in the plate's colour; `crop` itself where it finds none."""
    h, w = crop.shape
    if h < 12 or w < 3 * h // 2:
        return crop
    # The threshold from the rows of the characters, not the margins' frame and car body.
    threshold, _ = cv2.threshold(crop[h // 7 : h - h // 7], 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    for ink in (crop < threshold, crop > threshold):  # dark characters on a light plate, then light on dark
        marks = _marks(ink.astype(np.uint8))
        if marks is None:
            continue  # no row of characters in this polarity
        if not marks.any():
            return crop
        out = crop.copy()
        out[cv2.dilate(marks.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0] = np.median(crop[~ink])
        return out
    return crop


def _marks(ink: np.ndarray) -> np.ndarray | None:
    """A mask of the ink's components that are separators; None when the ink holds no row of
    characters to be between."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    h = ink.shape[0]
    boxes = stats[1:, :4]
    heights, widths = boxes[:, 3], boxes[:, 2]
    tall = boxes[(heights >= 0.4 * h) & (heights <= 0.95 * h) & (widths <= heights) & (widths >= 0.1 * heights)]
    if len(tall) < 3:
        return None
    ch = float(np.median(tall[:, 3]))
    chars = tall[np.abs(tall[:, 3] - ch) <= 0.2 * ch]
    if len(chars) < 3:
        return None
    top, bottom = float(np.median(chars[:, 1])), float(np.median(chars[:, 1] + chars[:, 3]))
    char_w = float(np.median(chars[:, 2]))
    spans = [(int(x), int(x + bw)) for x, _, bw, _ in chars]
    found = []
    for label, (x, y, bw, bh) in enumerate(boxes, start=1):
        if not (MIN_MARK * ch <= bh <= MAX_MARK * ch and bw <= ch):
            continue
        if not MIDDLE[0] <= (y + bh / 2 - top) / max(bottom - top, 1) <= MIDDLE[1]:
            continue
        left = [end for start, end in spans if end <= x + 1]
        right = [start for start, end in spans if start >= x + bw - 1]
        beside = len(left) + len(right) == len(spans)  # under or over no character
        if beside and left and right and min(right) - max(left) <= MAX_GAP * char_w:
            found.append(label)
    return np.isin(labels, found)
