"""The store's tests run on SQLite and, when DATABASE_URL names a server, PostgreSQL: the same
session databases as tests/unit/test_repository.py, migrated to head."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine

from cardak.v1 import common_pb2, store_pb2
from services.store.db import make_engine
from services.store.repository import SightingRepository
from services.store.schema import upgrade
from services.store.watchlist import WatchList
from tests.support import scratch_database

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("DATABASE_URL", "").startswith("postgresql") else [])


@pytest.fixture(scope="module")
def _engines() -> Iterator[dict[str, Engine]]:
    engines: dict[str, Engine] = {}
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, database_urls: list[str], _engines: dict[str, Engine]) -> Engine:
    [url] = [url for url in database_urls if url.startswith(request.param)]
    if url not in _engines:
        upgrade(url)
        _engines[url] = make_engine(url)
    return _engines[url]


@pytest.fixture
def repo(engine: Engine) -> SightingRepository:
    return SightingRepository(engine)


@pytest.fixture
def watchlist(engine: Engine) -> WatchList:
    return WatchList(engine)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def record(
    repo: SightingRepository, plate: str, camera_id: str, captured_at: datetime, sighting_id: str | None = None,
    image_ref: str = "",
) -> store_pb2.Sighting:
    request = store_pb2.RecordReadRequest(
        sighting_id=sighting_id or uid("s"), camera_id=camera_id, image_ref=image_ref,
        reads=[common_pb2.PlateRead(text=plate, confidence=0.9)],
    )
    request.captured_at.FromDatetime(captured_at.astimezone(timezone.utc))
    return repo.record_read(request).sighting


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new, empty database of each kind."""
    server = os.environ["DATABASE_URL"] if request.param == "postgresql" else None
    with scratch_database(server, tmp_path, "cardak_migrate") as url:
        yield url
