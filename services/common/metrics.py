"""Prometheus metrics shared by every service (served on CARDAK_METRICS_ADDR's /metrics).

Queue depths and totals come from sentinel.metrics.QueueCollector; the services add their own
next to their code (services/ocr/worker.py, services/enrich/provider_http.py, ...).
"""

from __future__ import annotations

from prometheus_client import Histogram

RPC_SECONDS = Histogram(
    "cardak_rpc_duration_seconds",
    "Time to answer a unary gRPC call, by method and status code",
    ["method", "code"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
