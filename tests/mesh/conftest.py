"""The four services as separate processes on loopback ports, shared by the mesh tests."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest

from cardak.cli.mesh import SERVICES, Mesh
from cardak.samples import SAMPLE_FLEET
from cardak.v1 import enrich_pb2_grpc, ingest_pb2_grpc, ocr_pb2_grpc, store_pb2_grpc
from services.common.channels import open_channel
from tests.support import free_port


def mesh_env(database_url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {f"CARDAK_{name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for name in SERVICES},
        CARDAK_NAMESPACE=f"test-{uuid.uuid4().hex[:10]}",
        CARDAK_FLEET_FILE=str(SAMPLE_FLEET),
        DATABASE_URL=database_url,
        CARDAK_GRACE_SECONDS="5",
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def mesh(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Mesh]:
    running = Mesh(home=tmp_path_factory.mktemp("mesh"), env=mesh_env(database_url))
    try:
        running.start(timeout=300)
        yield running
        assert running.exited() == {}, "a service died during the tests"
    finally:
        running.stop()


@dataclass
class Stubs:
    ingest: ingest_pb2_grpc.IngestServiceStub
    ocr: ocr_pb2_grpc.OcrServiceStub
    enrich: enrich_pb2_grpc.EnrichServiceStub
    store: store_pb2_grpc.StoreServiceStub
    channels: list[grpc.Channel]


@pytest.fixture(scope="session")
def stubs(mesh: Mesh) -> Iterator[Stubs]:
    channels = {name: open_channel(addr, 32 * 1024 * 1024) for name, addr in mesh.addrs.items()}
    yield Stubs(
        ingest_pb2_grpc.IngestServiceStub(channels["ingest"]),
        ocr_pb2_grpc.OcrServiceStub(channels["ocr"]),
        enrich_pb2_grpc.EnrichServiceStub(channels["enrich"]),
        store_pb2_grpc.StoreServiceStub(channels["store"]),
        list(channels.values()),
    )
    for channel in channels.values():
        channel.close()
