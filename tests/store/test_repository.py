"""SightingRepository against real databases: SQLite always, PostgreSQL when DATABASE_URL names one
(the engine and repo fixtures are in tests/store/conftest.py).

The databases live for the whole session, so every test uses its own sighting ids, cameras and plates.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, event, func, insert, select

from cardak.v1 import common_pb2, store_pb2
from services.common.errors import InvalidRequest
from services.store.models import PlateRead as PlateReadRow
from services.store.models import Sighting as SightingRow
from services.store.models import Vehicle as VehicleRow
from services.common.errors import NotFound
from services.store.repository import SightingRepository, Written

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc)


def _uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def _plate() -> str:
    return "P" + uuid.uuid4().hex[:7].upper()


def _read(text: str, confidence: float = 0.9, **fields: object) -> common_pb2.PlateRead:
    read = common_pb2.PlateRead(
        text=text,
        confidence=confidence,
        candidates=[common_pb2.PlateCandidate(text=text.upper().replace("-", ""), confidence=confidence)],
        box=common_pb2.BoundingBox(x=1, y=2, width=30, height=10),
        raw_text=text,
    )
    for name, value in fields.items():
        setattr(read, name, value)
    return read


def _request(
    sighting_id: str,
    reads: list[common_pb2.PlateRead],
    camera_id: str = "cam-unit",
    captured_at: datetime = T0,
    image_ref: str = "",
) -> store_pb2.RecordReadRequest:
    request = store_pb2.RecordReadRequest(
        sighting_id=sighting_id, camera_id=camera_id, reads=reads, image_ref=image_ref or f"blob/{sighting_id}"
    )
    request.captured_at.FromDatetime(captured_at)
    return request


def _search(repo: SightingRepository, **fields: object) -> store_pb2.SearchSightingsResponse:
    request = store_pb2.SearchSightingsRequest()
    for name, value in fields.items():
        if isinstance(value, datetime):
            getattr(request, name).FromDatetime(value)
        else:
            setattr(request, name, value)
    return repo.search(request)


def _ids(response: store_pb2.SearchSightingsResponse) -> list[str]:
    return [s.sighting_id for s in response.sightings]


def _profile(plate: str, make: str = "HONDA", region: str = "ca") -> common_pb2.VehicleProfile:
    profile = common_pb2.VehicleProfile(
        plate=plate, region=region, make=make, model_year=2003, source="fleet-file",
        status=common_pb2.PROFILE_STATUS_FOUND, attributes={"colour": "blue"},
    )
    profile.fetched_at.FromDatetime(T0)
    return profile


def _count_reads(engine: Engine, sighting_id: str) -> int:
    with engine.connect() as conn:
        return conn.execute(
            select(func.count()).select_from(PlateReadRow).where(PlateReadRow.sighting_id == sighting_id)
        ).scalar_one()


# --- record_read -----------------------------------------------------------------------------


def test_record_read_creates_the_sighting(repo: SightingRepository) -> None:
    sid = _uid("create")
    reads = [_read("abc-123", 0.75, region="CA"), _read("A8C123", 0.5)]
    written = repo.record_read(_request(sid, reads, camera_id="cam-create", image_ref="blob/x"))
    assert written.created is True
    sighting = written.sighting
    assert (sighting.sighting_id, sighting.camera_id, sighting.image_ref) == (sid, "cam-create", "blob/x")
    assert sighting.plate == "ABC123"
    assert sighting.status == store_pb2.SIGHTING_STATUS_READ
    assert sighting.captured_at.ToDatetime(timezone.utc) == T0
    assert [r.text for r in sighting.reads] == ["ABC123", "A8C123"]
    first = sighting.reads[0]
    assert first.confidence == pytest.approx(0.75)
    assert (first.region, first.raw_text) == ("CA", "abc-123")
    assert (first.box.x, first.box.y, first.box.width, first.box.height) == (1, 2, 30, 10)
    assert [(c.text, c.confidence) for c in first.candidates] == [("ABC123", 0.75)]
    assert not sighting.HasField("vehicle")
    assert repo.get(sid) == sighting


def test_repeat_with_identical_reads_changes_nothing(repo: SightingRepository, engine: Engine) -> None:
    sid = _uid("repeat")
    reads = [_read("XYZ789", 0.8123), _read("XYZ78", 0.3)]
    first = repo.record_read(_request(sid, reads))
    time.sleep(0.01)
    second = repo.record_read(_request(sid, reads, image_ref="blob/other"))
    assert second.created is False
    assert second.sighting.updated_at == first.sighting.updated_at
    assert second.sighting == first.sighting
    assert repo.get(sid) == first.sighting
    assert _count_reads(engine, sid) == 2


def test_repeat_with_a_different_plate_replaces_reads_and_clears_vehicle(
    repo: SightingRepository, engine: Engine
) -> None:
    sid = _uid("replace")
    repo.record_read(_request(sid, [_read("OLD111"), _read("OLD11"), _read("0LD111")]))
    enriched = repo.attach_vehicle(sid, _profile("OLD111"))
    assert enriched.HasField("vehicle")
    time.sleep(0.01)

    written = repo.record_read(_request(sid, [_read("NEW222", 0.6)]))
    assert written.created is False
    sighting = written.sighting
    assert sighting.plate == "NEW222"
    assert [r.text for r in sighting.reads] == ["NEW222"]
    assert sighting.status == store_pb2.SIGHTING_STATUS_READ
    assert not sighting.HasField("vehicle")
    assert sighting.updated_at.ToDatetime() > enriched.updated_at.ToDatetime()
    assert sighting.created_at == enriched.created_at
    assert repo.get(sid) == sighting
    assert _count_reads(engine, sid) == 1  # the old reads are gone, not orphaned


def test_no_reads_means_no_plate(repo: SightingRepository) -> None:
    written = repo.record_read(_request(_uid("noplate"), []))
    assert written.created is True
    assert written.sighting.status == store_pb2.SIGHTING_STATUS_NO_PLATE
    assert written.sighting.plate == ""
    assert list(written.sighting.reads) == []


def test_plate_can_be_lost_on_a_reread(repo: SightingRepository) -> None:
    sid = _uid("lost")
    repo.record_read(_request(sid, [_read("LOST1")]))
    repo.attach_vehicle(sid, _profile("LOST1"))
    sighting = repo.record_read(_request(sid, [])).sighting
    assert sighting.status == store_pb2.SIGHTING_STATUS_NO_PLATE
    assert sighting.plate == ""
    assert not sighting.HasField("vehicle")


def test_record_read_requires_a_sighting_id(repo: SightingRepository) -> None:
    with pytest.raises(InvalidRequest, match="sighting_id"):
        repo.record_read(_request("", [_read("ABC1")]))


# --- attach_vehicle / get --------------------------------------------------------------------


def test_attach_vehicle_sets_enriched_and_the_vehicle(repo: SightingRepository) -> None:
    sid, plate = _uid("attach"), _plate()
    repo.record_read(_request(sid, [_read(plate)]))
    sighting = repo.attach_vehicle(sid, _profile(plate.lower(), region="ca"))
    assert sighting.status == store_pb2.SIGHTING_STATUS_ENRICHED
    vehicle = sighting.vehicle
    assert (vehicle.plate, vehicle.region, vehicle.make, vehicle.model_year) == (plate, "CA", "HONDA", 2003)
    assert vehicle.status == common_pb2.PROFILE_STATUS_FOUND
    assert vehicle.source == "fleet-file"
    assert dict(vehicle.attributes) == {"colour": "blue"}
    assert vehicle.fetched_at.ToDatetime(timezone.utc) == T0
    assert repo.get(sid) == sighting


def test_vehicle_is_shared_and_updated_by_plate_and_region(repo: SightingRepository) -> None:
    plate = _plate()
    first, second = _uid("veh-a"), _uid("veh-b")
    for sid in (first, second):
        repo.record_read(_request(sid, [_read(plate)]))
    repo.attach_vehicle(first, _profile(plate, make="OLDMAKE"))
    repo.attach_vehicle(second, _profile(plate, make="NEWMAKE"))
    assert repo.get(first).vehicle.make == "NEWMAKE"
    assert repo.get(second).vehicle.make == "NEWMAKE"


def test_attach_vehicle_to_unknown_sighting_raises_not_found(repo: SightingRepository) -> None:
    with pytest.raises(NotFound, match="does not exist"):
        repo.attach_vehicle(_uid("missing"), _profile("ABC1"))


def test_get_unknown_sighting_raises_not_found(repo: SightingRepository) -> None:
    with pytest.raises(NotFound):
        repo.get(_uid("missing"))


# --- search ----------------------------------------------------------------------------------


def test_search_by_plate_is_normalised_and_newest_first(repo: SightingRepository) -> None:
    plate = _plate()
    older, newer, other = _uid("plate-old"), _uid("plate-new"), _uid("plate-other")
    repo.record_read(_request(older, [_read(plate)], captured_at=T0))
    repo.record_read(_request(newer, [_read(plate)], captured_at=T0 + timedelta(minutes=5)))
    repo.record_read(_request(other, [_read(_plate())], captured_at=T0 + timedelta(minutes=1)))
    query = f"{plate[:3].lower()} - {plate[3:]}"
    response = _search(repo, plate=query)
    assert _ids(response) == [newer, older]
    assert response.next_page_token == ""


def test_search_by_camera(repo: SightingRepository) -> None:
    camera, other_camera = _uid("cam"), _uid("cam")
    mine = [_uid("mine") for _ in range(3)]
    for i, sid in enumerate(mine):
        repo.record_read(_request(sid, [_read("CAM1")], camera_id=camera, captured_at=T0 + timedelta(seconds=i)))
    repo.record_read(_request(_uid("theirs"), [_read("CAM1")], camera_id=other_camera))
    assert _ids(_search(repo, camera_id=camera)) == mine[::-1]


def test_search_by_time_range_is_inclusive_after_and_exclusive_before(repo: SightingRepository) -> None:
    camera = _uid("cam-time")
    times = [T0 + timedelta(minutes=m) for m in range(5)]
    ids = [_uid(f"t{m}") for m in range(5)]
    for sid, when in zip(ids, times):
        repo.record_read(_request(sid, [_read("TIME1")], camera_id=camera, captured_at=when))
    response = _search(repo, camera_id=camera, captured_after=times[1], captured_before=times[3])
    assert _ids(response) == [ids[2], ids[1]]
    assert _ids(_search(repo, camera_id=camera, captured_after=times[3])) == [ids[4], ids[3]]
    assert _ids(_search(repo, camera_id=camera, captured_before=times[1])) == [ids[0]]
    just_after = times[3] + timedelta(microseconds=1)
    assert _ids(_search(repo, camera_id=camera, captured_before=just_after, captured_after=times[3])) == [ids[3]]


def test_search_filters_combine(repo: SightingRepository) -> None:
    camera, plate = _uid("cam-combo"), _plate()
    hit = _uid("hit")
    repo.record_read(_request(hit, [_read(plate)], camera_id=camera))
    repo.record_read(_request(_uid("miss"), [_read(plate)], camera_id=_uid("cam")))
    repo.record_read(_request(_uid("miss"), [_read(_plate())], camera_id=camera))
    assert _ids(_search(repo, camera_id=camera, plate=plate)) == [hit]


def test_keyset_pagination_returns_every_sighting_once_in_order(repo: SightingRepository) -> None:
    camera, prefix = _uid("cam-page"), uuid.uuid4().hex[:8]
    group_sizes = [3, 7, 1, 4, 8]  # 23 sightings; groups share a captured_at, some span pages
    expected: list[tuple[datetime, str]] = []
    n = 0
    for minute, size in enumerate(group_sizes):
        for _ in range(size):
            expected.append((T0 + timedelta(minutes=minute), f"pg-{prefix}-{n:02d}"))
            n += 1
    insertion = expected[:]
    random.Random(7).shuffle(insertion)
    for when, sid in insertion:
        repo.record_read(_request(sid, [_read("PAGE1")], camera_id=camera, captured_at=when))
    expected.sort(reverse=True)  # newest first, ties by id descending

    pages: list[list[str]] = []
    token = ""
    while True:
        response = _search(repo, camera_id=camera, page_size=5, page_token=token)
        pages.append(_ids(response))
        token = response.next_page_token
        if not token:
            break
        assert len(pages) < 10, "pagination does not end"
    assert [len(p) for p in pages] == [5, 5, 5, 5, 3]
    assert [sid for page in pages for sid in page] == [sid for _, sid in expected]


def test_page_size_exactly_matching_the_results_has_no_next_page(repo: SightingRepository) -> None:
    camera = _uid("cam-exact")
    for i in range(4):
        repo.record_read(_request(_uid("exact"), [_read("EXACT")], camera_id=camera, captured_at=T0 + timedelta(i)))
    response = _search(repo, camera_id=camera, page_size=4)
    assert len(response.sightings) == 4
    assert response.next_page_token == ""


def test_default_page_size_is_50(repo: SightingRepository) -> None:
    camera = _uid("cam-default")
    for i in range(51):
        when = T0 + timedelta(seconds=i)
        repo.record_read(_request(f"{camera}-{i:02d}", [_read("DEF1")], camera_id=camera, captured_at=when))
    response = _search(repo, camera_id=camera)
    assert len(response.sightings) == 50
    assert response.next_page_token != ""
    assert _ids(_search(repo, camera_id=camera, page_token=response.next_page_token)) == [f"{camera}-00"]


@pytest.mark.parametrize("page_size", [-1, 501, 10_000])
def test_invalid_page_size_raises(repo: SightingRepository, page_size: int) -> None:
    with pytest.raises(InvalidRequest, match="page_size"):
        _search(repo, page_size=page_size)


@pytest.mark.parametrize(
    "token",
    [
        "not a token!",
        "bm90IGpzb24=",  # base64 of "not json"
        "WzFd",  # base64 of [1]
        "WyJ5ZXN0ZXJkYXkiLCAiaWQiXQ==",  # base64 of ["yesterday", "id"]
        "NQ==",  # base64 of 5
    ],
)
def test_invalid_page_token_raises(repo: SightingRepository, token: str) -> None:
    with pytest.raises(InvalidRequest, match="page_token"):
        _search(repo, page_token=token)


# --- concurrency -----------------------------------------------------------------------------


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_record_read_of_a_new_sighting(repo: SightingRepository, engine: Engine, attempt: int) -> None:
    sid = _uid(f"race{attempt}")
    reads = [_read("RACE1", 0.9), _read("RACE7", 0.4)]
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[Written] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        barrier.wait()
        try:
            written = repo.record_read(_request(sid, reads))
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            with lock:
                errors.append(exc)
        else:
            with lock:
                results.append(written)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=60)

    assert errors == []
    assert len(results) == threads
    assert sum(w.created for w in results) == 1
    with engine.connect() as conn:
        count = conn.execute(select(func.count()).select_from(SightingRow).where(SightingRow.id == sid)).scalar_one()
    assert count == 1
    assert _count_reads(engine, sid) == 2
    assert [r.text for r in repo.get(sid).reads] == ["RACE1", "RACE7"]


@contextmanager
def _just_before_insert_into(engine: Engine, table: str, other_writer: Callable[[], None]) -> Iterator[list[bool]]:
    """Run `other_writer` (on its own connection) right before the first INSERT INTO `table`:
    a deterministic stand-in for another worker winning the race between our SELECT and INSERT."""
    fired: list[bool] = []

    def listener(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if not fired and statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            fired.append(True)
            other_writer()

    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def test_record_read_losing_the_insert_race_becomes_an_update(repo: SightingRepository, engine: Engine) -> None:
    sid = _uid("lost-race")
    reads = [_read("RACE2", 0.7)]
    winner: list[Written] = []

    def other_worker() -> None:
        winner.append(repo.record_read(_request(sid, reads)))

    with _just_before_insert_into(engine, "sightings", other_worker) as fired:
        written = repo.record_read(_request(sid, reads))
    assert fired and winner[0].created is True
    assert written.created is False
    assert written.sighting == winner[0].sighting
    assert _count_reads(engine, sid) == 1


def test_attach_vehicle_losing_the_vehicle_insert_race(repo: SightingRepository, engine: Engine) -> None:
    sid, plate = _uid("veh-race"), _plate()
    repo.record_read(_request(sid, [_read(plate)]))

    def other_worker() -> None:
        with engine.begin() as conn:
            conn.execute(insert(VehicleRow).values(plate=plate, region="CA", status=1, make="OTHER"))

    with _just_before_insert_into(engine, "vehicles", other_worker) as fired:
        sighting = repo.attach_vehicle(sid, _profile(plate, make="MINE", region="CA"))
    assert fired
    assert sighting.status == store_pb2.SIGHTING_STATUS_ENRICHED
    assert sighting.vehicle.make == "MINE"
