"""StoreService over gRPC. Repository errors (InvalidRequest, NotFound) become statuses in
the server's ErrorStatusInterceptor."""

from __future__ import annotations

import queue
from collections.abc import Iterator

import grpc

from cardak.v1 import common_pb2, store_pb2, store_pb2_grpc
from services.common.errors import InvalidRequest, Overloaded
from services.store.events import EventHub
from services.store.repository import SightingRepository
from services.store.watchlist import WatchList

# How often an idle watch stream checks that its client is still there.
_WATCH_POLL_SECONDS = 1.0


class StoreServicer(store_pb2_grpc.StoreServiceServicer):
    def __init__(self, repository: SightingRepository, hub: EventHub, watchlist: WatchList) -> None:
        self._repo = repository
        self._hub = hub
        self._watchlist = watchlist

    def RecordRead(self, request: store_pb2.RecordReadRequest, context: grpc.ServicerContext) -> store_pb2.Sighting:
        written = self._repo.record_read(request)
        if not written.changed:
            return written.sighting
        kind = store_pb2.SIGHTING_EVENT_TYPE_CREATED if written.created else store_pb2.SIGHTING_EVENT_TYPE_UPDATED
        self._hub.publish(store_pb2.SightingEvent(type=kind, sighting=written.sighting))
        for alert in written.alerts:
            self._hub.publish(
                store_pb2.SightingEvent(type=store_pb2.SIGHTING_EVENT_TYPE_ALERT, sighting=written.sighting, alert=alert)
            )
        return written.sighting

    def AttachVehicle(self, request: store_pb2.AttachVehicleRequest, context: grpc.ServicerContext) -> store_pb2.Sighting:
        if request.vehicle.status == common_pb2.PROFILE_STATUS_UNSPECIFIED:
            raise InvalidRequest("vehicle.status must say FOUND, PARTIAL or NOT_FOUND")
        sighting = self._repo.attach_vehicle(request.sighting_id, request.vehicle)
        self._hub.publish(store_pb2.SightingEvent(type=store_pb2.SIGHTING_EVENT_TYPE_UPDATED, sighting=sighting))
        return sighting

    def GetSighting(self, request: store_pb2.GetSightingRequest, context: grpc.ServicerContext) -> store_pb2.Sighting:
        return self._repo.get(request.sighting_id)

    def SearchSightings(
        self, request: store_pb2.SearchSightingsRequest, context: grpc.ServicerContext
    ) -> store_pb2.SearchSightingsResponse:
        return self._repo.search(request)

    def WatchSightings(
        self, request: store_pb2.WatchSightingsRequest, context: grpc.ServicerContext
    ) -> Iterator[store_pb2.SightingEvent]:
        sub = self._hub.subscribe(request.camera_id, request.plate, request.alerts_only)
        try:
            # Headers go out only now, so a client that waits for them knows it misses nothing.
            context.send_initial_metadata(())
            while context.is_active():
                try:
                    event = sub.events.get(timeout=_WATCH_POLL_SECONDS)
                except queue.Empty:
                    if sub.overflowed:
                        raise Overloaded("this watcher fell too far behind and was cut off; watch again") from None
                    continue
                yield event
        finally:
            self._hub.unsubscribe(sub)

    def AddWatch(self, request: store_pb2.AddWatchRequest, context: grpc.ServicerContext) -> store_pb2.WatchEntry:
        return self._watchlist.add(request)

    def RemoveWatch(self, request: store_pb2.RemoveWatchRequest, context: grpc.ServicerContext) -> store_pb2.WatchEntry:
        return self._watchlist.remove(request.watch_id)

    def ListWatches(
        self, request: store_pb2.ListWatchesRequest, context: grpc.ServicerContext
    ) -> store_pb2.ListWatchesResponse:
        return store_pb2.ListWatchesResponse(entries=self._watchlist.entries())
