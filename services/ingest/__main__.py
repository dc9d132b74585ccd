"""python -m services.ingest: run the ingest service."""

from __future__ import annotations

import sentinel
from sentinel.metrics import QueueCollector
from cardak.v1 import ingest_pb2, ingest_pb2_grpc
from services.common.blobs import BlobStore
from services.common.errors import InvalidRequest
from services.common.logs import setup_logging
from services.common.redis import connect
from services.common.server import api, serve
from services.ingest.admission import Admission
from services.ingest.servicer import IngestServicer
from services.ingest.tokens import CameraTokens
from services.ingest.settings import IngestSettings


def main() -> None:
    settings = IngestSettings()
    setup_logging("ingest", settings.log_level)
    client = connect(settings.redis_url)
    queues = sentinel.Client(client, namespace=settings.namespace)
    admission = Admission(settings, queues, BlobStore(client, settings.namespace, settings.blob_ttl_seconds))
    try:
        tokens = CameraTokens(settings.camera_tokens_file) if settings.camera_tokens_file else None
    except (OSError, InvalidRequest) as exc:
        raise SystemExit(f"cardak ingest: camera tokens: {exc}") from None
    servicer = IngestServicer(admission, tokens)

    def start_up() -> tuple[()]:
        client.ping()  # fail fast, with the URL in the log, when Redis is not there
        return ()

    serve(
        settings,
        service="ingest",
        addr=settings.ingest_addr,
        apis=[api(ingest_pb2, "IngestService", ingest_pb2_grpc.add_IngestServiceServicer_to_server, servicer)],
        start_up=start_up,
        collectors=[QueueCollector(queues, [settings.ocr_queue])],
    )


if __name__ == "__main__":
    main()
