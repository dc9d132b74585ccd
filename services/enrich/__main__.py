"""python -m services.enrich: run the enrich service and its queue worker."""

from __future__ import annotations

import logging
import threading

import sentinel
from sentinel.metrics import QueueCollector
from cardak.v1 import enrich_pb2, enrich_pb2_grpc, store_pb2_grpc
from services.common.channels import open_channel
from services.common.errors import InvalidRequest
from services.common.logs import setup_logging
from services.common.redis import connect
from services.common.server import api, serve
from services.enrich.config import build_enricher
from services.enrich.enricher import Enricher
from services.enrich.servicer import EnrichServicer
from services.enrich.settings import EnrichSettings
from services.enrich.worker import EnrichTaskHandler

log = logging.getLogger("cardak.enrich")


def warm_fleet_vins(settings: EnrichSettings, enricher: Enricher) -> None:
    """Decode the fleet file's bare VINs in vPIC batches, in the background: start-up never
    waits on the network, and the first sighting of a fleet car finds its profile cached."""
    if not (settings.fleet_file and settings.vpic_url):
        return

    def run() -> None:
        try:
            decoded = enricher.warm_fleet_vins()
            log.info("fleet VINs decoded", extra={"decoded": decoded})
        except Exception as exc:  # best effort: each plate is decoded on first sight anyway
            log.warning("fleet VINs not decoded in advance", extra={"error": str(exc)})

    threading.Thread(target=run, name="warm-fleet-vins", daemon=True).start()


def main() -> None:
    settings = EnrichSettings()
    setup_logging("enrich", settings.log_level)
    client = connect(settings.redis_url)
    try:
        enricher = build_enricher(settings, client)
    except InvalidRequest as exc:
        raise SystemExit(f"cardak enrich: {exc}") from None
    store = store_pb2_grpc.StoreServiceStub(open_channel(settings.store_addr, settings.max_message_bytes))

    queues = sentinel.Client(client, namespace=settings.namespace)

    def start_up() -> list[sentinel.Worker]:
        client.ping()
        warm_fleet_vins(settings, enricher)
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
