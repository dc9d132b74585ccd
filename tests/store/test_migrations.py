"""The Alembic migrations on SQLite and the machine's PostgreSQL: up, down, up again; the models
describe the head revision; a database made before migrations is adopted; the store refuses an
unmigrated database with a message that says what to run."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from services.store.db import make_engine
from services.store.models import Base
from services.store.schema import alembic_config, current, downgrade, head, upgrade
from tests.support import free_port

TABLES = {"vehicles", "sightings", "plate_reads", "cameras", "watch_entries", "alerts", "tracks"}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_up_down_up(empty_url: str) -> None:
    assert upgrade(empty_url) == (None, head())
    assert _tables(empty_url) == TABLES
    assert downgrade(empty_url, "0001") == (head(), "0001")
    assert _tables(empty_url) == {"vehicles", "sightings", "plate_reads"}
    assert downgrade(empty_url, "base") == ("0001", None)
    assert _tables(empty_url) == set()
    assert upgrade(empty_url) == (None, head())
    assert upgrade(empty_url) == (head(), head())  # a second run changes nothing


def test_models_describe_the_head_revision(empty_url: str) -> None:
    upgrade(empty_url)
    engine = make_engine(empty_url)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert differences == []


def test_database_made_before_migrations_is_adopted_and_backfilled(empty_url: str) -> None:
    from alembic import command

    command.upgrade(alembic_config(empty_url), "0001")
    engine = make_engine(empty_url)
    now = datetime(2024, 1, 1, tzinfo=timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE alembic_version"))  # as create_all left it
        conn.execute(
            text("INSERT INTO sightings (id, camera_id, captured_at, status, plate, image_ref, created_at, updated_at) "
                 "VALUES ('s1', 'gate', :t, 1, 'SNNYO92', 'blob:1', :t, :t)"),
            {"t": now},
        )
    assert upgrade(empty_url) == ("0001", head())
    with engine.connect() as conn:
        assert conn.execute(text("SELECT plate, plate_key FROM sightings")).one() == ("SNNYO92", "5NNY092")
        assert conn.execute(text("SELECT id FROM cameras")).scalar_one() == "gate"
    assert current(engine) == head()
    engine.dispose()


def test_store_refuses_an_unmigrated_database_and_says_what_to_run(tmp_path: object) -> None:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path}/empty.db", CARDAK_STORE_ADDR=f"127.0.0.1:{free_port()}")
    done = subprocess.run([sys.executable, "-m", "services.store"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "has no Cardak schema yet" in done.stderr
    assert "Run `cardak db upgrade`" in done.stderr


def test_cli_upgrades_and_reports(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    cli = [sys.executable, "-m", "cardak.cli", "db"]
    behind = subprocess.run([*cli, "current", "--database-url", url], capture_output=True, text=True, timeout=60)
    assert behind.returncode == 3 and "revision none (empty database)" in behind.stdout
    done = subprocess.run([*cli, "upgrade", "--database-url", url], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"empty -> {head()}" in done.stdout
    again = subprocess.run([*cli, "current", "--database-url", url], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and f"revision {head()}" in again.stdout
