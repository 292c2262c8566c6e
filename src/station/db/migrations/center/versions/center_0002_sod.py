"""The EF.SOD the Center signs for each card (issue 11): ``card_sods``.

Revision ID: center_0002
Revises: center_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "center_0002"
down_revision: str | None = "center_0001"
branch_labels: str | None = None
depends_on: str | None = None

INSTANT = sa.DateTime(timezone=True)  # station.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "card_sods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("point_code", sa.String(16), nullable=False),
        sa.Column("hash_algorithm", sa.String(16), nullable=False),
        sa.Column("hashes_digest", sa.String(64), nullable=False),
        sa.Column("hashes", sa.Text(), nullable=False),
        sa.Column("sod", sa.LargeBinary(), nullable=False),
        sa.Column("ds_serial", sa.String(64), nullable=False),
        sa.Column("signed_at", INSTANT, nullable=False),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name="fk_card_sods_card_id_cards"),
        sa.ForeignKeyConstraint(
            ["point_code"], ["points.code"], name="fk_card_sods_point_code_points"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_card_sods"),
        sa.UniqueConstraint("card_id", "hashes_digest", name="uq_card_sods_card_id_hashes_digest"),
    )
    op.create_index("ix_card_sods_card_id", "card_sods", ["card_id"])


def downgrade() -> None:
    op.drop_index("ix_card_sods_card_id", table_name="card_sods")
    op.drop_table("card_sods")
