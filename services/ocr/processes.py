"""More queue-worker processes for one OCR service (CARDAK_WORKER_PROCESSES).

On a GPU the card is not what limits a process: localising and post-processing are Python
and share one GIL, so threads stop helping at about 8 photos/s on an H200 (bench/ocr.py
--concurrency 8) while four processes of four reads each made 25.6 photos/s on the same card.
Each extra process loads its own model, takes from the same sentinel queue with its own
worker id, and so keeps sentinel's guarantees: a process that dies mid-read has its lease
rescued and retried like any worker's. The service's own process still serves gRPC and reads
too; these are the additional ones. Their read metrics reach the service's /metrics through
prometheus_client's multiprocess mode (share_metrics_between_processes).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import tempfile
import threading
import time
from multiprocessing.process import BaseProcess

log = logging.getLogger("cardak.ocr")

# A child that keeps dying is restarted at most this often (a broken GPU, a bad model file).
RESTART_PAUSE_SECONDS = 5.0


def share_metrics_between_processes() -> None:
    """Have every process's counters and histograms kept in files of one folder, which the
    service's /metrics sums (prometheus_client's multiprocess mode; services.common.server).

    Call before prometheus_client is first imported: it picks its storage at import. Children
    inherit the folder through the environment. A folder already named is kept.
    """
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="cardak-ocr-metrics-")


class WorkerProcesses:
    """`count` child processes, each running the OCR queue worker, restarted if one exits.

    A Background for services.common.server.serve: start() spawns them, stop(grace) sends each
    SIGTERM (a child stops taking, waits up to `grace` for its reads, releases the rest) and
    kills what is left after the grace.
    """

    def __init__(self, count: int) -> None:
        # spawn, not fork: the parent already holds gRPC, OpenMP and CUDA state a fork would copy broken.
        self._context = multiprocessing.get_context("spawn")
        self._children: list[BaseProcess] = []
        self._count = count
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def start(self) -> threading.Thread:
        with self._lock:
            self._children = [self._spawn(i) for i in range(self._count)]
        watcher = threading.Thread(target=self._watch, name="ocr-processes", daemon=True)
        watcher.start()
        return watcher

    def stop(self, grace: float = 10.0) -> None:
        self._stopping.set()
        with self._lock:
            children = list(self._children)
        for child in children:
            if child.pid is not None and child.is_alive():
                os.kill(child.pid, signal.SIGTERM)
        # The child's own stop takes up to `grace`, plus its signal poll and exit.
        deadline = time.monotonic() + grace + 5.0
        for child in children:
            child.join(max(0.0, deadline - time.monotonic()))
            if child.is_alive():
                log.warning("worker process did not stop in time; killing it", extra={"pid": child.pid})
                child.kill()
                child.join()

    def _spawn(self, index: int) -> BaseProcess:
        child = self._context.Process(target=_child_main, args=(os.getpid(),), name=f"ocr-worker-{index + 1}", daemon=False)
        child.start()
        log.info("worker process started", extra={"pid": child.pid, "index": index + 1})
        return child

    def _watch(self) -> None:
        while not self._stopping.wait(1.0):
            for index in range(self._count):
                with self._lock:
                    child = self._children[index]
                if child.is_alive() or self._stopping.is_set():
                    continue
                log.error("worker process exited; starting another", extra={"pid": child.pid, "exitcode": child.exitcode})
                if self._stopping.wait(RESTART_PAUSE_SECONDS):
                    return
                with self._lock:
                    self._children[index] = self._spawn(index)


def _child_main(parent: int) -> None:
    """One extra worker process: the same settings (environment), model and handler as the service's.

    It stops on SIGTERM, and on its own when the service's process is gone (killed, crashed):
    an orphan would go on reading the queue beside the service's next start.
    """
    from services.common.logs import setup_logging
    from services.ocr.worker import queue_worker
    from services.ocr.reader import PlateReader
    from services.ocr.settings import OcrSettings

    settings = OcrSettings()
    setup_logging("ocr", settings.log_level)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, _frame: stopping.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group; the parent decides
    worker = queue_worker(settings, PlateReader(settings))
    worker.start()
    while not stopping.wait(0.5):  # signal handlers run only between waits on the main thread
        if os.getppid() != parent:
            log.error("the OCR service's process is gone; stopping this worker process", extra={"parent": parent})
            break
    worker.stop(settings.grace_seconds)
    logging.shutdown()
    os._exit(0)  # as the service does: a forward pass past its grace must not abort the exit
