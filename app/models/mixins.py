"""Column sets that several tables share, declared once.

A ticket's clock and an invitation's clock are reckoned and swept by one engine
(app.services.sla, app.services.sweep): one shape, `ClockColumns`. A ticket's log and an
invitation's log record who acted in the same terms: `EventColumns`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import JSONType, UTCDateTime

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


class EventColumns:
    """One entry of an append-only log: when it happened (`at`, as the actor says), when it
    was recorded, who acted, what and its details.

    A table using it declares its own `id` (sort_order=-10, the recording order) and owner
    key (-9), keeping the columns in the order the migrations made them."""

    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    # Who acted, beside the name: the role and what it is bound to (null in older events,
    # whose `actor` alone says it: "hotline", "unit:<code>", "system").
    actor_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    actor_unit: Mapped[str | None] = mapped_column(String(64), nullable=True)
    actor_deputy: Mapped[str | None] = mapped_column(String(36), nullable=True)
    actor_station: Mapped[str | None] = mapped_column(String(64), nullable=True)
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
