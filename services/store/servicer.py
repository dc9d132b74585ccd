"""StoreService over gRPC."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import grpc

from cardak.v1 import common_pb2, store_pb2, store_pb2_grpc
from services.common.errors import InvalidRequest
from services.store.events import EventHub
from services.store.repository import NotFound, SightingRepository

# How often an idle watch stream checks that its client is still there.
_WATCH_POLL_SECONDS = 1.0


class StoreServicer(store_pb2_grpc.StoreServiceServicer):
    def __init__(self, repository: SightingRepository, hub: EventHub) -> None:
        self._repo = repository
        self._hub = hub

    def RecordRead(self, request: store_pb2.RecordReadRequest, context: grpc.ServicerContext) -> store_pb2.Sighting:
        try:
            written = self._repo.record_read(request)
        except InvalidRequest as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        kind = store_pb2.SIGHTING_EVENT_TYPE_CREATED if written.created else store_pb2.SIGHTING_EVENT_TYPE_UPDATED
        self._hub.publish(store_pb2.SightingEvent(type=kind, sighting=written.sighting))
        return written.sighting

    def AttachVehicle(self, request: store_pb2.AttachVehicleRequest, context: grpc.ServicerContext) -> store_pb2.Sighting:
        if request.vehicle.status == common_pb2.PROFILE_STATUS_UNSPECIFIED:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "vehicle.status must say FOUND, PARTIAL or NOT_FOUND")
        try:
            sighting = self._repo.attach_vehicle(request.sighting_id, request.vehicle)
        except NotFound as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))
        self._hub.publish(store_pb2.SightingEvent(type=store_pb2.SIGHTING_EVENT_TYPE_UPDATED, sighting=sighting))
        return sighting

    def GetSighting(self, request: store_pb2.GetSightingRequest, context: grpc.ServicerContext) -> store_pb2.Sighting:
        try:
            return self._repo.get(request.sighting_id)
        except NotFound as exc:
            context.abort(grpc.StatusCode.NOT_FOUND, str(exc))

    def SearchSightings(
        self, request: store_pb2.SearchSightingsRequest, context: grpc.ServicerContext
    ) -> store_pb2.SearchSightingsResponse:
        try:
            return self._repo.search(request)
        except InvalidRequest as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

    def WatchSightings(
        self, request: store_pb2.WatchSightingsRequest, context: grpc.ServicerContext
    ) -> Iterator[store_pb2.SightingEvent]:
        sub = self._hub.subscribe(request.camera_id, request.plate)
        try:
            # Headers go out only now, so a client that waits for them knows it misses nothing.
            context.send_initial_metadata(())
            while context.is_active():
                try:
                    event = sub.events.get(timeout=_WATCH_POLL_SECONDS)
                except queue.Empty:
                    if sub.overflowed:
                        context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "watcher fell too far behind; watch again")
                    continue
                yield event
        finally:
            self._hub.unsubscribe(sub)
