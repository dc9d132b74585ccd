"""python -m services.ocr: run the OCR service and its queue worker."""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("torch") is None or importlib.util.find_spec("easyocr") is None:
    raise SystemExit(
        "cardak ocr: PyTorch and EasyOCR are not installed here; install the OCR extra "
        "(pip install 'cardak[ocr]') or run the OCR image"
    )

from services.ocr.processes import WorkerProcesses, share_metrics_between_processes  # noqa: E402
from services.ocr.settings import OcrSettings  # noqa: E402

# Read once, here: the worker processes' count decides how metrics are kept, before anything
# imports prometheus_client.
SETTINGS = OcrSettings()
if SETTINGS.worker_processes > 1:
    share_metrics_between_processes()

import sentinel  # noqa: E402
from sentinel.metrics import QueueCollector
from cardak.v1 import ocr_pb2, ocr_pb2_grpc
from services.common.logs import setup_logging
from services.common.redis import connect
from services.common.server import Background, api, serve
from services.ocr.reader import PlateReader
from services.ocr.servicer import OcrServicer
from services.ocr.worker import queue_worker


def main() -> None:
    settings = SETTINGS
    setup_logging("ocr", settings.log_level)
    client = connect(settings.redis_url)
    queues = sentinel.Client(client, namespace=settings.namespace)
    servicer = OcrServicer(settings)

    def start_up() -> list[Background]:
        client.ping()
        servicer.reader = PlateReader(settings)
        background: list[Background] = [queue_worker(settings, servicer.reader)]
        if settings.worker_processes > 1:
            background.append(WorkerProcesses(settings.worker_processes - 1))
        return background

    serve(
        settings,
        service="ocr",
        addr=settings.ocr_addr,
        apis=[api(ocr_pb2, "OcrService", ocr_pb2_grpc.add_OcrServiceServicer_to_server, servicer)],
        start_up=start_up,
        collectors=[QueueCollector(queues, [settings.ocr_queue, settings.enrich_queue])],
    )


if __name__ == "__main__":
    main()
