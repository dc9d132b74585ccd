"""Where frames come from: a V4L2/USB camera, an RTSP or HTTP stream, a video file, a folder of
images (all through OpenCV), or the Pi camera through picamera2 when it is installed.

Live sources (cameras, streams) reconnect on their own with backoff when they fail; finite
ones (a file, a folder) end, and the agent then exits once everything is sent.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger("cardak.edge")

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


@dataclass(frozen=True)
class Captured:
    pixels: np.ndarray  # BGR
    captured_ns: int  # wall clock, strictly increasing within one agent


class Source:
    def __init__(self, spec: str, stop: threading.Event) -> None:
        self.spec = spec
        self._stop = stop
        self._last_ns = 0
        path = Path(spec)
        if spec == "picamera2":
            self.kind = "picamera2"
        elif spec.isdigit() or spec.startswith("/dev/video"):
            self.kind = "camera"
        elif spec.split("://")[0] in ("rtsp", "rtsps", "http", "https"):
            self.kind = "stream"
        elif path.is_dir():
            self.kind = "folder"
        elif path.is_file():
            self.kind = "file"
        else:
            raise ValueError(f"source {spec!r} is not a camera (0, /dev/video0), a stream URL, a file or a folder")

    @property
    def finite(self) -> bool:
        return self.kind in ("file", "folder")

    def frames(self) -> Iterator[Captured]:
        if self.kind == "folder":
            yield from self._folder()
        elif self.kind == "picamera2":
            yield from self._picamera2()
        elif self.kind == "file":
            yield from self._capture(self.spec)
        else:
            yield from self._live()

    def _stamp(self, pixels: np.ndarray) -> Captured:
        # Capture time names the frame (idempotency key, spool order): never twice the same.
        now = max(time.time_ns(), self._last_ns + 1)
        self._last_ns = now
        return Captured(pixels, now)

    def _folder(self) -> Iterator[Captured]:
        for path in sorted(p for p in Path(self.spec).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            if self._stop.is_set():
                return
            pixels = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if pixels is None:
                log.warning("unreadable image skipped", extra={"path": str(path)})
                continue
            yield self._stamp(pixels)

    def _capture(self, target: str | int) -> Iterator[Captured]:
        capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            raise ConnectionError(f"cannot open {self.spec}")
        try:
            while not self._stop.is_set():
                ok, pixels = capture.read()
                if not ok:
                    return
                yield self._stamp(pixels)
        finally:
            capture.release()

    def _live(self) -> Iterator[Captured]:
        target: str | int = int(self.spec) if self.spec.isdigit() else self.spec
        delay = 0.5
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                yield from self._capture(target)
                log.warning("source ended; reopening", extra={"source": self.spec})
            except ConnectionError as exc:
                log.warning("source unavailable; retrying", extra={"source": self.spec, "error": str(exc)})
            delay = 0.5 if time.monotonic() - started > 60 else min(30.0, delay * 2)
            self._stop.wait(random.uniform(0, delay))

    def _picamera2(self) -> Iterator[Captured]:
        try:
            from picamera2 import Picamera2  # type: ignore[import-not-found]
        except ImportError:
            raise ValueError("source 'picamera2' needs the picamera2 package (apt install python3-picamera2)") from None
        camera = Picamera2()
        camera.configure(camera.create_video_configuration(main={"format": "RGB888", "size": (1920, 1080)}))
        camera.start()
        try:
            while not self._stop.is_set():
                yield self._stamp(camera.capture_array())
        finally:
            camera.stop()
