"""districts with their Chinese names; consultation meetings (会商) on supervision cases

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import app.models.base

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONType = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "districts",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_districts")),
    )
    op.create_table(
        "supervision_meetings",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("supervision_id", sa.String(length=36), nullable=False),
        sa.Column("held_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("participants", JSONType, nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=100), nullable=False),
        sa.Column("recorded_at", app.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["supervision_id"],
            ["supervisions.id"],
            name=op.f("fk_supervision_meetings_supervision_id_supervisions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_meetings")),
    )
    with op.batch_alter_table("supervision_meetings") as batch:
        batch.create_index(
            batch.f("ix_supervision_meetings_supervision_id"), ["supervision_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("supervision_meetings") as batch:
        batch.drop_index(batch.f("ix_supervision_meetings_supervision_id"))
    op.drop_table("supervision_meetings")
    op.drop_table("districts")
