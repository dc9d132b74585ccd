"""Worker runtime: a pool of threads looping take -> handler -> ack, plus a heartbeat thread."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable

from sentinel.client import Client, Lease
from sentinel.errors import PermanentError

log = logging.getLogger("sentinel")


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """Runs ``handler`` over the tasks of one queue.

    handler returns -> ack; raises PermanentError -> fail (dead at once); raises anything
    else -> nack (retry with backoff, dead once max_attempts is reached). Delivery is
    at-least-once: a handler must tolerate seeing a task again after a crash or lost lease.
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
        while not self._stopping.is_set():
            try:
                leases = self.client.take(
                    self.queue, worker_id=self.worker_id, count=1, lease_seconds=self.lease_seconds
                )
                if not leases:
                    self.client.wait_for_work(self.queue, self.idle_wait)
                    continue
            except Exception:
                # Redis down or similar: keep the thread alive and retry after a pause.
                log.exception("worker %s: take failed on %r", self.worker_id, self.queue)
                self._stopping.wait(self.idle_wait)
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
        try:
            if action == "ack":
                outcome = "acked" if self.client.ack(lease) else "stale"
            elif action == "fail":
                outcome = self.client.fail(lease, error)
            else:
                outcome = self.client.nack(lease, error)
        except Exception:
            # The lease will expire and the task be retried; nothing else to do here.
            log.exception("task %s: %s failed", lease.task_id, action)
            return
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
            with self._lock:
                leases = list(self._inflight.values())
            for lease in leases:
                try:
                    alive = self.client.heartbeat(lease, self.lease_seconds)
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
