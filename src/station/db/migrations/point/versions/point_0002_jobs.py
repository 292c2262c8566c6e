"""A collection point's personalization: the blank stock and the personalization jobs.

Revision ID: point_0002
Revises: point_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "point_0002"
down_revision: str | None = "point_0001"
branch_labels: str | None = None
depends_on: str | None = None

INSTANT = sa.DateTime(timezone=True)  # station.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "blanks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(64), nullable=False),
        sa.Column("historical", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("received_at", INSTANT, nullable=False),
        sa.Column("ended_at", INSTANT, nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(36), nullable=True),
        sa.Column("card", sa.String(9), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_blanks"),
        sa.UniqueConstraint("serial", name="uq_blanks_serial"),
    )
    op.create_index("ix_blanks_batch", "blanks", ["batch"])
    op.create_index("ix_blanks_status", "blanks", ["status"])
    op.create_index("ix_blanks_job_id", "blanks", ["job_id"])
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("application_id", sa.String(36), nullable=False),
        sa.Column("reader", sa.String(64), nullable=False),
        sa.Column("card", sa.String(9), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("step", sa.String(32), nullable=True),
        sa.Column("phase", sa.String(32), nullable=False),
        sa.Column("blank_id", sa.Integer(), nullable=True),
        sa.Column("blanks_used", sa.Integer(), nullable=False),
        sa.Column("can", sa.String(16), nullable=False),
        sa.Column("personalized_at", INSTANT, nullable=True),
        sa.Column("chip_keys", sa.LargeBinary(), nullable=True),
        sa.Column("k_perso", sa.LargeBinary(), nullable=True),
        sa.Column("lds", sa.Text(), nullable=True),
        sa.Column("esign_serial", sa.String(40), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("updated_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["applications.id"],
                                name="fk_jobs_application_id_applications"),
        sa.ForeignKeyConstraint(["blank_id"], ["blanks.id"], name="fk_jobs_blank_id_blanks"),
        sa.PrimaryKeyConstraint("id", name="pk_jobs"),
    )
    op.create_index("uq_jobs_application_id", "jobs", ["application_id"], unique=True)
    op.create_index("ix_jobs_status", "jobs", ["status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_status", table_name="jobs")
    op.drop_index("uq_jobs_application_id", table_name="jobs")
    op.drop_table("jobs")
    op.drop_index("ix_blanks_job_id", table_name="blanks")
    op.drop_index("ix_blanks_status", table_name="blanks")
    op.drop_index("ix_blanks_batch", table_name="blanks")
    op.drop_table("blanks")
