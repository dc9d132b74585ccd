"""The enrich queue worker: plate -> profile -> store."""

from __future__ import annotations

import logging

import sentinel
from cardak.v1 import store_pb2, store_pb2_grpc, tasks_pb2
from services.enrich.enricher import Enricher
from services.enrich.settings import EnrichSettings

log = logging.getLogger("cardak.enrich")


class EnrichTaskHandler:
    """Handles one leased EnrichTask; repeating it rewrites the same profile."""

    def __init__(self, settings: EnrichSettings, enricher: Enricher, store: store_pb2_grpc.StoreServiceStub) -> None:
        self._settings = settings
        self._enricher = enricher
        self._store = store

    def __call__(self, lease: sentinel.Lease) -> None:
        task = tasks_pb2.EnrichTask.FromString(lease.payload)
        profile = self._enricher.enrich(task.plate, task.region)
        self._store.AttachVehicle(
            store_pb2.AttachVehicleRequest(sighting_id=task.sighting_id, vehicle=profile),
            timeout=self._settings.rpc_timeout_seconds,
        )
        log.info(
            "enriched",
            extra={"sighting_id": task.sighting_id, "plate": task.plate, "source": profile.source},
        )
