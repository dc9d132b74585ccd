"""Watch lists: entries, alerts raised once per sighting and entry, and an alert reaching a
WatchSightings subscriber of a real store process at once."""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from datetime import datetime, timezone

import grpc
import pytest

from cardak.cli.mesh import Mesh
from cardak.v1 import common_pb2, store_pb2, store_pb2_grpc
from services.common.channels import open_channel
from services.common.errors import InvalidRequest, NotFound
from services.store.repository import SightingRepository
from services.store.watchlist import WatchList
from tests.store.conftest import uid
from tests.support import free_port

T0 = datetime(2025, 6, 1, 9, 0, tzinfo=timezone.utc)


def test_exact_and_fuzzy_entries_alert_once(repo: SightingRepository, watchlist: WatchList) -> None:
    plate = "W0" + uid("")[-5:].upper()  # a 0 in it, so the look-alike below always differs
    exact = watchlist.add(store_pb2.AddWatchRequest(plate=plate, label="exact one"))
    fuzzy = watchlist.add(store_pb2.AddWatchRequest(plate=plate, match=store_pb2.PLATE_MATCH_FUZZY, label="fuzzy one"))
    look_alike = plate.replace("0", "O").replace("1", "I").replace("5", "S").replace("8", "B")

    def read(text: str, sighting_id: str) -> list[store_pb2.Alert]:
        request = store_pb2.RecordReadRequest(sighting_id=sighting_id, camera_id="gate", reads=[common_pb2.PlateRead(text=text)])
        request.captured_at.FromDatetime(T0)
        return repo.record_read(request).alerts

    same = uid("s")
    assert {a.entry.watch_id for a in read(plate, same)} == {exact.watch_id, fuzzy.watch_id}
    assert read(plate, same) == []  # a retried write raises nothing again
    assert read(plate + "X", same) == []  # nor does a re-read with another plate
    alerts = read(look_alike, uid("s"))
    assert [(a.entry.watch_id, a.entry.label) for a in alerts] == [(fuzzy.watch_id, "fuzzy one")]


def test_a_watched_plate_behind_the_nearest_car_still_alerts(repo: SightingRepository, watchlist: WatchList) -> None:
    watched = "B" + uid("")[-6:].upper().replace("-", "")
    entry = watchlist.add(store_pb2.AddWatchRequest(plate=watched, label="second car"))
    request = store_pb2.RecordReadRequest(
        sighting_id=uid("s"), camera_id="gate", reads=[common_pb2.PlateRead(text="7ABC123"), common_pb2.PlateRead(text=watched)]
    )
    request.captured_at.FromDatetime(T0)
    written = repo.record_read(request)
    assert written.sighting.plate == "7ABC123"  # the sighting is still the nearest car's
    assert [a.entry.watch_id for a in written.alerts] == [entry.watch_id]


def test_adding_again_updates_the_label_and_remove_removes(watchlist: WatchList) -> None:
    plate = "L" + uid("")[-6:].upper()
    first = watchlist.add(store_pb2.AddWatchRequest(plate=plate.lower(), label="old"))
    again = watchlist.add(store_pb2.AddWatchRequest(plate=plate, label="new"))
    assert (again.watch_id, again.label, again.plate) == (first.watch_id, "new", plate)
    assert [e.label for e in watchlist.entries() if e.plate == plate] == ["new"]
    watchlist.remove(first.watch_id)
    assert all(e.plate != plate for e in watchlist.entries())
    with pytest.raises(NotFound):
        watchlist.remove(first.watch_id)


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (store_pb2.AddWatchRequest(plate=" - "), "plate is empty"),
        (store_pb2.AddWatchRequest(plate="AB1", match=store_pb2.PLATE_MATCH_PREFIX), "not by prefix"),
    ],
)
def test_bad_entries_are_refused(watchlist: WatchList, request_: store_pb2.AddWatchRequest, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message):
        watchlist.add(request_)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[store_pb2_grpc.StoreServiceStub]:
    env = dict(os.environ, CARDAK_STORE_ADDR=f"127.0.0.1:{free_port()}", DATABASE_URL=database_url)
    with Mesh(home=tmp_path_factory.mktemp("store"), env=env, services=("store",)) as mesh:
        mesh.start(timeout=60)
        channel = open_channel(mesh.addrs["store"], 4 * 1024 * 1024)
        yield store_pb2_grpc.StoreServiceStub(channel)
        channel.close()


def test_alert_reaches_stream_subscribers_at_once(store: store_pb2_grpc.StoreServiceStub) -> None:
    camera = uid("cam")
    entry = store.AddWatch(
        store_pb2.AddWatchRequest(plate="5NNY092", match=store_pb2.PLATE_MATCH_FUZZY, label="stolen"), timeout=10
    )
    streams = [store.WatchSightings(store_pb2.WatchSightingsRequest(camera_id=camera, alerts_only=True)) for _ in range(5)]
    everything = store.WatchSightings(store_pb2.WatchSightingsRequest(camera_id=camera))
    for stream in [*streams, everything]:
        stream.initial_metadata()  # subscribed from here on
    received: queue.Queue[tuple[int, store_pb2.SightingEvent]] = queue.Queue()

    def drain(n: int, stream: grpc.Call) -> None:
        try:
            for event in stream:  # type: ignore[attr-defined]
                received.put((n, event))
        except grpc.RpcError:
            pass

    threads = [threading.Thread(target=drain, args=(n, s), daemon=True) for n, s in enumerate([*streams, everything])]
    for t in threads:
        t.start()
    request = store_pb2.RecordReadRequest(
        sighting_id=uid("s"), camera_id=camera, reads=[common_pb2.PlateRead(text="SNNYO92", confidence=0.7)]
    )
    request.captured_at.FromDatetime(T0)
    store.RecordRead(request, timeout=10)
    store.RecordRead(request, timeout=10)  # a retry: no second alert, no event at all
    events: list[tuple[int, store_pb2.SightingEvent]] = []
    try:
        while len(events) < 8:  # 7 expected; wait a little for an 8th that must not come
            events.append(received.get(timeout=5 if len(events) < 7 else 1))
    except queue.Empty:
        pass
    for stream in [*streams, everything]:
        stream.cancel()  # type: ignore[attr-defined]
    alerts = [(n, e) for n, e in events if e.type == store_pb2.SIGHTING_EVENT_TYPE_ALERT]
    assert sorted(n for n, _ in alerts) == [0, 1, 2, 3, 4, 5]  # every subscriber, once
    _, alert = alerts[0]
    assert (alert.alert.entry.watch_id, alert.alert.entry.label, alert.sighting.plate) == (entry.watch_id, "stolen", "SNNYO92")
    assert [e.type for n, e in events if n == 5] == [store_pb2.SIGHTING_EVENT_TYPE_CREATED, store_pb2.SIGHTING_EVENT_TYPE_ALERT]
    store.RemoveWatch(store_pb2.RemoveWatchRequest(watch_id=entry.watch_id), timeout=10)
