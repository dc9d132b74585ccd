"""The edge agent: source -> gate -> JPEG -> spool -> sender -> ingest.

Capture and sending run in separate threads joined only by the spool on disk, so a slow or
dead link never stalls capture, and memory stays bounded (one frame being gated, at most
`window` frames read back for sending).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from dataclasses import asdict

import cv2

from edge.gate import Gate, MotionDetector, parse_roi
from edge.sender import Sender
from edge.settings import EdgeSettings
from edge.sources import Source
from edge.spool import Spool

log = logging.getLogger("cardak.edge")


class Agent:
    def __init__(self, settings: EdgeSettings) -> None:
        self.settings = settings
        self.stop = threading.Event()  # stop capturing (a signal); sending goes on for the grace period
        self.halt = threading.Event()  # stop sending
        self.source = Source(settings.source, self.stop)
        motion = MotionDetector(settings.motion_threshold, settings.motion_min_area, parse_roi(settings.roi))
        self.gate = Gate(motion if settings.motion else None, settings.max_fps, settings.duplicate_threshold)
        self.spool = Spool(settings.spool_dir, int(settings.spool_max_mb * 1024 * 1024))
        self.sender = Sender(settings, self.spool, self.halt)
        if len(self.spool):
            log.info("frames left from an earlier run will be sent first", extra={"spooled": len(self.spool)})

    def counts(self) -> dict[str, int]:
        return {**asdict(self.gate.counts), **asdict(self.sender.counts), "spooled": len(self.spool),
                "dropped_spool_full": self.spool.dropped}

    def run(self) -> int:
        sending = threading.Thread(target=self.sender.run, name="sender", daemon=True)
        sending.start()
        reporter = threading.Thread(target=self._report, name="stats", daemon=True)
        reporter.start()
        params = [cv2.IMWRITE_JPEG_QUALITY, self.settings.jpeg_quality]
        try:
            for captured in self.source.frames():
                if self.stop.is_set():
                    break
                if not self.gate.admit(captured.pixels):
                    continue
                ok, jpeg = cv2.imencode(".jpg", captured.pixels, params)
                if ok:
                    self.spool.put(captured.captured_ns, jpeg.tobytes())
        finally:
            self.sender.capture_done.set()
        if self.source.finite:
            # Everything captured is on disk; stay until it is acked, unless told to stop.
            while not self.sender.drained.wait(0.5) and not self.stop.is_set():
                pass
        # Told to stop: what is not acked within the grace period waits in the spool for next time.
        self.sender.drained.wait(self.settings.grace_seconds)
        self.stop.set()
        self.halt.set()
        sending.join(timeout=5)
        log.info("edge agent stopped", extra=self.counts())
        return 0

    def _report(self) -> None:
        while not self.halt.wait(self.settings.stats_seconds):
            log.info("edge counts", extra=self.counts())


def main() -> None:
    from services.common.logs import setup_logging

    settings = EdgeSettings()
    setup_logging("edge", "INFO")
    try:
        agent = Agent(settings)
    except ValueError as exc:
        raise SystemExit(f"cardak edge: {exc}") from None

    def on_signal(signum: int, _frame: object) -> None:
        log.info("stopping: sending what is spooled for up to the grace period", extra={"signal": signum})
        agent.stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    started = time.monotonic()
    code = agent.run()
    log.info("edge agent ran", extra={"seconds": round(time.monotonic() - started, 1)})
    raise SystemExit(code)
