"""Client: enqueue, lease, and settle tasks on Redis.

Invariants (every multi-key change is one Lua script in sentinel/scripts/, so they hold
between any two commands, also with many clients and workers racing):

* Every task is in exactly one of ready / delayed / leased / dead / done.
  ready, delayed, leased and dead are sorted sets of task ids; "done" means the task
  hash was deleted by ack. A task hash exists iff its id is in one of the four sets.
* A leased task has exactly one live token: take() writes a fresh random token into the
  task hash and every transition out of leased deletes it.
* ack / nack / fail / heartbeat / release with a stale token change nothing and report it
  (False / "stale").

Time: all deadlines (delays, lease expiry, dead_at) are read from the Redis server clock
(TIME inside the scripts), never from the client, so skew between hosts cannot expire
leases early. Lease.expires_at and DeadTask timestamps are therefore server epoch seconds.

A lease past its expiry stays live until some take() rescues it (moves it to ready, or to
dead once attempts are used up); until then its holder may still heartbeat or ack it.

Keys of one queue share the hash tag ``{<namespace>:<queue>}`` so every script runs on
Redis Cluster:

    {ns:q}:ready      ZSET   id -> -priority * 2^40 + seq (priority first, then FIFO)
    {ns:q}:delayed    ZSET   id -> due ms
    {ns:q}:leased     ZSET   id -> lease expiry ms
    {ns:q}:dead       ZSET   id -> dead_at ms
    {ns:q}:task:<id>  HASH   payload, attempts, max_attempts, priority, score, token,
                             worker_id, leased_at, enqueued_at, last_error, dead_at
    {ns:q}:dedupe:<k> STRING task id, expires after dedupe_ttl_seconds
    {ns:q}:receipt:<id> STRING answer of the enqueue call whose first task is <id>, expires
                      after replay_window_seconds (recognises redis-py replaying a lost reply)
    {ns:q}:stats      HASH   counters + seq
    {ns:q}:wake       LIST   wake tokens for wait_for_work (BLPOP)
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import redis

from sentinel.backoff import Backoff
from sentinel.errors import QueueFull
from sentinel.lua import Scripts

# Rescue/promotion work done per take(), so one call never stalls Redis on a huge backlog.
HOUSEKEEPING_LIMIT = 100
# Wake tokens kept per queue; enough to wake a pool of idle workers, small enough to stay O(1).
WAKE_LIST_MAX = 16
# Batch size for retry_dead / purge_dead, one script call per batch.
DEAD_BATCH = 1000
# Tasks per enqueue script call: bounds how long one call holds Redis (~2 ms here).
ENQUEUE_CHUNK = 500
# Scores are -priority * 2^40 + seq; doubles stay exact below 2^53.
PRIORITY_LIMIT = 4095


@dataclass(frozen=True)
class EnqueueResult:
    task_id: str
    created: bool


@dataclass(frozen=True)
class Lease:
    queue: str
    task_id: str
    payload: bytes
    attempt: int  # 1-based
    token: str
    worker_id: str
    expires_at: float  # epoch seconds, Redis server clock


DEPTH_FIELDS = ("ready", "delayed", "leased", "dead")


@dataclass(frozen=True)
class QueueStats:
    ready: int
    delayed: int
    leased: int
    dead: int
    enqueued: int
    acked: int
    retried: int
    expired: int
    dead_lettered: int
    deduped: int
    released: int = 0


@dataclass(frozen=True)
class DeadTask:
    task_id: str
    payload: bytes
    attempts: int
    last_error: str
    worker_id: str
    enqueued_at: float  # epoch seconds, Redis server clock
    dead_at: float


@dataclass(frozen=True)
class _Keys:
    prefix: str  # "{ns:queue}:"

    @property
    def ready(self) -> str:
        return self.prefix + "ready"

    @property
    def delayed(self) -> str:
        return self.prefix + "delayed"

    @property
    def leased(self) -> str:
        return self.prefix + "leased"

    @property
    def dead(self) -> str:
        return self.prefix + "dead"

    @property
    def stats(self) -> str:
        return self.prefix + "stats"

    @property
    def wake(self) -> str:
        return self.prefix + "wake"

    @property
    def task_prefix(self) -> str:
        return self.prefix + "task:"

    def task(self, task_id: str) -> str:
        return self.prefix + "task:" + task_id

    def dedupe(self, key: str) -> str:
        return self.prefix + "dedupe:" + key

    def receipt(self, task_id: str) -> str:
        return self.prefix + "receipt:" + task_id


def _check_name(kind: str, name: str) -> None:
    # A brace would change which part of the key Redis Cluster hashes.
    if not name or "{" in name or "}" in name:
        raise ValueError(f"invalid {kind} {name!r}: must be non-empty and contain no braces")


def _str(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _ms(seconds: float) -> int:
    return max(int(round(seconds * 1000)), 0)


class Client:
    """Thread-safe (redis-py pools connections); share one per process."""

    def __init__(
        self,
        redis: redis.Redis,
        namespace: str = "sentinel",
        *,
        lease_seconds: float = 30.0,
        dedupe_ttl_seconds: int = 86400,
        backoff: Backoff = Backoff(base=1.0, factor=2.0, cap=300.0, jitter=0.2),
        replay_window_seconds: int = 300,
    ) -> None:
        _check_name("namespace", namespace)
        if lease_seconds <= 0:
            raise ValueError("lease_seconds must be > 0")
        if dedupe_ttl_seconds < 1:
            raise ValueError("dedupe_ttl_seconds must be >= 1")
        encoder = getattr(redis, "get_encoder", None)
        if encoder is not None and getattr(encoder(), "decode_responses", False):
            # Payloads are raw bytes; a decoding client would corrupt or reject them.
            raise ValueError("sentinel needs a redis client with decode_responses=False")
        self.redis = redis
        self.namespace = namespace
        self.lease_seconds = lease_seconds
        self.dedupe_ttl_seconds = dedupe_ttl_seconds
        self.backoff = backoff
        # redis-py retries a command whose reply was lost (Retry); an enqueue's receipt
        # lives this long so such a replay is recognised. It must outlast the client's
        # whole retry schedule; a few hundred bytes per task for that long is the cost.
        self.replay_window_seconds = replay_window_seconds
        self._scripts = Scripts(redis)

    def keys(self, queue: str) -> _Keys:
        _check_name("queue", queue)
        return _Keys("{" + self.namespace + ":" + queue + "}:")

    # -- producing -------------------------------------------------------------------

    def enqueue(
        self,
        queue: str,
        payload: bytes,
        *,
        dedupe_key: str | None = None,
        delay: float | None = None,
        max_attempts: int = 5,
        priority: int = 0,
        max_depth: int | None = None,
    ) -> EnqueueResult:
        result = self._enqueue(queue, [payload], [dedupe_key], delay, max_attempts, priority, max_depth)[0]
        if result is None:
            raise QueueFull(queue, max_depth or 0)
        return result

    def enqueue_many(
        self,
        queue: str,
        payloads: Sequence[bytes],
        *,
        dedupe_keys: Sequence[str | None] | None = None,
        delay: float | None = None,
        max_attempts: int = 5,
        priority: int = 0,
        max_depth: int | None = None,
    ) -> list[EnqueueResult]:
        """All of them in one script call: atomic, one round trip (per ENQUEUE_CHUNK tasks).

        If max_depth refuses some items, QueueFull is raised after the others went in;
        its ``results`` tell which (None = refused).
        """
        if dedupe_keys is not None and len(dedupe_keys) != len(payloads):
            raise ValueError("dedupe_keys must be as long as payloads")
        keys = list(dedupe_keys) if dedupe_keys is not None else [None] * len(payloads)
        results = self._enqueue(queue, payloads, keys, delay, max_attempts, priority, max_depth)
        if any(r is None for r in results):
            raise QueueFull(queue, max_depth or 0, results)
        return [r for r in results if r is not None]

    def _enqueue(
        self,
        queue: str,
        payloads: Sequence[bytes],
        dedupe_keys: Sequence[str | None],
        delay: float | None,
        max_attempts: int,
        priority: int,
        max_depth: int | None,
    ) -> list[EnqueueResult | None]:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not -PRIORITY_LIMIT <= priority <= PRIORITY_LIMIT:
            raise ValueError(f"priority must be within +/-{PRIORITY_LIMIT}")
        if max_depth is not None and max_depth < 1:
            raise ValueError("max_depth must be >= 1")
        if delay is not None and delay < 0:
            raise ValueError("delay must be >= 0")
        for payload in payloads:
            if not isinstance(payload, (bytes, bytearray, memoryview)):
                raise TypeError(f"payload must be bytes, not {type(payload).__name__}")
        if any(key == "" for key in dedupe_keys):
            raise ValueError("dedupe_key must be non-empty")
        if not payloads:
            return []
        k = self.keys(queue)
        options = [_ms(delay or 0.0), max_attempts, priority, max_depth or 0, self.dedupe_ttl_seconds,
                   WAKE_LIST_MAX, self.replay_window_seconds]
        calls = []
        for start in range(0, len(payloads), ENQUEUE_CHUNK):
            args: list[Any] = list(options)
            first_id = ""
            for payload, key in zip(payloads[start:start + ENQUEUE_CHUNK], dedupe_keys[start:start + ENQUEUE_CHUNK]):
                task_id = uuid.uuid4().hex
                first_id = first_id or task_id
                args += [task_id, bytes(payload), key or ""]
            calls.append(([k.ready, k.delayed, k.stats, k.wake, k.receipt(first_id), k.prefix], args))
        results: list[EnqueueResult | None] = []
        for statuses, ids in self._call_all(self._scripts.enqueue, calls):
            for status, task_id in zip(_str(statuses), _str(ids).split(" ")):
                results.append(None if status == "F" else EnqueueResult(task_id=task_id, created=status == "1"))
        return results

    def _call_all(self, script: Any, calls: list[tuple[list[str], list[Any]]]) -> list[Any]:
        """Run `script` once per (keys, args): directly when once (a redis-py pipeline of
        scripts costs an extra SCRIPT EXISTS round trip), else pipelined."""
        if len(calls) == 1:
            return [script(*calls[0])]
        pipe = self.redis.pipeline(transaction=False)
        for keys, args in calls:
            script(keys, args, client=pipe)
        return list(pipe.execute())

    # -- consuming -------------------------------------------------------------------

    def take(
        self, queue: str, *, worker_id: str, count: int = 1, lease_seconds: float | None = None
    ) -> list[Lease]:
        if count < 1:
            raise ValueError("count must be >= 1")
        lease_ms = max(_ms(lease_seconds if lease_seconds is not None else self.lease_seconds), 1)
        k = self.keys(queue)
        tokens = [secrets.token_hex(16) for _ in range(count)]
        raw = self._scripts.take(
            [k.ready, k.delayed, k.leased, k.dead, k.stats, k.task_prefix],
            [worker_id, lease_ms, HOUSEKEEPING_LIMIT, *tokens],
        )
        if len(raw) <= 1:
            return []
        expires_at = int(raw[0]) / 1000.0
        leases = []
        for i in range(1, len(raw), 4):
            leases.append(
                Lease(
                    queue=queue,
                    task_id=_str(raw[i]),
                    payload=bytes(raw[i + 1]),
                    attempt=int(raw[i + 2]),
                    token=_str(raw[i + 3]),
                    worker_id=worker_id,
                    expires_at=expires_at,
                )
            )
        return leases

    def wait_for_work(self, queue: str, timeout: float) -> None:
        """Block up to ``timeout`` s until an enqueue/release signals work (or return at once if
        a signal is pending). Spurious wake-ups are possible: always take() afterwards.

        The redis client's socket_timeout, if set, must exceed ``timeout``.
        """
        if timeout <= 0:
            return
        self.redis.blpop([self.keys(queue).wake], timeout=timeout)

    def heartbeat(self, lease: Lease, lease_seconds: float | None = None) -> bool:
        """Extend the lease to now + lease_seconds. False if the lease was lost."""
        lease_ms = max(_ms(lease_seconds if lease_seconds is not None else self.lease_seconds), 1)
        k = self.keys(lease.queue)
        res = self._scripts.heartbeat([k.leased, k.task(lease.task_id)], [lease.task_id, lease.token, lease_ms])
        return int(res) > 0

    def ack(self, lease: Lease) -> bool:
        """The task is done. False (and nothing changed) if the lease token is stale."""
        return self.ack_many([lease])[0]

    def ack_many(self, leases: Sequence[Lease]) -> list[bool]:
        """Ack several leases in one round trip: one script call per queue, each atomic."""
        by_queue: dict[str, list[int]] = {}
        for i, lease in enumerate(leases):
            by_queue.setdefault(lease.queue, []).append(i)
        if not by_queue:
            return []
        calls = []
        for queue, indexes in by_queue.items():
            k = self.keys(queue)
            args = [value for i in indexes for value in (leases[i].task_id, leases[i].token)]
            calls.append(([k.leased, k.stats, k.task_prefix], args))
        acked = [False] * len(leases)
        for indexes, statuses in zip(by_queue.values(), self._call_all(self._scripts.ack, calls)):
            for i, status in zip(indexes, _str(statuses)):
                acked[i] = status == "1"
        return acked

    def nack(self, lease: Lease, error: str) -> str:
        """"retry" (to delayed, backoff by attempt), "dead" (attempts used up) or "stale"."""
        k = self.keys(lease.queue)
        delay_ms = _ms(self.backoff.delay(lease.attempt))
        res = self._scripts.nack(
            [k.leased, k.delayed, k.dead, k.task(lease.task_id), k.stats],
            [lease.task_id, lease.token, error, delay_ms],
        )
        return _str(res)

    def fail(self, lease: Lease, error: str) -> str:
        """Dead-letter at once: "dead" or "stale"."""
        k = self.keys(lease.queue)
        res = self._scripts.fail(
            [k.leased, k.dead, k.task(lease.task_id), k.stats], [lease.task_id, lease.token, error]
        )
        return _str(res)

    def release(self, lease: Lease) -> bool:
        """Give the task back untouched: ready at its old position, attempt not counted."""
        k = self.keys(lease.queue)
        res = self._scripts.release(
            [k.leased, k.ready, k.task(lease.task_id), k.stats, k.wake],
            [lease.task_id, lease.token, WAKE_LIST_MAX],
        )
        return int(res) == 1

    # -- operating -------------------------------------------------------------------

    def stats(self, queue: str) -> QueueStats:
        k = self.keys(queue)
        # Read-only, so a MULTI snapshot is enough; no script needed.
        pipe = self.redis.pipeline(transaction=True)
        pipe.zcard(k.ready)
        pipe.zcard(k.delayed)
        pipe.zcard(k.leased)
        pipe.zcard(k.dead)
        pipe.hgetall(k.stats)
        ready, delayed, leased, dead, counters = pipe.execute()
        c = {_str(name): int(value) for name, value in counters.items()}
        # Every other QueueStats field is a counter the scripts keep under its own name.
        totals = {f.name: c.get(f.name, 0) for f in fields(QueueStats) if f.name not in DEPTH_FIELDS}
        return QueueStats(ready=ready, delayed=delayed, leased=leased, dead=dead, **totals)

    def dead(self, queue: str, limit: int = 100) -> list[DeadTask]:
        """Oldest dead tasks first."""
        if limit < 1:
            return []
        k = self.keys(queue)
        raw = self._scripts.list_dead([k.dead, k.task_prefix], [limit])
        out = []
        for i in range(0, len(raw), 7):
            task_id, payload, attempts, last_error, worker_id, enqueued_at, dead_at = raw[i : i + 7]
            out.append(
                DeadTask(
                    task_id=_str(task_id),
                    payload=bytes(payload),
                    attempts=int(attempts or 0),
                    last_error=_str(last_error),
                    worker_id=_str(worker_id),
                    enqueued_at=int(enqueued_at or 0) / 1000.0,
                    dead_at=int(dead_at or 0) / 1000.0,
                )
            )
        return out

    def retry_dead(self, queue: str, task_ids: list[str] | None = None) -> int:
        """Move dead tasks (all, or the given ids) back to ready with attempts reset. Returns how many."""
        k = self.keys(queue)
        keys = [k.dead, k.ready, k.stats, k.wake, k.task_prefix]
        moved = 0
        if task_ids is None:
            while True:
                n = int(self._scripts.retry_dead(keys, [WAKE_LIST_MAX, "all", DEAD_BATCH]))
                moved += n
                if n < DEAD_BATCH:
                    return moved
        for start in range(0, len(task_ids), DEAD_BATCH):
            chunk = task_ids[start : start + DEAD_BATCH]
            moved += int(self._scripts.retry_dead(keys, [WAKE_LIST_MAX, "ids", DEAD_BATCH, *chunk]))
        return moved

    def purge_dead(self, queue: str) -> int:
        """Delete every dead task. Returns how many."""
        k = self.keys(queue)
        purged = 0
        while True:
            n = int(self._scripts.purge_dead([k.dead, k.task_prefix], [DEAD_BATCH]))
            purged += n
            if n < DEAD_BATCH:
                return purged
