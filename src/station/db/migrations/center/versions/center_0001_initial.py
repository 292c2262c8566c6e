"""The Center's tables: points, operators, persons and PINFL blocks, card series, requests, the
card registry with its status history, and the outbox of e-signature revocations.

Revision ID: center_0001
Revises:
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "center_0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

INSTANT = sa.DateTime(timezone=True)  # station.db.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "points",
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("place_code", sa.String(3), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.PrimaryKeyConstraint("code", name="pk_points"),
    )
    op.create_table(
        "operators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("point_code", sa.String(16), nullable=False),
        sa.Column("login", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_code"], ["points.code"], name="fk_operators_point_code_points"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_operators"),
        sa.UniqueConstraint("point_code", "login", name="uq_operators_point_code_login"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pinfl", sa.String(14), nullable=False),
        sa.Column("demographic_key", sa.String(1000), nullable=False),
        sa.Column("surname_lat", sa.String(200), nullable=False),
        sa.Column("given_name_lat", sa.String(200), nullable=False),
        sa.Column("patronymic_lat", sa.String(200), nullable=False),
        sa.Column("surname_cyr", sa.String(200), nullable=False),
        sa.Column("given_name_cyr", sa.String(200), nullable=False),
        sa.Column("patronymic_cyr", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(1), nullable=False),
        sa.Column("place_of_birth", sa.String(200), nullable=False),
        sa.Column("nationality", sa.String(64), nullable=False),
        sa.Column("citizenship", sa.String(3), nullable=False),
        sa.Column("address", sa.String(500), nullable=False),
        sa.Column("foreign_document", sa.String(64), nullable=True),
        sa.Column("father_pinfl", sa.String(14), nullable=True),
        sa.Column("mother_pinfl", sa.String(14), nullable=True),
        sa.Column("pinfl_generated", sa.Boolean(), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("created_by_point", sa.String(16), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_point"], ["points.code"], name="fk_persons_created_by_point_points"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_persons"),
        sa.UniqueConstraint("demographic_key", name="uq_persons_demographic_key"),
        sa.UniqueConstraint("pinfl", name="uq_persons_pinfl"),
    )
    op.create_table(
        "pinfl_blocks",
        sa.Column("prefix", sa.String(10), nullable=False),
        sa.Column("next_serial", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name="pk_pinfl_blocks"),
    )
    op.create_table(
        "card_series",
        sa.Column("series", sa.String(2), nullable=False),
        sa.Column("next_number", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("series", name="pk_card_series"),
    )
    op.create_index(
        "uq_card_series_one_active", "card_series", ["active"], unique=True,
        sqlite_where=sa.text("active"), postgresql_where=sa.text("active"),
    )
    op.create_table(
        "requests",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("point_code", sa.String(16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(32), nullable=False),
        sa.Column("ground", sa.String(32), nullable=False),
        sa.Column("operator", sa.String(64), nullable=False),
        sa.Column("received_at", INSTANT, nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name="fk_requests_person_id_persons"
        ),
        sa.ForeignKeyConstraint(
            ["point_code"], ["points.code"], name="fk_requests_point_code_points"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
    )
    op.create_index("ix_requests_person_id", "requests", ["person_id"])
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(2), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("point_code", sa.String(16), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("esign_serial", sa.String(64), nullable=True),
        sa.Column("esign_fingerprint", sa.String(64), nullable=True),
        sa.Column("oneid_event_id", sa.String(64), nullable=True),
        sa.Column("previous_card_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name="fk_cards_person_id_persons"),
        sa.ForeignKeyConstraint(
            ["point_code"], ["points.code"], name="fk_cards_point_code_points"
        ),
        sa.ForeignKeyConstraint(
            ["previous_card_id"], ["cards.id"], name="fk_cards_previous_card_id_cards"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"], ["requests.id"], name="fk_cards_request_id_requests"
        ),
        sa.ForeignKeyConstraint(
            ["series"], ["card_series.series"], name="fk_cards_series_card_series"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cards"),
        sa.UniqueConstraint("request_id", name="uq_cards_request_id"),
        sa.UniqueConstraint("series", "number", name="uq_cards_series_number"),
    )
    op.create_index("ix_cards_person_id", "cards", ["person_id"])
    op.create_table(
        "card_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("at", INSTANT, nullable=False),
        sa.Column("by", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name="fk_card_events_card_id_cards"),
        sa.PrimaryKeyConstraint("id", name="pk_card_events"),
    )
    op.create_index("ix_card_events_card_id", "card_events", ["card_id"])
    op.create_table(
        "revocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.Integer(), nullable=False),
        sa.Column("esign_serial", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("created_at", INSTANT, nullable=False),
        sa.Column("applied_at", INSTANT, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["card_id"], ["cards.id"], name="fk_revocations_card_id_cards"),
        sa.PrimaryKeyConstraint("id", name="pk_revocations"),
    )
    op.create_index("ix_revocations_card_id", "revocations", ["card_id"])


def downgrade() -> None:
    op.drop_index("ix_revocations_card_id", table_name="revocations")
    op.drop_table("revocations")
    op.drop_index("ix_card_events_card_id", table_name="card_events")
    op.drop_table("card_events")
    op.drop_index("ix_cards_person_id", table_name="cards")
    op.drop_table("cards")
    op.drop_index("ix_requests_person_id", table_name="requests")
    op.drop_table("requests")
    op.drop_index("uq_card_series_one_active", table_name="card_series")
    op.drop_table("card_series")
    op.drop_table("pinfl_blocks")
    op.drop_table("persons")
    op.drop_table("operators")
    op.drop_table("points")
