"""The store's schema, owned by the Alembic migrations beside this module.

`cardak db upgrade` (or `upgrade(url)`) brings a database to the head revision; the store
refuses to start on anything else (`require_head`) and says what to run. A database the store
created for itself before migrations existed is recognised and stamped at the baseline first.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect

from services.store.db import make_engine

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"


class SchemaOutOfDate(RuntimeError):
    """The database is not at the revision this code needs; the message says what to run."""


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head() -> str:
    revision = ScriptDirectory.from_config(alembic_config("")).get_current_head()
    assert revision is not None
    return revision


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(url: str, revision: str = "head") -> tuple[str | None, str | None]:
    """Apply migrations up to `revision`; (revision before, revision after)."""
    engine = make_engine(url)
    try:
        before = current(engine)
        config = alembic_config(url)
        if before is None and inspect(engine).has_table("sightings"):
            command.stamp(config, BASELINE)  # made by create_all before migrations: the baseline
            before = BASELINE
        command.upgrade(config, revision)
        return before, current(engine)
    finally:
        engine.dispose()


def downgrade(url: str, revision: str) -> tuple[str | None, str | None]:
    engine = make_engine(url)
    try:
        before = current(engine)
        command.downgrade(alembic_config(url), revision)
        return before, current(engine)
    finally:
        engine.dispose()


def require_head(engine: Engine) -> None:
    """SchemaOutOfDate unless the database is at the head revision."""
    at, wanted = current(engine), head()
    if at == wanted:
        return
    where = "has no Cardak schema yet" if at is None else f"is at schema revision {at}"
    raise SchemaOutOfDate(
        f"the database ({engine.url.render_as_string(hide_password=True)}) {where}; this store needs {wanted}. "
        "Run `cardak db upgrade` with the same DATABASE_URL (in Kubernetes: the migration Job)."
    )
