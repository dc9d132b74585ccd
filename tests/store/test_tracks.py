"""Tracks: a camera's frames of one passing car grouped and voted into one plate, on SQLite and
PostgreSQL; retried and replaced reads never count twice; concurrent writers meet in one track."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine

from cardak.v1 import common_pb2, store_pb2
from services.store.repository import SightingRepository
from services.store.tracks import same_vehicle, vote
from tests.store.conftest import uid

T0 = datetime(2025, 7, 1, 8, 0, tzinfo=timezone.utc)


def frame(
    repo: SightingRepository, camera: str, plate: str, seconds: float, confidence: float = 0.8, sighting_id: str = ""
) -> store_pb2.Sighting:
    reads = [common_pb2.PlateRead(text=plate, confidence=confidence)] if plate else []
    request = store_pb2.RecordReadRequest(sighting_id=sighting_id or uid("f"), camera_id=camera, reads=reads)
    request.captured_at.FromDatetime(T0 + timedelta(seconds=seconds))
    return repo.record_read(request).sighting


def test_the_vote_sums_confidence_and_reports_agreement() -> None:
    assert vote([("7ABC123", 0.9), ("7ABG123", 0.95), ("7ABC123", 0.5)]) == ("7ABC123", pytest.approx(1.4 / 2.35))
    assert vote([("7ABC123", 0.6)]) == ("7ABC123", 1.0)
    assert vote([("7ABC123", 0.0), ("7ABC128", 0.0), ("7ABC123", 0.0)])[0] == "7ABC123"  # doubtful frames still count
    assert vote([]) == ("", 0.0)


def test_same_vehicle_allows_look_alikes_and_a_misread_character_or_two() -> None:
    assert same_vehicle("7ABC123", "7A8CI23")  # look-alikes only
    assert same_vehicle("7ABC123", "7ABG128")  # two characters on a seven-character plate
    assert same_vehicle("7ABC123", "ABC123")  # a character lost at the edge
    assert not same_vehicle("7ABC123", "4XYZ987")
    assert not same_vehicle("AB12", "XY12")  # short plates: one character at most


def test_frames_of_one_car_vote_one_plate_and_other_cars_get_their_own(repo: SightingRepository) -> None:
    camera = uid("cam")
    reads = [("7ABC123", 0.9), ("7ABG123", 0.7), ("7ABC123", 0.8), ("1ABC123", 0.6), ("7ABC123", 0.9)]
    frames = [frame(repo, camera, plate, 0.3 * i, confidence) for i, (plate, confidence) in enumerate(reads)]
    track = frames[-1].track
    assert (track.plate, track.frames) == ("7ABC123", 5)
    assert track.support == pytest.approx(2.6 / 3.9, rel=1e-4)
    assert track.first_seen.ToDatetime(timezone.utc) == T0
    assert {f.track.track_id for f in frames} == {track.track_id}
    assert [f.plate for f in frames] == [p for p, _ in reads]  # each frame keeps its own read

    other_car = frame(repo, camera, "4XYZ987", 1.5)
    same_car_later = frame(repo, camera, "7ABC123", 60)
    elsewhere = frame(repo, uid("cam"), "7ABC123", 0.6)
    assert len({track.track_id, other_car.track.track_id, same_car_later.track.track_id, elsewhere.track.track_id}) == 4
    assert other_car.track.frames == same_car_later.track.frames == elsewhere.track.frames == 1
    assert not frame(repo, camera, "", 0.9).HasField("track")  # no plate, no track


def test_a_frame_arriving_late_joins_its_track(repo: SightingRepository) -> None:
    camera = uid("cam")
    frame(repo, camera, "KT5507", 2.0)
    late = frame(repo, camera, "KT55O7", 0.5, confidence=0.4)  # taken earlier, read later by a slower replica
    assert (late.track.frames, late.track.plate) == (2, "KT5507")
    assert late.track.first_seen.ToDatetime(timezone.utc) == T0 + timedelta(seconds=0.5)


def test_retried_and_replaced_reads_never_count_twice(repo: SightingRepository) -> None:
    camera = uid("cam")
    first = frame(repo, camera, "8XYZ210", 0.0)
    again = frame(repo, camera, "8XYZ210", 0.0, sighting_id=first.sighting_id)  # a retry
    assert (again.track.track_id, again.track.frames) == (first.track.track_id, 1)
    second = frame(repo, camera, "8XYZ210", 0.4)
    assert second.track.frames == 2
    # A re-read that finds no plate leaves the track; one that finds another car moves the frame.
    assert not frame(repo, camera, "", 0.0, sighting_id=first.sighting_id).HasField("track")
    assert repo.get(second.sighting_id).track.frames == 1
    moved = frame(repo, camera, "4XYZ987", 0.4, sighting_id=second.sighting_id)
    assert moved.track.track_id != second.track.track_id and moved.track.plate == "4XYZ987"


def test_tracking_off_records_no_tracks(engine: Engine) -> None:
    sighting = frame(SightingRepository(engine, track_gap=timedelta(0)), uid("cam"), "7ABC123", 0)
    assert sighting.plate == "7ABC123" and not sighting.HasField("track")


def test_frames_recorded_at_once_meet_in_one_track(repo: SightingRepository) -> None:
    camera = uid("cam")
    frame(repo, camera, "6TRJ244", 0.0)  # the camera is known, as it is once it has sent anything
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda i: frame(repo, camera, "6TRJ244", 0.1 * i), range(1, 13)))
    final = repo.get(results[0].sighting_id).track
    assert final.frames == 13
    assert {repo.get(r.sighting_id).track.track_id for r in results} == {final.track_id}
