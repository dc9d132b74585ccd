"""python -m services.enrich: run the enrich service and its queue worker."""

from __future__ import annotations

import logging

import sentinel
from sentinel.metrics import QueueCollector
from cardak.v1 import enrich_pb2, enrich_pb2_grpc, store_pb2_grpc
from services.common.channels import open_channel
from services.common.logs import setup_logging
from services.common.redis import connect
from services.common.server import api, serve
from services.enrich.enricher import Enricher
from services.enrich.providers import FleetFile, PlateProvider
from services.enrich.servicer import EnrichServicer
from services.enrich.settings import EnrichSettings
from services.enrich.worker import EnrichTaskHandler

log = logging.getLogger("cardak.enrich")


def build_providers(settings: EnrichSettings) -> list[PlateProvider]:
    providers: list[PlateProvider] = []
    if settings.fleet_file:
        fleet = FleetFile(settings.fleet_file)
        log.info("fleet file loaded", extra={"path": settings.fleet_file, "plates": len(fleet)})
        providers.append(fleet)
    return providers


def main() -> None:
    settings = EnrichSettings()
    setup_logging("enrich", settings.log_level)
    client = connect(settings.redis_url)
    enricher = Enricher(build_providers(settings))
    store = store_pb2_grpc.StoreServiceStub(open_channel(settings.store_addr, settings.max_message_bytes))

    queues = sentinel.Client(client, namespace=settings.namespace)

    def start_up() -> list[sentinel.Worker]:
        client.ping()
        handler = EnrichTaskHandler(settings, enricher, store)
        return [
            sentinel.Worker(
                queues, settings.enrich_queue, handler, concurrency=settings.concurrency, lease_seconds=settings.lease_seconds
            )
        ]

    serve(
        settings,
        service="enrich",
        addr=settings.enrich_addr,
        apis=[api(enrich_pb2, "EnrichService", enrich_pb2_grpc.add_EnrichServiceServicer_to_server, EnrichServicer(enricher))],
        start_up=start_up,
        collectors=[QueueCollector(queues, [settings.enrich_queue])],
    )


if __name__ == "__main__":
    main()
