"""One logical queue spread over N sentinel queues, so no single key is hot.

Each shard ``<name>.<i>`` is a queue of its own with its own hash tag, so on Redis Cluster
the shards land in different slots (and nodes) and their scripts run in parallel. A key
(a camera id, a tenant) always maps to the same shard, which keeps dedupe keys and
per-key FIFO order intact; consumers take from every shard in turn.
"""

from __future__ import annotations

import itertools
import threading
import zlib
from dataclasses import fields
from typing import Any

from sentinel.client import Client, EnqueueResult, Lease, QueueStats


class ShardedQueue:
    def __init__(self, client: Client, name: str, shards: int) -> None:
        if shards < 1:
            raise ValueError("shards must be >= 1")
        self.client = client
        self.name = name
        self.queues = [f"{name}.{i}" for i in range(shards)]
        for queue in self.queues:
            client.keys(queue)  # validates the name
        self._start = itertools.count()
        self._lock = threading.Lock()

    def shard_for(self, key: str) -> str:
        """The shard of `key`; CRC32, so every process agrees (Python's hash() is salted)."""
        return self.queues[zlib.crc32(key.encode()) % len(self.queues)]

    def enqueue(self, key: str, payload: bytes, **options: Any) -> EnqueueResult:
        """Enqueue on the shard of `key`; options as Client.enqueue (dedupe_key, delay, ...)."""
        return self.client.enqueue(self.shard_for(key), payload, **options)

    def take(self, *, worker_id: str, count: int = 1, lease_seconds: float | None = None) -> list[Lease]:
        """Up to `count` tasks, visiting shards round-robin from a rotating start so that
        every shard is served even when the first ones are always busy."""
        with self._lock:
            start = next(self._start) % len(self.queues)
        leases: list[Lease] = []
        for i in range(len(self.queues)):
            queue = self.queues[(start + i) % len(self.queues)]
            leases += self.client.take(queue, worker_id=worker_id, count=count - len(leases), lease_seconds=lease_seconds)
            if len(leases) >= count:
                break
        return leases

    def stats(self) -> QueueStats:
        """Figures summed over all shards."""
        per_shard = [self.client.stats(queue) for queue in self.queues]
        return QueueStats(**{f.name: sum(getattr(s, f.name) for s in per_shard) for f in fields(QueueStats)})
