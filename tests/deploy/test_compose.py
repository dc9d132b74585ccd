"""docker-compose.yml without a Docker engine: it validates against the Compose Specification
schema, its wiring is what the services need, and its own environment, applied to the very
commands its images run, starts a mesh on loopback that reads a plate end to end: the test that
`docker compose up` would work, short of the engine."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from cardak.samples import SAMPLE_IMAGE, SAMPLE_PLATE
from cardak.v1 import common_pb2, ingest_pb2, ingest_pb2_grpc, store_pb2, store_pb2_grpc
from services.common.channels import open_channel
from tests.support import eventually, free_port, scratch_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
COMPOSE_FILES = ["docker-compose.yml", "docker-compose.gpu.yml"]
SERVICES = ("store", "enrich", "ocr", "ingest")


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())  # anchors and << merged


@pytest.mark.parametrize("name", COMPOSE_FILES)
def test_compose_file_matches_the_compose_specification(name: str) -> None:
    checker = shutil.which("check-jsonschema", path=str(BIN)) or "check-jsonschema"
    done = subprocess.run([checker, "--builtin-schema", "vendor.compose-spec", str(ROOT / name)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_wiring_health_checks_and_volumes() -> None:
    services = compose()["services"]
    assert "--appendonly" in services["redis"]["command"] and services["redis"]["volumes"] == ["redis-data:/data"]
    assert services["postgres"]["volumes"] == ["postgres-data:/var/lib/postgresql/data"]
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["store"]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    for name in SERVICES:
        service = services[name]
        assert service["healthcheck"]["test"] == ["CMD", "cardak", "health"]
        assert service["environment"]["CARDAK_SERVICE"] == name
        port = service["environment"][f"CARDAK_{name.upper()}_ADDR"].rsplit(":", 1)[1]
        assert service["environment"][f"CARDAK_{name.upper()}_ADDR"] == f"0.0.0.0:{port}"
        assert service["ports"] == [f"{port}:{port}"], "published for grpcurl"
        assert service["read_only"] is True
        for dependency in service["depends_on"].values():
            assert dependency["condition"] in ("service_healthy", "service_completed_successfully")
    gpu = yaml.safe_load((ROOT / "docker-compose.gpu.yml").read_text())["services"]["ocr"]
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    assert gpu["environment"]["CARDAK_DEVICE"] == "cuda"
    assert int(gpu["environment"]["CARDAK_WORKER_PROCESSES"]) > 1  # one process cannot keep a GPU busy


def image_command(service: dict[str, Any]) -> list[str]:
    """ENTRYPOINT of the service's Dockerfile + the compose command, with `cardak` resolved to
    this environment's own script (what the image's PATH finds in /opt/cardak/bin)."""
    parser = DockerfileParser(str(ROOT / service["build"]["dockerfile"]))
    [entrypoint] = [i["value"] for i in parser.structure if i["instruction"] == "ENTRYPOINT"]
    argv = [*yaml.safe_load(entrypoint), *service["command"]]
    assert argv[0] == "cardak"
    return [str(BIN / "cardak"), *argv[1:]]


@pytest.fixture
def loopback_db(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database, so the compose file's migrate step has real work to do."""
    with scratch_database(database_url, tmp_path, "cardak_compose") as url:
        yield url


def loopback_env(
    environment: dict[str, str], ports: dict[str, int], redis_url: str, database_url: str, namespace: str
) -> dict[str, str]:
    """The compose environment with its host names moved to this machine: service names and
    0.0.0.0 to 127.0.0.1 on free ports, redis/postgres to the test's own servers."""
    env = dict(os.environ)
    for key, value in environment.items():
        value = str(value)
        for name, port in ports.items():
            default = {"ingest": 50051, "ocr": 50052, "enrich": 50053, "store": 50054}[name]
            value = value.replace(f"{name}:{default}", f"127.0.0.1:{port}")
            if key == f"CARDAK_{name.upper()}_ADDR":
                value = re.sub(r"^0\.0\.0\.0:\d+$", f"127.0.0.1:{port}", value)
        env[key] = value
    assert env["REDIS_URL"].startswith("redis://redis:") and env["DATABASE_URL"].startswith("postgresql+psycopg2://cardak:")
    env.update(REDIS_URL=redis_url, DATABASE_URL=database_url, CARDAK_NAMESPACE=namespace,
               CARDAK_METRICS_ADDR=f"127.0.0.1:{free_port()}", CARDAK_VPIC_URL="", CARDAK_HOME=env.get("TMPDIR", "/tmp"))
    return env


def test_compose_environment_runs_the_mesh_end_to_end(redis_url: str, loopback_db: str, tmp_path: Path) -> None:
    services = compose()["services"]
    ports = {name: free_port() for name in SERVICES}
    namespace = f"compose-{uuid.uuid4().hex[:8]}"  # the mesh's own queues on the shared Redis
    envs = {
        name: loopback_env(services[name]["environment"], ports, redis_url, loopback_db, namespace)
        for name in ["migrate", *SERVICES]
    }
    migrate = subprocess.run(image_command(services["migrate"]), env=envs["migrate"], capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    processes: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name in SERVICES:  # in depends_on order; each waits for its dependencies' health check
            log = open(tmp_path / f"{name}.log", "wb")
            processes[name] = subprocess.Popen(image_command(services[name]), env=envs[name], stdout=log, stderr=subprocess.STDOUT)
            health = [str(BIN / "cardak"), *services[name]["healthcheck"]["test"][2:]]

            def healthy(name: str = name, health: list[str] = health) -> bool:
                assert processes[name].poll() is None, (tmp_path / f"{name}.log").read_text()[-3000:]
                return subprocess.run(health, env=envs[name], capture_output=True, timeout=30).returncode == 0

            eventually(healthy, timeout=180, interval=0.5)
        ingest = ingest_pb2_grpc.IngestServiceStub(open_channel(f"127.0.0.1:{ports['ingest']}", 16 * 1024 * 1024))
        frame = ingest_pb2.Frame(camera_id="compose", image=SAMPLE_IMAGE.read_bytes(), content_type=common_pb2.IMAGE_FORMAT_JPEG)
        frame.captured_at.GetCurrentTime()
        reply = ingest.Submit(frame, timeout=10)
        store = store_pb2_grpc.StoreServiceStub(open_channel(f"127.0.0.1:{ports['store']}", 16 * 1024 * 1024))

        def enriched() -> store_pb2.Sighting | None:
            try:
                sighting = store.GetSighting(store_pb2.GetSightingRequest(sighting_id=reply.sighting_id), timeout=10)
            except grpc.RpcError:
                return None
            return sighting if sighting.status == store_pb2.SIGHTING_STATUS_ENRICHED else None

        sighting = eventually(enriched, timeout=120)
        assert sighting.plate == SAMPLE_PLATE
        assert sighting.vehicle.status == common_pb2.PROFILE_STATUS_NOT_FOUND  # no providers configured here

        # /metrics on every service (the compose file turns them on): queues, latencies, OCR times.
        def scrape(name: str) -> str:
            return httpx.get(f"http://{envs[name]['CARDAK_METRICS_ADDR']}/metrics", timeout=5).text

        expected = {
            "ingest": ['cardak_rpc_duration_seconds_count{code="OK",method="/cardak.v1.IngestService/Submit"} 1.0',
                       'sentinel_queue_ready{namespace="%s",queue="ocr"}' % namespace],
            "ocr": ['cardak_ocr_images_total{plate="found"} 1.0', 'cardak_ocr_stage_seconds_count{stage="recognise"} 1.0',
                    'sentinel_queue_leased{namespace="%s",queue="enrich"}' % namespace],
            "enrich": ['sentinel_tasks_acked_total{namespace="%s",queue="enrich"} 1.0' % namespace],
            "store": ['cardak_rpc_duration_seconds_count{code="OK",method="/cardak.v1.StoreService/RecordRead"} 1.0'],
        }
        for name, lines in expected.items():
            text_ = scrape(name)
            for line in lines:
                assert line in text_, f"{name} /metrics lacks {line}"
    finally:
        for process in processes.values():
            process.terminate()
        deadline = time.monotonic() + 30
        for process in processes.values():
            try:
                process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
