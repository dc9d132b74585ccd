"""How many frames a second the edge agent can gate and send, what each frame costs, its peak
memory, and an estimate for a Raspberry Pi 4.

    python bench/edge.py [--frames 300] [--width 1280] [--height 720] [--json]

1. Per-stage CPU cost on this machine (in-process, one frame at a time): decoding a camera JPEG,
   the gate (motion + duplicate hash), encoding the JPEG that is sent, writing it to the spool.
2. The agent end to end (`python -m edge` on a folder of frames in which a car-sized block moves
   in every frame, so every frame passes the gate) against a real ingest on loopback with Redis:
   frames per second from first capture to last ack, and the agent's peak RSS.
3. A Raspberry Pi 4 estimate: this machine's per-frame CPU time times PI4_SLOWDOWN, the ratio of
   single-core scores of a Cortex-A72 at 1.5 GHz and a current x86 server core in public
   benchmarks (Geekbench 5 single-core: about 270 against 1,100-1,300; OpenCV's NEON paths are
   about as well tuned as its AVX2 ones), so about 4.5x. An estimate, not a measurement.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

import cv2  # noqa: E402
import numpy as np  # noqa: E402
import redis  # noqa: E402

from bench._common import print_table, redis_url  # noqa: E402
from cardak.cli.mesh import Mesh  # noqa: E402
from edge.gate import Gate, MotionDetector  # noqa: E402
from edge.settings import EdgeSettings  # noqa: E402
from edge.spool import Spool  # noqa: E402
from tests.support import free_port  # noqa: E402

PI4_SLOWDOWN = 4.5


def make_frames(folder: Path, count: int, width: int, height: int) -> list[Path]:
    rng = np.random.default_rng(1)
    background = rng.integers(60, 120, (height, width, 3), dtype=np.uint8)
    paths = []
    for n in range(count):
        frame = background.copy()
        x = int((n % 60) / 60 * (width + 300)) - 300
        cv2.rectangle(frame, (x, height // 2), (x + 300, height // 2 + 150), (30, 30, 170), -1)
        cv2.rectangle(frame, (x + 100, height // 2 + 100), (x + 200, height // 2 + 130), (235, 235, 235), -1)
        path = folder / f"f{n:05d}.jpg"
        cv2.imwrite(str(path), frame, [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths


def stage_costs(paths: list[Path], spool_dir: Path) -> dict[str, float]:
    """CPU milliseconds per frame for each stage (process time, not wall time)."""
    settings = EdgeSettings()
    gate = Gate(MotionDetector(settings.motion_threshold, settings.motion_min_area, None), 0, settings.duplicate_threshold)
    spool = Spool(spool_dir, 1 << 34)
    totals = {"decode": 0.0, "gate": 0.0, "encode": 0.0, "spool": 0.0}
    for n, path in enumerate(paths):
        data = path.read_bytes()
        t0 = time.process_time()
        frame = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        t1 = time.process_time()
        gate.admit(frame, now=float(n))
        t2 = time.process_time()
        _, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, settings.jpeg_quality])
        t3 = time.process_time()
        spool.put(n + 1, jpeg.tobytes())
        t4 = time.process_time()
        for stage, spent in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            totals[stage] += spent
    return {stage: round(total * 1000 / len(paths), 2) for stage, total in totals.items()}


def end_to_end(folder: Path, spool_dir: Path, count: int, redis_url: str, home: Path) -> dict[str, float]:
    namespace = f"bench-edge-{uuid.uuid4().hex[:6]}"
    addr = f"127.0.0.1:{free_port()}"
    env = dict(os.environ, CARDAK_INGEST_ADDR=addr, REDIS_URL=redis_url, CARDAK_NAMESPACE=namespace,
               CARDAK_OCR_QUEUE_MAX_DEPTH=str(count * 2))
    with Mesh(home=home, env=env, services=("ingest",)) as mesh:
        mesh.start(timeout=60)
        agent_env = dict(env, CARDAK_EDGE_SOURCE=str(folder), CARDAK_EDGE_SPOOL_DIR=str(spool_dir), CARDAK_EDGE_CAMERA_ID="bench",
                         CARDAK_EDGE_MAX_FPS="0", CARDAK_EDGE_STATS_SECONDS="60")
        started = time.perf_counter()
        cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run([sys.executable, "-m", "edge"], env=agent_env, capture_output=True, text=True, timeout=600)
        wall = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"the agent failed:\n{done.stderr[-2000:]}")
        summary = [json.loads(line) for line in done.stderr.splitlines() if '"edge agent stopped"' in line][-1]
        queued = redis.Redis.from_url(redis_url).zcard(f"{{{namespace}:ocr}}:ready")
    cpu = (usage.ru_utime + usage.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return {"frames": count, "sent": summary["acked"], "queued_at_ingest": queued, "seconds": round(wall, 2),
            "frames_per_s": round(count / wall, 1), "agent_cpu_ms_per_frame": round(cpu * 1000 / count, 2),
            "agent_peak_rss_mb": round(usage.ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=720)
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL", ""), help="default: REDIS_URL, else embedded")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with redis_url(args.redis_url) as url, tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "frames").mkdir()
        paths = make_frames(root / "frames", args.frames, args.width, args.height)
        costs = stage_costs(paths, root / "spool-stages")
        e2e = end_to_end(root / "frames", root / "spool", args.frames, url, root / "mesh")
    per_frame = sum(costs.values())
    stages = {stage: {"cpu_ms_per_frame": ms, "pi4_estimate_ms": round(ms * PI4_SLOWDOWN, 1)} for stage, ms in costs.items()}
    stages["all (one core)"] = {"cpu_ms_per_frame": round(per_frame, 2), "pi4_estimate_ms": round(per_frame * PI4_SLOWDOWN, 1)}
    print_table(f"Edge agent per frame, {args.width}x{args.height} (this machine; Pi 4 = x{PI4_SLOWDOWN})", stages)
    print_table("Edge agent end to end (a car-sized block crossing the view; real ingest and Redis)", {"agent": e2e})
    pi_fps = 1000 / (e2e["agent_cpu_ms_per_frame"] * PI4_SLOWDOWN)
    print(f"Raspberry Pi 4 estimate: about {pi_fps:.0f} frames/s gated and sent on one core "
          f"({e2e['agent_cpu_ms_per_frame']} ms CPU per frame here x {PI4_SLOWDOWN}); a camera at 30 fps is gated at "
          f"about {1000 / ((costs['decode'] + costs['gate']) * PI4_SLOWDOWN):.0f} frames/s when little moves.")
    if args.json:
        print(json.dumps({"stages_cpu_ms": costs, "end_to_end": e2e, "pi4_slowdown": PI4_SLOWDOWN, "pi4_frames_per_s": round(pi_fps, 1)}))


if __name__ == "__main__":
    main()
