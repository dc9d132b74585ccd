"""`cardak queue`: the sentinel queues of the mesh — depths, totals, dead letters."""

from __future__ import annotations

import time
from datetime import datetime, timezone

import redis
from rich.console import Console
from rich.live import Live
from rich.table import Table

import sentinel
from cardak.v1 import tasks_pb2
from services.common.redis import connect
from services.common.settings import MeshSettings

STATS_COLUMNS = ("ready", "delayed", "leased", "dead", "enqueued", "acked", "retried", "expired",
                 "dead_lettered", "deduped", "released")


def _client(settings: MeshSettings) -> sentinel.Client:
    return sentinel.Client(connect(settings.redis_url), namespace=settings.namespace)


def _stats_table(client: sentinel.Client, queues: list[str]) -> Table:
    """One column per queue, one row per figure: narrow enough for any terminal."""
    table = Table(title=f"{client.namespace} queues · {datetime.now():%H:%M:%S}")
    table.add_column("")
    for queue in queues:
        table.add_column(queue, justify="right")
    all_stats = [client.stats(queue) for queue in queues]
    for i, column in enumerate(STATS_COLUMNS):
        cells = [str(getattr(stats, column)) for stats in all_stats]
        if column == "dead":
            cells = [f"[red]{c}[/]" if c != "0" else c for c in cells]
        table.add_row(column.replace("_", " "), *cells, end_section=i == 3)
    return table


def stats(queues: list[str], *, watch: float, console: Console) -> int:
    settings = MeshSettings()
    queues = queues or [settings.ocr_queue, settings.enrich_queue]
    client = _client(settings)
    try:
        if watch <= 0:
            console.print(_stats_table(client, queues))
            return 0
        with Live(_stats_table(client, queues), console=console, auto_refresh=False) as live:
            while True:
                time.sleep(watch)
                live.update(_stats_table(client, queues), refresh=True)
    except redis.RedisError as exc:
        console.print(f"[red]error:[/] cannot read queues at {settings.redis_url}: {exc}")
        return 1
    except KeyboardInterrupt:
        return 0


def _describe(settings: MeshSettings, queue: str, payload: bytes) -> str:
    """What a Cardak task is about, so a person can tell dead letters apart."""
    try:
        if queue == settings.ocr_queue:
            task = tasks_pb2.OcrTask.FromString(payload)
            return f"sighting {task.sighting_id} from {task.camera_id}"
        if queue == settings.enrich_queue:
            enrich = tasks_pb2.EnrichTask.FromString(payload)
            return f"plate {enrich.plate} of sighting {enrich.sighting_id}"
    except Exception:  # noqa: BLE001 - any undecodable payload is shown by size
        pass
    return f"{len(payload)} bytes"


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if epoch else ""


def dead(action: str, queue: str, *, ids: list[str], limit: int, yes: bool, console: Console) -> int:
    settings = MeshSettings()
    client = _client(settings)
    try:
        if action == "list":
            tasks = client.dead(queue, limit=limit)
            table = Table(title=f"{client.stats(queue).dead} dead task(s) in {queue!r} (oldest first, up to {limit})")
            for column in ("task", "what", "attempts", "last error", "worker", "enqueued (UTC)", "dead since (UTC)"):
                table.add_column(column)
            for task in tasks:
                table.add_row(task.task_id, _describe(settings, queue, task.payload), str(task.attempts),
                              task.last_error, task.worker_id, _when(task.enqueued_at), _when(task.dead_at))
            console.print(table)
        elif action == "retry":
            moved = client.retry_dead(queue, ids or None)
            console.print(f"moved {moved} dead task(s) of {queue!r} back to ready")
            if ids and moved < len(ids):
                console.print(f"[yellow]{len(ids) - moved} id(s) were not in the dead-letter set[/]")
                return 1
        elif action == "purge":
            if not yes:
                console.print(f"[red]refusing:[/] purge deletes every dead task of {queue!r} for good; add --yes")
                return 2
            console.print(f"deleted {client.purge_dead(queue)} dead task(s) of {queue!r}")
    except redis.RedisError as exc:
        console.print(f"[red]error:[/] cannot reach the queues at {settings.redis_url}: {exc}")
        return 1
    return 0
