"""EventHub: filtered fan-out of sighting events, and cutting off watchers that fall behind."""

from __future__ import annotations

import queue

from cardak.v1 import store_pb2
from services.store.events import EventHub, Subscription


def _event(sighting_id: str, camera_id: str = "cam-1", plate: str = "ABC123") -> store_pb2.SightingEvent:
    return store_pb2.SightingEvent(
        type=store_pb2.SIGHTING_EVENT_TYPE_CREATED,
        sighting=store_pb2.Sighting(sighting_id=sighting_id, camera_id=camera_id, plate=plate),
    )


def _drain(sub: Subscription) -> list[str]:
    ids = []
    while True:
        try:
            event = sub.events.get_nowait()
        except queue.Empty:
            return ids
        assert event is not None
        ids.append(event.sighting.sighting_id)


def test_filters_by_camera_and_plate() -> None:
    hub = EventHub()
    everything = hub.subscribe()
    camera = hub.subscribe(camera_id="cam-2")
    plate = hub.subscribe(plate="abc-123")  # normalised to ABC123
    both = hub.subscribe(camera_id="cam-2", plate="XYZ 9")

    hub.publish(_event("s1", "cam-1", "ABC123"))
    hub.publish(_event("s2", "cam-2", "ABC123"))
    hub.publish(_event("s3", "cam-2", "XYZ9"))
    hub.publish(_event("s4", "cam-1", "XYZ9"))
    hub.publish(_event("s5", "cam-3", ""))

    assert _drain(everything) == ["s1", "s2", "s3", "s4", "s5"]
    assert _drain(camera) == ["s2", "s3"]
    assert _drain(plate) == ["s1", "s2"]
    assert _drain(both) == ["s3"]


def test_plate_filter_is_normalised_on_subscribe() -> None:
    assert EventHub().subscribe(plate=" jlm-7605 ").plate == "JLM7605"


def test_event_is_delivered_as_published() -> None:
    hub = EventHub()
    sub = hub.subscribe()
    event = _event("s1")
    hub.publish(event)
    assert sub.events.get_nowait() == event


def test_unsubscribe_stops_delivery() -> None:
    hub = EventHub()
    leaving, staying = hub.subscribe(), hub.subscribe()
    assert len(hub) == 2
    hub.publish(_event("s1"))
    hub.unsubscribe(leaving)
    assert len(hub) == 1
    hub.publish(_event("s2"))
    assert _drain(leaving) == ["s1"]
    assert _drain(staying) == ["s1", "s2"]
    hub.unsubscribe(leaving)  # a second time is harmless
    assert len(hub) == 1


def test_overflowing_subscriber_is_cut_off_while_others_still_receive() -> None:
    hub = EventHub(buffer=2)
    slow, fast = hub.subscribe(), hub.subscribe()
    received_fast: list[str] = []
    for i in range(4):
        hub.publish(_event(f"s{i}"))
        received_fast += _drain(fast)

    assert slow.overflowed
    assert not fast.overflowed
    assert len(hub) == 1
    assert _drain(slow) == ["s0", "s1"]  # what fitted before it overflowed
    assert received_fast == ["s0", "s1", "s2", "s3"]

    hub.publish(_event("s4"))
    assert _drain(slow) == []
    assert _drain(fast) == ["s4"]


def test_filtered_out_events_do_not_fill_the_buffer() -> None:
    hub = EventHub(buffer=1)
    sub = hub.subscribe(camera_id="cam-9")
    for i in range(5):
        hub.publish(_event(f"other{i}", camera_id="cam-1"))
    hub.publish(_event("mine", camera_id="cam-9"))
    assert not sub.overflowed
    assert len(hub) == 1
    assert _drain(sub) == ["mine"]
