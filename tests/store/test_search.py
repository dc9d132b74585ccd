"""SearchSightings on SQLite and PostgreSQL: exact, prefix and fuzzy plates, and keyset pages
that neither skip nor repeat a row while new rows arrive."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest

from cardak.v1 import store_pb2
from services.common.errors import InvalidRequest
from services.store.fuzzy import plate_key
from services.store.repository import SightingRepository
from tests.store.conftest import record, uid

T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)


def _search(repo: SightingRepository, plate: str = "", match: int = 0, **fields: object) -> list[store_pb2.Sighting]:
    request = store_pb2.SearchSightingsRequest(plate=plate, plate_match=match, page_size=500)  # type: ignore[arg-type]
    for name, value in fields.items():
        setattr(request, name, value)
    return list(repo.search(request).sightings)


def test_plate_key_folds_look_alikes() -> None:
    assert plate_key("SNNYO92") == plate_key("5nny-092") == "5NNY092"
    assert plate_key("BIG 8") == "8168"
    assert plate_key("HWJ") == "HWJ"  # not look-alikes on plates


def test_fuzzy_search_finds_5NNY092_from_SNNYO92(repo: SightingRepository) -> None:
    camera = uid("cam")
    right = record(repo, "5NNY092", camera, T0)
    misread = record(repo, "SNNYO92", camera, T0 + timedelta(minutes=1))
    other = record(repo, "5NNY093", camera, T0 + timedelta(minutes=2))
    found = _search(repo, "SNNYO92", store_pb2.PLATE_MATCH_FUZZY, camera_id=camera)
    assert [s.sighting_id for s in found] == [misread.sighting_id, right.sighting_id]
    assert other.sighting_id not in {s.sighting_id for s in found}
    exact = _search(repo, "SNNYO92", camera_id=camera)
    assert [s.sighting_id for s in exact] == [misread.sighting_id]


def test_prefix_search(repo: SightingRepository) -> None:
    camera = uid("cam")
    for n, plate in enumerate(["ABC123", "ABC999", "ABD100", "XABC12"]):
        record(repo, plate, camera, T0 + timedelta(minutes=n))
    found = _search(repo, "abc", store_pb2.PLATE_MATCH_PREFIX, camera_id=camera)
    assert [s.plate for s in found] == ["ABC999", "ABC123"]
    assert [s.plate for s in _search(repo, "ABZ", store_pb2.PLATE_MATCH_PREFIX, camera_id=camera)] == []


@pytest.mark.parametrize("plate", ["--", "   "])
def test_plate_without_characters_is_refused(repo: SightingRepository, plate: str) -> None:
    with pytest.raises(InvalidRequest, match="no letters or digits"):
        _search(repo, plate, store_pb2.PLATE_MATCH_FUZZY)


def test_pages_neither_skip_nor_repeat_while_rows_arrive(repo: SightingRepository) -> None:
    camera = uid("cam")
    existing = {record(repo, f"PG{n:04d}", camera, T0 + timedelta(seconds=n // 3)).sighting_id for n in range(300)}
    stop = threading.Event()

    def writer() -> None:
        n = 0
        while not stop.is_set():  # new rows, newer and older than the page being read
            when = T0 + timedelta(seconds=(n * 37) % 100 - 10 if n % 2 else 200 + n)
            record(repo, f"NW{n:04d}", camera, when)
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        seen: list[str] = []
        request = store_pb2.SearchSightingsRequest(camera_id=camera, page_size=25)
        keys: list[tuple[datetime, str]] = []
        while True:
            page = repo.search(request)
            seen += [s.sighting_id for s in page.sightings]
            keys += [(s.captured_at.ToDatetime(timezone.utc), s.sighting_id) for s in page.sightings]
            if not page.next_page_token:
                break
            request.page_token = page.next_page_token
    finally:
        stop.set()
        thread.join()
    assert len(seen) == len(set(seen)), "a row came back on two pages"
    assert existing <= set(seen), "a row that existed before the first page was skipped"
    assert keys == sorted(keys, reverse=True), "pages are not in (captured_at, id) order"
