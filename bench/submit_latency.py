"""Accept latency of IngestService.Submit: N calls of a ~200 KB JPEG, one at a time.

    python bench/submit_latency.py [--calls 1000] [--json]

Starts a real ingest process on a loopback port (Redis from REDIS_URL, else embedded) with
a queue nobody consumes, so what is timed is the request path alone: validate, keep the
blob, enqueue, answer.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import grpc
from PIL import Image

# The repo root instead of bench/, whose queue.py would shadow the stdlib queue module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench._common import latency_row, print_table  # noqa: E402
from cardak.cli.mesh import Mesh  # noqa: E402
from cardak.v1 import ingest_pb2, ingest_pb2_grpc  # noqa: E402
from tests.support import free_port  # noqa: E402


def image_of_size(target: int) -> bytes:
    """A noisy JPEG of about `target` bytes (noise does not compress, like a real scene)."""
    side = 320
    while True:
        data = io.BytesIO()
        Image.effect_noise((side, side * 3 // 4), 60).convert("RGB").save(data, "JPEG", quality=85)
        if data.tell() >= target:
            return data.getvalue()
        side += 32


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    image = image_of_size(200_000)
    env = dict(
        os.environ,
        CARDAK_NAMESPACE=f"bench-{uuid.uuid4().hex[:8]}",
        CARDAK_OCR_QUEUE="bench-unconsumed",
        CARDAK_OCR_QUEUE_MAX_DEPTH=str(args.calls + args.warmup + 10),
        CARDAK_INGEST_ADDR=f"127.0.0.1:{free_port()}",
        CARDAK_BLOB_TTL_SECONDS="120",
    )
    home = Path(tempfile.mkdtemp(prefix="cardak-bench-"))
    mesh = Mesh(home=home, env=env, services=("ingest",))
    try:
        mesh.start(timeout=60)
        channel = grpc.insecure_channel(mesh.addrs["ingest"], options=[("grpc.max_send_message_length", 16 << 20)])
        stub = ingest_pb2_grpc.IngestServiceStub(channel)
        timings: list[float] = []
        for i in range(args.warmup + args.calls):
            frame = ingest_pb2.Frame(camera_id="bench", image=image, idempotency_key=f"k{i}")
            started = time.perf_counter()
            reply = stub.Submit(frame, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            assert reply.status == ingest_pb2.FRAME_STATUS_QUEUED
            if i >= args.warmup:
                timings.append(elapsed)
        channel.close()
    finally:
        mesh.stop()
    row = latency_row(timings)
    row["image_kb"] = round(len(image) / 1000, 1)
    row["calls_per_s"] = round(len(timings) / (sum(timings) / 1000), 1)
    print_table(f"IngestService.Submit accept latency ({len(timings)} calls, one at a time)", {"Submit": row})
    if args.json:
        print(json.dumps({"submit": row}))


if __name__ == "__main__":
    main()
