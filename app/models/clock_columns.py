"""The columns every time limit shares: a ticket's clock and an invitation's clock are
reckoned and swept by one engine (app.services.sla, app.services.sweep), so they are one
shape, declared once here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import UTCDateTime

OPEN_CLOCK = "met_at IS NULL AND cancelled_at IS NULL"


def open_clock_index(name: str, column: str, *also: str) -> Index:
    """A partial index over open clocks (and `also`'s conditions): what the sweep scans."""
    where = text(" AND ".join((OPEN_CLOCK, *also)))
    return Index(name, column, postgresql_where=where, sqlite_where=where)


class ClockColumns:
    """One unit's time limit in one round; its state is derived when read.

    A table using it declares its own `id` (sort_order=-10), owner key (-9) and `started_at`,
    and what else it carries: the sort orders keep the columns in the order the migrations
    made them (id, owner, unit, kind, round, the table's own, then the timing below)."""

    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), sort_order=-8)
    kind: Mapped[str] = mapped_column(String(16), sort_order=-7)
    round: Mapped[int] = mapped_column(Integer, sort_order=-6)
    # How the period is counted: "hours", "workdays" (N working days, end of day) or
    # "days" (N calendar days, end of day, rolled to a working day); amount includes extensions.
    basis: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    escalate_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    breach_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
