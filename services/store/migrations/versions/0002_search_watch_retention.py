"""Fuzzy search, cameras, watch lists and alerts, image retention.

- sightings.plate_key (look-alike characters folded, services/store/fuzzy.py), backfilled;
- sightings.image_dropped_at, set when retention drops the image;
- every sightings index ends in (captured_at, id), the sort order and page cursor;
- cameras (first and last seen, backfilled from sightings), watch_entries, alerts.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from services.store.fuzzy import plate_key

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_OLD_INDEXES = {"ix_sightings_plate_time": ["plate", "captured_at"], "ix_sightings_camera_time": ["camera_id", "captured_at"],
                "ix_sightings_time": ["captured_at"]}
_NEW_INDEXES = {"ix_sightings_plate_time": ["plate", "captured_at", "id"],
                "ix_sightings_plate_key_time": ["plate_key", "captured_at", "id"],
                "ix_sightings_camera_time": ["camera_id", "captured_at", "id"], "ix_sightings_time": ["captured_at", "id"]}


def upgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("plate_key", sa.String(16), nullable=False, server_default=""))
        batch.add_column(sa.Column("image_dropped_at", sa.DateTime(timezone=True), nullable=True))
    sightings = sa.table("sightings", sa.column("id", sa.String), sa.column("plate", sa.String), sa.column("plate_key", sa.String))
    conn = op.get_bind()
    plates = [row.plate for row in conn.execute(sa.select(sightings.c.plate).where(sightings.c.plate != "").distinct())]
    for plate in plates:
        conn.execute(sa.update(sightings).where(sightings.c.plate == plate).values(plate_key=plate_key(plate)))
    for name in _OLD_INDEXES:
        op.drop_index(name, table_name="sightings")
    for name, columns in _NEW_INDEXES.items():
        op.create_index(name, "sightings", columns)

    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.execute(
        "INSERT INTO cameras (id, first_seen_at, last_seen_at) "
        "SELECT camera_id, MIN(created_at), MAX(created_at) FROM sightings GROUP BY camera_id"
    )
    op.create_table(
        "watch_entries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("plate_key", sa.String(16), nullable=False),
        sa.Column("fuzzy", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("plate", "fuzzy"),
    )
    op.create_index("ix_watch_entries_plate_key", "watch_entries", ["plate_key"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sighting_id", sa.String(36), sa.ForeignKey("sightings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("watch_id", sa.Integer(), sa.ForeignKey("watch_entries.id", ondelete="CASCADE"), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("sighting_id", "watch_id"),
    )
    op.create_index("ix_alerts_time", "alerts", ["raised_at"])
    op.create_index("ix_alerts_watch_id", "alerts", ["watch_id"])


def downgrade() -> None:
    op.drop_table("alerts")
    op.drop_table("watch_entries")
    op.drop_table("cameras")
    for name in _NEW_INDEXES:
        op.drop_index(name, table_name="sightings")
    for name, columns in _OLD_INDEXES.items():
        op.create_index(name, "sightings", columns)
    with op.batch_alter_table("sightings") as batch:
        batch.drop_column("image_dropped_at")
        batch.drop_column("plate_key")
