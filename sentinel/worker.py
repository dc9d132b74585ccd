"""Worker runtime: a pool of threads looping take -> handler -> ack, plus a heartbeat thread."""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable

import redis

from sentinel.client import Client, Lease
from sentinel.errors import PermanentError

log = logging.getLogger("sentinel")

# Errors that mean Redis is unreachable or not serving writes right now (restart, AOF
# loading, failover, network): they go away on their own, so the call is worth retrying.
# redis.BusyLoadingError ("LOADING") is a ConnectionError.
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.TryAgainError,
    redis.exceptions.ClusterDownError,
)
# Pause after the n-th failure in a row: an exponential step from RETRY_BASE up to RETRY_CAP,
# half of it fixed and half random, so a pool of workers does not reconnect in lockstep.
RETRY_BASE = 0.05
RETRY_CAP = 2.0


def retry_delay(failures: int, base: float = RETRY_BASE, cap: float = RETRY_CAP) -> float:
    """Seconds to wait after ``failures`` (>= 1) failed calls in a row ("equal jitter")."""
    step = min(cap, base * 2.0 ** min(max(failures, 1) - 1, 32))
    return step / 2.0 + random.uniform(0.0, step / 2.0)


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs ``handler`` over the tasks of one queue.

    handler returns -> ack; raises PermanentError -> fail (dead at once); raises anything
    else -> nack (retry with backoff, dead once max_attempts is reached). Delivery is
    at-least-once: a handler must tolerate seeing a task again after a crash or lost lease.

    Redis outages: no thread dies of a Redis error. take failures are logged and retried
    with jittered exponential backoff (capped at RETRY_CAP); an ack / nack / fail that
    hits a TRANSIENT_ERRORS error is retried the same way until Redis answers it (True, or
    "stale" when the lease was lost meanwhile), until a heartbeat finds the lease lost, or
    until stop() has finished; in the last two cases the task runs again once its lease
    expires (all logged). Retrying an ack whose first try did land is harmless: the retry
    reports "stale". Heartbeats go on while a settle is being retried.
    """

    def __init__(
        self,
        client: Client,
        queue: str,
        handler: Callable[[Lease], None],
        *,
        concurrency: int = 1,
        lease_seconds: float = 30.0,
        worker_id: str | None = None,
        idle_wait: float = 0.5,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be > 0")
        client.keys(queue)  # validate the name now rather than in a thread
        self.client = client
        self.queue = queue
        self.handler = handler
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.worker_id = worker_id or default_worker_id()
        self.idle_wait = idle_wait
        self._lock = threading.Lock()
        self._drained = threading.Condition(self._lock)
        self._inflight: dict[str, Lease] = {}  # token -> lease whose handler/settle is running
        self._lost: set[str] = set()  # tokens already reported lost, to log once
        self._closed = False  # set by stop() after grace: leases taken from now on go straight back
        self._stopping = threading.Event()  # no new takes
        self._stopped = threading.Event()  # stop() finished; run() returns
        self._started = False

    # -- lifecycle -------------------------------------------------------------------

    def run(self) -> None:
        """Block until stop() has finished."""
        with self._lock:
            if self._started:
                raise RuntimeError("a Worker runs once; create a new one")
            self._started = True
        threads = [
            threading.Thread(target=self._loop, name=f"sentinel-{self.queue}-{i}", daemon=True)
            for i in range(self.concurrency)
        ]
        heartbeat = threading.Thread(target=self._heartbeat_loop, name=f"sentinel-{self.queue}-hb", daemon=True)
        for t in threads:
            t.start()
        heartbeat.start()
        log.info("worker %s started on %r with concurrency %d", self.worker_id, self.queue, self.concurrency)
        self._stopped.wait()
        heartbeat.join()
        log.info("worker %s stopped", self.worker_id)

    def start(self) -> threading.Thread:
        """run() in a daemon thread."""
        thread = threading.Thread(target=self.run, name=f"sentinel-{self.queue}-run", daemon=True)
        thread.start()
        return thread

    def stop(self, grace: float = 10.0) -> None:
        """Stop taking, wait up to ``grace`` s for in-flight handlers, then release what is still held.

        Released tasks are takeable by others at once with the attempt uncounted; a handler
        that finishes later gets a stale ack (logged, no effect).
        """
        self._stopping.set()
        deadline = time.monotonic() + max(grace, 0.0)
        with self._drained:
            while self._inflight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._drained.wait(remaining)
            self._closed = True
            leftover = list(self._inflight.values())
        for lease in leftover:
            self._release(lease, "still running after stop grace")
        self._stopped.set()

    # -- threads ---------------------------------------------------------------------

    def _loop(self) -> None:
        failures = 0  # take/wait errors in a row
        while not self._stopping.is_set():
            try:
                leases = self.client.take(
                    self.queue, worker_id=self.worker_id, count=1, lease_seconds=self.lease_seconds
                )
                failures = 0
                if not leases:
                    self.client.wait_for_work(self.queue, self.idle_wait)
                    continue
            except Exception as exc:
                # Redis down or similar: keep the thread alive and retry after a jittered pause.
                failures += 1
                delay = retry_delay(failures)
                if failures == 1:
                    log.exception("worker %s: take failed on %r; retrying", self.worker_id, self.queue)
                else:
                    log.warning(
                        "worker %s: take failed on %r (%d in a row): %r; retrying in %.2f s",
                        self.worker_id,
                        self.queue,
                        failures,
                        exc,
                        delay,
                    )
                self._stopping.wait(delay)
                continue
            for lease in leases:
                self._process(lease)

    def _process(self, lease: Lease) -> None:
        with self._lock:
            closed = self._closed
            if not closed:
                self._inflight[lease.token] = lease
        if closed:
            # Taken while stop() was releasing; hand it straight back.
            self._release(lease, "taken during stop")
            return
        try:
            self._run_handler(lease)
        finally:
            with self._drained:
                self._inflight.pop(lease.token, None)
                self._lost.discard(lease.token)
                if not self._inflight:
                    self._drained.notify_all()

    def _run_handler(self, lease: Lease) -> None:
        try:
            self.handler(lease)
        except PermanentError as exc:
            self._settle(lease, "fail", repr(exc))
        except Exception as exc:
            log.warning("task %s attempt %d failed: %r", lease.task_id, lease.attempt, exc)
            self._settle(lease, "nack", repr(exc))
        else:
            self._settle(lease, "ack", "")

    def _settle(self, lease: Lease, action: str, error: str) -> None:
        failures = 0
        while True:
            try:
                if action == "ack":
                    outcome = "acked" if self.client.ack(lease) else "stale"
                elif action == "fail":
                    outcome = self.client.fail(lease, error)
                else:
                    outcome = self.client.nack(lease, error)
                break
            except TRANSIENT_ERRORS as exc:
                # Not delivered: dropping it would leave the task to run again after its lease
                # expires, so keep trying while Redis is away (the heartbeat thread keeps
                # extending the lease meanwhile, as far as it can reach Redis).
                if self._stopped.is_set():
                    log.error(
                        "task %s: %s not delivered (%r) and the worker has stopped; "
                        "the task runs again once its lease expires",
                        lease.task_id,
                        action,
                        exc,
                    )
                    return
                with self._lock:
                    lost = lease.token in self._lost
                if lost:
                    # A heartbeat already learned that the lease is gone: the settle would be stale.
                    log.warning("task %s: %s not delivered (%r); lease was lost meanwhile", lease.task_id, action, exc)
                    return
                failures += 1
                delay = retry_delay(failures)
                log.warning(
                    "task %s: %s failed (%d in a row): %r; retrying in %.2f s",
                    lease.task_id,
                    action,
                    failures,
                    exc,
                    delay,
                )
                self._stopped.wait(delay)
            except Exception:
                # Not a Redis outage (a bug, a script error): retrying would not help. The lease
                # will expire and the task be retried.
                log.exception("task %s: %s failed; the task runs again once its lease expires", lease.task_id, action)
                return
        if failures:
            log.info("task %s: %s delivered after %d failed tries: %s", lease.task_id, action, failures, outcome)
        if outcome == "stale":
            log.warning("task %s: %s ignored, lease was lost (expired or released)", lease.task_id, action)
        elif outcome == "dead":
            log.error("task %s dead-lettered after attempt %d: %s", lease.task_id, lease.attempt, error)

    def _release(self, lease: Lease, why: str) -> None:
        try:
            released = self.client.release(lease)
        except Exception:
            log.exception("task %s: release failed (%s); it will return when the lease expires", lease.task_id, why)
            return
        if released:
            log.info("task %s released (%s)", lease.task_id, why)

    def _heartbeat_loop(self) -> None:
        interval = self.lease_seconds / 3.0
        while not self._stopped.wait(interval):
            try:
                self._heartbeat_round()
            except Exception:
                # Never let the heartbeat thread die: every lease would then expire under its handler.
                log.exception("worker %s: heartbeat round failed", self.worker_id)

    def _heartbeat_round(self) -> None:
        with self._lock:
            leases = list(self._inflight.values())
        for lease in leases:
            try:
                alive = self.client.heartbeat(lease, self.lease_seconds)
            except TRANSIENT_ERRORS as exc:
                # Redis is away: the other leases would fail the same way (each after the redis
                # client's own retries), so try them all again next round.
                log.warning("worker %s: heartbeat failed, Redis unreachable: %r", self.worker_id, exc)
                return
            except Exception:
                log.exception("task %s: heartbeat failed", lease.task_id)
                continue
            if alive:
                continue
            with self._lock:
                # After stop() closed, leases are being released on purpose: not a loss.
                first = not self._closed and lease.token in self._inflight and lease.token not in self._lost
                if first:
                    self._lost.add(lease.token)
            if first:
                log.warning(
                    "task %s: lease lost while handler still running (worker %s); another worker may run it",
                    lease.task_id,
                    self.worker_id,
                )
