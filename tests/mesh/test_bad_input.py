"""Bad input gets a clear status, and the services keep serving what is valid."""

from __future__ import annotations

import uuid

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cardak.samples import SAMPLE_IMAGE
from cardak.v1 import common_pb2, enrich_pb2, ingest_pb2, ocr_pb2, store_pb2
from tests.mesh.conftest import Stubs

JPEG = SAMPLE_IMAGE.read_bytes()


def _code_and_details(call, request) -> tuple[grpc.StatusCode, str]:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as info:
        call(request, timeout=30)
    return info.value.code(), info.value.details()


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (ingest_pb2.Frame(camera_id="gate", image=b""), "image is empty"),
        (ingest_pb2.Frame(camera_id="gate", image=b"this is not an image at all"), "not a JPEG, PNG or WebP"),
        (ingest_pb2.Frame(camera_id="gate", image=JPEG, content_type=99), "99 is not a known ImageFormat"),
        (ingest_pb2.Frame(camera_id="gate", image=JPEG, content_type=common_pb2.IMAGE_FORMAT_PNG),
         "content_type says IMAGE_FORMAT_PNG but the bytes are JPEG"),
        (ingest_pb2.Frame(camera_id="", image=JPEG), "camera_id '' must be"),
        (ingest_pb2.Frame(camera_id="gate/../x", image=JPEG), "camera_id 'gate/../x' must be"),
        (ingest_pb2.Frame(camera_id="gate", image=JPEG[:200]), "not a JPEG, PNG or WebP"),
    ],
    ids=["empty", "not-image", "unknown-enum", "wrong-type", "no-camera", "bad-camera", "truncated"],
)
def test_invalid_frames_are_rejected_with_a_reason(stubs: Stubs, frame: ingest_pb2.Frame, message: str) -> None:
    code, details = _code_and_details(stubs.ingest.Submit, frame)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert message in details


def test_oversized_message_is_resource_exhausted_and_ingest_keeps_serving(stubs: Stubs) -> None:
    huge = ingest_pb2.Frame(camera_id="gate", image=JPEG + b"\0" * (17 * 1024 * 1024))
    code, details = _code_and_details(stubs.ingest.Submit, huge)
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "larger than max" in details
    ok = stubs.ingest.Submit(ingest_pb2.Frame(camera_id="gate", image=JPEG, idempotency_key=uuid.uuid4().hex), timeout=10)
    assert ok.status == ingest_pb2.FRAME_STATUS_QUEUED


def test_image_over_the_byte_limit_is_invalid(stubs: Stubs) -> None:
    big = ingest_pb2.Frame(camera_id="gate", image=JPEG + b"\0" * (11 * 1024 * 1024))
    code, details = _code_and_details(stubs.ingest.Submit, big)
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "over the limit" in details


def test_a_bad_frame_in_a_stream_is_rejected_and_the_stream_goes_on(stubs: Stubs) -> None:
    key = uuid.uuid4().hex
    frames = [
        ingest_pb2.Frame(camera_id="gate", image=b"garbage", idempotency_key=f"{key}-bad"),
        ingest_pb2.Frame(camera_id="gate", image=JPEG, idempotency_key=f"{key}-good"),
    ]
    acks = list(stubs.ingest.StreamFrames(iter(frames), timeout=30))
    assert [a.status for a in acks] == [ingest_pb2.FRAME_STATUS_REJECTED, ingest_pb2.FRAME_STATUS_QUEUED]
    assert acks[0].idempotency_key == f"{key}-bad" and "not a JPEG" in acks[0].error
    assert acks[0].sighting_id == "" and acks[1].sighting_id


def test_other_services_reject_bad_requests_clearly(stubs: Stubs) -> None:
    code, details = _code_and_details(stubs.ocr.Recognize, ocr_pb2.Image(data=b"nope"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "not a JPEG" in details
    code, details = _code_and_details(stubs.enrich.DecodeVin, enrich_pb2.VinQuery(vin="1HGCM82633A004353"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "check digit" in details
    code, details = _code_and_details(stubs.enrich.DecodeVin, enrich_pb2.VinQuery(vin="SHORT"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "17 characters" in details
    code, details = _code_and_details(stubs.enrich.Enrich, enrich_pb2.PlateQuery(plate=" - "))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "plate is empty" in details
    code, details = _code_and_details(stubs.store.SearchSightings, store_pb2.SearchSightingsRequest(page_token="xyz"))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_token" in details
    code, details = _code_and_details(stubs.store.SearchSightings, store_pb2.SearchSightingsRequest(page_size=10_000))
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "page_size" in details
    code, details = _code_and_details(stubs.store.GetSighting, store_pb2.GetSightingRequest(sighting_id="nope"))
    assert code == grpc.StatusCode.NOT_FOUND
    code, details = _code_and_details(stubs.store.RecordRead, store_pb2.RecordReadRequest())
    assert code == grpc.StatusCode.INVALID_ARGUMENT and "sighting_id" in details


def test_every_service_still_serving_after_bad_input(stubs: Stubs) -> None:
    for channel in stubs.channels:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert reply.status == health_pb2.HealthCheckResponse.SERVING
