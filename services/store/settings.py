from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field

from services.common.settings import MeshSettings
from services.store import tracks


def _default_database_url() -> str:
    return f"sqlite:///{Path.home() / '.cardak' / 'cardak.db'}"


class StoreSettings(MeshSettings):
    database_url: str = Field(
        default_factory=_default_database_url,
        validation_alias=AliasChoices("DATABASE_URL", "CARDAK_DATABASE_URL"),
        description="SQLAlchemy URL: postgresql+psycopg2://... in production, a SQLite file by default",
    )
    track_gap_seconds: float = Field(
        tracks.DEFAULT_GAP.total_seconds(), description="Frames of one camera this close that read as one plate are voted on as one track; 0: off"
    )
    watch_buffer: int = Field(1000, description="Events queued per watcher before a slow one is cut off")
    image_retention_days: float = Field(30.0, description="`cardak store prune` drops images older than this; 0 keeps them")
    sighting_retention_days: float = Field(365.0, description="`cardak store prune` deletes sightings older than this; 0 keeps them")
