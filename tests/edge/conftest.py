"""Real processes on loopback for the edge tests: ingest (python -m services.ingest) on a fixed
port that survives a kill and a restart, and the agent (python -m edge)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
import redis

import sentinel
from cardak.cli.mesh import Mesh
from cardak.v1 import tasks_pb2
from tests.support import free_port


class Ingest:
    """An ingest process that can be killed and started again on the same port and queues."""

    def __init__(self, home: Path, redis_url: str) -> None:
        self.home = home
        self.addr = f"127.0.0.1:{free_port()}"
        self.namespace = f"edge-{uuid.uuid4().hex[:8]}"
        self.env = dict(os.environ, CARDAK_INGEST_ADDR=self.addr, REDIS_URL=redis_url, CARDAK_NAMESPACE=self.namespace)
        self.mesh: Mesh | None = None
        self.queues = sentinel.Client(redis.Redis.from_url(redis_url), namespace=self.namespace)

    def start(self, **extra: str) -> None:
        self.mesh = Mesh(home=self.home, env={**self.env, **extra}, services=("ingest",))
        self.mesh.start(timeout=60)

    def kill(self) -> None:
        assert self.mesh is not None
        self.mesh.processes["ingest"].kill()
        self.mesh.processes["ingest"].wait()
        self.mesh.processes.clear()

    def stop(self) -> None:
        if self.mesh is not None:
            self.mesh.stop()

    def sightings(self) -> list[tasks_pb2.OcrTask]:
        """The OCR tasks ingest queued, in queue (FIFO) order: one per new sighting."""
        client = self.queues.redis
        ids = [i.decode() for i in client.zrange(f"{{{self.namespace}:ocr}}:ready", 0, -1)]
        return [tasks_pb2.OcrTask.FromString(client.hget(f"{{{self.namespace}:ocr}}:task:{i}", "payload")) for i in ids]


@pytest.fixture
def ingest(tmp_path: Path, redis_url: str) -> Iterator[Ingest]:
    running = Ingest(tmp_path / "ingest", redis_url)
    yield running
    running.stop()


def write_frames(folder: Path, count: int, start: int = 0) -> Path:
    """`count` small, all different images (so no gate would call two the same)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(start)
    for n in range(start, start + count):
        image = rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)
        cv2.putText(image, str(n), (2, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        cv2.imwrite(str(folder / f"frame-{n:05d}.jpg"), image)
    return folder


def agent_env(ingest: Ingest, spool: Path, source: Path, **extra: str) -> dict[str, str]:
    """Gating off unless asked: these tests are about delivery, not selection."""
    env = dict(os.environ, CARDAK_INGEST_ADDR=ingest.addr, CARDAK_EDGE_CAMERA_ID="gate-7",
               CARDAK_EDGE_SOURCE=str(source), CARDAK_EDGE_SPOOL_DIR=str(spool), CARDAK_EDGE_MOTION="false",
               CARDAK_EDGE_MAX_FPS="0", CARDAK_EDGE_DUPLICATE_THRESHOLD="0", CARDAK_EDGE_BACKOFF_SECONDS="0.2",
               CARDAK_EDGE_BACKOFF_MAX_SECONDS="1", CARDAK_EDGE_STATS_SECONDS="1")
    env.update(extra)
    return env


def start_agent(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "edge"], env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT)
