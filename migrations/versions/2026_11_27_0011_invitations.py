"""invitations (约请): the invitation, its letter numbers, clocks, extensions, reports,
evaluations and log; supervision cases of kind `invitation`

New tables only, except supervisions: a case is now a ticket's or an invitation's, so
`ticket_id` may be null and `invitation_id` is added (nullable). Relaxing NOT NULL is
metadata only on PostgreSQL; SQLite copies the table (batch mode). The release before this
one never reads a case with no ticket, since only this release opens invitation cases.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 19:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.base import UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN = "met_at IS NULL AND cancelled_at IS NULL"


def _instant(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    ref_table = target.split(".")[0]
    return sa.ForeignKeyConstraint([column], [target], name=f"fk_{table}_{column}_{ref_table}")


def upgrade() -> None:
    op.create_table(
        "invitations",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("station_code", sa.String(64), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("deputies", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("letter_year", sa.Integer(), nullable=True),
        sa.Column("letter_seq", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(64), nullable=True),
        _instant("submitted_at"),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        _instant("reviewed_at", True),
        sa.Column("reviewed_by", sa.String(100), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        _instant("acknowledged_at", True),
        _instant("meeting_at", True),
        sa.Column("responsible_person", sa.String(100), nullable=True),
        sa.Column("contact_phone", sa.String(32), nullable=True),
        sa.Column("acknowledgment_note", sa.Text(), nullable=True),
        _instant("closed_at", True),
        sa.Column("queue_active", sa.Boolean(), nullable=False),
        sa.Column("next_action", sa.String(16), nullable=True),
        _instant("next_due_at", True),
        _instant("sort_key"),
        _instant("created_at"),
        _instant("updated_at"),
        _fk("invitations", "station_code", "stations.code"),
        _fk("invitations", "unit_code", "units.code"),
        sa.PrimaryKeyConstraint("id", name="pk_invitations"),
        sa.UniqueConstraint("letter_year", "letter_seq", name="uq_invitations_letter_year_seq"),
    )
    op.create_index("ix_invitations_submitted_at", "invitations", ["submitted_at"])
    op.create_index(
        "ix_invitations_queue_scan", "invitations", ["unit_code", "queue_active", "sort_key", "id"]
    )
    op.create_index("ix_invitations_queue_changes", "invitations", ["unit_code", "updated_at"])
    op.create_index("ix_invitations_station_code_id", "invitations", ["station_code", "id"])
    op.create_index("ix_invitations_status_id", "invitations", ["status", "id"])
    op.create_table(
        "invitation_letter_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name="pk_invitation_letter_counters"),
    )
    op.create_table(
        "invitation_clocks",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        _instant("started_at"),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        _instant("due_at"),
        _instant("warn_at"),
        _instant("escalate_at", True),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        _instant("met_at", True),
        _instant("cancelled_at", True),
        _instant("warned_at", True),
        _instant("breach_recorded_at", True),
        _instant("escalated_at", True),
        _fk("invitation_clocks", "invitation_id", "invitations.id"),
        _fk("invitation_clocks", "unit_code", "units.code"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_clocks"),
    )
    op.create_index("ix_invitation_clocks_invitation_id", "invitation_clocks", ["invitation_id"])
    op.create_index("ix_invitation_clocks_started_at", "invitation_clocks", ["started_at"])
    for name, col, where in (
        ("ix_invitation_clocks_breach_due", "due_at", f"{OPEN} AND breach_recorded_at IS NULL"),
        ("ix_invitation_clocks_warn_due", "warn_at", f"{OPEN} AND warned_at IS NULL"),
        ("ix_invitation_clocks_open_due", "due_at", OPEN),
    ):
        op.create_index(
            name, "invitation_clocks", [col], postgresql_where=sa.text(where), sqlite_where=sa.text(where)
        )
    op.create_table(
        "invitation_extensions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("clock_id", BigId, nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("working_days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _instant("requested_at"),
        sa.Column("station_view", sa.Text(), nullable=True),
        _instant("station_view_at", True),
        sa.Column("station_view_by", sa.String(100), nullable=True),
        _instant("decided_at", True),
        sa.Column("decided_by", sa.String(100), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        _fk("invitation_extensions", "invitation_id", "invitations.id"),
        _fk("invitation_extensions", "clock_id", "invitation_clocks.id"),
        _fk("invitation_extensions", "unit_code", "units.code"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_extensions"),
    )
    op.create_index("ix_invitation_extensions_invitation_id", "invitation_extensions", ["invitation_id"])
    op.create_index("ix_invitation_extensions_state", "invitation_extensions", ["state"])
    op.create_table(
        "invitation_reports",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("measures", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("responsible_person", sa.String(100), nullable=False),
        _instant("at"),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _fk("invitation_reports", "invitation_id", "invitations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_reports"),
        sa.UniqueConstraint("invitation_id", "round", name="uq_invitation_reports_invitation_id_round"),
    )
    op.create_table(
        "invitation_evaluations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("rating", sa.String(24), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        _instant("at"),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _fk("invitation_evaluations", "invitation_id", "invitations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_evaluations"),
        sa.UniqueConstraint("invitation_id", "round", name="uq_invitation_evaluations_invitation_id_round"),
    )
    op.create_index("ix_invitation_evaluations_at", "invitation_evaluations", ["at"])
    op.create_table(
        "invitation_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("invitation_id", sa.String(36), nullable=False),
        _instant("at"),
        _instant("recorded_at"),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("actor_role", sa.String(16), nullable=True),
        sa.Column("actor_unit", sa.String(64), nullable=True),
        sa.Column("actor_deputy", sa.String(36), nullable=True),
        sa.Column("actor_station", sa.String(64), nullable=True),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("data", JSON, nullable=False),
        _fk("invitation_events", "invitation_id", "invitations.id"),
        sa.PrimaryKeyConstraint("id", name="pk_invitation_events"),
    )
    op.create_index("ix_invitation_events_invitation_id_id", "invitation_events", ["invitation_id", "id"])
    with op.batch_alter_table("supervisions") as batch:
        batch.add_column(sa.Column("invitation_id", sa.String(36), nullable=True))
        batch.alter_column("ticket_id", existing_type=sa.String(36), nullable=True)
        batch.create_foreign_key(
            "fk_supervisions_invitation_id_invitations", "invitations", ["invitation_id"], ["id"]
        )
        batch.create_index("ix_supervisions_invitation_id", ["invitation_id"])


def downgrade() -> None:
    with op.batch_alter_table("supervisions") as batch:
        batch.drop_index("ix_supervisions_invitation_id")
        batch.drop_constraint("fk_supervisions_invitation_id_invitations", type_="foreignkey")
        batch.alter_column("ticket_id", existing_type=sa.String(36), nullable=False)
        batch.drop_column("invitation_id")
    for table in (
        "invitation_events",
        "invitation_evaluations",
        "invitation_reports",
        "invitation_extensions",
        "invitation_clocks",
        "invitation_letter_counters",
        "invitations",
    ):
        op.drop_table(table)
