"""The watch list: plates to be told about, and the alerts sightings raise against it."""

from __future__ import annotations

from sqlalchemy import Engine, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from cardak.v1 import store_pb2
from services.common.errors import InvalidRequest, NotFound
from services.common.plates import normalise_plate
from services.store.fuzzy import plate_key
from services.store.models import Alert, Sighting, WatchEntry, as_utc, utc_now


class WatchList:
    def __init__(self, engine: Engine) -> None:
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def add(self, request: store_pb2.AddWatchRequest) -> store_pb2.WatchEntry:
        plate = normalise_plate(request.plate)
        if not plate:
            raise InvalidRequest("plate is empty (after dropping spaces and punctuation)")
        if request.match == store_pb2.PLATE_MATCH_PREFIX:
            raise InvalidRequest("a watch-list entry matches exactly or fuzzily, not by prefix")
        fuzzy = request.match == store_pb2.PLATE_MATCH_FUZZY
        for _ in range(2):  # a concurrent add of the same entry: the second pass updates it
            try:
                with self._sessions.begin() as session:
                    entry = session.scalars(select(WatchEntry).where(WatchEntry.plate == plate, WatchEntry.fuzzy == fuzzy)).first()
                    if entry is None:
                        entry = WatchEntry(plate=plate, plate_key=plate_key(plate), fuzzy=fuzzy, created_at=utc_now())
                        session.add(entry)
                    entry.label = request.label
                    session.flush()
                    return entry_proto(entry)
            except IntegrityError:
                continue
        raise RuntimeError("watch entry could not be written")

    def remove(self, watch_id: int) -> store_pb2.WatchEntry:
        with self._sessions.begin() as session:
            entry = session.get(WatchEntry, watch_id)
            if entry is None:
                raise NotFound(f"watch-list entry {watch_id} does not exist")
            found = entry_proto(entry)
            session.delete(entry)
            return found

    def entries(self) -> list[store_pb2.WatchEntry]:
        with self._sessions() as session:
            return [entry_proto(e) for e in session.scalars(select(WatchEntry).order_by(WatchEntry.id))]


def raise_alerts(session: Session, sighting: Sighting) -> list[store_pb2.Alert]:
    """New alerts for `sighting` against the watch list, written in the caller's transaction.
    Every plate read in the image counts, not only the best one: a car on the watch list that
    passes behind the one the camera was aimed at must still be reported. A sighting raises at
    most one alert per entry, however often its read is recorded."""
    plates = {read.text for read in sighting.reads} - {""}  # stored normalised (repository._read_row)
    if not plates:
        return []
    matching = session.scalars(
        select(WatchEntry).where(
            or_(
                and_(WatchEntry.fuzzy.is_(False), WatchEntry.plate.in_(plates)),
                and_(WatchEntry.fuzzy.is_(True), WatchEntry.plate_key.in_({plate_key(p) for p in plates})),
            )
        )
    ).all()
    if not matching:
        return []
    raised_before = set(session.scalars(select(Alert.watch_id).where(Alert.sighting_id == sighting.id)))
    alerts = []
    for entry in matching:
        if entry.id in raised_before:
            continue
        row = Alert(sighting_id=sighting.id, watch_id=entry.id, plate=entry.plate, label=entry.label, raised_at=utc_now())
        session.add(row)
        alert = store_pb2.Alert(entry=entry_proto(entry), sighting_id=sighting.id)
        alert.raised_at.FromDatetime(row.raised_at)
        alerts.append(alert)
    return alerts


def entry_proto(entry: WatchEntry) -> store_pb2.WatchEntry:
    proto = store_pb2.WatchEntry(
        watch_id=entry.id,
        plate=entry.plate,
        match=store_pb2.PLATE_MATCH_FUZZY if entry.fuzzy else store_pb2.PLATE_MATCH_UNSPECIFIED,
        label=entry.label,
    )
    proto.created_at.FromDatetime(as_utc(entry.created_at))
    return proto

