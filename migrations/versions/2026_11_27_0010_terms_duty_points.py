"""terms, deputies' term and marks, duty reports, point rules and recorded activities

SPEC Part II "Duty reports and points". The deputies gain three columns: the term (a
nullable code) and two marks that default to false, so the release before this one reads
and writes deputies as it did. Everything else is new tables.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 18:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.models.base import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _instant(name: str) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "terms",
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("code", name="pk_terms"),
    )
    # Plain ADD COLUMN (no batch): nullable or with a default, neither engine rewrites rows.
    op.add_column("deputies", sa.Column("term_code", sa.String(64), nullable=True))
    op.add_column("deputies", sa.Column("reelected", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column("deputies", sa.Column("official", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_deputies_term_code", "deputies", ["term_code"])
    op.create_table(
        "duty_reports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("deputy_id", sa.String(36), nullable=False),
        sa.Column("term_code", sa.String(64), nullable=False),
        sa.Column("held_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("audience", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _instant("recorded_at"),
        sa.ForeignKeyConstraint(["deputy_id"], ["deputies.id"], name="fk_duty_reports_deputy_id_deputies"),
        sa.ForeignKeyConstraint(["term_code"], ["terms.code"], name="fk_duty_reports_term_code_terms"),
        sa.PrimaryKeyConstraint("id", name="pk_duty_reports"),
    )
    op.create_index("ix_duty_reports_deputy_id", "duty_reports", ["deputy_id"])
    op.create_index("ix_duty_reports_term_code_held_on", "duty_reports", ["term_code", "held_on"])
    op.create_index("ix_duty_reports_held_on_deputy_id", "duty_reports", ["held_on", "deputy_id"])
    op.create_table(
        "point_rules",
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("yearly_cap", sa.Integer(), nullable=True),
        _instant("created_at"),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("type", name="pk_point_rules"),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("deputy_id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        _instant("recorded_at"),
        sa.ForeignKeyConstraint(["deputy_id"], ["deputies.id"], name="fk_activities_deputy_id_deputies"),
        sa.ForeignKeyConstraint(["type"], ["point_rules.type"], name="fk_activities_type_point_rules"),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
    )
    op.create_index("ix_activities_done_on_deputy_id", "activities", ["done_on", "deputy_id"])
    op.create_index("ix_activities_deputy_id_done_on", "activities", ["deputy_id", "done_on"])


def downgrade() -> None:
    op.drop_table("activities")
    op.drop_table("point_rules")
    op.drop_table("duty_reports")
    op.drop_index("ix_deputies_term_code", table_name="deputies")
    with op.batch_alter_table("deputies") as batch:
        batch.drop_column("official")
        batch.drop_column("reelected")
        batch.drop_column("term_code")
    op.drop_table("terms")
