"""Chaos: worker processes die by SIGKILL at random while 10,000 tasks run; and leases that
expire under a handler that is still running.

Effects are recorded outside the queue state (tests/sentinel/chaos_worker.py appends
``task_id attempt pid`` per execution, before the ack), so the checks below see what the
handlers actually did, not what the queue believes:

* nothing lost: every task has at least one execution, none is dead, the queue is empty;
* at-least-once, no more: a task runs again only because an earlier execution's process
  was SIGKILLed before its ack landed (or, in the focused tests, because its lease expired
  under it), and no lease is ever handed out twice (task, attempt pairs are unique).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from sentinel import Client, Lease, Worker
from tests.sentinel.chaos_worker import by_task, log_tails, options, read_effects, spawn, terminate_all, url_of

Q = "chaos"
N_TASKS = 10_000
BATCH = 500
N_PROCS = 4
CONCURRENCY = 4
LEASE = 1.5  # killed leases come back after this long
MAX_ATTEMPTS = 50  # far above what kills can use up: a dead task here is a bug
STOP_KILLING_AT = 0.9  # fraction of tasks acked


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.02) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(interval)


@pytest.mark.timeout(150)
def test_sigkilled_worker_processes_lose_nothing(
    client: Client, redis_client: redis.Redis, namespace: str, tmp_path: Path, states: Callable[..., dict[str, str]]
) -> None:
    started = time.monotonic()
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    ids: list[str] = []
    for start in range(0, N_TASKS, BATCH):
        payloads = [b"%d" % i for i in range(start, min(start + BATCH, N_TASKS))]
        ids += [r.task_id for r in client.enqueue_many(Q, payloads, max_attempts=MAX_ATTEMPTS)]
    assert len(set(ids)) == N_TASKS

    url = url_of(redis_client)
    args = options(concurrency=CONCURRENCY, lease=LEASE, idle_wait=0.2, work=0.005)
    spawned: list[subprocess.Popen[bytes]] = []
    killed: set[int] = set()

    def start_one() -> subprocess.Popen[bytes]:
        proc = spawn(tmp_path, url, namespace, Q, *args)
        spawned.append(proc)
        return proc

    try:
        live = [start_one() for _ in range(N_PROCS)]
        # Kill a random live worker at random moments, replacing it at once, until most tasks are done.
        kill_deadline = time.monotonic() + 60.0
        while client.stats(Q).acked < STOP_KILLING_AT * N_TASKS:
            assert time.monotonic() < kill_deadline, "workers made too little progress\n" + log_tails(spawned)
            nap_until = time.monotonic() + rng.uniform(0.2, 0.8)
            while time.monotonic() < nap_until and client.stats(Q).acked < STOP_KILLING_AT * N_TASKS:
                time.sleep(0.05)
            for proc in live:
                assert proc.poll() is None, f"worker {proc.pid} died on its own\n" + log_tails([proc])
            if client.stats(Q).acked >= STOP_KILLING_AT * N_TASKS:
                break
            victim = rng.choice(live)
            victim.kill()
            victim.wait(timeout=5.0)
            killed.add(victim.pid)
            live.remove(victim)
            live.append(start_one())
        kills_done = time.monotonic()

        # Survivors finish; leases of the last victims come back after LEASE.
        def drained() -> bool:
            s = client.stats(Q)
            return s.acked + s.dead >= N_TASKS and s.ready + s.delayed + s.leased == 0

        wait_until(drained, 30.0, "queue drained", interval=0.1)
        drained_at = time.monotonic()
        for proc in live:
            assert proc.poll() is None, f"worker {proc.pid} died on its own\n" + log_tails([proc])
    finally:
        terminate_all(spawned)

    stats = client.stats(Q)
    executions = read_effects(tmp_path)
    grouped = by_task(executions)
    duplicates = len(executions) - len(grouped)
    pids = {p.pid for p in spawned}
    print(
        f"\nchaos seed={seed}: tasks={N_TASKS} executions={len(executions)} duplicates={duplicates} "
        f"kills={len(killed)} processes={len(spawned)} expired={stats.expired} acked={stats.acked} "
        f"kill phase={kills_done - started:.1f}s drained={drained_at - started:.1f}s"
    )

    assert len(pids) == len(spawned), "a pid was reused; killed-pid bookkeeping would be ambiguous"
    assert (stats.ready, stats.delayed, stats.leased, stats.dead) == (0, 0, 0, 0)
    assert stats.dead_lettered == 0 and client.dead(Q) == []
    assert stats.acked == N_TASKS
    assert set(states(Q, ids).values()) == {"done"}
    assert len(killed) >= 3, "too few kills to call this chaos; slow the handlers down"

    assert set(grouped) == set(ids), "a task has no effect, or an unknown task ran"
    assert {e.pid for e in executions} <= pids
    pairs = [(e.task_id, e.attempt) for e in executions]
    assert len(pairs) == len(set(pairs)), "one lease (task, attempt) was executed twice"
    unexplained = []
    for runs in grouped.values():
        runs.sort(key=lambda e: e.attempt)
        # Every execution but the last must have been cut short by a SIGKILL before its ack.
        if any(e.pid not in killed for e in runs[:-1]):
            unexplained.append(runs)
    assert not unexplained, f"{len(unexplained)} duplicates not explained by a kill, e.g. {unexplained[:3]}"


class RecordingClient(Client):
    """A Client that records what ack() answered; with ``heartbeats=False`` its heartbeats never
    reach Redis (they report the lease alive without extending it), as for a stalled worker."""

    def __init__(self, *args: object, heartbeats: bool = True, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.heartbeats = heartbeats
        self.acks: list[tuple[Lease, bool]] = []

    def heartbeat(self, lease: Lease, lease_seconds: float | None = None) -> bool:
        if not self.heartbeats:
            return True
        return super().heartbeat(lease, lease_seconds)

    def ack(self, lease: Lease) -> bool:
        ok = super().ack(lease)
        self.acks.append((lease, ok))
        return ok


@pytest.mark.timeout(60)
def test_late_ack_after_lease_expired_under_a_running_worker_is_stale(
    client: Client, redis_client: redis.Redis, namespace: str, states: Callable[..., dict[str, str]]
) -> None:
    task = client.enqueue(Q, b"slow", max_attempts=5).task_id
    leases: dict[str, Lease] = {}
    started = {"A": threading.Event(), "B": threading.Event()}
    finish = {"A": threading.Event(), "B": threading.Event()}

    def handler(name: str) -> Callable[[Lease], None]:
        def run(lease: Lease) -> None:
            leases[name] = lease
            started[name].set()
            finish[name].wait(10.0)

        return run

    client_a = RecordingClient(redis_client, namespace, heartbeats=False)
    client_b = RecordingClient(redis_client, namespace)
    worker_a = Worker(client_a, Q, handler("A"), lease_seconds=0.5, idle_wait=0.05, worker_id="A")
    worker_b = Worker(client_b, Q, handler("B"), lease_seconds=5.0, idle_wait=0.05, worker_id="B")
    try:
        worker_a.start()
        assert started["A"].wait(5.0)
        worker_b.start()  # takes the task once A's 0.5 s lease has expired (A never heartbeats)
        assert started["B"].wait(5.0)
        a, b = leases["A"], leases["B"]
        assert (a.task_id, a.attempt, b.task_id, b.attempt) == (task, 1, task, 2)
        assert a.token != b.token
        assert client.stats(Q).expired == 1

        finish["A"].set()  # A's handler returns now, long after its lease was rescued
        wait_until(lambda: client_a.acks, 5.0, "A's late ack")
        assert client_a.acks == [(a, False)]
        # A's stale ack left B's lease alone.
        assert states(Q, [task]) == {task: "leased"}
        assert client.redis.hget(client.keys(Q).task(task), "token") == b.token.encode()
        assert client.redis.hget(client.keys(Q).task(task), "worker_id") == b"B"
        assert client.stats(Q).acked == 0

        finish["B"].set()
        wait_until(lambda: client_b.acks, 5.0, "B's ack")
        assert client_b.acks == [(b, True)]
        assert states(Q, [task]) == {task: "done"}
        stats = client.stats(Q)
        assert (stats.acked, stats.expired, stats.dead, stats.leased, stats.ready) == (1, 1, 0, 0, 0)
    finally:
        finish["A"].set()
        finish["B"].set()
        worker_a.stop(grace=2.0)
        worker_b.stop(grace=2.0)


@pytest.mark.timeout(60)
def test_frozen_worker_process_loses_its_lease_and_its_late_ack_is_stale(
    client: Client, redis_client: redis.Redis, namespace: str, tmp_path: Path, states: Callable[..., dict[str, str]]
) -> None:
    """The same through real processes: worker A is frozen (SIGSTOP, like a long GC pause or a
    VM stall) while it holds a lease, so its heartbeat thread stops too; B rescues the task."""
    task = client.enqueue(Q, b"slow", max_attempts=5).task_id
    hold = tmp_path / "hold"
    hold.mkdir()
    url = url_of(redis_client)
    args = options(concurrency=1, lease=1.0, idle_wait=0.1, hold=hold)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        a = spawn(tmp_path, url, namespace, Q, *args, *options(worker_id="A"), name="A")
        procs.append(a)
        wait_until(lambda: read_effects(tmp_path), 15.0, "A's execution")
        os.kill(a.pid, signal.SIGSTOP)
        b = spawn(tmp_path, url, namespace, Q, *args, *options(worker_id="B"), name="B")
        procs.append(b)
        wait_until(lambda: len(read_effects(tmp_path)) >= 2, 15.0, "B's execution after A's lease expired")
        runs = sorted((e.attempt, e.pid) for e in read_effects(tmp_path))
        assert runs == [(1, a.pid), (2, b.pid)]
        assert client.stats(Q).expired == 1

        (hold / "1").touch()
        os.kill(a.pid, signal.SIGCONT)  # A's handler returns and acks with its old token
        a_log = Path(a.log_path)  # type: ignore[attr-defined]
        wait_until(lambda: "ack ignored, lease was lost" in a_log.read_text(), 10.0, "A's stale ack")
        assert states(Q, [task]) == {task: "leased"}
        assert client.redis.hget(client.keys(Q).task(task), "worker_id") == b"B"
        assert client.stats(Q).acked == 0

        (hold / "2").touch()
        wait_until(lambda: client.stats(Q).acked == 1, 10.0, "B's ack")
        assert states(Q, [task]) == {task: "done"}
        assert "ignored" not in Path(b.log_path).read_text()  # type: ignore[attr-defined]
        assert len(read_effects(tmp_path)) == 2
    except BaseException:
        print(log_tails(procs))
        raise
    finally:
        terminate_all(procs)
