"""A collection point's tables: applications (one open per person and ground), refusals,
handovers and the applications' audit trail.

Revision ID: point_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "point_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

INSTANT = sa.DateTime(timezone=True)  # station.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("point_code", sa.String(16), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("scheme", sa.String(32), nullable=False),
        sa.Column("ground", sa.String(32), nullable=False),
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("person_key", sa.String(1000), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("accepted_at", INSTANT, nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("pinfl", sa.String(14), nullable=True),
        sa.Column("card", sa.String(9), nullable=True),
        sa.Column("submitted_at", INSTANT, nullable=True),
        sa.Column("returned_at", INSTANT, nullable=True),
        sa.Column("fee_waived", sa.Boolean(), nullable=False),
        sa.Column("waiver_reason", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_applications"),
    )
    op.create_index("ix_applications_due_date", "applications", ["due_date"])
    # One open application per person and ground: a partial unique index on both databases.
    op.create_index(
        "uq_applications_open_person_key_ground", "applications", ["person_key", "ground"],
        unique=True, sqlite_where=sa.text("open"), postgresql_where=sa.text("open"),
    )
    op.create_table(
        "refusals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=True),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("person", sa.Text(), nullable=False),
        sa.Column("notice_sha256", sa.String(64), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name="fk_refusals_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_refusals"),
    )
    op.create_index("ix_refusals_application_id", "refusals", ["application_id"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("card", sa.String(9), nullable=False),
        sa.Column("receiver_role", sa.String(16), nullable=False),
        sa.Column("receiver_name", sa.String(200), nullable=False),
        sa.Column("receiver_document", sa.String(64), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name="fk_handovers_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_handovers"),
        sa.UniqueConstraint("application_id", name="uq_handovers_application_id"),
    )
    op.create_table(
        "point_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("what", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"], ["applications.id"],
            name="fk_point_events_application_id_applications",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_point_events"),
    )
    op.create_index("ix_point_events_application_id", "point_events", ["application_id"])


def downgrade() -> None:
    op.drop_index("ix_point_events_application_id", table_name="point_events")
    op.drop_table("point_events")
    op.drop_table("handovers")
    op.drop_index("ix_refusals_application_id", table_name="refusals")
    op.drop_table("refusals")
    op.drop_index("uq_applications_open_person_key_ground", table_name="applications")
    op.drop_index("ix_applications_due_date", table_name="applications")
    op.drop_table("applications")
