"""Streams spooled frames to ingest over StreamFrames, oldest first, one ack per frame.

A frame leaves the spool only when its ack arrives. When the stream breaks (ingest restarting,
the link down) the sender reconnects with exponential backoff and full jitter and starts again
from the oldest frame still spooled; frames that were in flight are sent again, and ingest
answers DUPLICATE for those it already had (the idempotency key is camera + capture time), so a
resend never makes a second sighting. RESOURCE_EXHAUSTED (ingest's queue is full) waits at least
`overload_seconds`, doubling while it lasts.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from cardak.v1 import common_pb2, ingest_pb2, ingest_pb2_grpc
from edge.settings import EdgeSettings
from edge.spool import Spool, Spooled

log = logging.getLogger("cardak.edge")


@dataclass
class SendCounts:
    sent: int = 0  # frames written to a stream (resends included)
    acked: int = 0  # QUEUED
    duplicate: int = 0  # DUPLICATE: ingest already had it (a resend after a lost ack)
    rejected: int = 0  # REJECTED: can never be accepted (dropped, with ingest's reason logged)
    reconnects: int = 0
    overloaded: int = 0


def idempotency_key(camera_id: str, frame: Spooled) -> str:
    return f"{camera_id}/{frame.captured_ns}"


def open_channel(settings: EdgeSettings) -> grpc.Channel:
    options = [("grpc.max_send_message_length", 16 * 1024 * 1024), ("grpc.keepalive_time_ms", 20_000),
               ("grpc.keepalive_timeout_ms", 10_000), ("grpc.keepalive_permit_without_calls", 1)]
    if not settings.tls and not settings.tls_ca:
        if settings.token:
            log.warning("sending the camera token without TLS; set CARDAK_EDGE_TLS=true")
        return grpc.insecure_channel(settings.ingest_addr, options=options)
    root = open(settings.tls_ca, "rb").read() if settings.tls_ca else None
    return grpc.secure_channel(settings.ingest_addr, grpc.ssl_channel_credentials(root_certificates=root), options=options)


class Sender:
    def __init__(self, settings: EdgeSettings, spool: Spool, stop: threading.Event) -> None:
        self._settings = settings
        self._spool = spool
        self._stop = stop
        self.counts = SendCounts()
        self.capture_done = threading.Event()  # a finite source has ended
        self.drained = threading.Event()  # ... and everything it gave was acked

    def run(self) -> None:
        delay = self._settings.backoff_seconds
        channel = open_channel(self._settings)
        try:
            while not self._stop.is_set():
                if self.capture_done.is_set() and len(self._spool) == 0:
                    self.drained.set()
                    return
                if not self._spool.wait_for_frames(timeout=0.5):
                    continue
                acked_before = self.counts.acked + self.counts.duplicate
                try:
                    self._stream(ingest_pb2_grpc.IngestServiceStub(channel))
                    wait = 0.0
                except grpc.RpcError as exc:
                    code = exc.code()  # type: ignore[attr-defined]
                    if self.counts.acked + self.counts.duplicate > acked_before:
                        delay = self._settings.backoff_seconds  # it worked for a while: start over
                    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                        self.counts.overloaded += 1
                        delay = max(delay * 2, self._settings.overload_seconds)
                    else:
                        delay = min(self._settings.backoff_max_seconds, delay * 2)
                    if code == grpc.StatusCode.UNAUTHENTICATED:
                        log.error("ingest refused this camera's token", extra={"details": exc.details()})  # type: ignore[attr-defined]
                    wait = random.uniform(delay / 2, delay)
                    self.counts.reconnects += 1
                    log.warning("stream to ingest broke; reconnecting",
                                extra={"code": code.name, "wait_s": round(wait, 2), "spooled": len(self._spool)})
                self._stop.wait(wait)
        finally:
            channel.close()

    def _stream(self, stub: ingest_pb2_grpc.IngestServiceStub) -> None:
        in_flight: dict[str, Spooled] = {}
        slots = threading.Semaphore(self._settings.window)
        closing = threading.Event()
        lock = threading.Lock()

        def frames() -> Iterator[ingest_pb2.Frame]:
            last: Spooled | None = None
            while not closing.is_set() and not self._stop.is_set():
                if not slots.acquire(timeout=0.2):
                    continue
                batch = self._spool.oldest(1, after=last)
                if not batch:
                    slots.release()
                    if self.capture_done.is_set() and len(self._spool) == 0:
                        return  # nothing more will come: end the stream cleanly
                    self._spool.wait_for_frames(timeout=0.2)
                    continue
                frame = batch[0]
                last = frame
                data = self._spool.read(frame)
                if data is None:  # dropped to make room meanwhile
                    slots.release()
                    continue
                key = idempotency_key(self._settings.camera_id, frame)
                with lock:
                    in_flight[key] = frame
                captured = Timestamp()
                captured.FromNanoseconds(frame.captured_ns)
                self.counts.sent += 1
                yield ingest_pb2.Frame(camera_id=self._settings.camera_id, captured_at=captured, image=data,
                                       content_type=common_pb2.IMAGE_FORMAT_JPEG, idempotency_key=key)

        metadata = [("authorization", f"Bearer {self._settings.token}")] if self._settings.token else None
        acks = stub.StreamFrames(frames(), metadata=metadata)
        try:
            for ack in acks:
                with lock:
                    frame = in_flight.pop(ack.idempotency_key, None)
                if frame is None:
                    continue
                if ack.status == ingest_pb2.FRAME_STATUS_QUEUED:
                    self.counts.acked += 1
                elif ack.status == ingest_pb2.FRAME_STATUS_DUPLICATE:
                    self.counts.duplicate += 1
                else:
                    self.counts.rejected += 1
                    log.error("ingest rejected a frame; dropping it", extra={"key": ack.idempotency_key, "error": ack.error})
                self._spool.ack(frame.key)
                slots.release()
                if self._stop.is_set():
                    break
        finally:
            closing.set()
            acks.cancel()
