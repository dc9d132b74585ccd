"""IngestService over gRPC: admission outcomes as replies and acks.

Errors are raised, not aborted: the server's ErrorStatusInterceptor maps InvalidRequest to
INVALID_ARGUMENT, Overloaded to RESOURCE_EXHAUSTED and a Redis outage to UNAVAILABLE.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from cardak.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.errors import InvalidRequest, PermissionDenied
from services.ingest.admission import Admission, Admitted
from services.ingest.tokens import CameraTokens


def _status(admitted: Admitted) -> ingest_pb2.FrameStatus:
    return ingest_pb2.FRAME_STATUS_DUPLICATE if admitted.duplicate else ingest_pb2.FRAME_STATUS_QUEUED


class IngestServicer(ingest_pb2_grpc.IngestServiceServicer):
    def __init__(self, admission: Admission, tokens: CameraTokens | None = None) -> None:
        self._admission = admission
        self._tokens = tokens

    def Submit(self, request: ingest_pb2.Frame, context: grpc.ServicerContext) -> ingest_pb2.SubmitReply:
        if self._tokens is not None:
            self._tokens.check(self._tokens.camera(context), request.camera_id)
        admitted = self._admission.admit(request)
        return ingest_pb2.SubmitReply(sighting_id=admitted.sighting_id, status=_status(admitted))

    def StreamFrames(
        self, request_iterator: Iterator[ingest_pb2.Frame], context: grpc.ServicerContext
    ) -> Iterator[ingest_pb2.FrameAck]:
        camera = self._tokens.camera(context) if self._tokens is not None else None
        for frame in request_iterator:
            try:
                if camera is not None:
                    CameraTokens.check(camera, frame.camera_id)
                admitted = self._admission.admit(frame)
            except (InvalidRequest, PermissionDenied) as exc:
                # This frame can never be accepted; say why and go on with the stream.
                yield ingest_pb2.FrameAck(
                    idempotency_key=frame.idempotency_key, status=ingest_pb2.FRAME_STATUS_REJECTED, error=str(exc)
                )
                continue
            # Overloaded (queue full) ends the stream: everything acked so far is safe and
            # the client resends the rest after backing off.
            yield ingest_pb2.FrameAck(
                idempotency_key=admitted.idempotency_key, sighting_id=admitted.sighting_id, status=_status(admitted)
            )
