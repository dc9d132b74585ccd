"""Retention on SQLite and PostgreSQL: images dropped (reads kept, blobs deleted from the real
Redis unless a newer sighting shares them), sightings deleted with their reads and alerts,
vehicle profiles and tracks nobody refers to any more deleted; and `cardak store prune` as a command."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone

import redis
from sqlalchemy import func, select

from cardak.v1 import common_pb2, store_pb2
from services.common.blobs import BlobStore
from services.store.db import make_engine
from services.store.models import Alert, PlateRead, Sighting, Track, Vehicle
from services.store.repository import SightingRepository
from services.store.retention import cutoff, prune
from services.store.schema import upgrade
from services.store.watchlist import WatchList
from tests.store.conftest import record

NOW = datetime.now(timezone.utc)


def test_prune_drops_images_then_sightings(empty_url: str, redis_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    repo = SightingRepository(engine)
    blobs = BlobStore(redis.Redis.from_url(redis_url), f"test-{uuid.uuid4().hex[:8]}", 3600)
    old_blob, shared_blob, new_blob = blobs.put(b"old"), blobs.put(b"shared"), blobs.put(b"new")
    WatchList(engine).add(store_pb2.AddWatchRequest(plate="ANCIENT1"))
    ancient = record(repo, "ANCIENT1", "gate", NOW - timedelta(days=400), image_ref=old_blob)
    repo.attach_vehicle(ancient.sighting_id, common_pb2.VehicleProfile(plate="ANCIENT1", make="FORD", status=common_pb2.PROFILE_STATUS_FOUND))
    month_old = record(repo, "MONTH1", "gate", NOW - timedelta(days=40), image_ref=old_blob)
    shared_old = record(repo, "MONTH2", "gate", NOW - timedelta(days=40), image_ref=shared_blob)
    shared_new = record(repo, "TODAY1", "gate", NOW - timedelta(days=1), image_ref=shared_blob)
    fresh = record(repo, "TODAY2", "gate", NOW, image_ref=new_blob)

    result = prune(engine, cutoff(30), cutoff(365), blobs.delete, batch=2)

    assert (result.images_dropped, result.sightings_deleted, result.vehicles_deleted) == (3, 1, 1)
    assert result.blobs_deleted == 1  # old_blob; shared_blob is still used by a newer sighting
    assert blobs.get(old_blob) is None and blobs.get(shared_blob) == b"shared" and blobs.get(new_blob) == b"new"
    kept = {s: repo.get(s) for s in (month_old.sighting_id, shared_old.sighting_id, shared_new.sighting_id, fresh.sighting_id)}
    assert kept[month_old.sighting_id].image_ref == "" and kept[month_old.sighting_id].reads[0].text == "MONTH1"
    assert kept[shared_new.sighting_id].image_ref == shared_blob and kept[fresh.sighting_id].image_ref == new_blob
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Sighting).where(Sighting.id == ancient.sighting_id)) == 0
        assert conn.scalar(select(func.count()).select_from(PlateRead).where(PlateRead.sighting_id == ancient.sighting_id)) == 0
        assert conn.scalar(select(func.count()).select_from(Alert)) == 0
        assert conn.scalar(select(func.count()).select_from(Vehicle)) == 0
        assert conn.scalar(select(func.count()).select_from(Track).where(Track.plate == "ANCIENT1")) == 0
        assert conn.scalar(select(func.count()).select_from(Track)) == len({k.track.track_id for k in kept.values()})
        dropped_at = conn.scalar(select(Sighting.image_dropped_at).where(Sighting.id == month_old.sighting_id))
    assert dropped_at is not None
    # A second run finds nothing to do; a retried OCR write does not bring the image back.
    assert prune(engine, cutoff(30), cutoff(365), blobs.delete).images_dropped == 0
    request = store_pb2.RecordReadRequest(sighting_id=month_old.sighting_id, camera_id="gate", image_ref=old_blob,
                                          reads=[common_pb2.PlateRead(text="MONTH1X")])
    request.captured_at.FromDatetime(NOW - timedelta(days=40))
    assert repo.record_read(request).sighting.image_ref == ""
    engine.dispose()


def test_zero_days_keeps_everything(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    record(SightingRepository(engine), "OLD1", "gate", NOW - timedelta(days=4000), image_ref="x")
    assert cutoff(0) is None
    result = prune(engine, cutoff(0), cutoff(0))
    assert (result.images_dropped, result.sightings_deleted) == (0, 0)
    engine.dispose()


def test_prune_command_prints_what_it_removed(empty_url: str, redis_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    record(SightingRepository(engine), "OLD1", "gate", NOW - timedelta(days=20), image_ref="cardak:blob:none")
    engine.dispose()
    env = dict(os.environ, DATABASE_URL=empty_url, REDIS_URL=redis_url, CARDAK_IMAGE_RETENTION_DAYS="10")
    done = subprocess.run([sys.executable, "-m", "cardak.cli", "store", "prune"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [images_row] = [line for line in done.stdout.splitlines() if "images (reads kept)" in line]
    assert [cell.strip() for cell in images_row.strip("│ ").split("│")] == ["images (reads kept)", "10 days", "1"]
    assert "365 days" in done.stdout
