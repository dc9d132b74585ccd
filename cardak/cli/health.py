"""`cardak health [SERVICE]`: exit 0 when the service answers SERVING on grpc.health.v1.

The image's HEALTHCHECK and docker compose's health checks run this inside the container
(Kubernetes uses its native gRPC probes instead). SERVICE defaults to $CARDAK_SERVICE.
"""

from __future__ import annotations

import os

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from rich.console import Console

from services.common.settings import MeshSettings


def check(service: str | None, timeout: float, console: Console) -> int:
    service = service or os.environ.get("CARDAK_SERVICE", "")
    if service not in ("ingest", "ocr", "enrich", "store"):
        console.print("[red]error:[/] name the service (ingest, ocr, enrich or store) or set CARDAK_SERVICE")
        return 2
    addr = getattr(MeshSettings(), f"{service}_addr")
    host, _, port = addr.rpartition(":")
    if host in ("0.0.0.0", "[::]", "::", ""):
        addr = f"127.0.0.1:{port}"  # a service listening on every interface answers on loopback
    with grpc.insecure_channel(addr) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=timeout)
        except grpc.RpcError as exc:
            console.print(f"{service} at {addr}: {exc.code().name}")  # type: ignore[attr-defined]
            return 1
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    console.print(f"{service} at {addr}: {status}")
    return 0 if reply.status == health_pb2.HealthCheckResponse.SERVING else 1
