"""The enrich service as a real process beside a real store, both on loopback ports, with
every provider on the loopback server: gRPC answers and errors, and the queue worker writing
profiles to the store, through a provider outage that outlasts every retry."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator

import grpc
import pytest

import sentinel
from cardak.cli.mesh import Mesh
from cardak.v1 import common_pb2, enrich_pb2, enrich_pb2_grpc, store_pb2, store_pb2_grpc, tasks_pb2
from services.common.channels import open_channel
from services.common.redis import connect
from tests.enrich.provider_server import ProviderServer
from tests.support import eventually, free_port

NAMESPACE = f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(scope="module")
def provider() -> Iterator[ProviderServer]:
    with ProviderServer() as running:
        yield running


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory, redis_url: str, provider: ProviderServer) -> Iterator[Mesh]:
    home = tmp_path_factory.mktemp("enrich-mesh")
    env = dict(os.environ)
    env.update(
        CARDAK_STORE_ADDR=f"127.0.0.1:{free_port()}",
        CARDAK_ENRICH_ADDR=f"127.0.0.1:{free_port()}",
        CARDAK_NAMESPACE=NAMESPACE,
        REDIS_URL=redis_url,
        DATABASE_URL=f"sqlite:///{home / 'cardak.db'}",
        CARDAK_VPIC_URL=f"{provider.url}/api",
        CARDAK_PLATE_VIN_URL=provider.url + "/plates/{region}/{plate}",
        CARDAK_PLATE_VIN_VIN_PATH="data.vehicle.vin",
        CARDAK_PLATE_VIN_PURPOSE="insurance",
        CARDAK_PLATE_VIN_OPERATOR="Acme Claims Ltd (test)",
        CARDAK_AUDIT_LOG=str(home / "audit.jsonl"),
        CARDAK_HTTP_MAX_ATTEMPTS="2",
        CARDAK_HTTP_BACKOFF_SECONDS="0.01",
        CARDAK_ENRICH_MAX_ATTEMPTS="2",
        CARDAK_BREAKER_FAILURES="100",
        CARDAK_GRACE_SECONDS="5",
    )
    env.pop("CARDAK_FLEET_FILE", None)
    running = Mesh(home=home, env=env, services=("store", "enrich"))
    try:
        running.start(timeout=120)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def channels(mesh: Mesh) -> Iterator[dict[str, grpc.Channel]]:
    opened = {name: open_channel(addr, 4 * 1024 * 1024) for name, addr in mesh.addrs.items()}
    yield opened
    for channel in opened.values():
        channel.close()


def test_enrich_answers_a_full_profile(channels: dict[str, grpc.Channel], mesh: Mesh) -> None:
    enrich = enrich_pb2_grpc.EnrichServiceStub(channels["enrich"])
    profile = enrich.Enrich(enrich_pb2.PlateQuery(plate="jlm 7605", region="tx"), timeout=10)
    assert (profile.model_year, profile.make, profile.model, profile.body_class) == (2003, "HONDA", "Accord", "Coupe")
    assert (profile.source, profile.status) == ("plate-vin", common_pb2.PROFILE_STATUS_FOUND)
    audit = (mesh.home / "audit.jsonl").read_text().splitlines()
    assert any('"plate": "JLM7605"' in line and '"requester": "grpc ipv' in line for line in audit)


def test_enrich_errors_are_statuses_a_person_can_read(channels: dict[str, grpc.Channel], provider: ProviderServer) -> None:
    enrich = enrich_pb2_grpc.EnrichServiceStub(channels["enrich"])
    with pytest.raises(grpc.RpcError) as bad:
        enrich.Enrich(enrich_pb2.PlateQuery(plate=" - "), timeout=10)
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "plate is empty" in (bad.value.details() or "")
    provider.misbehave("500")
    provider.misbehave("500")
    with pytest.raises(grpc.RpcError) as down:
        enrich.Enrich(enrich_pb2.PlateQuery(plate="FRD1234", region="NY"), timeout=10)
    assert down.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "plate-vin did not answer after 2 attempts: HTTP 500" in (down.value.details() or "")


def _sighting(store: store_pb2_grpc.StoreServiceStub, plate: str) -> str:
    sighting_id = f"s-{uuid.uuid4().hex[:8]}"
    store.RecordRead(
        store_pb2.RecordReadRequest(
            sighting_id=sighting_id, camera_id="gate-1", reads=[common_pb2.PlateRead(text=plate, confidence=0.9)]
        ),
        timeout=10,
    )
    return sighting_id


def _enqueue(redis_url: str, sighting_id: str, plate: str, region: str) -> None:
    queues = sentinel.Client(connect(redis_url), namespace=NAMESPACE)
    task = tasks_pb2.EnrichTask(sighting_id=sighting_id, plate=plate, region=region)
    queues.enqueue("enrich", task.SerializeToString(), dedupe_key=sighting_id, max_attempts=2)


def _enriched(store: store_pb2_grpc.StoreServiceStub, sighting_id: str) -> store_pb2.Sighting:
    """The sighting once the enrich worker has attached its vehicle."""

    def probe() -> store_pb2.Sighting | None:
        sighting = store.GetSighting(store_pb2.GetSightingRequest(sighting_id=sighting_id), timeout=10)
        return sighting if sighting.status == store_pb2.SIGHTING_STATUS_ENRICHED else None

    return eventually(probe, timeout=30)


def test_worker_writes_the_profile_to_the_store(channels: dict[str, grpc.Channel], redis_url: str) -> None:
    store = store_pb2_grpc.StoreServiceStub(channels["store"])
    sighting_id = _sighting(store, "7ABC123")
    _enqueue(redis_url, sighting_id, "7ABC123", "CA")
    vehicle = _enriched(store, sighting_id).vehicle
    assert (vehicle.make, vehicle.model, vehicle.model_year, vehicle.vin) == ("TESLA", "Model S", 2015, "5YJSA1E14FF087599")


def test_outage_longer_than_every_retry_still_stores_a_profile_that_says_why(
    channels: dict[str, grpc.Channel], redis_url: str, provider: ProviderServer
) -> None:
    store = store_pb2_grpc.StoreServiceStub(channels["store"])
    for _ in range(4):  # 2 task attempts x 2 requests each
        provider.misbehave("500")
    before = provider.count("/plates/")
    sighting_id = _sighting(store, "FRD1234")
    _enqueue(redis_url, sighting_id, "FRD1234", "NY")
    vehicle = _enriched(store, sighting_id).vehicle
    assert vehicle.status == common_pb2.PROFILE_STATUS_NOT_FOUND
    assert "plate-vin did not answer after 2 attempts" in vehicle.attributes["unavailable"]
    assert provider.count("/plates/") - before == 4  # the task came back once before giving up
    stats = sentinel.Client(connect(redis_url), namespace=NAMESPACE).stats("enrich")
    assert stats.dead == 0


def test_grpcurl_calls_enrich_and_decode_vin(mesh: Mesh) -> None:
    from tests.mesh.test_grpcurl import grpcurl

    addr = mesh.addrs["enrich"]
    profile = json.loads(grpcurl("-d", '{"plate": "7ABC-123", "region": "CA"}', addr, "cardak.v1.EnrichService/Enrich"))
    assert (profile["make"], profile["model"], profile["model_year"]) == ("TESLA", "Model S", 2015)
    assert profile["status"] == "PROFILE_STATUS_FOUND"
    decoded = json.loads(grpcurl("-d", '{"vin": "jh4ka7561pc008269"}', addr, "cardak.v1.EnrichService/DecodeVin"))
    assert (decoded["make"], decoded["model"], decoded["source"]) == ("ACURA", "Legend", "vpic")
