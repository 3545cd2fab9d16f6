"""report indexes, and one rating per ticket round

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 00:25:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_events_type_at", "events", ["type", "at"])
    op.create_index("ix_clocks_kind_met_at", "clocks", ["kind", "met_at"])
    with op.batch_alter_table("ratings") as batch:
        batch.create_unique_constraint("uq_ratings_ticket_round", ["ticket_id", "round"])


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_constraint("uq_ratings_ticket_round", type_="unique")
    op.drop_index("ix_clocks_kind_met_at", table_name="clocks")
    op.drop_index("ix_events_type_at", table_name="events")
