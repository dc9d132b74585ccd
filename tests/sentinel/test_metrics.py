"""Queue state as Prometheus sees it, rendered by prometheus_client from a real Redis."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from sentinel import Client
from sentinel.metrics import QueueCollector


def _samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    text = generate_latest(registry).decode()
    return {
        (sample.name, sample.labels["queue"]): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_collector_reports_depths_and_totals(client: Client) -> None:
    client.enqueue_many("a", [b"1", b"2", b"3"])
    client.enqueue("a", b"x", dedupe_key="k")
    client.enqueue("a", b"y", dedupe_key="k")
    leases = client.take("a", worker_id="w", count=2)
    client.ack(leases[0])
    client.fail(leases[1], "boom")
    client.enqueue("b", b"other queue", delay=3600)

    registry = CollectorRegistry()
    registry.register(QueueCollector(client, ["a", "b"]))
    samples = _samples(registry)

    assert samples[("sentinel_queue_ready", "a")] == 2
    assert samples[("sentinel_queue_leased", "a")] == 0
    assert samples[("sentinel_queue_dead", "a")] == 1
    assert samples[("sentinel_tasks_enqueued_total", "a")] == 4
    assert samples[("sentinel_tasks_deduped_total", "a")] == 1
    assert samples[("sentinel_tasks_acked_total", "a")] == 1
    assert samples[("sentinel_tasks_dead_lettered_total", "a")] == 1
    assert samples[("sentinel_queue_delayed", "b")] == 1
    assert samples[("sentinel_queue_ready", "b")] == 0
