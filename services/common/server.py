"""The one way a Cardak service starts: gRPC server, health, reflection, graceful stop.

    serve(settings, service="store", addr=settings.store_addr, apis=[GrpcApi(...)])

Health starts NOT_SERVING and turns SERVING only after `start_up` has returned (models
loaded, database reachable), so probes and `cardak up` wait for real readiness. On SIGTERM
or SIGINT health goes NOT_SERVING, background workers stop (finishing or releasing their
leases), then the server drains in-flight RPCs for `grace_seconds`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.common.channels import message_size_options
from services.common.interceptors import ErrorStatusInterceptor
from services.common.settings import MeshSettings

log = logging.getLogger("cardak.server")


@dataclass(frozen=True)
class GrpcApi:
    """One gRPC service to host: its full name, its generated `add_*_to_server`, its servicer."""

    name: str
    add_to_server: Callable[[Any, grpc.Server], None]
    servicer: object


class Background(Protocol):
    """Work that runs beside the server, e.g. a sentinel.Worker."""

    def start(self) -> Any: ...

    def stop(self, grace: float = ...) -> None: ...


def api(descriptor_module: Any, service_name: str, add_to_server: Callable[[Any, grpc.Server], None], servicer: object) -> GrpcApi:
    """A GrpcApi whose full name comes from the generated descriptor, never a hand-typed string."""
    return GrpcApi(descriptor_module.DESCRIPTOR.services_by_name[service_name].full_name, add_to_server, servicer)


def serve(
    settings: MeshSettings,
    *,
    service: str,
    addr: str,
    apis: Sequence[GrpcApi],
    start_up: Callable[[], Sequence[Background]] | None = None,
    collectors: Sequence[Any] = (),
) -> NoReturn:
    """Run a service until SIGTERM/SIGINT, then exit the process. `start_up` runs after the port is bound and returns
    the background workers to start once the service is ready. `collectors` (e.g. a
    sentinel.metrics.QueueCollector) are exported on /metrics when CARDAK_METRICS_ADDR is set."""
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=settings.server_threads, thread_name_prefix=f"{service}-rpc"),
        options=message_size_options(settings.max_message_bytes),
        maximum_concurrent_rpcs=settings.server_threads * 4,
        interceptors=[ErrorStatusInterceptor()],
    )
    health_servicer = health.HealthServicer(experimental_non_blocking=True)
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    for item in apis:
        item.add_to_server(item.servicer, server)
    names = [item.name for item in apis]
    reflection.enable_server_reflection(
        [*names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME], server
    )
    for name in ["", *names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)

    try:
        if settings.tls_cert_file:
            with open(settings.tls_cert_file, "rb") as cert, open(settings.tls_key_file, "rb") as key:
                server.add_secure_port(addr, grpc.ssl_server_credentials([(key.read(), cert.read())]))
        else:
            server.add_insecure_port(addr)
    except OSError as exc:
        sys.exit(f"cardak {service}: cannot read the TLS certificate or key: {exc}")
    except RuntimeError as exc:
        log.error("cannot listen", extra={"addr": addr, "error": str(exc)})
        sys.exit(f"cardak {service}: cannot listen on {addr}: is another process using it?")
    server.start()
    log.info("listening", extra={"addr": addr, "apis": names})
    if settings.metrics_addr:
        _serve_metrics(settings.metrics_addr, collectors)

    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda signum, _frame: stopping.set())

    workers: Sequence[Background] = ()
    try:
        workers = start_up() if start_up else ()
    except Exception:
        log.exception("start-up failed")
        server.stop(0)
        sys.exit(f"cardak {service}: start-up failed (see the log above)")
    for worker in workers:
        worker.start()
    for name in ["", *names]:
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    log.info("serving", extra={"addr": addr, "workers": len(workers)})

    # Python runs signal handlers only in the main thread, and a wait with no timeout is not
    # woken when the kernel delivers SIGTERM to another thread (gRPC's, PyTorch's): poll.
    while not stopping.wait(0.5):
        pass
    log.info("stopping", extra={"grace_seconds": settings.grace_seconds})
    health_servicer.enter_graceful_shutdown()
    # All at once: one grace in all, and none keeps taking work while another drains.
    stoppers = [threading.Thread(target=worker.stop, args=(settings.grace_seconds,)) for worker in workers]
    for stopper in stoppers:
        stopper.start()
    for stopper in stoppers:
        stopper.join()
    server.stop(settings.grace_seconds).wait()
    log.info("stopped")
    logging.shutdown()
    # Every lease is settled or released and the server is drained. A handler still inside
    # native code (a PyTorch forward pass past its grace) would abort a normal interpreter
    # exit, so leave at once.
    os._exit(0)


def _serve_metrics(addr: str, collectors: Sequence[Any]) -> None:
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Several processes of one service (CARDAK_WORKER_PROCESSES): the sum over their files.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    host, _, port = addr.rpartition(":")
    for collector in collectors:
        registry.register(collector)
    start_http_server(int(port), addr=host or "0.0.0.0", registry=registry)
    log.info("metrics", extra={"addr": addr, "path": "/metrics"})
