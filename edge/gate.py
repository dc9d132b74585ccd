"""Which captured frames are worth sending: something moved, not too often, not a near-copy.

Cheap enough for a Raspberry Pi: every test runs on a small grey copy of the frame (160 px wide
for motion, a 32x18 grid for the duplicate check).

Near-duplicates are judged on a brightness-normalised 32x18 grid: a cloud or a flickering street
lamp shifts every cell alike and normalises away, sensor noise averages out within a cell, while a
car moving through changes its cells by many standard deviations. (A global perceptual hash was
tried first: it called every frame of a car crossing a busy scene a duplicate of the first.)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import cv2
import numpy as np

MOTION_WIDTH = 160


@dataclass
class GateCounts:
    captured: int = 0
    no_motion: int = 0
    over_rate: int = 0
    duplicate: int = 0
    passed: int = 0


def parse_roi(text: str) -> tuple[float, float, float, float] | None:
    """'x,y,w,h' fractions -> a tuple; ValueError with a readable message."""
    if not text.strip():
        return None
    try:
        x, y, w, h = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"roi must be four fractions x,y,w,h such as 0,0.4,1,0.6; got {text!r}") from None
    if not (0 <= x < 1 and 0 <= y < 1 and 0 < w <= 1 - x + 1e-9 and 0 < h <= 1 - y + 1e-9):
        raise ValueError(f"roi {text!r} is not inside the frame (fractions of width and height)")
    return x, y, w, h


class MotionDetector:
    """Frame differencing on a downscaled, blurred grey frame within the region of interest."""

    def __init__(self, threshold: int, min_area: float, roi: tuple[float, float, float, float] | None) -> None:
        self._threshold = threshold
        self._min_area = min_area
        self._roi = roi
        self._previous: np.ndarray | None = None

    def moved(self, frame: np.ndarray) -> bool:
        small = _small_grey(frame, MOTION_WIDTH)
        if self._roi is not None:
            h, w = small.shape
            x, y, rw, rh = self._roi
            small = small[int(y * h):int((y + rh) * h), int(x * w):int((x + rw) * w)]
        small = cv2.GaussianBlur(small, (5, 5), 0)
        previous, self._previous = self._previous, small
        if previous is None or previous.shape != small.shape:
            return False  # nothing to compare with yet
        changed = cv2.absdiff(small, previous) > self._threshold
        return float(changed.mean()) >= self._min_area


def signature(frame: np.ndarray) -> np.ndarray:
    """The frame as a 32x18 grid of cell means, normalised to zero mean and unit spread."""
    cells = cv2.resize(_small_grey(frame, MOTION_WIDTH), (32, 18), interpolation=cv2.INTER_AREA).astype(np.float32)
    return (cells - cells.mean()) / max(float(cells.std()), 1.0)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """How far apart two signatures are: the largest change of any cell, in standard deviations."""
    return float(np.abs(a - b).max())


@dataclass
class Gate:
    motion: MotionDetector | None
    max_fps: float
    duplicate_threshold: float  # <= 0: off
    counts: GateCounts = field(default_factory=GateCounts)
    _last_sent_at: float = float("-inf")
    _last_signature: np.ndarray | None = None

    def admit(self, frame: np.ndarray, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.counts.captured += 1
        # Motion first: it must see every frame to keep its reference current.
        if self.motion is not None and not self.motion.moved(frame):
            self.counts.no_motion += 1
            return False
        if self.max_fps > 0 and now - self._last_sent_at < 1.0 / self.max_fps:
            self.counts.over_rate += 1
            return False
        if self.duplicate_threshold > 0:
            current = signature(frame)
            if self._last_signature is not None and difference(current, self._last_signature) < self.duplicate_threshold:
                self.counts.duplicate += 1
                return False
            self._last_signature = current
        self._last_sent_at = now
        self.counts.passed += 1
        return True


def _small_grey(frame: np.ndarray, width: int) -> np.ndarray:
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    h, w = grey.shape
    if w <= width:
        return grey
    return cv2.resize(grey, (width, max(1, h * width // w)), interpolation=cv2.INTER_AREA)
