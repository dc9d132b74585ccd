"""The enrich queue worker: plate -> profile -> store."""

from __future__ import annotations

import logging

import sentinel
from cardak.v1 import store_pb2, store_pb2_grpc, tasks_pb2
from services.common.errors import InvalidRequest, Overloaded, Unavailable
from services.enrich.enricher import Enricher
from services.enrich.settings import EnrichSettings

log = logging.getLogger("cardak.enrich")


class EnrichTaskHandler:
    """Handles one leased EnrichTask; repeating it rewrites the same profile.

    A provider that cannot answer fails the attempt, and sentinel brings the task back with
    backoff. The last attempt (CARDAK_ENRICH_MAX_ATTEMPTS) stores what is known without the
    remote providers instead, so a long outage leaves the sighting with a profile that says why,
    rather than a task in the dead-letter queue.
    """

    def __init__(self, settings: EnrichSettings, enricher: Enricher, store: store_pb2_grpc.StoreServiceStub) -> None:
        self._settings = settings
        self._enricher = enricher
        self._store = store

    def __call__(self, lease: sentinel.Lease) -> None:
        task = tasks_pb2.EnrichTask.FromString(lease.payload)
        try:
            profile = self._enricher.enrich(task.plate, task.region, requester=f"sighting {task.sighting_id}")
        except InvalidRequest as exc:
            raise sentinel.PermanentError(str(exc)) from exc
        except (Unavailable, Overloaded) as exc:
            if lease.attempt < self._settings.enrich_max_attempts:
                log.warning(
                    "provider unavailable; will retry",
                    extra={"sighting_id": task.sighting_id, "attempt": lease.attempt, "error": str(exc)},
                )
                raise
            profile = self._enricher.enrich_offline(task.plate, task.region, reason=str(exc))
        self._store.AttachVehicle(
            store_pb2.AttachVehicleRequest(sighting_id=task.sighting_id, vehicle=profile),
            timeout=self._settings.rpc_timeout_seconds,
        )
        log.info(
            "enriched",
            extra={"sighting_id": task.sighting_id, "plate": task.plate, "source": profile.source, "attempt": lease.attempt},
        )
