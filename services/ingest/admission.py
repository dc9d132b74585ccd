"""Admitting one frame: validate it, keep its image, queue an OCR task. No gRPC here."""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

import sentinel
from cardak.v1 import ingest_pb2, tasks_pb2
from services.common.blobs import BlobStore
from services.common.errors import InvalidRequest, Overloaded
from services.common.images import inspect_image
from services.ingest.settings import IngestSettings

_CAMERA_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# Namespace of sighting ids: uuid5(camera_id, idempotency_key) is the same on every resend.
_SIGHTING_NS = uuid.UUID("6f1c4c1e-8a35-4d1f-9d1a-0c5a7c2b9e41")


@dataclass(frozen=True)
class Admitted:
    sighting_id: str
    idempotency_key: str
    duplicate: bool


def sighting_id_for(camera_id: str, idempotency_key: str) -> str:
    return str(uuid.uuid5(_SIGHTING_NS, f"{camera_id}\x00{idempotency_key}"))


class Admission:
    def __init__(self, settings: IngestSettings, queues: sentinel.Client, blobs: BlobStore) -> None:
        self._settings = settings
        self._queues = queues
        self._blobs = blobs

    def admit(self, frame: ingest_pb2.Frame) -> Admitted:
        """Queue `frame` for OCR. Raises InvalidRequest, or Overloaded when the queue is full."""
        s = self._settings
        if not _CAMERA_ID.match(frame.camera_id):
            raise InvalidRequest(
                f"camera_id {frame.camera_id!r} must be 1-64 letters, digits, '.', '_' or '-'"
            )
        if len(frame.image) > s.max_image_bytes:
            raise InvalidRequest(f"image is {len(frame.image)} bytes, over the limit of {s.max_image_bytes}")
        info = inspect_image(frame.image, frame.content_type, max_pixels=s.max_image_pixels)
        if len(frame.idempotency_key) > 256:
            raise InvalidRequest("idempotency_key is longer than 256 characters")

        captured_at = frame.captured_at if frame.HasField("captured_at") else None
        key = frame.idempotency_key or _derived_key(frame)
        sighting_id = sighting_id_for(frame.camera_id, key)
        task = tasks_pb2.OcrTask(
            sighting_id=sighting_id,
            camera_id=frame.camera_id,
            blob_key=self._blobs.put(frame.image),
            content_type=info.format,
            idempotency_key=key,
        )
        now = datetime.now(timezone.utc)
        task.received_at.FromDatetime(now)
        if captured_at is not None:
            task.captured_at.CopyFrom(captured_at)
        else:
            task.captured_at.FromDatetime(now)
        try:
            result = self._queues.enqueue(
                s.ocr_queue,
                task.SerializeToString(),
                dedupe_key=sighting_id,
                max_attempts=s.ocr_max_attempts,
                max_depth=s.ocr_queue_max_depth,
            )
        except sentinel.QueueFull:
            raise Overloaded("the OCR queue is full: back off and send this frame again later") from None
        return Admitted(sighting_id, key, duplicate=not result.created)


def _derived_key(frame: ingest_pb2.Frame) -> str:
    """A stable key for a frame sent without one: the same camera, time and bytes give the same key."""
    digest = hashlib.sha256()
    digest.update(frame.camera_id.encode())
    digest.update(frame.captured_at.SerializeToString(deterministic=True))
    digest.update(frame.image)
    return "sha256:" + digest.hexdigest()[:32]
