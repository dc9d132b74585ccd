"""Queue state as Prometheus metrics, read from Redis at scrape time.

    from prometheus_client import REGISTRY
    REGISTRY.register(QueueCollector(client, ["ocr", "enrich"]))

Needs the optional `prometheus-client` package; the rest of sentinel does not.
Gauges are the four depths; counters are the totals the scripts keep in the stats hash,
so every process exporting them reports the same queue-wide numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sentinel.client import Client

DEPTHS = {
    "ready": "Tasks waiting to be taken",
    "delayed": "Tasks waiting for their retry backoff or delay",
    "leased": "Tasks held by a worker under a lease",
    "dead": "Tasks in the dead-letter set",
}
COUNTERS = {
    "enqueued": "Tasks created",
    "deduped": "Enqueues answered with an existing task (dedupe key seen)",
    "acked": "Tasks finished",
    "retried": "Failures sent back for another attempt",
    "expired": "Leases that ran out (worker died or stalled) and were rescued",
    "dead_lettered": "Tasks moved to the dead-letter set",
    "released": "Leases handed back on a graceful stop",
}


class QueueCollector:
    """A prometheus_client collector for some queues of one sentinel namespace."""

    def __init__(self, client: Client, queues: Sequence[str]) -> None:
        self._client = client
        self._queues = list(queues)

    def describe(self) -> list[Any]:
        return []  # collected lazily: no Redis round trip at registration

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        depth = {
            name: GaugeMetricFamily(f"sentinel_queue_{name}", help_, labels=["namespace", "queue"])
            for name, help_ in DEPTHS.items()
        }
        totals = {
            name: CounterMetricFamily(f"sentinel_tasks_{name}", help_, labels=["namespace", "queue"])
            for name, help_ in COUNTERS.items()
        }
        for queue in self._queues:
            stats = self._client.stats(queue)
            labels = [self._client.namespace, queue]
            for name, gauge in depth.items():
                gauge.add_metric(labels, getattr(stats, name))
            for name, counter in totals.items():
                counter.add_metric(labels, getattr(stats, name))
        yield from depth.values()
        yield from totals.values()
