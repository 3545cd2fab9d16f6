"""the report's dimensions on the rows it counts

Clocks, resolutions and ratings carry their ticket's category and district (and a
resolution its ticket's kind, a rating the unit that resolved the rated round), so the
monthly report groups a month of them without joining every ticket ever received. A
ticket's category, district and kind are fixed at intake, so the copies never go stale.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 05:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("clocks", "resolutions", "ratings"):
        op.add_column(table, sa.Column("category", sa.String(64), nullable=True))
        op.add_column(table, sa.Column("district", sa.String(64), nullable=True))
    op.add_column("resolutions", sa.Column("ticket_kind", sa.String(16), nullable=True))
    op.add_column("ratings", sa.Column("unit_code", sa.String(64), nullable=True))

    # UPDATE ... FROM: PostgreSQL, and SQLite from 3.33.
    op.execute(
        "UPDATE clocks SET category = t.category, district = t.district "
        "FROM tickets AS t WHERE t.id = clocks.ticket_id"
    )
    op.execute(
        "UPDATE resolutions SET category = t.category, district = t.district, "
        "ticket_kind = t.kind FROM tickets AS t WHERE t.id = resolutions.ticket_id"
    )
    # The unit that resolved the rated round, as the report attributed it before.
    op.execute(
        "UPDATE ratings SET category = t.category, district = t.district, "
        "unit_code = coalesce((SELECT r.unit_code FROM resolutions AS r "
        "WHERE r.ticket_id = ratings.ticket_id AND r.round = ratings.round "
        "ORDER BY r.at DESC, r.id DESC LIMIT 1), "
        "t.lead_unit) FROM tickets AS t WHERE t.id = ratings.ticket_id"
    )

    for table in ("clocks", "resolutions", "ratings"):
        with op.batch_alter_table(table) as batch:
            batch.alter_column("category", existing_type=sa.String(64), nullable=False)
            if table == "resolutions":
                batch.alter_column("ticket_kind", existing_type=sa.String(16), nullable=False)
            if table == "ratings":
                batch.create_foreign_key("fk_ratings_unit_code_units", "units", ["unit_code"], ["code"])


def downgrade() -> None:
    with op.batch_alter_table("ratings") as batch:
        batch.drop_constraint("fk_ratings_unit_code_units", type_="foreignkey")
        batch.drop_column("unit_code")
    with op.batch_alter_table("resolutions") as batch:
        batch.drop_column("ticket_kind")
    for table in ("clocks", "resolutions", "ratings"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("district")
            batch.drop_column("category")
