"""Tracks: the frames of one passing vehicle on one camera, read as one plate by voting.

A camera or edge node sends several frames of a car going by, and each is read on its own, by
whichever OCR replica leases it. A frame where the plate is small, blurred or half hidden
misreads a character or two; the others usually do not. The store groups a camera's sightings
into a track when they were taken within `track_gap_seconds` of the track and read as the same
plate give or take look-alike characters, and the track's plate is the read with the largest
summed confidence over its frames.

On us-endtoend replayed as approaching cars (bench/tracks.py: each photo at three scales),
the vote reads more plates right than the best single frame does.

Invariants:
- a sighting is in at most one track, and only a sighting with a plate is in one;
- a track's plate, support and frame count are recomputed from its sightings on every change,
  so a retried or replaced read can never count twice;
- tracks of one camera are assigned under a lock on the camera's row (PostgreSQL), so two
  frames of one car recorded at once by two store replicas still meet in one track.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.common.plates import edit_distance
from services.store.fuzzy import plate_key
from services.store.models import Camera, PlateRead, Sighting, Track, as_utc

# Frames of a passing car come well under a second apart; an edge node's gate may drop some.
DEFAULT_GAP = timedelta(seconds=3)
# A track stops growing after this many frames (a car parked in view starts a new one), which
# also bounds the work of recomputing its vote.
MAX_FRAMES = 50
# Below this a frame's confidence still counts: it did read the plate, only doubtfully.
MIN_WEIGHT = 0.01


def vote(frames: Sequence[tuple[str, float]]) -> tuple[str, float]:
    """(plate, support) over the frames' (plate, confidence) reads: the plate with the largest
    summed confidence, and its share of all the frames' confidence (1.0: every frame agrees)."""
    tally: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)
    for text, confidence in frames:
        if text:
            tally[text] += max(confidence, MIN_WEIGHT)
            counts[text] += 1
    if not tally:
        return "", 0.0
    # Ties go to the plate read most often, then to the alphabet, so the vote is deterministic.
    plate = max(tally, key=lambda t: (tally[t], counts[t], t))
    return plate, tally[plate] / sum(tally.values())


def same_vehicle(a: str, b: str) -> bool:
    """Two reads that can be one plate: equal up to look-alike characters, or at most one
    character apart (two on plates of six or more: a small plate's worst frame)."""
    if plate_key(a) == plate_key(b):
        return True
    limit = 2 if min(len(a), len(b)) >= 6 else 1
    return edit_distance(a, b, limit) <= limit


def assign(session: Session, sighting: Sighting, gap: timedelta) -> None:
    """Put `sighting` (its reads already written) in the right track and recompute the votes
    of the tracks it joined or left. Runs in the caller's transaction."""
    old = sighting.track
    plate = sighting.plate
    if not plate:
        sighting.track = None
        _forget_if_empty(session, old)
        return
    if old is not None and same_vehicle(plate, old.plate) and _within(old, sighting, gap):
        _recount(session, old)
        return
    # Serialise track assignment per camera; SQLite serialises every write anyway.
    session.execute(select(Camera.id).where(Camera.id == sighting.camera_id).with_for_update())
    taken = as_utc(sighting.captured_at)
    nearby = session.scalars(
        select(Track)
        .where(
            Track.camera_id == sighting.camera_id,
            Track.last_seen_at >= taken - gap,
            Track.first_seen_at <= taken + gap,
            Track.frames < MAX_FRAMES,
        )
        .order_by(Track.last_seen_at.desc())
    ).all()
    track = next((t for t in nearby if t is not old and same_vehicle(plate, t.plate)), None)
    if track is None:  # the first frame: its own read is the vote
        sighting.track = Track(id=str(uuid.uuid4()), camera_id=sighting.camera_id, plate=plate,
                               plate_key=plate_key(plate), support=1.0, frames=1, first_seen_at=taken, last_seen_at=taken)
    else:
        sighting.track = track
        session.flush()
        _recount(session, track)
    _forget_if_empty(session, old)


def _within(track: Track, sighting: Sighting, gap: timedelta) -> bool:
    taken = as_utc(sighting.captured_at)
    return as_utc(track.first_seen_at) - gap <= taken <= as_utc(track.last_seen_at) + gap


def _recount(session: Session, track: Track) -> None:
    # One query for the members' best reads: a track is recounted on every frame it gains.
    members = session.execute(
        select(PlateRead.text, PlateRead.confidence, Sighting.captured_at)
        .join(PlateRead, PlateRead.sighting_id == Sighting.id)
        .where(Sighting.track_id == track.id, PlateRead.rank == 0)
    ).all()
    # Stored reads are already normalised (repository._read_row).
    track.plate, track.support = vote([(text, confidence) for text, confidence, _ in members])
    track.plate_key = plate_key(track.plate)
    track.frames = len(members)
    times: list[datetime] = [as_utc(taken) for _, _, taken in members]
    track.first_seen_at, track.last_seen_at = min(times), max(times)


def _forget_if_empty(session: Session, track: Track | None) -> None:
    if track is None:
        return
    session.flush()
    if session.scalar(select(Sighting.id).where(Sighting.track_id == track.id).limit(1)) is None:
        session.delete(track)
    else:
        _recount(session, track)
