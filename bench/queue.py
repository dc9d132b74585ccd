"""Enqueue -> take -> ack throughput and latency: sentinel against RQ, Celery and raw Redis.

    python bench/queue.py [--n 20000] [--n-rq 5000] [--n-celery 5000] [--batch 250]
                          [--rounds 1] [--only sentinel,rq,celery,raw] [--json]

Everything runs in one process against one Redis server (REDIS_URL, default
redis://127.0.0.1:6379/0), with the same payload size, after a warm-up of --warmup tasks
per system (scripts loaded, connections open, imports done). Each system is timed end to
end, from the first enqueue to the last task settled; tasks/s = tasks / seconds. With
--rounds R every system runs R times, interleaved (so a busy spell on a shared host lands on
all of them), and the table shows each system's median round plus min/max tasks/s.

Systems and what "latency" (enqueue to settled, per task, p50 / p99 in ms) means for each:

* sentinel_single: one task at a time in one thread: enqueue, take(count=1), ack, repeat.
  Exactly one task is in the system at any moment, so this is the serial cost of a task
  (three round trips plus three scripts) and latency is that loop's time per task.
* sentinel_batched: one thread loops enqueue_many(B), take(count=B), ack_many(B). At most B
  tasks are in the system; every task of a batch gets the batch's cycle time as latency.
* rq: RQ's fastest documented path: jobs of a no-op function are enqueued with
  Queue.enqueue_many in batches of B, then an in-process SimpleWorker (no fork per job)
  drains them in burst mode, at RQ's defaults otherwise (job timeout, results kept) and
  logging at WARNING. Latency is job.ended_at - job.enqueued_at as RQ records them, so it
  includes the wait behind the whole backlog (enqueue-all-then-drain shape): it is not
  comparable to the sentinel rows, the throughput is.
* celery: Redis broker, no result backend, a no-op task that RPUSHes its latency onto a
  Redis list (one command, its length is the done counter). The worker is a subprocess
  (--pool=solo, acks_late so the ack follows the task as in sentinel, prefetch multiplier
  --celery-prefetch, no gossip/mingle/heartbeat/remote control); this process publishes
  with send_task, through one producer for the run, while it consumes. Timed from the first publish until the list holds N
  entries. Latency is task-body time.time() minus the publish time.time(), so it too
  includes the wait behind the backlog the producer builds up. Note Celery gets two
  processes (producer + worker) where every other row runs in a single Python thread.
* raw_ceiling: the reliable-list pattern with nothing else: per batch of B, one pipeline of
  B LPUSH (enqueue), one of B LMOVE ready -> processing (take), one of B LREM (ack, from
  the tail, where the oldest taken item sits). No per-task Python work beyond building the
  pipelines; latency is the batch cycle time, as for sentinel_batched.
* raw_single: the same three commands one task at a time (three round trips), for scale.

RQ and Celery use global key names (rq:*, _kombu.*, unacked*), so they run in a dedicated
database of the same server (--peer-db, default 14), which must be empty at start (or pass
--flush-peer-db) and is flushed after each of their rounds (FLUSHDB ASYNC: the shared server
never blocks on it). Sentinel and raw keys live under a unique namespace in REDIS_URL's
database and are deleted at the end.

--json prints one JSON object on the last line: tasks/s per system (null if not run),
p99_ms (sentinel_single end to end), ratios, goals and per-system details.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the stdlib `queue`; run as a script its directory would come first
# on sys.path and shadow it for redis, kombu and celery. Put the repo root there instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse
import json
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis
from rich.console import Console
from rich.table import Table

from bench._common import percentile
from sentinel.client import Client

SYSTEMS = ("sentinel_single", "sentinel_batched", "rq", "celery", "raw_ceiling", "raw_single")
REQUIRED_KEYS = ("sentinel_single", "sentinel_batched", "rq", "celery", "raw_ceiling")
# (numerator, denominator, goal or None): sentinel_batched must reach the goal.
RATIOS = (
    ("sentinel_batched", "rq", 10.0),
    ("sentinel_batched", "celery", 3.0),
    ("sentinel_batched", "raw_ceiling", 0.25),
    ("sentinel_single", "rq", None),
    ("sentinel_single", "celery", None),
    ("sentinel_single", "raw_ceiling", None),
    ("sentinel_single", "raw_single", None),
)
CELERY_TASK = "bench.queue.noop"

err = Console(stderr=True)


@dataclass
class Result:
    tasks: int
    seconds: float
    latencies_s: list[float]
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.tasks / self.seconds

    def row(self) -> dict[str, float]:
        ms = [v * 1000 for v in self.latencies_s]
        return {
            "tasks": self.tasks,
            "seconds": round(self.seconds, 3),
            "tasks/s": round(self.per_s, 1),
            "p50 ms": round(percentile(ms, 50), 3),
            "p99 ms": round(percentile(ms, 99), 3),
        }


# -- helpers -------------------------------------------------------------------------------


def payloads(count: int, size: int, tag: str) -> list[bytes]:
    """Distinct payloads of `size` bytes."""
    return [(f"{tag}{i:010d}".encode() + b"x" * size)[:size] for i in range(count)]


def url_with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"]
    if parts.scheme == "unix":
        query.append(("db", str(db)))
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=f"/{db}", query=urlencode(query)))


def db_of(client: redis.Redis) -> int:
    return int(client.connection_pool.connection_kwargs.get("db", 0) or 0)


def unlink_matching(client: redis.Redis, pattern: str) -> int:
    deleted = 0
    batch: list[bytes] = []
    for key in client.scan_iter(match=pattern, count=1000):
        batch.append(key)
        if len(batch) >= 500:
            deleted += client.unlink(*batch)
            batch.clear()
    if batch:
        deleted += client.unlink(*batch)
    return deleted


# -- sentinel ------------------------------------------------------------------------------


def sentinel_single(client: Client, queue: str, items: list[bytes]) -> Result:
    worker = "bench-single"
    latencies = []
    started = time.perf_counter()
    for payload in items:
        t0 = time.perf_counter()
        client.enqueue(queue, payload)
        leases = client.take(queue, worker_id=worker, count=1)
        if len(leases) != 1 or not client.ack(leases[0]):
            raise RuntimeError(f"sentinel_single: take/ack failed ({len(leases)} leases)")
        latencies.append(time.perf_counter() - t0)
    return Result(len(items), time.perf_counter() - started, latencies)


def sentinel_batched(client: Client, queue: str, items: list[bytes], batch: int) -> Result:
    worker = "bench-batched"
    latencies: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        t0 = time.perf_counter()
        client.enqueue_many(queue, chunk)
        leases = client.take(queue, worker_id=worker, count=len(chunk))
        while len(leases) < len(chunk):  # never expected: the queue holds exactly this chunk
            more = client.take(queue, worker_id=worker, count=len(chunk) - len(leases))
            if not more:
                raise RuntimeError("sentinel_batched: tasks missing after enqueue_many")
            leases += more
        acked = client.ack_many(leases)
        if not all(acked):
            raise RuntimeError("sentinel_batched: an ack was stale")
        latencies.extend([time.perf_counter() - t0] * len(chunk))
    return Result(len(items), time.perf_counter() - started, latencies)


def check_sentinel_empty(client: Client, queue: str, expected: int) -> None:
    stats = client.stats(queue)
    if stats.ready or stats.leased or stats.delayed or stats.dead or stats.acked != expected:
        raise RuntimeError(f"sentinel queue {queue!r} not drained as expected: {stats}")


# -- raw Redis -----------------------------------------------------------------------------


def raw_batched(r: redis.Redis, prefix: str, items: list[bytes], batch: int) -> Result:
    ready, processing = prefix + "ready", prefix + "processing"
    latencies: list[float] = []
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        chunk = items[start : start + batch]
        t0 = time.perf_counter()
        pipe = r.pipeline(transaction=False)
        for item in chunk:
            pipe.lpush(ready, item)
        pipe.execute()
        pipe = r.pipeline(transaction=False)
        for _ in chunk:
            pipe.lmove(ready, processing, "RIGHT", "LEFT")
        taken = pipe.execute()
        pipe = r.pipeline(transaction=False)
        for item in taken:
            pipe.lrem(processing, -1, item)
        removed = pipe.execute()
        if len(taken) != len(chunk) or sum(removed) != len(chunk):
            raise RuntimeError("raw_ceiling: lost items")
        latencies.extend([time.perf_counter() - t0] * len(chunk))
    return Result(len(items), time.perf_counter() - started, latencies)


def raw_single(r: redis.Redis, prefix: str, items: list[bytes]) -> Result:
    ready, processing = prefix + "ready", prefix + "processing"
    latencies = []
    started = time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        r.lpush(ready, item)
        taken: Any = r.lmove(ready, processing, "RIGHT", "LEFT")
        if taken is None or r.lrem(processing, -1, taken) != 1:
            raise RuntimeError("raw_single: lost item")
        latencies.append(time.perf_counter() - t0)
    return Result(len(items), time.perf_counter() - started, latencies)


# -- RQ ------------------------------------------------------------------------------------


def rq_noop(payload: bytes) -> None:
    return None


def rq_run(url: str, queue_name: str, items: list[bytes], batch: int) -> Result:
    from rq import Queue, SimpleWorker
    from rq.job import Job

    conn = redis.Redis.from_url(url)
    queue = Queue(queue_name, connection=conn)
    started = time.perf_counter()
    ids: list[str] = []
    for start in range(0, len(items), batch):
        datas = [Queue.prepare_data(rq_noop, args=(payload,)) for payload in items[start : start + batch]]
        ids.extend(job.id for job in queue.enqueue_many(datas))
    enqueued = time.perf_counter()
    worker = SimpleWorker([queue], connection=conn, name=f"{queue_name}-{uuid.uuid4().hex[:6]}")
    worker.work(burst=True, logging_level="WARNING")
    finished = time.perf_counter()

    latencies = []
    for start in range(0, len(ids), 1000):
        for job in Job.fetch_many(ids[start : start + 1000], connection=conn):
            if job is None or job.ended_at is None or job.enqueued_at is None:
                raise RuntimeError(f"rq: job not finished: {job}")
            latencies.append((job.ended_at - job.enqueued_at).total_seconds())
    if len(queue) != 0:
        raise RuntimeError("rq: queue not drained")
    conn.close()
    return Result(
        len(items),
        finished - started,
        latencies,
        {"enqueue_s": round(enqueued - started, 3), "work_s": round(finished - enqueued, 3)},
    )


# -- Celery --------------------------------------------------------------------------------


def celery_app(broker: str, prefetch: int) -> Any:
    from celery import Celery

    app = Celery("bench_queue", broker=broker, set_as_current=False)
    app.conf.update(
        task_ignore_result=True,
        task_acks_late=True,
        task_serializer="json",
        accept_content=["json"],
        worker_prefetch_multiplier=prefetch,
        worker_hijack_root_logger=False,
        worker_enable_remote_control=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
        broker_connection_retry_on_startup=True,
    )
    return app


def celery_worker_main(broker: str, queue_name: str, done_key: str, prefetch: int) -> None:
    """Entry point of the worker subprocess (--celery-worker)."""
    app = celery_app(broker, prefetch)
    done = redis.Redis.from_url(broker)

    @app.task(name=CELERY_TASK)
    def noop(payload: str, sent: float) -> None:
        done.rpush(done_key, time.time() - sent)

    app.worker_main(
        [
            "worker",
            "--pool=solo",
            f"--queues={queue_name}",
            f"--hostname=bench-{uuid.uuid4().hex[:6]}@%h",
            f"--prefetch-multiplier={prefetch}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=WARNING",
        ]
    )


class CeleryWorker:
    def __init__(self, broker: str, queue_name: str, done_key: str, prefetch: int) -> None:
        fd, self.log = tempfile.mkstemp(prefix="bench-celery-", suffix=".log")
        cmd = [
            sys.executable,
            str(Path(__file__).resolve()),
            "--celery-worker",
            broker,
            queue_name,
            done_key,
            str(prefetch),
        ]
        try:
            self.proc = subprocess.Popen(cmd, stdout=fd, stderr=subprocess.STDOUT)
        finally:
            os.close(fd)

    def tail(self) -> str:
        return Path(self.log).read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        os.unlink(self.log)


def celery_round(app: Any, conn: redis.Redis, queue_name: str, done_key: str, items: list[str]) -> Result:
    conn.delete(done_key)
    deadline_s = 60 + len(items) / 100
    started = time.perf_counter()
    # One producer for the whole run (Celery's faster path; send_task alone acquires one per call).
    with app.producer_or_acquire() as producer:
        for payload in items:
            app.send_task(CELERY_TASK, args=[payload, time.time()], queue=queue_name, producer=producer)
    published = time.perf_counter()
    while conn.llen(done_key) < len(items):
        if time.perf_counter() - started > deadline_s:
            raise RuntimeError(f"celery: only {conn.llen(done_key)}/{len(items)} tasks ran in {deadline_s:.0f} s")
        time.sleep(0.001)
    finished = time.perf_counter()
    latencies = [float(v) for v in conn.lrange(done_key, 0, -1)]
    conn.delete(done_key)
    return Result(len(items), finished - started, latencies, {"publish_s": round(published - started, 3)})


def celery_run(url: str, queue_name: str, items: list[str], warmup: list[str], prefetch: int) -> Result:
    done_key = f"{queue_name}:done"
    conn = redis.Redis.from_url(url)
    app = celery_app(url, prefetch)
    worker = CeleryWorker(url, queue_name, done_key, prefetch)
    try:
        try:
            # Also waits out the worker's start-up: tasks queue until it consumes.
            celery_round(app, conn, queue_name, done_key, warmup)
        except RuntimeError:
            err.print(worker.tail())
            raise
        if worker.proc.poll() is not None:
            raise RuntimeError(f"celery worker exited: {worker.tail()}")
        result = celery_round(app, conn, queue_name, done_key, items)
    finally:
        worker.stop()
        app.close()
        conn.close()
    result.extra["prefetch_multiplier"] = prefetch
    return result


# -- driver --------------------------------------------------------------------------------


def selected(only: str | None) -> list[str]:
    if not only:
        return list(SYSTEMS)
    wanted: list[str] = []
    for word in (w.strip() for w in only.split(",") if w.strip()):
        matches = [s for s in SYSTEMS if s == word or s.startswith(word + "_")]
        if not matches:
            raise SystemExit(f"--only: unknown system {word!r} (known: {', '.join(SYSTEMS)}, or sentinel / raw)")
        wanted += [m for m in matches if m not in wanted]
    return [s for s in SYSTEMS if s in wanted]


def timed(name: str, run: Callable[[int], Result], rnd: int) -> Result:
    err.print(f"[dim]{name} ...[/dim]")
    result = run(rnd)
    err.print(f"[dim]{name}: {result.tasks} tasks in {result.seconds:.2f} s = {result.per_s:,.0f}/s[/dim]")
    return result


def print_results(title: str, rows: dict[str, dict[str, float]]) -> None:
    """bench._common.print_table with a named, never-wrapped system column."""
    columns = list(next(iter(rows.values())))
    table = Table(title=title)
    table.add_column("system", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right")
    for name, row in rows.items():
        table.add_row(name, *(f"{row[c]:g}" for c in columns))
    Console(width=max(Console().width, 100)).print(table)


def print_ratios(rows: list[tuple[str, float, float | None]], spread: dict[str, list[float]]) -> None:
    table = Table(title="Ratios (tasks/s over tasks/s, of the medians)")
    table.add_column("", no_wrap=True)
    table.add_column("ratio", justify="right")
    if spread:
        table.add_column("per round", justify="right")
    table.add_column("goal", justify="right")
    table.add_column("met", justify="right")
    for name, value, goal in rows:
        met = "" if goal is None else ("yes" if value >= goal else "[red]NO[/red]")
        cells = [name, f"{value:.3g}"]
        if spread:
            cells.append(f"{min(spread[name]):.3g} .. {max(spread[name]):.3g}")
        table.add_row(*cells, "" if goal is None else f">= {goal:g}", met)
    Console(width=max(Console().width, 100)).print(table)


def main() -> None:
    if len(sys.argv) == 6 and sys.argv[1] == "--celery-worker":
        celery_worker_main(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
        return

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="tasks per system (sentinel, raw)")
    parser.add_argument("--n-single", type=int, default=None, help="tasks for sentinel_single / raw_single")
    parser.add_argument("--n-rq", type=int, default=5_000, help="tasks for rq")
    parser.add_argument("--n-celery", type=int, default=5_000, help="tasks for celery")
    parser.add_argument("--batch", type=int, default=250, help="batch size for the batched rows and RQ enqueue")
    parser.add_argument("--warmup", type=int, default=500, help="untimed tasks per system first")
    parser.add_argument("--payload-bytes", type=int, default=64)
    parser.add_argument("--celery-prefetch", type=int, default=100, help="worker_prefetch_multiplier")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every system, interleaved; report medians")
    parser.add_argument("--only", help="comma-separated systems, or the groups sentinel / raw")
    parser.add_argument("--peer-db", type=int, default=14, help="database index for RQ and Celery")
    parser.add_argument("--flush-peer-db", action="store_true", help="run even if --peer-db is not empty")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if min(args.n, args.n_rq, args.n_celery, args.batch, args.payload_bytes, args.rounds) < 1 or args.warmup < 0:
        parser.error("counts must be >= 1 (warm-up >= 0)")
    n_single = args.n_single or args.n
    systems = selected(args.only)

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    r = redis.Redis.from_url(url, decode_responses=False)
    info = r.info("server")
    namespace = f"bench-queue-{uuid.uuid4().hex[:8]}"
    client = Client(r, namespace=namespace)
    raw_prefix = "{" + namespace + "}:raw:"

    peer_url = url_with_db(url, args.peer_db)
    peer: redis.Redis | None = None
    if {"rq", "celery"} & set(systems):
        for module in [s for s in ("rq", "celery") if s in systems]:
            try:
                __import__(module)
            except ImportError:
                raise SystemExit(f"{module} is not installed: pip install -e '.[bench]' (or leave it out with --only)")
        if args.peer_db == db_of(r):
            raise SystemExit(f"--peer-db {args.peer_db} is REDIS_URL's database; RQ/Celery need their own")
        peer = redis.Redis.from_url(peer_url)
        if peer.dbsize() and not args.flush_peer_db:
            raise SystemExit(f"database {args.peer_db} is not empty; pass --flush-peer-db to use (and flush) it anyway")
        peer.flushdb(asynchronous=True)

    def run_sentinel_single(rnd: int) -> Result:
        queue = f"single-{rnd}"
        sentinel_single(client, queue, payloads(args.warmup, args.payload_bytes, "w"))
        result = sentinel_single(client, queue, payloads(n_single, args.payload_bytes, "s"))
        check_sentinel_empty(client, queue, args.warmup + n_single)
        return result

    def run_sentinel_batched(rnd: int) -> Result:
        queue = f"batched-{rnd}"
        sentinel_batched(client, queue, payloads(args.warmup, args.payload_bytes, "w"), args.batch)
        result = sentinel_batched(client, queue, payloads(args.n, args.payload_bytes, "b"), args.batch)
        check_sentinel_empty(client, queue, args.warmup + args.n)
        return result

    def run_rq(rnd: int) -> Result:
        assert peer is not None
        try:
            rq_run(peer_url, f"{namespace}-warm", payloads(max(args.warmup, 1), args.payload_bytes, "w"), args.batch)
            return rq_run(peer_url, namespace, payloads(args.n_rq, args.payload_bytes, "r"), args.batch)
        finally:
            peer.flushdb(asynchronous=True)  # ours alone (checked empty at start); every round starts from nothing

    def run_celery(rnd: int) -> Result:
        assert peer is not None
        warm = [p.decode() for p in payloads(max(args.warmup, 1), args.payload_bytes, "w")]
        items = [p.decode() for p in payloads(args.n_celery, args.payload_bytes, "c")]
        try:
            return celery_run(peer_url, namespace, items, warm, args.celery_prefetch)
        finally:
            peer.flushdb(asynchronous=True)

    def run_raw_ceiling(rnd: int) -> Result:
        raw_batched(r, raw_prefix + "w:", payloads(args.warmup, args.payload_bytes, "w"), args.batch)
        items = [uuid.uuid4().hex.encode() + p for p in payloads(args.n, args.payload_bytes, "x")]
        return raw_batched(r, raw_prefix, items, args.batch)

    def run_raw_single(rnd: int) -> Result:
        raw_single(r, raw_prefix + "w:", payloads(args.warmup, args.payload_bytes, "w"))
        items = [uuid.uuid4().hex.encode() + p for p in payloads(n_single, args.payload_bytes, "y")]
        return raw_single(r, raw_prefix, items)

    runners: dict[str, Callable[[int], Result]] = {
        "sentinel_single": run_sentinel_single,
        "sentinel_batched": run_sentinel_batched,
        "rq": run_rq,
        "celery": run_celery,
        "raw_ceiling": run_raw_ceiling,
        "raw_single": run_raw_single,
    }
    # Rounds interleave the systems, so a slow spell on a shared host hits all of them.
    rounds: dict[str, list[Result]] = {name: [] for name in systems}
    try:
        for rnd in range(args.rounds):
            for name in systems:
                label = name if args.rounds == 1 else f"{name} (round {rnd + 1}/{args.rounds})"
                rounds[name].append(timed(label, runners[name], rnd))
    finally:
        unlink_matching(r, "*" + namespace + "*")
        if peer is not None:
            peer.flushdb(asynchronous=True)

    # Per system, the round with the median throughput (its latencies too).
    results = {name: sorted(rs, key=lambda x: x.per_s)[(len(rs) - 1) // 2] for name, rs in rounds.items()}
    rows = {name: results[name].row() for name in SYSTEMS if name in results}
    if args.rounds > 1:
        for name, row in rows.items():
            row["min/s"] = round(min(x.per_s for x in rounds[name]), 1)
            row["max/s"] = round(max(x.per_s for x in rounds[name]), 1)
    print_results(
        f"enqueue -> take -> ack, {args.payload_bytes} B payloads, batch {args.batch}"
        + (f", median of {args.rounds} rounds" if args.rounds > 1 else "")
        + f" (Redis {info['redis_version']}; rq/celery latency includes backlog wait)",
        rows,
    )
    ratios: list[tuple[str, float, float | None]] = []
    # With rounds, also the ratio within each round (both systems ran minutes apart at most).
    per_round: dict[str, list[float]] = {}
    for num, den, goal in RATIOS:
        if num in results and den in results:
            name = f"{num} / {den}"
            ratios.append((name, results[num].per_s / results[den].per_s, goal))
            if args.rounds > 1:
                per_round[name] = [a.per_s / b.per_s for a, b in zip(rounds[num], rounds[den], strict=True)]
    if ratios:
        print_ratios(ratios, per_round)

    if args.json:
        out: dict[str, Any] = {name: round(results[name].per_s, 1) if name in results else None for name in SYSTEMS}
        out["p99_ms"] = rows["sentinel_single"]["p99 ms"] if "sentinel_single" in rows else None
        out["p50_ms"] = rows["sentinel_single"]["p50 ms"] if "sentinel_single" in rows else None
        out["ratios"] = {name: round(value, 3) for name, value, _ in ratios}
        if per_round:
            out["ratios_per_round"] = {name: [round(v, 3) for v in values] for name, values in per_round.items()}
        out["goals"] = {name: {"goal": goal, "met": value >= goal} for name, value, goal in ratios if goal is not None}
        out["detail"] = {
            name: {
                **{k.replace(" ", "_").replace("/", "_per_"): v for k, v in rows[name].items()},
                **results[name].extra,
                "rounds_per_s": [round(x.per_s, 1) for x in rounds[name]],
            }
            for name in rows
        }
        out["config"] = {
            "n": args.n,
            "n_single": n_single,
            "n_rq": args.n_rq,
            "n_celery": args.n_celery,
            "batch": args.batch,
            "warmup": args.warmup,
            "rounds": args.rounds,
            "payload_bytes": args.payload_bytes,
            "redis_version": info["redis_version"],
            "hiredis": bool(getattr(redis.utils, "HIREDIS_AVAILABLE", False)),
        }
        print(json.dumps(out))


if __name__ == "__main__":
    main()
