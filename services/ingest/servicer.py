"""IngestService over gRPC: maps admission outcomes onto statuses and acks."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import grpc
import redis

import sentinel
from cardak.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.errors import InvalidRequest
from services.ingest.admission import Admission, Admitted

log = logging.getLogger("cardak.ingest")

_QUEUE_FULL = "the OCR queue is full: back off and send this frame again later"
_REDIS_DOWN = "the queue is unreachable: send this frame again later"


def _status(admitted: Admitted) -> int:
    return ingest_pb2.FRAME_STATUS_DUPLICATE if admitted.duplicate else ingest_pb2.FRAME_STATUS_QUEUED


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, admission: Admission) -> None:
        self._admission = admission

    def Submit(self, request: ingest_pb2.Frame, context: grpc.ServicerContext) -> ingest_pb2.SubmitReply:
        try:
            admitted = self._admission.admit(request)
        except InvalidRequest as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except sentinel.QueueFull:
            context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, _QUEUE_FULL)
        except redis.RedisError as exc:
            log.error("queue unreachable", extra={"error": str(exc)})
            context.abort(grpc.StatusCode.UNAVAILABLE, _REDIS_DOWN)
        log.debug("admitted", extra={"sighting_id": admitted.sighting_id, "camera_id": request.camera_id})
        return ingest_pb2.SubmitReply(sighting_id=admitted.sighting_id, status=_status(admitted))

    def StreamFrames(
        self, request_iterator: Iterator[ingest_pb2.Frame], context: grpc.ServicerContext
    ) -> Iterator[ingest_pb2.FrameAck]:
        for frame in request_iterator:
            try:
                admitted = self._admission.admit(frame)
            except InvalidRequest as exc:
                yield ingest_pb2.FrameAck(
                    idempotency_key=frame.idempotency_key, status=ingest_pb2.FRAME_STATUS_REJECTED, error=str(exc)
                )
                continue
            except sentinel.QueueFull:
                # Everything acked so far is safe; the client resends the rest after backing off.
                context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, _QUEUE_FULL)
            except redis.RedisError as exc:
                log.error("queue unreachable", extra={"error": str(exc)})
                context.abort(grpc.StatusCode.UNAVAILABLE, _REDIS_DOWN)
            yield ingest_pb2.FrameAck(
                idempotency_key=admitted.idempotency_key, sighting_id=admitted.sighting_id, status=_status(admitted)
            )
