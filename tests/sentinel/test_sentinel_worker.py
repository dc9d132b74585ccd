"""Worker runtime against a real Redis."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest

from sentinel import Client, Lease, PermanentError, Worker

Q = "work"


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def test_worker_processes_200_tasks_with_concurrency_4(
    client: Client, states: Callable[..., dict[str, str]]
) -> None:
    seen: Counter[bytes] = Counter()
    threads: set[str] = set()
    lock = threading.Lock()

    def handler(lease: Lease) -> None:
        time.sleep(0.001)
        with lock:
            seen[lease.payload] += 1
            threads.add(threading.current_thread().name)

    payloads = [b"task-%d" % i for i in range(200)]
    ids = [r.task_id for r in client.enqueue_many(Q, payloads)]
    worker = Worker(client, Q, handler, concurrency=4, idle_wait=0.05, worker_id="pool")
    runner = worker.start()
    try:
        wait_until(lambda: client.stats(Q).acked == 200)
    finally:
        worker.stop(grace=2.0)
    runner.join(timeout=2.0)
    assert not runner.is_alive()
    assert seen == Counter(payloads)  # each exactly once
    assert len(threads) > 1
    stats = client.stats(Q)
    assert (stats.ready, stats.leased, stats.retried, stats.dead, stats.acked) == (0, 0, 0, 0, 200)
    assert set(states(Q, ids).values()) == {"done"}


def test_worker_picks_up_work_enqueued_while_idle(client: Client) -> None:
    done = threading.Event()
    worker = Worker(client, Q, lambda lease: done.set(), idle_wait=5.0)
    worker.start()
    try:
        time.sleep(0.1)  # the worker is now blocked waiting for work
        start = time.monotonic()
        client.enqueue(Q, b"x")
        assert done.wait(2.0)
        assert time.monotonic() - start < 1.0  # woken by the enqueue, not the 5 s idle timeout
    finally:
        worker.stop(grace=1.0)


def test_worker_nacks_failures_and_fails_permanent_errors(
    client: Client, states: Callable[..., dict[str, str]]
) -> None:
    attempts: Counter[bytes] = Counter()

    def handler(lease: Lease) -> None:
        attempts[lease.payload] += 1
        if lease.payload == b"flaky" and lease.attempt == 1:
            raise RuntimeError("transient")
        if lease.payload == b"poison":
            raise PermanentError("cannot parse")
        if lease.payload == b"always":
            raise ValueError("nope")

    flaky = client.enqueue(Q, b"flaky").task_id
    poison = client.enqueue(Q, b"poison").task_id
    always = client.enqueue(Q, b"always", max_attempts=2).task_id
    worker = Worker(client, Q, handler, concurrency=2, idle_wait=0.02, worker_id="w")
    worker.start()
    try:
        wait_until(lambda: client.stats(Q).acked == 1 and client.stats(Q).dead == 2)
    finally:
        worker.stop(grace=1.0)
    assert attempts == Counter({b"flaky": 2, b"poison": 1, b"always": 2})
    assert states(Q, [flaky, poison, always]) == {flaky: "done", poison: "dead", always: "dead"}
    dead = {d.task_id: d for d in client.dead(Q)}
    assert dead[poison].last_error == "PermanentError('cannot parse')"
    assert dead[poison].attempts == 1
    assert dead[always].last_error == "ValueError('nope')"
    assert dead[always].worker_id == "w"


def test_worker_heartbeat_keeps_long_task_leased(client: Client, states: Callable[..., dict[str, str]]) -> None:
    started = threading.Event()

    def handler(lease: Lease) -> None:
        started.set()
        time.sleep(0.8)

    task = client.enqueue(Q, b"long").task_id
    worker = Worker(client, Q, handler, lease_seconds=0.3, idle_wait=0.05)
    worker.start()
    try:
        assert started.wait(2.0)
        deadline = time.monotonic() + 0.6
        while time.monotonic() < deadline:  # well past the 0.3 s lease
            assert client.take(Q, worker_id="thief") == []
            time.sleep(0.05)
        wait_until(lambda: client.stats(Q).acked == 1)
    finally:
        worker.stop(grace=1.0)
    assert client.stats(Q).expired == 0
    assert states(Q, [task]) == {task: "done"}


def test_worker_logs_lost_lease(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    started = threading.Event()
    finish = threading.Event()

    def handler(lease: Lease) -> None:
        started.set()
        finish.wait(5.0)

    client.enqueue(Q, b"x")
    worker = Worker(client, Q, handler, lease_seconds=0.15, idle_wait=0.05)
    caplog.set_level(logging.WARNING, logger="sentinel")
    worker.start()
    try:
        assert started.wait(2.0)
        # Steal the lease behind the worker's back: expire it now and let another client rescue it.
        k = client.keys(Q)
        [task_id] = client.redis.zrange(k.leased, 0, -1)
        stolen_list: list[Lease] = []
        for _ in range(50):  # the worker's heartbeat may re-extend it in between; try again
            client.redis.zadd(k.leased, {task_id: 0}, xx=True)
            stolen_list = client.take(Q, worker_id="thief")
            if stolen_list:
                break
        [stolen] = stolen_list
        assert stolen.attempt == 2
        wait_until(lambda: any("lease lost" in r.getMessage() for r in caplog.records), timeout=2.0)
    finally:
        finish.set()
        worker.stop(grace=1.0)
    # The worker's late ack must not have removed the thief's task.
    assert client.stats(Q).acked == 0
    assert client.ack(stolen) is True


def test_stop_releases_leases_of_stuck_handlers(
    client: Client, make_client: Callable[..., Client], states: Callable[..., dict[str, str]]
) -> None:
    in_handler = threading.Semaphore(0)
    unblock = threading.Event()

    def handler(lease: Lease) -> None:
        in_handler.release()
        unblock.wait(10.0)

    ids = [r.task_id for r in client.enqueue_many(Q, [b"a", b"b", b"c"])]
    worker = Worker(client, Q, handler, concurrency=2, idle_wait=0.05)
    runner = worker.start()
    try:
        assert in_handler.acquire(timeout=2.0) and in_handler.acquire(timeout=2.0)
        assert client.stats(Q).leased == 2
        start = time.monotonic()
        worker.stop(grace=0.2)
        assert 0.2 <= time.monotonic() - start < 2.0
        runner.join(timeout=2.0)
        assert not runner.is_alive()

        other = make_client()
        leases = other.take(Q, worker_id="other", count=5)
        assert sorted(lease.task_id for lease in leases) == sorted(ids)
        assert all(lease.attempt == 1 for lease in leases)  # release did not count the attempt
        assert client.stats(Q).released == 2
    finally:
        unblock.set()
    # The stuck handlers now finish; their acks are stale and must not touch the new leases.
    time.sleep(0.1)
    assert set(states(Q, ids).values()) == {"leased"}
    assert client.stats(Q).acked == 0
    assert all(other.ack(lease) for lease in leases)


def test_stop_waits_for_handlers_that_finish_within_grace(client: Client) -> None:
    started = threading.Event()

    def handler(lease: Lease) -> None:
        started.set()
        time.sleep(0.2)

    client.enqueue(Q, b"x")
    worker = Worker(client, Q, handler, idle_wait=0.05)
    worker.start()
    assert started.wait(2.0)
    worker.stop(grace=5.0)
    stats = client.stats(Q)
    assert (stats.acked, stats.released, stats.leased) == (1, 0, 0)
