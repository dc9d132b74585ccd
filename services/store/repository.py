"""Sightings in and out of the database. Every write is idempotent on sighting_id."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar, cast

from sqlalchemy import Engine, Select, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cardak.v1 import common_pb2, store_pb2
from services.common.errors import InvalidRequest, NotFound
from services.common.plates import normalise_plate
from services.store.fuzzy import plate_key
from services.store import tracks
from services.store.models import Camera, PlateRead, Sighting, Vehicle, as_utc, utc_now
from services.store.watchlist import raise_alerts

T = TypeVar("T")

MAX_PAGE_SIZE = 500
DEFAULT_PAGE_SIZE = 50


# A camera's last_seen_at is rewritten at most this often: every read updating one hot row
# would make concurrent writers for that camera queue on its lock.
CAMERA_SEEN_RESOLUTION = timedelta(seconds=60)


@dataclass(frozen=True)
class Written:
    sighting: store_pb2.Sighting
    created: bool
    alerts: list[store_pb2.Alert] = field(default_factory=list)
    changed: bool = True  # False: a repeat of what is stored, nothing to tell watchers


class SightingRepository:
    def __init__(self, engine: Engine, track_gap: timedelta = tracks.DEFAULT_GAP) -> None:
        """`track_gap`: frames of one camera this close together that read as one plate form a
        track (services/store/tracks.py); zero turns tracking off."""
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._track_gap = track_gap

    def record_read(self, request: store_pb2.RecordReadRequest) -> Written:
        """Create the sighting or replace its reads; a repeat with the same reads changes nothing."""
        if not request.sighting_id:
            raise InvalidRequest("sighting_id is required")
        return _retry_lost_insert(lambda: self._record_read(request))

    def _record_read(self, request: store_pb2.RecordReadRequest) -> Written:
        now = utc_now()
        plate = normalise_plate(request.reads[0].text) if request.reads else ""
        with self._sessions.begin() as session:
            row = session.get(Sighting, request.sighting_id)
            created = row is None
            if row is None:
                if not request.camera_id:
                    raise InvalidRequest("camera_id is required")
                row = Sighting(
                    id=request.sighting_id,
                    camera_id=request.camera_id,
                    captured_at=request.captured_at.ToDatetime(timezone.utc),
                    created_at=now,
                    plate="",
                )
                session.add(row)
            elif row.plate == plate and _same_reads(row.reads, request.reads):
                return Written(to_proto(row), created=False, changed=False)
            if row.plate != plate:
                row.vehicle = None  # the vehicle belonged to the old plate
            row.plate = plate
            row.plate_key = plate_key(plate)
            if row.image_dropped_at is None:
                row.image_ref = request.image_ref
            row.status = store_pb2.SIGHTING_STATUS_READ if plate else store_pb2.SIGHTING_STATUS_NO_PLATE
            row.updated_at = now
            row.reads = [_read_row(rank, r) for rank, r in enumerate(request.reads)]
            session.flush()
            if created:
                _saw_camera(session, request.camera_id, now)
            if self._track_gap:
                tracks.assign(session, row, self._track_gap)
            alerts = raise_alerts(session, row)
            return Written(to_proto(row), created=created, alerts=alerts)

    def attach_vehicle(self, sighting_id: str, profile: common_pb2.VehicleProfile) -> store_pb2.Sighting:
        return _retry_lost_insert(lambda: self._attach_vehicle(sighting_id, profile))

    def _attach_vehicle(self, sighting_id: str, profile: common_pb2.VehicleProfile) -> store_pb2.Sighting:
        with self._sessions.begin() as session:
            row = session.get(Sighting, sighting_id)
            if row is None:
                raise NotFound(f"sighting {sighting_id} does not exist")
            vehicle = _upsert_vehicle(session, profile)
            row.vehicle = vehicle
            row.status = store_pb2.SIGHTING_STATUS_ENRICHED
            row.updated_at = utc_now()
            session.flush()
            return to_proto(row)

    def get(self, sighting_id: str) -> store_pb2.Sighting:
        with self._sessions() as session:
            row = session.get(Sighting, sighting_id)
            if row is None:
                raise NotFound(f"sighting {sighting_id} does not exist (yet)")
            return to_proto(row)

    def search(self, request: store_pb2.SearchSightingsRequest) -> store_pb2.SearchSightingsResponse:
        page_size = request.page_size or DEFAULT_PAGE_SIZE
        query = search_query(request)
        with self._sessions() as session:
            rows = list(session.scalars(query))
            response = store_pb2.SearchSightingsResponse(sightings=[to_proto(r) for r in rows[:page_size]])
            if len(rows) > page_size:
                last = rows[page_size - 1]
                response.next_page_token = _encode_token(as_utc(last.captured_at), last.id)
            return response


def search_query(request: store_pb2.SearchSightingsRequest) -> Select[Sighting]:
    """The SELECT a search runs: one page and one row more (to know whether a next page exists)."""
    page_size = request.page_size or DEFAULT_PAGE_SIZE
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidRequest(f"page_size must be between 1 and {MAX_PAGE_SIZE}, not {page_size}")
    query = select(Sighting)
    if request.plate:
        query = query.where(_plate_filter(request.plate, request.plate_match))
    if request.camera_id:
        query = query.where(Sighting.camera_id == request.camera_id)
    if request.HasField("captured_after"):
        query = query.where(Sighting.captured_at >= request.captured_after.ToDatetime(timezone.utc))
    if request.HasField("captured_before"):
        query = query.where(Sighting.captured_at < request.captured_before.ToDatetime(timezone.utc))
    if request.page_token:
        after_time, after_id = _decode_token(request.page_token)
        # Keyset pagination on the indexes' (captured_at, id) tail: as fast on page 1,000 as
        # on page 1, and rows written meanwhile cause no gaps or repeats.
        query = query.where(tuple_(Sighting.captured_at, Sighting.id) < tuple_(after_time, after_id))
    return query.order_by(Sighting.captured_at.desc(), Sighting.id.desc()).limit(page_size + 1)


def _plate_filter(plate: str, match: int) -> Any:
    normalised = normalise_plate(plate)
    if not normalised:
        raise InvalidRequest("plate has no letters or digits")
    if match == store_pb2.PLATE_MATCH_FUZZY:
        return Sighting.plate_key == plate_key(normalised)
    if match == store_pb2.PLATE_MATCH_PREFIX:
        # A range rather than LIKE: the plate index serves it on both PostgreSQL and SQLite.
        upper = normalised[:-1] + chr(ord(normalised[-1]) + 1)
        return (Sighting.plate >= normalised) & (Sighting.plate < upper)
    if match != store_pb2.PLATE_MATCH_UNSPECIFIED:
        raise InvalidRequest(f"unknown plate_match {match}")
    return Sighting.plate == normalised


def _saw_camera(session: Session, camera_id: str, now: datetime) -> None:
    camera = session.get(Camera, camera_id)
    if camera is None:
        session.add(Camera(id=camera_id, first_seen_at=now, last_seen_at=now))
    elif now - as_utc(camera.last_seen_at) >= CAMERA_SEEN_RESOLUTION:
        camera.last_seen_at = now


def _retry_lost_insert(write: Callable[[], T]) -> T:
    """Run `write` again when another writer inserted the same row between our read and our
    insert; the second run finds the row and updates it."""
    try:
        return write()
    except IntegrityError:
        return write()


def to_proto(row: Sighting) -> store_pb2.Sighting:
    sighting = store_pb2.Sighting(
        sighting_id=row.id,
        camera_id=row.camera_id,
        status=cast(store_pb2.SightingStatus, row.status),
        plate=row.plate,
        image_ref=row.image_ref,
        reads=[_read_proto(r) for r in row.reads],
    )
    sighting.captured_at.FromDatetime(as_utc(row.captured_at))
    sighting.created_at.FromDatetime(as_utc(row.created_at))
    sighting.updated_at.FromDatetime(as_utc(row.updated_at))
    if row.vehicle is not None:
        sighting.vehicle.CopyFrom(_vehicle_proto(row.vehicle))
    if row.track is not None:
        track = row.track
        sighting.track.CopyFrom(
            store_pb2.Track(track_id=track.id, plate=track.plate, support=track.support, frames=track.frames)
        )
        sighting.track.first_seen.FromDatetime(as_utc(track.first_seen_at))
        sighting.track.last_seen.FromDatetime(as_utc(track.last_seen_at))
    return sighting


def _read_row(rank: int, read: common_pb2.PlateRead) -> PlateRead:
    return PlateRead(
        rank=rank,
        text=normalise_plate(read.text),
        confidence=read.confidence,
        candidates=[[c.text, c.confidence] for c in read.candidates],
        box_x=read.box.x,
        box_y=read.box.y,
        box_width=read.box.width,
        box_height=read.box.height,
        region=read.region,
        raw_text=read.raw_text,
    )


def _read_proto(row: PlateRead) -> common_pb2.PlateRead:
    return common_pb2.PlateRead(
        text=row.text,
        confidence=row.confidence,
        candidates=[common_pb2.PlateCandidate(text=str(t), confidence=float(c)) for t, c in row.candidates],
        box=common_pb2.BoundingBox(x=row.box_x, y=row.box_y, width=row.box_width, height=row.box_height),
        region=row.region,
        raw_text=row.raw_text,
    )


def _same_reads(rows: list[PlateRead], reads: list[common_pb2.PlateRead]) -> bool:
    return [_read_proto(r) for r in rows] == [_read_proto(_read_row(i, r)) for i, r in enumerate(reads)]


def _upsert_vehicle(session: Session, profile: common_pb2.VehicleProfile) -> Vehicle:
    plate, region = normalise_plate(profile.plate), profile.region.upper()
    vehicle = session.scalars(select(Vehicle).where(Vehicle.plate == plate, Vehicle.region == region)).first()
    if vehicle is None:
        vehicle = Vehicle(plate=plate, region=region)
        session.add(vehicle)
    vehicle.vin = profile.vin
    vehicle.model_year = profile.model_year
    vehicle.make = profile.make
    vehicle.model = profile.model
    vehicle.body_class = profile.body_class
    vehicle.fuel_type = profile.fuel_type
    vehicle.source = profile.source
    vehicle.status = profile.status
    vehicle.fetched_at = profile.fetched_at.ToDatetime(timezone.utc) if profile.HasField("fetched_at") else None
    vehicle.attributes = dict(profile.attributes)
    return vehicle


def _vehicle_proto(row: Vehicle) -> common_pb2.VehicleProfile:
    profile = common_pb2.VehicleProfile(
        plate=row.plate,
        region=row.region,
        vin=row.vin,
        model_year=row.model_year,
        make=row.make,
        model=row.model,
        body_class=row.body_class,
        fuel_type=row.fuel_type,
        source=row.source,
        status=cast(common_pb2.ProfileStatus, row.status),
        attributes=row.attributes or {},
    )
    if row.fetched_at is not None:
        profile.fetched_at.FromDatetime(as_utc(row.fetched_at))
    return profile


def _encode_token(captured_at: datetime, sighting_id: str) -> str:
    raw = json.dumps([captured_at.isoformat(), sighting_id]).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_token(token: str) -> tuple[datetime, str]:
    try:
        when, sighting_id = json.loads(base64.urlsafe_b64decode(token.encode()))
        return datetime.fromisoformat(when), str(sighting_id)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest("page_token is not one this server gave out; start again without it") from exc

