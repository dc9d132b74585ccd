"""ShardedQueue on a real Redis: stable placement, slots spread for Cluster, fair draining."""

from __future__ import annotations

from collections import Counter

from redis.crc import key_slot

from sentinel import Client
from sentinel.sharding import ShardedQueue


def test_a_key_always_lands_on_the_same_shard_and_dedupe_holds(client: Client) -> None:
    sharded = ShardedQueue(client, "frames", 8)
    assert sharded.shard_for("camera-7") == sharded.shard_for("camera-7")
    first = sharded.enqueue("camera-7", b"a", dedupe_key="frame-1")
    again = sharded.enqueue("camera-7", b"b", dedupe_key="frame-1")
    assert again.task_id == first.task_id and not again.created
    assert client.stats(sharded.shard_for("camera-7")).ready == 1


def test_shards_live_in_different_cluster_slots(client: Client) -> None:
    sharded = ShardedQueue(client, "frames", 8)
    slots = {key_slot(client.keys(q).ready.encode()) for q in sharded.queues}
    assert len(slots) == 8
    # Every key of one shard shares its slot, so each script stays single-slot.
    for queue in sharded.queues:
        k = client.keys(queue)
        assert len({key_slot(key.encode()) for key in (k.ready, k.leased, k.dead, k.task("x"), k.dedupe("y"))}) == 1


def test_cameras_spread_and_take_drains_every_shard(client: Client) -> None:
    sharded = ShardedQueue(client, "frames", 4)
    cameras = [f"camera-{i}" for i in range(40)]
    for camera in cameras:
        sharded.enqueue(camera, camera.encode())
    per_shard = Counter(sharded.shard_for(c) for c in cameras)
    assert len(per_shard) == 4 and min(per_shard.values()) >= 4
    assert sharded.stats().ready == 40

    taken = []
    while leases := sharded.take(worker_id="w", count=7):
        taken += leases
        assert client.ack_many(leases) == [True] * len(leases)
    assert sorted(lease.payload.decode() for lease in taken) == sorted(cameras)
    stats = sharded.stats()
    assert (stats.ready, stats.acked, stats.enqueued) == (0, 40, 40)


def test_take_rotates_its_starting_shard(client: Client) -> None:
    sharded = ShardedQueue(client, "frames", 3)
    for queue in sharded.queues:
        for i in range(3):
            client.enqueue(queue, f"{queue}:{i}".encode())
    firsts = [sharded.take(worker_id="w", count=1)[0].queue for _ in range(3)]
    assert sorted(firsts) == sorted(sharded.queues)
