"""Tracks: a camera's consecutive sightings of one vehicle and the plate they vote for.

- tracks (camera, voted plate and its key, support, frames, first and last seen);
- sightings.track_id (set null when a track is deleted), indexed.
Existing sightings stay out of tracks: only sightings recorded from now on are grouped.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("plate_key", sa.String(16), nullable=False),
        sa.Column("support", sa.Float(), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tracks_camera_last_seen", "tracks", ["camera_id", "last_seen_at"])
    with op.batch_alter_table("sightings") as batch:
        batch.add_column(sa.Column("track_id", sa.String(36), nullable=True))
        batch.create_foreign_key("fk_sightings_track_id_tracks", "tracks", ["track_id"], ["id"], ondelete="SET NULL")
        batch.create_index("ix_sightings_track_id", ["track_id"])


def downgrade() -> None:
    with op.batch_alter_table("sightings") as batch:
        batch.drop_index("ix_sightings_track_id")
        batch.drop_constraint("fk_sightings_track_id_tracks", type_="foreignkey")
        batch.drop_column("track_id")
    op.drop_index("ix_tracks_camera_last_seen", table_name="tracks")
    op.drop_table("tracks")
