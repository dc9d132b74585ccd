"""Baseline: the schema the store created for itself before migrations (vehicles, sightings,
plate_reads). A database made that way is stamped at this revision by `cardak db upgrade`.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("vin", sa.String(17), nullable=False),
        sa.Column("model_year", sa.Integer(), nullable=False),
        sa.Column("make", sa.String(64), nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("body_class", sa.String(64), nullable=False),
        sa.Column("fuel_type", sa.String(64), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("fetched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.UniqueConstraint("plate", "region"),
    )
    op.create_table(
        "sightings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("image_ref", sa.String(128), nullable=False),
        sa.Column("vehicle_id", sa.Integer(), sa.ForeignKey("vehicles.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_sightings_plate_time", "sightings", ["plate", "captured_at"])
    op.create_index("ix_sightings_camera_time", "sightings", ["camera_id", "captured_at"])
    op.create_index("ix_sightings_time", "sightings", ["captured_at"])
    op.create_table(
        "plate_reads",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sighting_id", sa.String(36), sa.ForeignKey("sightings.id", ondelete="CASCADE"), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("candidates", sa.JSON(), nullable=False),
        sa.Column("box_x", sa.Integer(), nullable=False),
        sa.Column("box_y", sa.Integer(), nullable=False),
        sa.Column("box_width", sa.Integer(), nullable=False),
        sa.Column("box_height", sa.Integer(), nullable=False),
        sa.Column("region", sa.String(8), nullable=False),
        sa.Column("raw_text", sa.String(64), nullable=False),
    )
    op.create_index("ix_plate_reads_sighting_id", "plate_reads", ["sighting_id"])


def downgrade() -> None:
    op.drop_table("plate_reads")
    op.drop_table("sightings")
    op.drop_table("vehicles")
