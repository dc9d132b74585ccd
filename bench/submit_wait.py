"""`cardak submit --wait` on the shipped sample: the first call after the mesh starts, then warm calls.

    python bench/submit_wait.py [--warm 5] [--json]

Starts a fresh mesh (REDIS_URL / DATABASE_URL when set, embedded defaults otherwise) and
times the whole command as a person runs it (process start, submit, OCR, enrichment, table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The repo root instead of bench/, whose queue.py would shadow the stdlib queue module.
sys.path[0] = str(Path(__file__).resolve().parent.parent)

from bench._common import latency_row, print_table  # noqa: E402
from cardak.cli.mesh import SERVICES, Mesh  # noqa: E402
from cardak.samples import SAMPLE_FLEET, SAMPLE_IMAGE, SAMPLE_PLATE  # noqa: E402
from tests.support import free_port  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warm", type=int, default=5, help="warm calls after the first")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    env = dict(os.environ, CARDAK_FLEET_FILE=str(SAMPLE_FLEET), CARDAK_NAMESPACE=f"bench-{os.getpid()}")
    env.update({f"CARDAK_{name.upper()}_ADDR": f"127.0.0.1:{free_port()}" for name in SERVICES})
    home = Path(tempfile.mkdtemp(prefix="cardak-bench-"))
    mesh = Mesh(home=home, env=env)
    started = time.perf_counter()
    mesh.start()
    start_s = time.perf_counter() - started
    cli_env = {**env, **mesh.env, "COLUMNS": "200"}
    runs: list[float] = []
    try:
        for _ in range(1 + args.warm):
            t0 = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "cardak.cli", "submit", str(SAMPLE_IMAGE), "--wait"],
                env=cli_env, capture_output=True, text=True, timeout=300,
            )
            runs.append((time.perf_counter() - t0) * 1000)
            if done.returncode != 0 or SAMPLE_PLATE not in done.stdout:
                sys.exit(f"submit failed:\n{done.stdout}\n{done.stderr}")
    finally:
        mesh.stop()
    rows = {
        "first call": latency_row(runs[:1]),
        "warm calls": latency_row(runs[1:]),
    }
    print(f"mesh start (all four services SERVING, OCR model loaded): {start_s:.1f} s")
    print_table("cardak submit --wait on the sample (whole command, ms)", rows)
    if args.json:
        print(json.dumps({"mesh_start_s": round(start_s, 2), "first_ms": round(runs[0]), "warm": rows["warm calls"]}))


if __name__ == "__main__":
    main()
