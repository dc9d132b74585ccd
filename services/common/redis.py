"""Redis connections that ride out a restart of the server."""

from __future__ import annotations

import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

import sentinel


def connect(url: str) -> redis.Redis:
    """A client for `url` (redis://, rediss://, unix:// or redis+sentinel://) that retries on
    connection loss, so a Redis restart or failover is ridden out rather than crashing."""
    tcp = {} if url.startswith("unix:") else {"socket_keepalive": True}
    return sentinel.connect(
        url,
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries=8),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
        health_check_interval=30,
        socket_connect_timeout=5,
        **tcp,
    )
