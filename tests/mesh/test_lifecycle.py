"""Services started alone, as a container runs them: backpressure and graceful stop."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

import sentinel
from cardak.cli.mesh import Mesh
from cardak.samples import SAMPLE_IMAGE
from cardak.v1 import ingest_pb2, ingest_pb2_grpc, tasks_pb2
from services.common.blobs import BlobStore
from services.common.redis import connect
from tests.support import eventually, free_port


@pytest.fixture
def start(redis_url: str, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """start(name, **env) runs one service as its own process, as a container would."""
    started: list[Mesh] = []
    namespace = f"test-{uuid.uuid4().hex[:10]}"

    def run(name: str, **extra: str) -> Mesh:
        env = dict(os.environ, REDIS_URL=redis_url, CARDAK_NAMESPACE=namespace, **extra)
        env.setdefault(f"CARDAK_{name.upper()}_ADDR", f"127.0.0.1:{free_port()}")
        env.setdefault("CARDAK_STORE_ADDR", f"127.0.0.1:{free_port()}")  # nothing there
        service = Mesh(home=tmp_path / name, env=env, services=(name,))
        started.append(service)
        service.start(timeout=120)
        return service

    run.namespace = namespace  # type: ignore[attr-defined]
    yield run
    for service in started:
        service.stop()


def _frame(key: str) -> ingest_pb2.Frame:
    return ingest_pb2.Frame(camera_id="gate", image=SAMPLE_IMAGE.read_bytes(), idempotency_key=key)


def test_full_queue_answers_resource_exhausted_and_loses_nothing_accepted(start, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    ingest = start("ingest", CARDAK_OCR_QUEUE_MAX_DEPTH="3", CARDAK_OCR_QUEUE="nobody-reads-this")
    stub = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(ingest.addrs["ingest"]))
    for i in range(3):
        assert stub.Submit(_frame(f"k{i}"), timeout=5).status == ingest_pb2.FRAME_STATUS_QUEUED
    with pytest.raises(grpc.RpcError) as info:
        stub.Submit(_frame("k3"), timeout=5)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "back off" in info.value.details()
    # A resend of an accepted frame is still recognised while the queue is full.
    assert stub.Submit(_frame("k1"), timeout=5).status == ingest_pb2.FRAME_STATUS_DUPLICATE

    # A stream acks what fits, then ends with RESOURCE_EXHAUSTED; nothing acked is lost.
    acks = []
    with pytest.raises(grpc.RpcError) as info:
        for ack in stub.StreamFrames(iter([_frame("k0"), _frame("k4")]), timeout=5):
            acks.append(ack)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert [a.status for a in acks] == [ingest_pb2.FRAME_STATUS_DUPLICATE]
    stats = sentinel.Client(connect(redis_url), namespace=start.namespace).stats("nobody-reads-this")
    assert (stats.ready, stats.enqueued) == (3, 3)


def test_metrics_endpoint_exports_the_queue(start) -> None:  # type: ignore[no-untyped-def]
    metrics_addr = f"127.0.0.1:{free_port()}"
    ingest = start("ingest", CARDAK_METRICS_ADDR=metrics_addr)
    stub = ingest_pb2_grpc.IngestServiceStub(grpc.insecure_channel(ingest.addrs["ingest"]))
    for i in range(2):
        stub.Submit(_frame(f"m{i}"), timeout=5)
    text = httpx.get(f"http://{metrics_addr}/metrics", timeout=5).text
    labels = f'namespace="{start.namespace}",queue="ocr"'
    assert f"sentinel_queue_ready{{{labels}}} 2.0" in text
    assert f"sentinel_tasks_enqueued_total{{{labels}}} 2.0" in text


def test_sigterm_stops_ingest_cleanly(start) -> None:  # type: ignore[no-untyped-def]
    ingest = start("ingest")
    assert ingest.stop() == {"ingest": 0}
    log = (ingest.log_dir / "ingest.log").read_text()
    assert '"msg": "stopping"' in log and '"msg": "stopped"' in log


def test_sigterm_hands_an_ocr_task_in_flight_back_to_its_queue(start, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    # Grace far shorter than one read: the worker must release its lease rather than finish.
    # The fallback text detector forced on every image makes a read take seconds, so the read
    # cannot finish within the service's signal poll (0.5 s) plus the grace on a fast machine.
    ocr = start("ocr", CARDAK_GRACE_SECONDS="0.2", CARDAK_TORCH_THREADS="1",
                CARDAK_FALLBACK_DETECTOR="true", CARDAK_FALLBACK_BELOW="1.01")
    client = connect(redis_url)
    queues = sentinel.Client(client, namespace=start.namespace)
    task = tasks_pb2.OcrTask(sighting_id=str(uuid.uuid4()), camera_id="gate",
                             blob_key=BlobStore(client, start.namespace, 600).put(SAMPLE_IMAGE.read_bytes()))
    task_id = queues.enqueue("ocr", task.SerializeToString()).task_id
    eventually(lambda: queues.stats("ocr").leased == 1, timeout=30, interval=0.02)

    assert ocr.stop() == {"ocr": 0}

    stats = queues.stats("ocr")
    assert (stats.ready, stats.leased, stats.dead) == (1, 0, 0)
    # Released, not failed: the next worker's take is its first attempt again.
    lease = queues.take("ocr", worker_id="next")[0]
    assert (lease.task_id, lease.attempt) == (task_id, 1)


def test_worker_processes_read_side_by_side_and_hand_their_reads_back_on_sigterm(start, redis_url: str) -> None:  # type: ignore[no-untyped-def]
    # Reads of seconds each (the fallback detector on every image), one at a time per process:
    # two leases held at once can only come from two processes reading the queue.
    metrics_addr = f"127.0.0.1:{free_port()}"
    ocr = start("ocr", CARDAK_WORKER_PROCESSES="2", CARDAK_CONCURRENCY="1", CARDAK_GRACE_SECONDS="0.2",
                CARDAK_TORCH_THREADS="1", CARDAK_FALLBACK_DETECTOR="true", CARDAK_FALLBACK_BELOW="1.01",
                CARDAK_METRICS_ADDR=metrics_addr)
    client = connect(redis_url)
    queues = sentinel.Client(client, namespace=start.namespace)
    blobs = BlobStore(client, start.namespace, 600)
    for _ in range(4):
        task = tasks_pb2.OcrTask(sighting_id=str(uuid.uuid4()), camera_id="gate", blob_key=blobs.put(SAMPLE_IMAGE.read_bytes()))
        queues.enqueue("ocr", task.SerializeToString())
    eventually(lambda: queues.stats("ocr").leased == 2, timeout=120, interval=0.02)

    def children() -> list[int]:
        log = (ocr.log_dir / "ocr.log").read_text()
        return [json.loads(line)["pid"] for line in log.splitlines() if '"worker process started"' in line]

    def readers() -> set[int]:
        """Pids holding a lease (a worker id is host:pid:random)."""
        keys = queues.keys("ocr")
        ids = client.zrange(keys.leased, 0, -1)
        return {int(client.hget(keys.task(i.decode()), "worker_id").decode().split(":")[1]) for i in ids}

    (first,) = children()  # the service's own process is the other reader
    eventually(lambda: first in readers(), timeout=120, interval=0.05)
    os.kill(first, signal.SIGKILL)  # a crash mid-read: the process is replaced, and the new one reads
    eventually(lambda: len(children()) == 2, timeout=60)
    eventually(lambda: children()[1] in readers(), timeout=120, interval=0.05)

    # One endpoint for all the processes (summed from prometheus_client's multiprocess files).
    text = httpx.get(f"http://{metrics_addr}/metrics", timeout=5).text
    assert "cardak_ocr_read_seconds_count" in text and "sentinel_queue_leased{" in text

    assert ocr.stop() == {"ocr": 0}

    stats = queues.stats("ocr")
    # The killed process's read comes back when its lease expires (sentinel's rescue), the others at once.
    assert (stats.ready + stats.delayed + stats.leased, stats.dead) == (4, 0)
    for pid in children():
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # stopped with the service, not left behind


def test_worker_processes_stop_when_the_service_process_is_killed(start) -> None:  # type: ignore[no-untyped-def]
    ocr = start("ocr", CARDAK_WORKER_PROCESSES="2", CARDAK_GRACE_SECONDS="0.2")
    log_file = ocr.log_dir / "ocr.log"
    eventually(lambda: '"worker process started"' in log_file.read_text(), timeout=30)
    (child,) = [json.loads(line)["pid"] for line in log_file.read_text().splitlines() if '"worker process started"' in line]
    os.kill(ocr.processes["ocr"].pid, signal.SIGKILL)

    def gone() -> bool:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            return True
        return False

    eventually(gone, timeout=30)  # no orphan left reading the queue
