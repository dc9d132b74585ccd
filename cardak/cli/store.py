"""`cardak store prune`: apply the retention settings (a Kubernetes CronJob runs the same)."""

from __future__ import annotations

import redis
from rich.console import Console
from rich.table import Table
from sqlalchemy.exc import OperationalError

from services.common.blobs import BlobStore
from services.common.redis import connect
from services.store.db import make_engine
from services.store.retention import cutoff, prune
from services.store.schema import SchemaOutOfDate, require_head
from services.store.settings import StoreSettings


def prune_command(*, image_days: float | None, sighting_days: float | None, console: Console) -> int:
    settings = StoreSettings()
    image_days = settings.image_retention_days if image_days is None else image_days
    sighting_days = settings.sighting_retention_days if sighting_days is None else sighting_days
    if sighting_days and image_days and sighting_days < image_days:
        console.print("[yellow]note:[/] sightings are kept for less time than images; images go with them")
    engine = make_engine(settings.database_url)
    try:
        require_head(engine)
    except SchemaOutOfDate as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    except OperationalError as exc:
        console.print(f"[red]error:[/] cannot reach the database: {exc.orig}")
        return 1
    blobs = BlobStore(connect(settings.redis_url), settings.namespace, settings.blob_ttl_seconds)

    def delete_blobs(keys: list[str]) -> int:
        try:
            return blobs.delete(keys)
        except redis.RedisError:
            return 0  # Redis away: the blobs still expire at their TTL

    with console.status("pruning") as status:
        result = prune(
            engine, cutoff(image_days), cutoff(sighting_days), delete_blobs,
            progress=lambda what, n: status.update(f"pruning: {n:,} {what}"),
        )
    table = Table(title="cardak store prune")
    table.add_column("what")
    table.add_column("older than", justify="right")
    table.add_column("removed", justify="right")
    keep = "kept (0 days)"
    table.add_row("images (reads kept)", f"{image_days:g} days" if image_days else keep, f"{result.images_dropped:,}")
    table.add_row("  of which blobs still in Redis", "", f"{result.blobs_deleted:,}")
    table.add_row("sightings (with reads, alerts)", f"{sighting_days:g} days" if sighting_days else keep, f"{result.sightings_deleted:,}")
    table.add_row("vehicle profiles no sighting uses", "", f"{result.vehicles_deleted:,}")
    console.print(table)
    return 0
