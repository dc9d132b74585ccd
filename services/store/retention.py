"""Retention: images are dropped after one age, sightings deleted after another.

`cardak store prune` runs this (a Kubernetes CronJob calls the same command). Images go first:
the sighting keeps its reads, vehicle and alerts, loses `image_ref` (the blob in Redis is deleted
unless a newer sighting shares the same content-addressed blob), and records when
(`image_dropped_at`). Sightings go later, with their reads and alerts; vehicle profiles that no
sighting refers to any more go with them. Work is done in batches, each its own transaction, so
a prune of millions of rows never holds long locks, and a prune stopped midway resumes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from datetime import datetime, timedelta

from sqlalchemy import CursorResult, Engine, delete, exists, select, update
from sqlalchemy.orm import sessionmaker

from services.store.models import Sighting, Track, Vehicle, utc_now

BATCH = 5000


@dataclass
class PruneResult:
    images_dropped: int = 0
    blobs_deleted: int = 0
    sightings_deleted: int = 0
    vehicles_deleted: int = 0


def cutoff(days: float, now: datetime | None = None) -> datetime | None:
    """The time before which data older than `days` lies; None when `days` is 0 (keep forever)."""
    if days <= 0:
        return None
    return (now or utc_now()) - timedelta(days=days)


def prune(
    engine: Engine,
    images_before: datetime | None,
    sightings_before: datetime | None,
    delete_blobs: Callable[[list[str]], int] | None = None,
    progress: Callable[[str, int], None] = lambda _what, _n: None,
    batch: int = BATCH,
) -> PruneResult:
    sessions = sessionmaker(engine)
    result = PruneResult()
    if images_before is not None:
        while True:
            with sessions.begin() as session:
                rows = session.execute(
                    select(Sighting.id, Sighting.image_ref)
                    .where(Sighting.captured_at < images_before, Sighting.image_ref != "")
                    .limit(batch)
                ).all()
                if not rows:
                    break
                ids = [r.id for r in rows]
                session.execute(
                    update(Sighting).where(Sighting.id.in_(ids)).values(image_ref="", image_dropped_at=utc_now())
                )
                refs = sorted({r.image_ref for r in rows})
                still_used = set(session.scalars(select(Sighting.image_ref).where(Sighting.image_ref.in_(refs))))
            result.images_dropped += len(ids)
            if delete_blobs is not None:
                result.blobs_deleted += delete_blobs([r for r in refs if r not in still_used])
            progress("images dropped", result.images_dropped)
    if sightings_before is not None:
        while True:
            with sessions.begin() as session:
                ids = list(session.scalars(select(Sighting.id).where(Sighting.captured_at < sightings_before).limit(batch)))
                if not ids:
                    break
                # Reads and alerts go by ON DELETE CASCADE.
                session.execute(delete(Sighting).where(Sighting.id.in_(ids)))
            result.sightings_deleted += len(ids)
            progress("sightings deleted", result.sightings_deleted)
        with sessions.begin() as session:
            orphaned = delete(Vehicle).where(~exists().where(Sighting.vehicle_id == Vehicle.id))
            result.vehicles_deleted = cast(CursorResult[Any], session.execute(orphaned)).rowcount
            # A track outlives none of its frames (one cut in two by the cutoff keeps its vote).
            session.execute(delete(Track).where(~exists().where(Sighting.track_id == Track.id)))
    return result
