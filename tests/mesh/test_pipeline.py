"""End to end: an image submitted to ingest becomes a searchable, enriched sighting that a
watcher sees arrive; frames streamed get one ack each; resends create no second sighting."""

from __future__ import annotations

import threading
import uuid

import grpc

from cardak.samples import SAMPLE_IMAGE, SAMPLE_PLATE
from cardak.samples.render import render_plate_photo
from cardak.v1 import common_pb2, ingest_pb2, store_pb2
from tests.mesh.conftest import Stubs
from tests.support import eventually

FINAL = {store_pb2.SIGHTING_STATUS_ENRICHED, store_pb2.SIGHTING_STATUS_NO_PLATE}


def _frame(camera_id: str, image: bytes, key: str = "") -> ingest_pb2.Frame:
    frame = ingest_pb2.Frame(camera_id=camera_id, image=image, idempotency_key=key)
    frame.captured_at.GetCurrentTime()
    return frame


def _camera() -> str:
    return f"cam-{uuid.uuid4().hex[:8]}"


def _search(stubs: Stubs, **filters: str) -> list[store_pb2.Sighting]:
    return list(stubs.store.SearchSightings(store_pb2.SearchSightingsRequest(**filters), timeout=10).sightings)


def test_submitted_image_is_read_enriched_searchable_and_watched(stubs: Stubs) -> None:
    camera = _camera()
    watch = stubs.store.WatchSightings(store_pb2.WatchSightingsRequest(camera_id=camera), timeout=120)
    watch.initial_metadata()  # the store has subscribed us: nothing after this is missed
    events: list[store_pb2.SightingEvent] = []

    def pump() -> None:
        try:
            for event in watch:
                events.append(event)
                if event.sighting.status in FINAL:
                    return
        except grpc.RpcError:
            pass

    watcher = threading.Thread(target=pump, daemon=True)
    watcher.start()

    reply = stubs.ingest.Submit(_frame(camera, SAMPLE_IMAGE.read_bytes(), "e2e-1"), timeout=10)
    assert reply.status == ingest_pb2.FRAME_STATUS_QUEUED
    assert reply.sighting_id

    found = eventually(
        lambda: [s for s in _search(stubs, plate=SAMPLE_PLATE) if s.sighting_id == reply.sighting_id
                 and s.status == store_pb2.SIGHTING_STATUS_ENRICHED],
        timeout=120,
    )
    sighting = found[0]
    assert sighting.camera_id == camera
    assert sighting.plate == SAMPLE_PLATE
    assert sighting.reads[0].text == SAMPLE_PLATE
    assert 0.5 < sighting.reads[0].confidence <= 1.0
    assert sighting.reads[0].box.width > 0 and sighting.reads[0].box.height > 0
    assert sighting.vehicle.status == common_pb2.PROFILE_STATUS_FOUND
    assert (sighting.vehicle.model_year, sighting.vehicle.make, sighting.vehicle.model) == (2015, "HONDA", "Civic")
    # Lower case with a dash finds the same sighting.
    assert [s.sighting_id for s in _search(stubs, plate="cdk-4217", camera_id=camera)] == [reply.sighting_id]

    watcher.join(timeout=30)
    watch.cancel()
    assert [e.sighting.sighting_id for e in events] == [reply.sighting_id] * len(events)
    assert events[0].type == store_pb2.SIGHTING_EVENT_TYPE_CREATED
    assert events[0].sighting.status == store_pb2.SIGHTING_STATUS_READ
    assert events[-1].type == store_pb2.SIGHTING_EVENT_TYPE_UPDATED
    assert events[-1].sighting.vehicle.model == "Civic"


def test_stream_acks_every_frame_in_order_and_resends_make_no_second_sighting(stubs: Stubs) -> None:
    camera = _camera()
    images = [render_plate_photo(f"STR{i}00", seed=i, size=(320, 240)) for i in range(4)]
    keys = [f"{camera}-frame-{i}" for i in range(4)]
    # The third key comes twice in the same stream: the second time it is a duplicate.
    sent = [_frame(camera, img, key) for img, key in zip(images, keys)] + [_frame(camera, images[2], keys[2])]

    acks = list(stubs.ingest.StreamFrames(iter(sent), timeout=30))

    assert [a.idempotency_key for a in acks] == keys + [keys[2]]
    assert [a.status for a in acks] == [ingest_pb2.FRAME_STATUS_QUEUED] * 4 + [ingest_pb2.FRAME_STATUS_DUPLICATE]
    assert len({a.sighting_id for a in acks[:4]}) == 4
    assert acks[4].sighting_id == acks[2].sighting_id

    # A resend of the whole stream later (as an edge node does after a reconnect) is all duplicates.
    again = list(stubs.ingest.StreamFrames(iter(sent[:4]), timeout=30))
    assert [a.status for a in again] == [ingest_pb2.FRAME_STATUS_DUPLICATE] * 4
    assert [a.sighting_id for a in again] == [a.sighting_id for a in acks[:4]]
    # Submit with a known key is a duplicate too.
    assert stubs.ingest.Submit(sent[0], timeout=10).status == ingest_pb2.FRAME_STATUS_DUPLICATE

    done = eventually(
        lambda: (found := _search(stubs, camera_id=camera)) and all(s.status in FINAL for s in found)
        and len(found) >= 4 and found,
        timeout=180,
    )
    assert sorted(s.sighting_id for s in done) == sorted(a.sighting_id for a in acks[:4])


def test_frames_without_a_key_are_deduplicated_by_content(stubs: Stubs) -> None:
    camera = _camera()
    frame = _frame(camera, render_plate_photo("NOKEY1", seed=9, size=(320, 240)))
    first = stubs.ingest.Submit(frame, timeout=10)
    second = stubs.ingest.Submit(frame, timeout=10)
    assert (first.status, second.status) == (ingest_pb2.FRAME_STATUS_QUEUED, ingest_pb2.FRAME_STATUS_DUPLICATE)
    assert first.sighting_id == second.sighting_id
    other = _frame(camera, frame.image)  # same bytes, later capture time: a new sighting
    assert stubs.ingest.Submit(other, timeout=10).sighting_id != first.sighting_id


def test_recognize_reads_the_sample_directly(stubs: Stubs) -> None:
    from cardak.v1 import ocr_pb2

    reads = stubs.ocr.Recognize(ocr_pb2.Image(data=SAMPLE_IMAGE.read_bytes()), timeout=60)
    assert reads.reads[0].text == SAMPLE_PLATE
    assert reads.device in ("cpu", "cuda")
    assert reads.elapsed_ms > 0


def test_enrich_and_decode_vin(stubs: Stubs) -> None:
    from cardak.v1 import enrich_pb2

    known = stubs.enrich.Enrich(enrich_pb2.PlateQuery(plate="cdk 4217"), timeout=10)
    assert (known.status, known.make, known.model, known.source) == (
        common_pb2.PROFILE_STATUS_FOUND, "HONDA", "Civic", "fleet-file")
    unknown = stubs.enrich.Enrich(enrich_pb2.PlateQuery(plate="ZZZ999"), timeout=10)
    assert unknown.status == common_pb2.PROFILE_STATUS_NOT_FOUND
    decoded = stubs.enrich.DecodeVin(enrich_pb2.VinQuery(vin="1hgcm82633a004352"), timeout=10)
    assert (decoded.model_year, decoded.make, decoded.status) == (2003, "HONDA", common_pb2.PROFILE_STATUS_PARTIAL)
