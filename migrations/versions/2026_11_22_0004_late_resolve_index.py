"""a partial index for the report's "should have been resolved" list

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_WHERE = "kind = 'resolve' AND (met_at IS NULL OR met_at >= due_at)"


def upgrade() -> None:
    op.create_index(
        "ix_clocks_resolve_late_due",
        "clocks",
        ["due_at"],
        postgresql_where=sa.text(_WHERE),
        sqlite_where=sa.text(_WHERE),
    )


def downgrade() -> None:
    op.drop_index("ix_clocks_resolve_late_due", table_name="clocks")
