"""A collection point's biometric captures, encrypted at rest (AES-256-GCM).

Revision ID: point_0003
Revises: point_0002
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "point_0003"
down_revision: str | None = "point_0002"
branch_labels: str | None = None
depends_on: str | None = None

INSTANT = sa.DateTime(timezone=True)  # station.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "biometric_captures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("quality", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("key_id", sa.String(64), nullable=True),
        sa.Column("sealed", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name="fk_biometric_captures_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_biometric_captures"),
        sa.UniqueConstraint(
            "application_id", "position", name="uq_biometric_captures_application_id_position"
        ),
    )
    op.create_index(
        "ix_biometric_captures_application_id", "biometric_captures", ["application_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_biometric_captures_application_id", table_name="biometric_captures")
    op.drop_table("biometric_captures")
