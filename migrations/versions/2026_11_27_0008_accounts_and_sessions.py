"""people: accounts, sessions, the sign-in throttle, the account log; who acted, in full

Accounts for the people who sign in to the pages, their sessions (only hashes of the
cookies), failed sign-ins per username for the lockout, and a log of account changes and
sign-ins. API keys may be bound to a deputy or a station. Ticket events gain the actor's
role and what it is bound to; older events keep only their `actor` name (adding nullable
columns rewrites no row on either engine).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 14:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.models.base import UTCDateTime

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OPEN_RESOLVE = "kind = 'resolve' AND met_at IS NULL AND cancelled_at IS NULL"


def _instant(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_code", sa.String(64), nullable=True),
        sa.Column("deputy_id", sa.String(36), nullable=True),
        sa.Column("station_code", sa.String(64), nullable=True),
        sa.Column("password_hash", sa.String(200), nullable=True),
        _instant("password_set_at", True),
        sa.Column("invite_hash", sa.String(64), nullable=True),
        _instant("invite_expires_at", True),
        _instant("disabled_at", True),
        _instant("last_sign_in_at", True),
        sa.Column("created_by", sa.String(100), nullable=False),
        _instant("created_at"),
        _instant("updated_at"),
        sa.ForeignKeyConstraint(["unit_code"], ["units.code"], name="fk_accounts_unit_code_units"),
        sa.ForeignKeyConstraint(["deputy_id"], ["deputies.id"], name="fk_accounts_deputy_id_deputies"),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("username", name="uq_accounts_username"),
        sa.UniqueConstraint("invite_hash", name="uq_accounts_invite_hash"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _instant("created_at"),
        _instant("last_seen_at"),
        _instant("expires_at"),
        _instant("ended_at", True),
        sa.Column("end_reason", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], name="fk_user_sessions_account_id_accounts"),
        sa.PrimaryKeyConstraint("id", name="pk_user_sessions"),
        sa.UniqueConstraint("token_hash", name="uq_user_sessions_token_hash"),
    )
    op.create_index("ix_user_sessions_account_id", "user_sessions", ["account_id"])
    op.create_table(
        "sign_in_throttle",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("failures", JSON, nullable=False),
        _instant("locked_until", True),
        _instant("updated_at"),
        sa.PrimaryKeyConstraint("username", name="pk_sign_in_throttle"),
    )
    op.create_index("ix_sign_in_throttle_updated_at", "sign_in_throttle", ["updated_at"])
    op.create_table(
        "account_events",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(36), nullable=True),
        _instant("at"),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("type", sa.String(48), nullable=False),
        sa.Column("data", JSON, nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name="fk_account_events_account_id_accounts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_account_events"),
    )
    op.create_index("ix_account_events_account_id_id", "account_events", ["account_id", "id"])

    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("deputy_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("station_code", sa.String(64), nullable=True))
        batch.create_foreign_key("fk_api_keys_deputy_id_deputies", "deputies", ["deputy_id"], ["id"])
    # The dashboard's "now" figures, read from small partial indexes: open resolve clocks
    # by due time, open cases by kind (each one scan of its table when created).
    op.create_index(
        "ix_clocks_open_resolve_due",
        "clocks",
        ["due_at"],
        postgresql_where=sa.text(OPEN_RESOLVE),
        sqlite_where=sa.text(OPEN_RESOLVE),
    )
    op.create_index(
        "ix_supervisions_open_kind",
        "supervisions",
        ["kind"],
        postgresql_where=sa.text("state = 'open'"),
        sqlite_where=sa.text("state = 'open'"),
    )
    # Plain ADD COLUMN (no batch): the events table is the largest, and neither engine
    # rewrites it for a nullable column without a default.
    for name, length in (("actor_role", 16), ("actor_unit", 64), ("actor_deputy", 36), ("actor_station", 64)):
        op.add_column("events", sa.Column(name, sa.String(length), nullable=True))


def downgrade() -> None:
    op.drop_index("ix_supervisions_open_kind", table_name="supervisions")
    op.drop_index("ix_clocks_open_resolve_due", table_name="clocks")
    for name in ("actor_station", "actor_deputy", "actor_unit", "actor_role"):
        with op.batch_alter_table("events") as batch:
            batch.drop_column(name)
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("fk_api_keys_deputy_id_deputies", type_="foreignkey")
        batch.drop_column("station_code")
        batch.drop_column("deputy_id")
    op.drop_index("ix_account_events_account_id_id", table_name="account_events")
    op.drop_table("account_events")
    op.drop_index("ix_sign_in_throttle_updated_at", table_name="sign_in_throttle")
    op.drop_table("sign_in_throttle")
    op.drop_index("ix_user_sessions_account_id", table_name="user_sessions")
    op.drop_table("user_sessions")
    op.drop_table("accounts")
