"""The store's tables (SQLAlchemy 2.0). Only the store service touches them.

The schema itself is owned by the Alembic migrations in services/store/migrations/ (`cardak db
upgrade`); these classes must describe the head revision, which tests/store/test_migrations.py
checks on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Vehicle(Base):
    """The latest profile of a plate in a region."""

    __tablename__ = "vehicles"
    __table_args__ = (UniqueConstraint("plate", "region"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16))
    region: Mapped[str] = mapped_column(String(8), default="")
    vin: Mapped[str] = mapped_column(String(17), default="")
    model_year: Mapped[int] = mapped_column(Integer, default=0)
    make: Mapped[str] = mapped_column(String(64), default="")
    model: Mapped[str] = mapped_column(String(64), default="")
    body_class: Mapped[str] = mapped_column(String(64), default="")
    fuel_type: Mapped[str] = mapped_column(String(64), default="")
    source: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[int] = mapped_column(Integer)
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attributes: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class Camera(Base):
    """A camera as the store has seen it: ids are chosen by the cameras and edge nodes."""

    __tablename__ = "cameras"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Track(Base):
    """A camera's consecutive sightings of one vehicle and the plate their frames vote for
    (services/store/tracks.py): `support` is that plate's share of the frames' confidence."""

    __tablename__ = "tracks"
    __table_args__ = (Index("ix_tracks_camera_last_seen", "camera_id", "last_seen_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    plate: Mapped[str] = mapped_column(String(16), default="")
    plate_key: Mapped[str] = mapped_column(String(16), default="")
    support: Mapped[float] = mapped_column(Float, default=0.0)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Sighting(Base):
    """One image from one camera; `plate` is its best read and `plate_key` that read with
    look-alike characters folded together (services/store/fuzzy.py), both denormalised for search.
    Every index ends in (captured_at, id): the order of results and of the page cursor."""

    __tablename__ = "sightings"
    __table_args__ = (
        Index("ix_sightings_plate_time", "plate", "captured_at", "id"),
        Index("ix_sightings_plate_key_time", "plate_key", "captured_at", "id"),
        Index("ix_sightings_camera_time", "camera_id", "captured_at", "id"),
        Index("ix_sightings_time", "captured_at", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    captured_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[int] = mapped_column(Integer)
    plate: Mapped[str] = mapped_column(String(16), default="")
    plate_key: Mapped[str] = mapped_column(String(16), default="")
    image_ref: Mapped[str] = mapped_column(String(128), default="")
    # Set when retention dropped the image (image_ref is then empty); the reads stay.
    image_dropped_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    vehicle_id: Mapped[int | None] = mapped_column(ForeignKey("vehicles.id"))
    track_id: Mapped[str | None] = mapped_column(ForeignKey("tracks.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    reads: Mapped[list[PlateRead]] = relationship(
        order_by="PlateRead.rank", cascade="all, delete-orphan", lazy="selectin"
    )
    vehicle: Mapped[Vehicle | None] = relationship(lazy="joined")
    track: Mapped[Track | None] = relationship(lazy="joined")


class PlateRead(Base):
    """One plate read in a sighting's image; rank 0 is the best."""

    __tablename__ = "plate_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[str] = mapped_column(ForeignKey("sightings.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(16))
    confidence: Mapped[float] = mapped_column(Float)
    candidates: Mapped[list[list[str | float]]] = mapped_column(JSON, default=list)
    box_x: Mapped[int] = mapped_column(Integer, default=0)
    box_y: Mapped[int] = mapped_column(Integer, default=0)
    box_width: Mapped[int] = mapped_column(Integer, default=0)
    box_height: Mapped[int] = mapped_column(Integer, default=0)
    region: Mapped[str] = mapped_column(String(8), default="")
    raw_text: Mapped[str] = mapped_column(String(64), default="")


class WatchEntry(Base):
    """A plate on the watch list: `fuzzy` entries match any read with the same plate_key."""

    __tablename__ = "watch_entries"
    __table_args__ = (
        UniqueConstraint("plate", "fuzzy"),
        Index("ix_watch_entries_plate_key", "plate_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16))
    plate_key: Mapped[str] = mapped_column(String(16))
    fuzzy: Mapped[bool] = mapped_column(Boolean, default=False)
    label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Alert(Base):
    """A sighting that matched a watch entry; at most one per (sighting, entry), so a retried
    read raises nothing twice."""

    __tablename__ = "alerts"
    __table_args__ = (
        UniqueConstraint("sighting_id", "watch_id"),
        Index("ix_alerts_time", "raised_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sighting_id: Mapped[str] = mapped_column(ForeignKey("sightings.id", ondelete="CASCADE"))
    watch_id: Mapped[int] = mapped_column(ForeignKey("watch_entries.id", ondelete="CASCADE"), index=True)
    plate: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200), default="")
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
