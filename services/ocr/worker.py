"""The OCR queue worker: image from the blob store -> plates -> store -> enrich queue."""

from __future__ import annotations

import logging

import sentinel
from cardak.v1 import store_pb2, store_pb2_grpc, tasks_pb2
from services.common.blobs import BlobStore
from services.common.channels import open_channel
from services.common.errors import InvalidRequest
from services.common.redis import connect
from services.ocr import metrics
from services.ocr.reader import PlateReader
from services.ocr.settings import OcrSettings

log = logging.getLogger("cardak.ocr")


class ReadTask:
    """Handles one leased OcrTask. Safe to repeat: the store write is idempotent on
    sighting_id and the enrich task is deduplicated on it."""

    def __init__(
        self,
        settings: OcrSettings,
        reader: PlateReader,
        blobs: BlobStore,
        store: store_pb2_grpc.StoreServiceStub,
        queues: sentinel.Client,
    ) -> None:
        self._settings = settings
        self._reader = reader
        self._blobs = blobs
        self._store = store
        self._queues = queues

    def __call__(self, lease: sentinel.Lease) -> None:
        task = tasks_pb2.OcrTask.FromString(lease.payload)
        image = self._blobs.get(task.blob_key)
        if image is None:
            raise sentinel.PermanentError(f"image {task.blob_key} expired before it was read")
        try:
            result = self._reader.read(image)
            metrics.observe(result)
        except InvalidRequest as exc:
            raise sentinel.PermanentError(str(exc)) from exc
        request = store_pb2.RecordReadRequest(
            sighting_id=task.sighting_id,
            camera_id=task.camera_id,
            captured_at=task.captured_at,
            reads=[p.as_proto() for p in result.plates],
            image_ref=task.blob_key,
        )
        self._store.RecordRead(request, timeout=self._settings.rpc_timeout_seconds)
        if result.plates:
            best = result.plates[0]
            enrich = tasks_pb2.EnrichTask(sighting_id=task.sighting_id, plate=best.text, region=best.region)
            self._queues.enqueue(
                self._settings.enrich_queue,
                enrich.SerializeToString(),
                dedupe_key=task.sighting_id,
                max_attempts=self._settings.enrich_max_attempts,
            )
        log.info(
            "read",
            extra={
                "sighting_id": task.sighting_id,
                "plate": result.plates[0].text if result.plates else None,
                "ocr_ms": round(result.elapsed_ms),
                "attempt": lease.attempt,
            },
        )


def queue_worker(settings: OcrSettings, reader: PlateReader) -> sentinel.Worker:
    """The sentinel worker that reads the OCR queue with `reader`: in the service's process and
    in each extra worker process (services.ocr.processes)."""
    client = connect(settings.redis_url)
    client.ping()
    queues = sentinel.Client(client, namespace=settings.namespace)
    store = store_pb2_grpc.StoreServiceStub(open_channel(settings.store_addr, settings.max_message_bytes))
    handler = ReadTask(settings, reader, BlobStore(client, settings.namespace, settings.blob_ttl_seconds), store, queues)
    return sentinel.Worker(
        queues, settings.ocr_queue, handler, concurrency=settings.concurrency, lease_seconds=settings.lease_seconds
    )
