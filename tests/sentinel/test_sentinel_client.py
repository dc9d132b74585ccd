"""Client behaviour against a real Redis."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
import redis

from sentinel import Backoff, Client, EnqueueResult, Lease, QueueFull

Q = "jobs"


def take_one(client: Client, worker_id: str = "w1", **kwargs: object) -> Lease:
    leases = client.take(Q, worker_id=worker_id, **kwargs)  # type: ignore[arg-type]
    assert len(leases) == 1, leases
    return leases[0]


def task_keys(client: Client) -> list[bytes]:
    return list(client.redis.scan_iter(match=client.keys(Q).task_prefix + "*", count=1000))


def test_roundtrip_is_byte_exact(client: Client, states: Callable[..., dict[str, str]]) -> None:
    payload = bytes(range(256)) + b"\x00\r\n\xff{}" + "é".encode()
    result = client.enqueue(Q, payload)
    assert result.created and len(result.task_id) == 32
    assert states(Q, [result.task_id]) == {result.task_id: "ready"}

    before = client.redis.time()[0]
    lease = take_one(client, "w1")
    assert lease.task_id == result.task_id
    assert lease.payload == payload
    assert lease.attempt == 1
    assert lease.worker_id == "w1"
    assert lease.queue == Q
    assert before + 29 <= lease.expires_at <= before + 32
    assert states(Q, [lease.task_id]) == {lease.task_id: "leased"}

    assert client.take(Q, worker_id="w2") == []
    assert client.ack(lease) is True
    assert states(Q, [lease.task_id]) == {lease.task_id: "done"}
    assert client.ack(lease) is False
    assert task_keys(client) == []


def test_take_count_returns_several_with_distinct_tokens(client: Client) -> None:
    ids = [client.enqueue(Q, b"%d" % i).task_id for i in range(5)]
    leases = client.take(Q, worker_id="w", count=3)
    assert [lease.task_id for lease in leases] == ids[:3]
    assert len({lease.token for lease in leases}) == 3
    assert [lease.task_id for lease in client.take(Q, worker_id="w", count=10)] == ids[3:]


def test_ack_many_acks_live_leases_and_refuses_stale_ones(client: Client, states: Callable[..., dict[str, str]]) -> None:
    ids = [r.task_id for r in client.enqueue_many(Q, [b"a", b"b", b"c"])]
    leases = client.take(Q, worker_id="w", count=3)
    stale = Lease(Q, leases[1].task_id, b"b", 1, "not-the-token", "w", 0.0)
    assert client.ack_many([leases[0], stale, leases[2]]) == [True, False, True]
    assert states(Q, ids) == {ids[0]: "done", ids[1]: "leased", ids[2]: "done"}
    assert client.ack_many([]) == []


def test_dedupe_returns_existing_id(client: Client, states: Callable[..., dict[str, str]]) -> None:
    first = client.enqueue(Q, b"a", dedupe_key="order-1")
    second = client.enqueue(Q, b"b", dedupe_key="order-1")
    other = client.enqueue(Q, b"c", dedupe_key="order-2")
    assert first.created and not second.created and other.created
    assert second.task_id == first.task_id
    assert other.task_id != first.task_id
    assert states(Q, [first.task_id, other.task_id]) == {first.task_id: "ready", other.task_id: "ready"}

    # Still deduplicated after the task is done, within the TTL.
    lease = take_one(client)
    assert lease.payload == b"a"
    assert client.ack(lease)
    again = client.enqueue(Q, b"d", dedupe_key="order-1")
    assert again == EnqueueResult(first.task_id, False)
    stats = client.stats(Q)
    assert (stats.enqueued, stats.deduped, stats.ready) == (2, 2, 1)


def test_dedupe_key_expires(make_client: Callable[..., Client]) -> None:
    client = make_client(dedupe_ttl_seconds=1)
    first = client.enqueue(Q, b"a", dedupe_key="k")
    assert 0 < client.redis.ttl(client.keys(Q).dedupe("k")) <= 1
    client.redis.delete(client.keys(Q).dedupe("k"))  # what expiry does, without waiting a second
    assert client.enqueue(Q, b"a", dedupe_key="k").task_id != first.task_id


def test_max_depth_raises_and_writes_nothing(client: Client, states: Callable[..., dict[str, str]]) -> None:
    a = client.enqueue(Q, b"a", max_depth=3)
    b = client.enqueue(Q, b"b", max_depth=3, delay=60)  # delayed counts toward depth
    c = client.enqueue(Q, b"c", max_depth=3, dedupe_key="c")
    keys_before = sorted(client.redis.scan_iter(match="{" + client.namespace + ":*"))
    with pytest.raises(QueueFull):
        client.enqueue(Q, b"d", max_depth=3, dedupe_key="d")
    assert sorted(client.redis.scan_iter(match="{" + client.namespace + ":*")) == keys_before
    assert len(task_keys(client)) == 3
    stats = client.stats(Q)
    assert (stats.ready, stats.delayed, stats.enqueued) == (2, 1, 3)
    # A duplicate on a full queue is not an error: it adds nothing.
    assert client.enqueue(Q, b"c", max_depth=3, dedupe_key="c") == EnqueueResult(c.task_id, False)
    # Leased tasks don't count: taking one frees a slot.
    take_one(client)
    assert client.enqueue(Q, b"e", max_depth=3).created
    states(Q, [a.task_id, b.task_id, c.task_id])


def test_priority_then_fifo(client: Client) -> None:
    order = [("low1", -1), ("mid1", 0), ("high1", 5), ("mid2", 0), ("high2", 5), ("low2", -1), ("mid3", 0)]
    ids = {client.enqueue(Q, name.encode(), priority=prio).task_id: name for name, prio in order}
    assert len(ids) == len(order)
    taken = [lease.payload.decode() for lease in client.take(Q, worker_id="w", count=4)]
    taken += [take_one(client).payload.decode() for _ in range(3)]
    assert taken == ["high1", "high2", "mid1", "mid2", "mid3", "low1", "low2"]


def test_priority_out_of_range_is_rejected(client: Client) -> None:
    with pytest.raises(ValueError):
        client.enqueue(Q, b"x", priority=5000)
    assert task_keys(client) == []


def test_delayed_enqueue_becomes_takeable_when_due(client: Client, states: Callable[..., dict[str, str]]) -> None:
    task = client.enqueue(Q, b"later", delay=0.2)
    assert states(Q, [task.task_id]) == {task.task_id: "delayed"}
    assert client.take(Q, worker_id="w") == []
    time.sleep(0.25)
    lease = take_one(client)
    assert (lease.task_id, lease.attempt) == (task.task_id, 1)


def test_nack_retries_with_backoff(make_client: Callable[..., Client], states: Callable[..., dict[str, str]]) -> None:
    client = make_client(backoff=Backoff(base=0.2, factor=2.0, cap=1.0, jitter=0.0))
    task = client.enqueue(Q, b"x")
    lease = take_one(client)
    now_ms = client.redis.time()
    assert client.nack(lease, "boom") == "retry"
    assert states(Q, [task.task_id]) == {task.task_id: "delayed"}
    due_ms = client.redis.zscore(client.keys(Q).delayed, task.task_id)
    expected_ms = now_ms[0] * 1000 + now_ms[1] // 1000 + 200
    assert expected_ms - 20 <= due_ms <= expected_ms + 50
    assert client.redis.hget(client.keys(Q).task(task.task_id), "last_error") == b"boom"

    assert client.take(Q, worker_id="w") == []  # not due yet
    assert client.nack(lease, "again") == "stale"  # the old token no longer counts
    time.sleep(0.25)
    second = take_one(client, "w2")
    assert (second.task_id, second.attempt) == (task.task_id, 2)
    assert second.token != lease.token
    # Attempt 2 backs off twice as long.
    assert client.nack(second, "boom") == "retry"
    due2 = client.redis.zscore(client.keys(Q).delayed, task.task_id)
    now2 = client.redis.time()
    assert due2 - (now2[0] * 1000 + now2[1] // 1000) > 300
    assert client.stats(Q).retried == 2


def test_backoff_policy() -> None:
    b = Backoff(base=1.0, factor=2.0, cap=10.0, jitter=0.0)
    assert [b.delay(n) for n in (1, 2, 3, 4, 5, 6)] == [1.0, 2.0, 4.0, 8.0, 10.0, 10.0]
    assert b.delay(10_000) == 10.0
    jittered = Backoff(base=1.0, factor=2.0, cap=300.0, jitter=0.2)
    samples = [jittered.delay(3) for _ in range(200)]
    assert all(3.2 <= s <= 4.8 for s in samples)
    assert len(set(samples)) > 1


def test_max_attempts_dead_letters_with_history(client: Client, states: Callable[..., dict[str, str]]) -> None:
    task = client.enqueue(Q, b"\x00payload", max_attempts=2)
    first = take_one(client, "w1")
    assert client.nack(first, "boom1") == "retry"
    time.sleep(0.08)
    second = take_one(client, "w2")
    assert second.attempt == 2
    assert client.nack(second, "boom2") == "dead"
    assert states(Q, [task.task_id]) == {task.task_id: "dead"}
    assert client.take(Q, worker_id="w3") == []

    [dead] = client.dead(Q)
    assert dead.task_id == task.task_id
    assert dead.payload == b"\x00payload"
    assert dead.attempts == 2
    assert dead.last_error == "boom2"
    assert dead.worker_id == "w2"
    assert 0 < dead.enqueued_at <= dead.dead_at
    stats = client.stats(Q)
    assert (stats.retried, stats.dead_lettered, stats.dead, stats.acked) == (1, 1, 1, 0)
    assert client.nack(second, "late") == "stale"


def test_fail_goes_straight_to_dead(client: Client, states: Callable[..., dict[str, str]]) -> None:
    task = client.enqueue(Q, b"x", max_attempts=5)
    lease = take_one(client)
    assert client.fail(lease, "bad input") == "dead"
    assert client.fail(lease, "bad input") == "stale"
    assert states(Q, [task.task_id]) == {task.task_id: "dead"}
    [dead] = client.dead(Q)
    assert (dead.attempts, dead.last_error) == (1, "bad input")


def test_lease_expiry_and_late_ack(client: Client, states: Callable[..., dict[str, str]]) -> None:
    task = client.enqueue(Q, b"slow")
    first = take_one(client, "w1", lease_seconds=0.1)
    time.sleep(0.15)
    second = take_one(client, "w2")
    assert (second.task_id, second.attempt, second.worker_id) == (task.task_id, 2, "w2")
    assert second.token != first.token
    assert client.redis.hget(client.keys(Q).task(task.task_id), "last_error") == b"lease expired"

    # The first worker wakes up late: nothing it does may touch the second worker's lease.
    assert client.heartbeat(first) is False
    assert client.ack(first) is False
    assert client.nack(first, "late") == "stale"
    assert client.fail(first, "late") == "stale"
    assert client.release(first) is False
    assert states(Q, [task.task_id]) == {task.task_id: "leased"}
    assert client.redis.hget(client.keys(Q).task(task.task_id), "worker_id") == b"w2"
    assert client.redis.hget(client.keys(Q).task(task.task_id), "attempts") == b"2"

    assert client.ack(second) is True
    assert states(Q, [task.task_id]) == {task.task_id: "done"}
    stats = client.stats(Q)
    assert (stats.expired, stats.acked) == (1, 1)


def test_expired_lease_on_last_attempt_goes_dead(client: Client, states: Callable[..., dict[str, str]]) -> None:
    task = client.enqueue(Q, b"x", max_attempts=1)
    take_one(client, "w1", lease_seconds=0.05)
    time.sleep(0.1)
    assert client.take(Q, worker_id="w2") == []
    assert states(Q, [task.task_id]) == {task.task_id: "dead"}
    [dead] = client.dead(Q)
    assert (dead.last_error, dead.worker_id, dead.attempts) == ("lease expired", "w1", 1)
    stats = client.stats(Q)
    assert (stats.expired, stats.dead_lettered) == (1, 1)


def test_expired_lease_keeps_its_place_in_line(client: Client) -> None:
    a = client.enqueue(Q, b"a").task_id
    take_one(client, lease_seconds=0.05)
    b = client.enqueue(Q, b"b").task_id
    time.sleep(0.1)
    assert [lease.task_id for lease in client.take(Q, worker_id="w", count=2)] == [a, b]


def test_heartbeat_extends_lease(client: Client, states: Callable[..., dict[str, str]]) -> None:
    task = client.enqueue(Q, b"x")
    lease = take_one(client, lease_seconds=0.3)
    time.sleep(0.15)
    assert client.heartbeat(lease, lease_seconds=0.6) is True
    time.sleep(0.3)  # past the original expiry, within the extended one
    assert client.take(Q, worker_id="other") == []
    assert states(Q, [task.task_id]) == {task.task_id: "leased"}
    assert client.ack(lease) is True
    assert client.heartbeat(lease) is False
    assert client.stats(Q).expired == 0


def test_release_returns_task_without_counting_attempt(
    client: Client, states: Callable[..., dict[str, str]]
) -> None:
    a = client.enqueue(Q, b"a").task_id
    b = client.enqueue(Q, b"b").task_id
    lease = take_one(client)
    assert lease.task_id == a
    assert client.release(lease) is True
    assert states(Q, [a, b]) == {a: "ready", b: "ready"}
    assert client.release(lease) is False
    assert client.ack(lease) is False
    again = take_one(client, "w2")
    # Back at the front, still attempt 1.
    assert (again.task_id, again.attempt) == (a, 1)
    assert client.stats(Q).released == 1


def test_retry_dead_and_purge_dead(client: Client, states: Callable[..., dict[str, str]]) -> None:
    ids = [client.enqueue(Q, b"%d" % i, max_attempts=1).task_id for i in range(3)]
    for lease in client.take(Q, worker_id="w", count=3):
        assert client.nack(lease, "boom") == "dead"
    assert set(states(Q, ids).values()) == {"dead"}
    assert sorted(d.task_id for d in client.dead(Q)) == sorted(ids)  # same-ms ties order by id
    assert len(client.dead(Q, limit=2)) == 2

    assert client.retry_dead(Q, [ids[1], "no-such-task"]) == 1
    assert states(Q, ids) == {ids[0]: "dead", ids[1]: "ready", ids[2]: "dead"}
    lease = take_one(client)
    assert (lease.task_id, lease.attempt) == (ids[1], 1)  # attempts reset
    assert client.ack(lease)

    assert client.retry_dead(Q) == 2
    assert client.retry_dead(Q) == 0
    leases = client.take(Q, worker_id="w", count=5)
    assert sorted(lease.task_id for lease in leases) == sorted([ids[0], ids[2]])
    assert all(lease.attempt == 1 for lease in leases)
    for lease in leases:
        assert client.fail(lease, "again") == "dead"

    assert client.purge_dead(Q) == 2
    assert client.purge_dead(Q) == 0
    assert states(Q, ids) == {i: "done" for i in ids}
    assert task_keys(client) == []
    assert client.dead(Q) == []


def test_stats_counters(client: Client) -> None:
    client.enqueue(Q, b"a", dedupe_key="a")
    client.enqueue(Q, b"a", dedupe_key="a")
    client.enqueue(Q, b"b", max_attempts=1)
    client.enqueue(Q, b"c")
    client.enqueue(Q, b"d", delay=60)
    assert client.stats(Q).ready == 3
    a, b, c = client.take(Q, worker_id="w", count=3)
    client.ack(a)
    client.nack(b, "x")  # max_attempts=1 -> dead
    client.nack(c, "x")  # retry
    s = client.stats(Q)
    assert (s.ready, s.delayed, s.leased, s.dead) == (0, 2, 0, 1)
    assert (s.enqueued, s.acked, s.retried, s.expired, s.dead_lettered, s.deduped) == (4, 1, 1, 0, 1, 1)


def test_enqueue_many(client: Client, states: Callable[..., dict[str, str]]) -> None:
    payloads = [b"p%03d" % i for i in range(50)]
    results = client.enqueue_many(Q, payloads, priority=1)
    assert len({r.task_id for r in results}) == 50 and all(r.created for r in results)
    dup = client.enqueue_many(Q, [b"x", b"y", b"z"], dedupe_keys=["k1", None, "k1"])
    assert [r.created for r in dup] == [True, True, False]
    assert dup[2].task_id == dup[0].task_id
    taken = client.take(Q, worker_id="w", count=60)
    assert [lease.payload for lease in taken] == payloads + [b"x", b"y"]
    assert set(states(Q, [r.task_id for r in results]).values()) == {"leased"}


def test_enqueue_many_reports_refused_items(client: Client) -> None:
    with pytest.raises(QueueFull) as info:
        client.enqueue_many(Q, [b"a", b"b", b"c", b"d"], max_depth=2)
    results = info.value.results
    assert [r is not None for r in results] == [True, True, False, False]
    assert client.stats(Q).ready == 2
    assert len(task_keys(client)) == 2


def test_wait_for_work_wakes_on_enqueue(client: Client) -> None:
    start = time.monotonic()
    client.wait_for_work(Q, 0.2)
    assert time.monotonic() - start >= 0.15  # nothing pending: waits the timeout

    timer = threading.Timer(0.1, lambda: client.enqueue(Q, b"x"))
    timer.start()
    start = time.monotonic()
    client.wait_for_work(Q, 5.0)
    assert time.monotonic() - start < 2.0
    timer.join()
    assert len(client.take(Q, worker_id="w")) == 1
    # The wake list stays small however much is enqueued.
    client.enqueue_many(Q, [b"x"] * 100)
    assert client.redis.llen(client.keys(Q).wake) <= 16


def test_all_keys_share_one_cluster_slot(client: Client) -> None:
    from redis.crc import key_slot

    client.enqueue(Q, b"a", dedupe_key="d")
    client.enqueue(Q, b"b", delay=60)
    lease = take_one(client)
    client.fail(lease, "x")
    keys = list(client.redis.scan_iter(match="{" + client.namespace + ":*"))
    assert {k.rsplit(b":", 1)[-1] for k in keys} >= {b"delayed", b"dead", b"stats", b"wake"}
    assert len({key_slot(k) for k in keys}) == 1


def test_rejects_decoding_client_and_bad_names(redis_client: redis.Redis, namespace: str) -> None:
    pool = redis_client.connection_pool
    decoding = redis.Redis(
        connection_pool=redis.ConnectionPool(
            connection_class=pool.connection_class, **{**pool.connection_kwargs, "decode_responses": True}
        )
    )
    with pytest.raises(ValueError):
        Client(decoding, namespace)
    decoding.close()
    with pytest.raises(ValueError):
        Client(redis_client, "bad{ns}")
    with pytest.raises(ValueError):
        Client(redis_client, namespace).enqueue("q}", b"x")


def test_a_replayed_enqueue_changes_nothing_and_gets_the_first_answer(client: Client) -> None:
    """redis-py re-sends a command whose reply was lost; the script must recognise it."""
    k = client.keys(Q)
    keys = [k.ready, k.delayed, k.stats, k.wake, k.receipt("id-1"), k.prefix]
    args = [0, 5, 0, 0, 60, 16, 300, "id-1", b"one", "", "id-2", b"two", "dup"]
    first = client._scripts.enqueue(keys, args)
    assert client.ack_many(client.take(Q, worker_id="w", count=2)) == [True, True]
    replay = client._scripts.enqueue(keys, args)
    assert first == replay == [b"11", b"id-1 id-2"]
    assert client.take(Q, worker_id="w") == []
    assert client.stats(Q).enqueued == 2


def test_enqueue_many_is_one_atomic_batch_with_dedupe_inside_it(client: Client) -> None:
    results = client.enqueue_many(Q, [b"a", b"b", b"c"], dedupe_keys=["k", "k", None])
    assert results[0].created and not results[1].created and results[2].created
    assert results[1].task_id == results[0].task_id
    assert [lease.payload for lease in client.take(Q, worker_id="w", count=5)] == [b"a", b"c"]
    assert client.stats(Q).deduped == 1


def test_enqueue_many_over_several_script_calls_keeps_fifo(client: Client) -> None:
    import sentinel.client as module

    payloads = [b"%d" % i for i in range(module.ENQUEUE_CHUNK * 2 + 7)]
    ids = [r.task_id for r in client.enqueue_many(Q, payloads)]
    leases = client.take(Q, worker_id="w", count=len(payloads))
    assert [lease.task_id for lease in leases] == ids
    assert all(client.ack_many(leases))
