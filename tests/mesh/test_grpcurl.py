"""A real third-party client, grpcurl, finds every service through reflection and health."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cardak.cli.mesh import Mesh

GRPCURL = shutil.which("grpcurl") or str(Path(sys.executable).parent / "grpcurl")
EXPECTED = {
    "ingest": "cardak.v1.IngestService",
    "ocr": "cardak.v1.OcrService",
    "enrich": "cardak.v1.EnrichService",
    "store": "cardak.v1.StoreService",
}


def grpcurl(*args: str) -> str:
    done = subprocess.run([GRPCURL, "-plaintext", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_reflection_lists_and_describes_the_service(mesh: Mesh, service: str) -> None:
    addr = mesh.addrs[service]
    listed = grpcurl(addr, "list").split()
    assert EXPECTED[service] in listed
    assert "grpc.health.v1.Health" in listed
    described = grpcurl(addr, "describe", EXPECTED[service])
    assert f"{EXPECTED[service]} is a service" in described


@pytest.mark.parametrize("service", sorted(EXPECTED))
def test_health_check_says_serving(mesh: Mesh, service: str) -> None:
    addr = mesh.addrs[service]
    for name in ("", EXPECTED[service]):
        reply = json.loads(grpcurl("-d", json.dumps({"service": name}), addr, "grpc.health.v1.Health/Check"))
        assert reply == {"status": "SERVING"}


def test_grpcurl_can_call_an_rpc_with_json(mesh: Mesh) -> None:
    out = json.loads(grpcurl("-d", '{"vin": "1HGCM82633A004352"}', mesh.addrs["enrich"], "cardak.v1.EnrichService/DecodeVin"))
    assert out["make"] == "HONDA" and out["model_year"] == 2003
