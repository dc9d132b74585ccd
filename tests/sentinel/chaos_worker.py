"""A sentinel Worker as a separate process, for the chaos and Redis-restart tests.

Run as ``python -m tests.sentinel.chaos_worker --url ... --namespace ... --effects DIR``.
Every handler execution appends one line ``<task_id> <attempt> <pid>\\n`` to this
process's own file DIR/effects-<pid>.log with a single unbuffered write(2) on an O_APPEND
descriptor *before* the handler returns (and so before the ack): the line is the task's
effect outside the queue state. A SIGKILL cannot undo a finished write (the data is in the
kernel's page cache), and the handler threads never interleave inside a line. SIGTERM
stops the worker gracefully (Worker.stop).

With ``--hold DIR`` the handler blocks after writing its line until ``DIR/<attempt>``
exists, so a test can keep an execution in flight on purpose.

The module also holds the helpers the tests use to spawn these processes and read the
effect files back.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from sentinel import Backoff, Client, Lease, Worker

REPO_ROOT = Path(__file__).resolve().parents[2]


def connect(url: str, retries: int = 8) -> redis.Redis:
    """A client that reconnects by itself: transient errors are retried with jittered backoff
    (about 2 s in all with the defaults) before they reach the caller."""
    return redis.Redis.from_url(
        url,
        decode_responses=False,
        socket_connect_timeout=1.0,
        socket_timeout=5.0,  # above the worker's idle_wait (BLPOP timeout)
        health_check_interval=0,
        retry=Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.02), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError],
    )


def url_of(client: redis.Redis) -> str:
    """A URL that reaches the same server as ``client`` (TCP or unix socket)."""
    kw = client.connection_pool.connection_kwargs
    db = kw.get("db", 0) or 0
    if kw.get("path"):
        return f"unix://{kw['path']}?db={db}"
    auth = ""
    if kw.get("password"):
        auth = f"{kw.get('username') or ''}:{kw['password']}@"
    return f"redis://{auth}{kw.get('host', '127.0.0.1')}:{kw.get('port', 6379)}/{db}"


# -- the worker process ------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--queue", required=True)
    parser.add_argument("--effects", required=True, help="directory of the append-only effect files")
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--lease", type=float, default=1.5)
    parser.add_argument("--idle-wait", type=float, default=0.2)
    parser.add_argument("--work", type=float, default=0.0, help="seconds the handler sleeps after its effect")
    parser.add_argument("--hold", default=None, help="block each execution until DIR/<attempt> exists")
    parser.add_argument("--worker-id", default=None)
    parser.add_argument("--redis-retries", type=int, default=8, help="redis-py retries before an error surfaces")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format=f"%(asctime)s pid={os.getpid()} %(threadName)s %(levelname)s %(message)s",
    )
    pid = os.getpid()
    fd = os.open(Path(args.effects) / f"effects-{pid}.log", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    hold = Path(args.hold) if args.hold else None

    def handler(lease: Lease) -> None:
        line = f"{lease.task_id} {lease.attempt} {pid}\n".encode()
        written = os.write(fd, line)
        assert written == len(line)
        if hold is not None:
            deadline = time.monotonic() + 30.0
            while not (hold / str(lease.attempt)).exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        if args.work > 0:
            time.sleep(args.work)

    client = Client(
        connect(args.url, args.redis_retries),
        args.namespace,
        lease_seconds=args.lease,
        backoff=Backoff(base=0.05, factor=2.0, cap=0.2, jitter=0.0),
    )
    worker = Worker(
        client,
        args.queue,
        handler,
        concurrency=args.concurrency,
        lease_seconds=args.lease,
        idle_wait=args.idle_wait,
        worker_id=args.worker_id,
    )

    def on_sigterm(signum: int, frame: object) -> None:
        threading.Thread(target=worker.stop, kwargs={"grace": 2.0}, daemon=True).start()

    signal.signal(signal.SIGTERM, on_sigterm)
    print(f"ready {pid} {worker.worker_id}", flush=True)
    worker.run()
    os.close(fd)


# -- helpers for the tests ---------------------------------------------------------------


@dataclass(frozen=True)
class Execution:
    task_id: str
    attempt: int
    pid: int


def options(**values: object) -> list[str]:
    """Command-line options for main(): options(idle_wait=0.2) == ["--idle-wait", "0.2"]."""
    return [arg for name, value in values.items() for arg in ("--" + name.replace("_", "-"), str(value))]


def spawn(
    tmp: Path, url: str, namespace: str, queue: str, *extra: str, name: str | None = None
) -> subprocess.Popen[bytes]:
    """Start a worker process; its effects go to tmp/effects-<pid>.log, its log to tmp/<name>-*.log."""
    log_path = tmp / f"{name or 'worker'}-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as log_file:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.sentinel.chaos_worker",
                "--url",
                url,
                "--namespace",
                namespace,
                "--queue",
                queue,
                "--effects",
                str(tmp),
                *extra,
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def read_effects(directory: Path) -> list[Execution]:
    """Every complete line of every effects-*.log in ``directory`` (a torn last line is ignored)."""
    out = []
    for path in sorted(directory.glob("effects-*.log")):
        for line in path.read_bytes().split(b"\n"):
            parts = line.split()
            if len(parts) == 3:
                out.append(Execution(parts[0].decode(), int(parts[1]), int(parts[2])))
    return out


def by_task(executions: list[Execution]) -> dict[str, list[Execution]]:
    grouped: dict[str, list[Execution]] = defaultdict(list)
    for e in executions:
        grouped[e.task_id].append(e)
    return grouped


def terminate_all(procs: list[subprocess.Popen[bytes]], timeout: float = 5.0) -> None:
    """SIGTERM every live process, wait up to ``timeout`` s, SIGKILL what is left, reap all."""
    for p in procs:
        if p.poll() is None:
            try:
                p.send_signal(signal.SIGCONT)  # in case a test stopped it
                p.terminate()
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(timeout=max(deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(timeout=5.0)


def log_tails(procs: list[subprocess.Popen[bytes]], lines: int = 15) -> str:
    out = []
    for p in procs:
        path = getattr(p, "log_path", None)
        if path is not None and Path(path).exists():
            text = Path(path).read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- pid {p.pid} rc {p.returncode} ({path}):\n" + "\n".join(text))
    return "\n".join(out)


if __name__ == "__main__":
    main()
