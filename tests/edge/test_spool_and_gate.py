"""The spool's invariants and the gate on generated scenes (no processes needed)."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.gate import Gate, MotionDetector, difference, parse_roi, signature
from edge.sources import Source
from edge.spool import Spool


def test_spool_keeps_capture_order_across_a_restart(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10_000)
    for t in (30, 10, 20):
        spool.put(t, b"x" * 100)
    (tmp_path / "00000000000000000005-00000009.part").write_bytes(b"half")  # a power cut mid-write
    reopened = Spool(tmp_path, 10_000)
    assert [f.captured_ns for f in reopened.oldest(10)] == [10, 20, 30]
    assert not list(tmp_path.glob("*.part"))
    assert reopened.put(40, b"y").seq == 4  # sequence numbers go on, names never collide
    assert reopened.ack(reopened.oldest(1)[0].key) and not reopened.ack("nope")
    assert len(reopened) == 3 and reopened.bytes == 201


def test_full_spool_drops_oldest_and_counts(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 1000)
    for t in range(25):
        spool.put(t, b"z" * 100)
    assert spool.bytes <= 1000 and len(spool) == 10
    assert [f.captured_ns for f in spool.oldest(100)] == list(range(15, 25))
    assert spool.dropped == 15
    with pytest.raises(ValueError, match="does not fit"):
        spool.put(99, b"w" * 1001)


def _scene(width: int = 320, height: int = 240) -> np.ndarray:
    rng = np.random.default_rng(3)
    scene = np.full((height, width, 3), 90, np.uint8)
    cv2.rectangle(scene, (0, 160), (width, height), (60, 60, 60), -1)  # road
    scene += rng.integers(0, 6, scene.shape, dtype=np.uint8)  # sensor noise, not motion
    return scene


def write_video(path: Path, frames: int = 90, car_from: int = 30, car_to: int = 60) -> list[bool]:
    """A still scene; a car-like block drives through during [car_from, car_to). True where it moves."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15, (320, 240))
    moving = []
    rng = np.random.default_rng(4)
    for n in range(frames):
        frame = _scene()
        frame = np.clip(frame.astype(np.int16) + rng.integers(-3, 4, frame.shape), 0, 255).astype(np.uint8)
        if car_from <= n < car_to:
            x = int((n - car_from) / (car_to - car_from) * 360) - 60
            cv2.rectangle(frame, (x, 150), (x + 90, 200), (20, 20, 160), -1)
            cv2.rectangle(frame, (x + 30, 180), (x + 60, 192), (230, 230, 230), -1)  # the plate
        writer.write(frame)
        moving.append(car_from <= n < car_to)
    writer.release()
    return moving


def test_motion_gate_sends_only_frames_with_motion(tmp_path: Path) -> None:
    video = tmp_path / "drive-by.avi"
    moving = write_video(video)
    gate = Gate(MotionDetector(threshold=25, min_area=0.005, roi=None), max_fps=0, duplicate_threshold=0)
    source = Source(str(video), threading.Event())
    assert source.kind == "file" and source.finite
    sent = [gate.admit(c.pixels, now=float(i)) for i, c in enumerate(source.frames())]
    assert len(sent) == len(moving)
    # The car's frames (and the one after it leaves) pass; the still scene never does.
    still = [i for i, m in enumerate(moving) if not m and not (i > 0 and moving[i - 1])]
    assert not any(sent[i] for i in still)
    assert sum(sent[i] for i, m in enumerate(moving) if m) >= 25
    assert gate.counts.captured == 90 and gate.counts.no_motion == 90 - gate.counts.passed


def test_rate_cap_and_duplicates() -> None:
    frame = _scene()
    gate = Gate(None, max_fps=2, duplicate_threshold=0.5)
    assert gate.admit(frame, now=0.0)
    assert not gate.admit(frame, now=0.2)  # over the rate
    assert not gate.admit(frame, now=1.0)  # the same picture again
    other = frame.copy()
    cv2.rectangle(other, (0, 0), (160, 120), (255, 255, 255), -1)
    assert gate.admit(other, now=1.5)
    assert (gate.counts.over_rate, gate.counts.duplicate, gate.counts.passed) == (1, 1, 2)
    assert difference(signature(frame), signature(other)) > 0.5


def test_duplicates_ignore_lighting_and_noise_but_not_a_car() -> None:
    scene = _scene()
    dusk = np.clip(scene.astype(np.int16) * 0.6 + 10, 0, 255).astype(np.uint8)  # a cloud, the sun setting
    noisy = np.clip(scene.astype(np.int16) + np.random.default_rng(9).integers(-8, 9, scene.shape), 0, 255).astype(np.uint8)
    car = scene.copy()
    cv2.rectangle(car, (120, 170), (200, 210), (210, 210, 210), -1)  # a small white car on the road
    base = signature(scene)
    assert difference(base, signature(dusk)) < 0.5
    assert difference(base, signature(noisy)) < 0.5
    assert difference(base, signature(car)) > 2.0


def test_region_of_interest_ignores_motion_outside_it(tmp_path: Path) -> None:
    detector = MotionDetector(threshold=25, min_area=0.01, roi=parse_roi("0,0.5,1,0.5"))
    still = _scene()
    sky = still.copy()
    cv2.rectangle(sky, (0, 0), (320, 100), (250, 250, 250), -1)  # a change above the region
    assert not detector.moved(still)
    assert not detector.moved(sky)
    road = sky.copy()
    cv2.rectangle(road, (100, 170), (220, 230), (220, 220, 220), -1)  # a light car on the dark road
    assert detector.moved(road)


@pytest.mark.parametrize("text", ["0,0,1", "a,b,c,d", "0.5,0.5,0.6,0.2"])
def test_bad_roi_is_refused_with_a_message(text: str) -> None:
    with pytest.raises(ValueError, match="roi"):
        parse_roi(text)


def test_unknown_source_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a camera"):
        Source(str(tmp_path / "missing.mp4"), threading.Event())
