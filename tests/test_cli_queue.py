"""`cardak queue stats|dead` against a real Redis, as an operator runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import sentinel
from cardak.v1 import tasks_pb2
from services.common.redis import connect


def cardak(redis_url: str, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, REDIS_URL=redis_url, CARDAK_NAMESPACE=namespace, COLUMNS="200", CARDAK_HOME="/nonexistent")
    return subprocess.run([sys.executable, "-m", "cardak.cli", *args], capture_output=True, text=True, env=env, timeout=60)


def test_queue_stats_and_dead_letters(redis_url: str) -> None:
    namespace = f"cli-{uuid.uuid4().hex[:8]}"
    client = sentinel.Client(connect(redis_url), namespace=namespace)
    payloads = [tasks_pb2.OcrTask(sighting_id=f"s-{i}", camera_id="gate").SerializeToString() for i in range(3)]
    client.enqueue_many("ocr", payloads)
    leases = client.take("ocr", worker_id="w1", count=2)
    client.fail(leases[0], "image expired before it was read")
    client.fail(leases[1], "image expired before it was read")

    shown = cardak(redis_url, namespace, "queue", "stats")
    assert shown.returncode == 0, shown.stderr
    rows = {line.split("│")[1].strip(): line.split("│")[2].strip() for line in shown.stdout.splitlines()
            if line.startswith("│")}
    assert (rows["ready"], rows["dead"], rows["enqueued"], rows["dead lettered"]) == ("1", "2", "3", "2")

    listed = cardak(redis_url, namespace, "queue", "dead", "list", "ocr")
    assert listed.returncode == 0, listed.stderr
    assert "2 dead task(s)" in listed.stdout
    assert "sighting s-0 from gate" in listed.stdout and "image expired before it was read" in listed.stdout

    retried = cardak(redis_url, namespace, "queue", "dead", "retry", "ocr", "--id", leases[0].task_id)
    assert retried.returncode == 0 and "moved 1 dead task(s)" in retried.stdout
    unknown = cardak(redis_url, namespace, "queue", "dead", "retry", "ocr", "--id", "no-such-task")
    assert unknown.returncode == 1 and "not in the dead-letter set" in unknown.stdout

    refused = cardak(redis_url, namespace, "queue", "dead", "purge", "ocr")
    assert refused.returncode == 2 and "add --yes" in refused.stdout
    purged = cardak(redis_url, namespace, "queue", "dead", "purge", "ocr", "--yes")
    assert purged.returncode == 0 and "deleted 1 dead task(s)" in purged.stdout
    stats = client.stats("ocr")
    assert (stats.ready, stats.dead) == (2, 0)
    client.redis.delete(*client.redis.scan_iter(match="{" + namespace + ":*"))


def test_unreachable_redis_is_a_clear_error() -> None:
    done = cardak("redis://127.0.0.1:1/0", "x", "queue", "stats")
    assert done.returncode == 1 and "cannot read queues at redis://127.0.0.1:1/0" in done.stdout
