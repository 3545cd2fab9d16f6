"""Part II: stations, receptions, deputies' public codes, voters' messages

Liaison stations and their deputies, reception days and the deputies present, each
deputy's public code (old codes kept, retired), voters' messages with their response
clock and log. Tickets gain the channel and message of a forwarded message (nullable
columns: neither engine rewrites the table).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.base import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = "status = 'received'"


def _instant(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "stations",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("district", sa.String(64), nullable=False),
        sa.Column("township", sa.String(200), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("code", name="pk_stations"),
    )
    op.create_index("ix_stations_district", "stations", ["district"])
    op.create_table(
        "station_deputies",
        sa.Column("station_code", sa.String(64), nullable=False),
        sa.Column("deputy_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_code"], ["stations.code"], name="fk_station_deputies_station_code_stations"
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputies.id"], name="fk_station_deputies_deputy_id_deputies"
        ),
        sa.PrimaryKeyConstraint("station_code", "deputy_id", name="pk_station_deputies"),
    )
    op.create_index("ix_station_deputies_deputy_id", "station_deputies", ["deputy_id"])
    op.create_table(
        "receptions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("station_code", sa.String(64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("voters_received", sa.Integer(), nullable=False),
        sa.Column("batches", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _instant("created_at"),
        sa.ForeignKeyConstraint(
            ["station_code"], ["stations.code"], name="fk_receptions_station_code_stations"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_receptions"),
    )
    op.create_index("ix_receptions_station_code_held_on", "receptions", ["station_code", "held_on"])
    op.create_index("ix_receptions_held_on", "receptions", ["held_on"])
    op.create_table(
        "reception_deputies",
        sa.Column("reception_id", sa.String(36), nullable=False),
        sa.Column("deputy_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["reception_id"], ["receptions.id"], name="fk_reception_deputies_reception_id_receptions"
        ),
        sa.ForeignKeyConstraint(
            ["deputy_id"], ["deputies.id"], name="fk_reception_deputies_deputy_id_deputies"
        ),
        sa.PrimaryKeyConstraint("reception_id", "deputy_id", name="pk_reception_deputies"),
    )
    op.create_index("ix_reception_deputies_deputy_id", "reception_deputies", ["deputy_id"])
    op.create_table(
        "deputy_codes",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("deputy_id", sa.String(36), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _instant("created_at"),
        _instant("ended_at", True),
        sa.Column("ended_by", sa.String(100), nullable=True),
        sa.Column("active_for", sa.String(36), nullable=True),
        sa.ForeignKeyConstraint(["deputy_id"], ["deputies.id"], name="fk_deputy_codes_deputy_id_deputies"),
        sa.PrimaryKeyConstraint("code", name="pk_deputy_codes"),
        sa.UniqueConstraint("active_for", name="uq_deputy_codes_active_for"),
    )
    op.create_index("ix_deputy_codes_deputy_id", "deputy_codes", ["deputy_id"])
    op.create_table(
        "messages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("tracking_code", sa.String(32), nullable=False),
        sa.Column("tracking_hash", sa.String(64), nullable=False),
        sa.Column("deputy_id", sa.String(36), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("voter_name", sa.String(100), nullable=True),
        sa.Column("voter_phone", sa.String(32), nullable=True),
        sa.Column("client_address", sa.String(64), nullable=True),
        _instant("voter_erased_at", True),
        sa.Column("district", sa.String(64), nullable=True),
        sa.Column("station_code", sa.String(64), nullable=True),
        sa.Column("reception_id", sa.String(36), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        _instant("received_at"),
        _instant("due_at"),
        _instant("warn_at"),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        _instant("responded_at", True),
        _instant("warned_at", True),
        _instant("breach_recorded_at", True),
        sa.Column("reply", sa.Text(), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("forward_level", sa.String(16), nullable=True),
        sa.Column("forward_note", sa.Text(), nullable=True),
        sa.Column("ticket_id", sa.String(36), nullable=True),
        _instant("settled_at", True),
        sa.Column("rating", sa.String(24), nullable=True),
        sa.Column("rating_comment", sa.Text(), nullable=True),
        _instant("rated_at", True),
        _instant("closed_at", True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.ForeignKeyConstraint(["deputy_id"], ["deputies.id"], name="fk_messages_deputy_id_deputies"),
        sa.ForeignKeyConstraint(
            ["station_code"], ["stations.code"], name="fk_messages_station_code_stations"
        ),
        sa.ForeignKeyConstraint(
            ["reception_id"], ["receptions.id"], name="fk_messages_reception_id_receptions"
        ),
        sa.ForeignKeyConstraint(["ticket_id"], ["tickets.id"], name="fk_messages_ticket_id_tickets"),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("tracking_hash", name="uq_messages_tracking_hash"),
        sa.UniqueConstraint("ticket_id", name="uq_messages_ticket_id"),
    )
    for name, cols in (
        ("ix_messages_deputy_id_received_at", ["deputy_id", "received_at"]),
        ("ix_messages_station_code_received_at", ["station_code", "received_at"]),
        ("ix_messages_received_at", ["received_at"]),
        ("ix_messages_status_settled_at", ["status", "settled_at"]),
        ("ix_messages_client_address_received_at", ["client_address", "received_at"]),
        ("ix_messages_voter_phone_received_at", ["voter_phone", "received_at"]),
    ):
        op.create_index(name, "messages", cols)
    op.create_index(
        "ix_messages_open_due",
        "messages",
        ["due_at"],
        postgresql_where=sa.text(f"{OPEN} AND breach_recorded_at IS NULL"),
        sqlite_where=sa.text(f"{OPEN} AND breach_recorded_at IS NULL"),
    )
    op.create_index(
        "ix_messages_open_warn",
        "messages",
        ["warn_at"],
        postgresql_where=sa.text(f"{OPEN} AND warned_at IS NULL"),
        sqlite_where=sa.text(f"{OPEN} AND warned_at IS NULL"),
    )
    op.create_table(
        "message_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        _instant("at"),
        _instant("recorded_at"),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=True),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.id"], name="fk_message_events_message_id_messages"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_message_events"),
    )
    op.create_index("ix_message_events_message_id_id", "message_events", ["message_id", "id"])
    # Plain ADD COLUMN: nullable without a default, so neither engine rewrites tickets.
    op.add_column("tickets", sa.Column("channel", sa.String(16), nullable=True))
    op.add_column("tickets", sa.Column("message_id", sa.String(36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("message_id")
        batch.drop_column("channel")
    op.drop_index("ix_message_events_message_id_id", table_name="message_events")
    op.drop_table("message_events")
    for name in (
        "ix_messages_open_warn",
        "ix_messages_open_due",
        "ix_messages_voter_phone_received_at",
        "ix_messages_client_address_received_at",
        "ix_messages_status_settled_at",
        "ix_messages_received_at",
        "ix_messages_station_code_received_at",
        "ix_messages_deputy_id_received_at",
    ):
        op.drop_index(name, table_name="messages")
    op.drop_table("messages")
    op.drop_index("ix_deputy_codes_deputy_id", table_name="deputy_codes")
    op.drop_table("deputy_codes")
    op.drop_index("ix_reception_deputies_deputy_id", table_name="reception_deputies")
    op.drop_table("reception_deputies")
    op.drop_index("ix_receptions_held_on", table_name="receptions")
    op.drop_index("ix_receptions_station_code_held_on", table_name="receptions")
    op.drop_table("receptions")
    op.drop_index("ix_station_deputies_deputy_id", table_name="station_deputies")
    op.drop_table("station_deputies")
    op.drop_index("ix_stations_district", table_name="stations")
    op.drop_table("stations")
