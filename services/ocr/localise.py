"""Find the lines of characters that may be a plate's number, without a neural network.

A plate number is a row of several dark-on-light (or light-on-dark) blobs of the same height,
evenly spaced on one baseline. Binarising the photo both ways and grouping such blobs into rows
finds the number line of most plates in tens of milliseconds, where a text detector on the
whole photo takes seconds on a CPU. Rows are ranked; the recogniser and the plate-format
priors decide among the first few.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace

import cv2
import numpy as np

from services.ocr.plates import Box


@dataclass(frozen=True)
class Blob:
    x: int
    y: int
    width: int
    height: int

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


# A row with nothing beside it that its crops must stay clear of.
UNFENCED = (-math.inf, math.inf)


@dataclass(frozen=True)
class Line:
    """A row of character-like blobs (`blobs` of them; 0 for the middle band of a plate-shaped
    region whose characters did not separate): `box` in the photo's pixels, `score` for ranking."""

    box: Box
    blobs: int
    score: float
    # In the top or bottom strip where cameras burn in their date and name (see _is_overlay).
    overlay: bool = False
    # The row's slope in radians, positive when it falls to the right (y grows downwards), and
    # its characters' median height: a tilted row's box is taller than its characters.
    angle: float = 0.0
    char_height: int = 0  # 0 where unknown (a plate region's band)
    # How far left and right (photo x) a crop of the row may reach: stacked letters beside the
    # number bound it (see _cut_at_stack).
    fences: tuple[float, float] = UNFENCED


def _components(binary: np.ndarray) -> np.ndarray:
    """x, y, width, height, area of each connected component, the background left out."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    return stats[1:]


def _measure(components: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Height, width / height and filled share of each component, as arrays: a photo has
    thousands of components, and filtering them one by one in Python was a third of the
    localiser's time."""
    w, h, area = (components[:, k].astype(np.float64) for k in (2, 3, 4))
    return h, w / np.maximum(h, 1), area / np.maximum(w * h, 1)


def _blobs(components: np.ndarray, min_h: int, max_h: int) -> list[Blob]:
    h, aspect, fill = _measure(components)
    keep = (min_h <= h) & (h <= max_h) & (0.12 <= aspect) & (aspect <= 1.1) & (0.18 <= fill) & (fill <= 0.95)
    return [Blob(int(bx), int(by), int(bw), int(bh)) for bx, by, bw, bh, _ in components[keep]]


def _plate_regions(components: np.ndarray, min_h: int, max_h: int) -> list[Box]:
    """Plate-shaped components (a light plate face, a dark frame) whose characters merged
    with the frame and so never showed up as blobs of their own."""
    h, aspect, fill = _measure(components)
    keep = (2 * min_h <= h) & (h <= max_h) & (1.4 <= aspect) & (aspect <= 5.5) & (fill >= 0.3)
    return [Box(int(bx), int(by), int(bw), int(bh)) for bx, by, bw, bh, _ in components[keep]]


def _rows(blobs: list[Blob]) -> list[list[Blob]]:
    """Chains of blobs of similar height on one baseline with gaps under about one height."""
    blobs = sorted(blobs, key=lambda b: b.x)
    rows: list[list[Blob]] = []
    used = [False] * len(blobs)
    for i, first in enumerate(blobs):
        if used[i]:
            continue
        row = [first]
        members = [i]
        last = first
        for j in range(i + 1, len(blobs)):
            b = blobs[j]
            if b.x - (last.x + last.width) > 1.2 * last.height:
                if b.x > last.x + 3 * last.height:
                    break
                continue
            if used[j] or b.x < last.x + last.width * 0.5:
                continue
            if not _same_row(b, last, first.height):
                continue
            row.append(b)
            members.append(j)
            last = b
        if len(row) >= 3:
            for j in members:
                used[j] = True
            rows.append(row)
    return rows


def _same_row(blob: Blob, end: Blob, height: float) -> bool:
    """`blob` could be the next character after `end` in a row of characters `height` tall: about
    that height, on the same baseline."""
    return abs(blob.height - height) <= 0.25 * height and abs(blob.cy - end.cy) <= 0.25 * height


def _binarised(grey: np.ndarray) -> Iterator[np.ndarray]:
    """`grey` binarised four ways: dark and light characters, each at a small and a large block
    size (the adaptive threshold's neighbourhood), characters white."""
    for block in (15, 31):
        for polarity in (cv2.THRESH_BINARY_INV, cv2.THRESH_BINARY):
            yield cv2.adaptiveThreshold(grey, 255, cv2.ADAPTIVE_THRESH_MEAN_C, polarity, block, 7)


def _split_long(row: list[Blob]) -> list[list[Blob]]:
    """A row too long for a plate number, cut at its widest gaps: the number plus a dealer's
    letters on the frame, or the next car's plate, chained into one row. Pieces of 4 to 8
    blobs whose inner gaps are all narrower than the cuts are kept as rows of their own."""
    if len(row) <= 8:
        return []
    gaps = [row[i + 1].x - (row[i].x + row[i].width) for i in range(len(row) - 1)]
    # Candidate cuts: the three widest gaps, plus the row's own two ends (no gap to respect).
    edges = [-1] + sorted(sorted(range(len(gaps)), key=lambda i: gaps[i])[-3:]) + [len(row) - 1]
    pieces = []
    for i, left in enumerate(edges):
        for right in edges[i + 1:]:
            inner = gaps[left + 1:right]
            cuts = [gaps[c] for c in (left, right) if 0 <= c < len(gaps)]
            if 4 <= right - left <= 8 and max(inner, default=0) < min(cuts):
                pieces.append(row[left + 1:right + 1])
    return pieces


# Pixels: smaller blobs are specks, not characters.
MIN_CHAR_HEIGHT = 8


def find_lines(grey: np.ndarray, max_lines: int = 8) -> list[Line]:
    """Candidate number lines in a greyscale photo, best first."""
    return candidate_rows(grey).best(max_lines)


@dataclass(frozen=True)
class CandidateRows:
    """Every row found in one photo, ranked, before any is chosen: `best(n)` chooses the rows to
    read, and choosing more later costs no second search."""

    lines: list[Line]  # ranked, the tallest-row rule applied, the burnt-in strips taken out
    unbowed: list[Box]  # the best rows by their own shape, read whatever the rule made of them
    strips: list[Line]  # rows in the strips where cameras burn in dates, best first

    def best(self, max_lines: int) -> list[Line]:
        """The `max_lines` rows to read, best first; the strips' rows last."""
        # Overlay rows come last, so the best rows elsewhere keep the extra views, but keep a place.
        room = max(0, max_lines - len(self.strips))
        by_box = {line.box: line for line in self.lines}
        # At most half the places: with few rows read, the rule's own choice still comes first.
        reserved = [by_box[box] for box in self.unbowed if box in by_box][: room // 2]
        rest = sorted((line for line in self.lines if line.box not in self.unbowed), key=lambda l: l.score, reverse=True)
        kept = sorted(reserved + rest[: room - len(reserved)], key=lambda l: l.score, reverse=True)
        return kept + self.strips[:max_lines]


def candidate_rows(grey: np.ndarray) -> CandidateRows:
    """Every candidate number line in a greyscale photo, ranked (CandidateRows.best chooses)."""
    height, width = grey.shape
    scale = 1.0
    if width > 1280:
        scale = 1280 / width
        grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    h_img = grey.shape[0]
    # Characters fill up to two thirds of the height of an image that is itself a plate crop.
    min_h, max_h = MIN_CHAR_HEIGHT, max(12, h_img * 3 // 4)
    lines: list[Line] = []
    for binary in _binarised(grey):
        components = _components(binary)
        eroded = _components(cv2.erode(binary, np.ones((2, 2), np.uint8)))
        blobs = _blobs(components, min_h, max_h)
        rows = _rows(blobs) + _rows(_blobs(eroded, min_h, max_h))
        for row in rows + [piece for row in rows for piece in _split_long(row)]:
            row, (left, right) = _cut_at_stack(row, components)
            if len(row) < 3:
                continue
            x0 = min(b.x for b in row)
            y0 = min(b.y for b in row)
            x1 = max(b.x + b.width for b in row)
            y1 = max(b.y + b.height for b in row)
            heights = [b.height for b in row]
            even = 1 - (max(heights) - min(heights)) / max(heights)
            n = len(row)
            score = min(n, 8) * even - 0.5 * max(0, n - 8)
            lines.append(Line(_unscale(Box(x0, y0, x1 - x0, y1 - y0), scale), n, score, angle=_slope(row),
                              char_height=int(np.median(heights) / scale), fences=(left / scale, right / scale)))
        centres = np.array([(b.cx, b.cy, b.height) for b in blobs], dtype=np.float64).reshape(-1, 3)
        for region in _plate_regions(components, min_h, max_h):
            # The number fills roughly the middle band of a plate; a weak candidate.
            band = Box(region.x, region.y + region.height // 5, region.width, region.height * 13 // 20)
            inside = _count_inside(band, centres)
            lines.append(Line(_unscale(band, scale), 0, 0.5 + 0.25 * min(inside, 6)))
    lines = _dedupe(sorted(lines, key=lambda l: l.score, reverse=True))
    # The tallest-row rule below is fooled by a taller row that is not text (a grille's
    # slots just above the plate), so the best rows before it keep a place among those read.
    unbowed = [line.box for line in lines[:ALWAYS_READ]]
    lines = _prefer_tallest(lines)
    strips: list[Line] = []
    if height >= 300:
        in_strip = [_is_overlay(line.box, height) for line in lines]
        ranked = sorted((line for line, o in zip(lines, in_strip) if o), key=lambda l: l.score, reverse=True)
        strips = [replace(line, overlay=True) for line in ranked[:MAX_OVERLAY_ROWS]]
        lines = [line for line, o in zip(lines, in_strip) if not o]
    return CandidateRows(lines, unbowed, strips)


# Rows ranked this high by their own shape are read whatever _prefer_tallest makes of them.
ALWAYS_READ = 4

# Rows in the overlay strips are still read (a plate can sit at the top edge of a photo), but
# only the best few, and only plate-shaped strings count there (plates._line_proposals).
MAX_OVERLAY_ROWS = 2


def _is_overlay(box: Box, height: int) -> bool:
    """A short row in the top or bottom 5% of a photo: where cameras burn in a date, time or name,
    which reads cleanly and looks like a serial ("20140514")."""
    short = box.height < 0.05 * height
    return short and (box.y + box.height <= 0.05 * height or box.y >= 0.95 * height)


def _prefer_tallest(lines: list[Line]) -> list[Line]:
    """Scale down a row that has a taller row just above or below it: on a plate the number is
    the tallest line, and the state name, slogan and dealer frame are smaller."""
    out = []
    for line in lines:
        a = line.box
        tallest = a.height
        for other in lines:
            b = other.box
            overlap = min(a.x + a.width, b.x + b.width) - max(a.x, b.x)
            # Within a plate, the state name and slogan sit less than the number's height
            # away from it. Lettering on the car or grille slats further up are taller rows
            # too, but not this row's plate.
            gap = max(b.y - (a.y + a.height), a.y - (b.y + b.height), 0)
            near = gap < max(a.height, b.height)
            if other.blobs >= 3 and near and overlap > 0.3 * min(a.width, b.width):
                tallest = max(tallest, b.height)
        out.append(replace(line, score=line.score * (a.height / tallest) ** 2))
    return out


# A short row (at most GLUED_FROM_BLOBS characters found) may have lost its edge characters to the
# plate's frame: blurred together, a character and the frame are one component, too big to be a
# character. Around the row (GLUED_REACH of its characters' heights either side), ink in runs
# longer than GLUED_LONG_RUN character heights (the frame's edges) is taken out, and what comes
# apart is chained onto the row's ends, up to a plate's side (a vertical run of PLATE_SIDE
# heights: a glued stem runs only a little over one).
GLUED_FROM_BLOBS = 5
GLUED_REACH = 3.0
GLUED_LONG_RUN = 1.3
PLATE_SIDE = 1.8


def with_glued_edges(grey: np.ndarray, line: Line) -> Line | None:
    """`line` grown by the characters glued to the frame at its ends (see GLUED_FROM_BLOBS),
    or None when it has none (or is not a short row of blobs)."""
    h = line.char_height
    if not 0 < line.blobs <= GLUED_FROM_BLOBS or h < MIN_CHAR_HEIGHT:
        return None
    box = line.box
    height, width = grey.shape
    x0, y0 = max(0, int(box.x - GLUED_REACH * h)), max(0, box.y - h)
    x1, y1 = min(width, int(box.x + box.width + GLUED_REACH * h)), min(height, box.y + box.height + h)
    patch = grey[y0:y1, x0:x1]
    inside = Box(box.x - x0, box.y - y0, box.width, box.height)
    long_run, side = max(3, round(GLUED_LONG_RUN * h)), max(3, round(PLATE_SIDE * h))
    best: list[Blob] = []
    for binary in _binarised(patch):
        frame = _runs(binary, (1, long_run)) | _runs(binary, (long_run, 1))
        blobs = _blobs(_components(binary & ~frame), max(MIN_CHAR_HEIGHT, int(0.75 * h)), int(1.25 * h) + 1)
        own = [b for b in blobs if _centred_in(b, inside)]
        if len(own) < max(2, line.blobs - 1):
            continue  # this binarisation does not show the row's own characters
        row = _chain_onto(own, [b for b in blobs if b not in own], _runs(binary, (side, 1)))
        if len(row) > max(len(own), len(best)):
            best = row
    if not best:
        return None
    left = min(box.x, x0 + min(b.x for b in best))
    top = min(box.y, y0 + min(b.y for b in best))
    right = max(box.x + box.width, x0 + max(b.x + b.width for b in best))
    bottom = max(box.y + box.height, y0 + max(b.y + b.height for b in best))
    return replace(line, box=Box(left, top, right - left, bottom - top), blobs=len(best))


# A row's box is as tall as its tallest blobs, and characters merged with a slogan or a frame's
# edge below or above them make it taller than they are: FK4W3L's 17-px characters stood in a
# 23-px box, whose crop read A4073L; cut at 0.7 of its height it reads FK4W3L. Fractions of the
# box's height cut away, (top, bottom).
TRIMS = ((0.0, 0.3), (0.3, 0.0))


def trimmed(line: Line) -> list[Line]:
    """`line` with the top or the bottom of its box cut away (TRIMS), as rows of their own."""
    out = []
    for top, bottom in TRIMS:
        cut_top, cut_bottom = round(top * line.box.height), round(bottom * line.box.height)
        box = replace(line.box, y=line.box.y + cut_top, height=line.box.height - cut_top - cut_bottom)
        out.append(replace(line, box=box, char_height=min(line.char_height, box.height)))
    return out


def _runs(binary: np.ndarray, kernel: tuple[int, int]) -> np.ndarray:
    """The ink of `binary` in runs at least as long as the (rows, columns) kernel."""
    return cv2.morphologyEx(binary, cv2.MORPH_OPEN, np.ones(kernel, np.uint8))


def _centred_in(blob: Blob, box: Box) -> bool:
    return box.x <= blob.cx <= box.x + box.width and box.y <= blob.cy <= box.y + box.height


def _chain_onto(row: list[Blob], others: list[Blob], sides: np.ndarray) -> list[Blob]:
    """`row` with the blobs of `others` that chain onto its ends as _rows chains blobs (similar
    height, one baseline, gaps under about one height), but never across a plate's side (ink
    in `sides` between the two blobs)."""
    row = sorted(row, key=lambda b: b.x)
    height = float(np.median([b.height for b in row]))

    def beside(end: Blob, blob: Blob, rightwards: bool) -> bool:
        near, far = (end, blob) if rightwards else (blob, end)
        gap = far.x - (near.x + near.width)
        if not -0.5 * min(near.width, far.width) <= gap <= 1.2 * end.height:
            return False
        if not _same_row(blob, end, height):
            return False
        top, bottom = min(near.y, far.y), max(near.y + near.height, far.y + far.height)
        return gap <= 0 or not sides[top:bottom, near.x + near.width:far.x].any()

    for rightwards in (True, False):
        while True:
            end = row[-1] if rightwards else row[0]
            nearest = min((b for b in others if b not in row and beside(end, b, rightwards)),
                          key=lambda b: abs(b.cx - end.cx), default=None)
            if nearest is None:
                break
            row = row + [nearest] if rightwards else [nearest] + row
    return row


def _slope(row: list[Blob]) -> float:
    """The angle of the least-squares line through the blobs' bottoms, in radians."""
    xs = np.array([b.cx for b in row])
    ys = np.array([b.y + b.height for b in row], dtype=np.float64)
    dx = xs - xs.mean()
    spread = float(dx @ dx)
    return math.atan(float(dx @ (ys - ys.mean())) / spread) if spread >= 1 else 0.0


# A "stack" with characters of the row on both sides is more likely a character broken in two
# (an 8 at its waist): it cuts a row only with at most this many blobs beyond it.
MAX_CUT_AWAY = 2

# Under characters this tall (pixels), stacked letters are a few pixels each, and the pieces
# of a character broken by blur or a bolt look the same: AG4V3U's 4 was taken for a stack.
MIN_STACK_ROW_HEIGHT = 30


def _cut_at_stack(row: list[Blob], components: np.ndarray) -> tuple[list[Blob], tuple[float, float]]:
    """The row without what lies beyond stacked letters beside or within it, and the x (in the
    row's pixels) of those letters' inner edges: -inf / inf where there are none.

    Many US plates print a plate type beside the number in two letters stacked one above the
    other, each about half the number's height: DP (disabled), a county or class code, BR beside
    a Bruins logo. They are not part of the number, and a crop that reaches them reads one of
    them as a character more (MC N3934 read 8N3934). A row is cut by a stack only where at most
    MAX_CUT_AWAY of its blobs lie beyond it (an emblem), and the other side is the number.
    `components` are the binarised photo's (x, y, w, h, area).
    """
    height = float(np.median([b.height for b in row]))
    if height < MIN_STACK_ROW_HEIGHT:
        return row, UNFENCED
    x, w, h = (components[:, k].astype(np.float64) for k in (0, 2, 3))
    x0, x1 = row[0].x, row[-1].x + row[-1].width
    near = ((0.3 * height <= h) & (h <= 0.65 * height) & (0.1 * height <= w) & (w <= 0.8 * height)
            & (x + w >= x0 - 0.8 * height) & (x <= x1 + 0.8 * height))
    left, right = -math.inf, math.inf
    for start, end in _stacks(components[near], row):
        centre = (start + end) / 2
        before = [b for b in row if b.cx < centre]
        after = [b for b in row if b.cx >= centre]
        if len(before) <= min(len(after), MAX_CUT_AWAY):
            row, left = after, max(left, end)
        elif len(after) <= MAX_CUT_AWAY:
            row, right = before, min(right, start)
    return row, (left, right)


def _stacks(candidates: np.ndarray, row: list[Blob]) -> list[tuple[float, float]]:
    """The x extent of each pair of candidates (x, y, w, h rows) stacked one over the other,
    filling the height of the row's nearest character between them."""
    found = []
    for up in candidates:
        for low in candidates:
            start, end = min(up[0], low[0]), max(up[0] + up[2], low[0] + low[2])
            overlap = min(up[0] + up[2], low[0] + low[2]) - max(up[0], low[0])
            if low[1] < up[1] + up[3] - 1 or overlap <= 0.3 * min(up[2], low[2]):
                continue
            beside = min(row, key=lambda b: abs(b.cx - (start + end) / 2))
            top, bottom, mid = beside.y, beside.y + beside.height, beside.cy
            slack = 0.2 * beside.height
            if up[1] >= top - slack and up[1] + up[3] <= mid + slack and low[1] >= mid - slack and low[1] + low[3] <= bottom + slack:
                found.append((float(start), float(end)))
    return found


def _count_inside(band: Box, centres: np.ndarray) -> int:
    """Blobs (rows of centre x, centre y, height) centred in the band and at least 0.3 of its height."""
    cx, cy, h = centres.T
    inside = (band.x <= cx) & (cx <= band.x + band.width) & (band.y <= cy) & (cy <= band.y + band.height)
    return int(np.count_nonzero(inside & (h >= 0.3 * band.height)))


def _unscale(box: Box, scale: float) -> Box:
    return Box(int(box.x / scale), int(box.y / scale), int(box.width / scale), int(box.height / scale))


def _dedupe(lines: list[Line]) -> list[Line]:
    kept: list[Line] = []
    for line in lines:
        if all(_iou(line.box, k.box) < 0.5 for k in kept):
            kept.append(line)
    return kept


def _iou(a: Box, b: Box) -> float:
    ix = max(0, min(a.x + a.width, b.x + b.width) - max(a.x, b.x))
    iy = max(0, min(a.y + a.height, b.y + b.height) - max(a.y, b.y))
    inter = ix * iy
    union = a.width * a.height + b.width * b.height - inter
    return inter / union if union else 0.0
