"""The ticket aggregate: the ticket, its assignments, its event log, its clocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, new_id
from app.models.mixins import OPEN_CLOCK, ClockColumns, EventColumns, open_clock_index

# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL wants BIGINT for a log.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    hotline_no: Mapped[str] = mapped_column(String(64), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    category: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    urgency: Mapped[str] = mapped_column(String(16))
    complex: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[str] = mapped_column(Text)
    called_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    caller_name: Mapped[str] = mapped_column(String(100))
    caller_phone: Mapped[str] = mapped_column(String(32), index=True)
    deputy_id: Mapped[str | None] = mapped_column(ForeignKey("deputies.id"), nullable=True, index=True)
    deputy_verified: Mapped[bool] = mapped_column(Boolean)
    lead_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolution_outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    resolution_reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    fed_back_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    feedback_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    feedback_content: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rating: Mapped[str | None] = mapped_column(String(24), nullable=True)
    rating_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A ticket a deputy forwarded from a voter's message (Part II): the channel it came by
    # (`code`, `station`, ...; null for a 12345 call) and the message (which points back).
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    message_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    def dimensions(self) -> dict[str, str | None]:
        """What the rows it counts copy for the reports (fixed at intake; see Clock)."""
        return {"category": self.category, "district": self.district}

    __table_args__ = (
        Index("ix_tickets_status_id", "status", "id"),
        Index("ix_tickets_category_id", "category", "id"),
        Index("ix_tickets_district_id", "district", "id"),
        Index("ix_tickets_lead_unit_id", "lead_unit", "id"),
    )


class Assignment(Base):
    """A unit's part in a ticket; kept after a return so the unit can still read it."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    role: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    opinion: Mapped[str | None] = mapped_column(Text, nullable=True)
    opinion_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    __table_args__ = (Index("ix_assignments_unit_ticket", "unit_code", "ticket_id"),)


class Event(EventColumns, Base):
    """Append-only ticket log; `id` is the recording order (seq)."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-10)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), sort_order=-9)

    __table_args__ = (
        Index("ix_events_ticket_id_id", "ticket_id", "id"),
        Index("ix_events_type_at", "type", "at"),  # reports count returns by type and time
    )


_LATE_RESOLVE = "kind = 'resolve' AND (met_at IS NULL OR met_at >= due_at)"
_OPEN_RESOLVE = f"kind = 'resolve' AND {OPEN_CLOCK}"


class Clock(ClockColumns, Base):
    """One time limit of one unit in one round. Its state is derived when read."""

    __tablename__ = "clocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-10)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True, sort_order=-9)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The ticket's, fixed at intake: the report groups a month of clocks without the tickets.
    category: Mapped[str] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)

    __table_args__ = (
        # The sweep reads only what is due: three partial range scans, flat as the table grows.
        open_clock_index("ix_clocks_breach_due", "due_at", "breach_recorded_at IS NULL"),
        open_clock_index("ix_clocks_warn_due", "warn_at", "warned_at IS NULL"),
        open_clock_index(
            "ix_clocks_escalate_due", "escalate_at", "escalated_at IS NULL", "escalate_at IS NOT NULL"
        ),
        Index("ix_clocks_started_at", "started_at"),
        Index("ix_clocks_due_at", "due_at"),
        Index("ix_clocks_kind_met_at", "kind", "met_at"),
        # "Should have been resolved": resolve clocks unmet or met late, by due time. Any
        # clock due by a cut-off and unmet at it is one of these, whatever the cut-off.
        Index(
            "ix_clocks_resolve_late_due",
            "due_at",
            postgresql_where=text(_LATE_RESOLVE),
            sqlite_where=text(_LATE_RESOLVE),
        ),
        # The dashboard's "overdue unresolved" now: open resolve clocks only (the index
        # above also holds every clock ever met late, most of a year's late ones).
        Index(
            "ix_clocks_open_resolve_due",
            "due_at",
            postgresql_where=text(_OPEN_RESOLVE),
            sqlite_where=text(_OPEN_RESOLVE),
        ),
    )


class Extension(Base):
    __tablename__ = "extensions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("clocks.id"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    round: Mapped[int] = mapped_column(Integer)
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # At most one pending request per ticket, even under concurrent requests.
        Index(
            "uq_extensions_one_pending",
            "ticket_id",
            unique=True,
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
    )


class QueueItem(Base):
    """A unit's open work on a ticket, kept current by every change, so a poll is one scan."""

    __tablename__ = "queue_items"

    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean)
    next_action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # next_due_at, or a far-future instant for undated work, so keyset paging has no NULLs.
    sort_key: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_queue_items_scan", "unit_code", "active", "sort_key", "ticket_id", "role"),
        Index("ix_queue_items_changes", "unit_code", "updated_at"),
    )


class Resolution(Base):
    """One resolution per round (办结), kept after a re-handling round replaces it on the ticket."""

    __tablename__ = "resolutions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    outcome: Mapped[str] = mapped_column(String(16))
    reply: Mapped[str] = mapped_column(Text)
    # The ticket's, fixed at intake (see Clock.category).
    category: Mapped[str] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ticket_kind: Mapped[str] = mapped_column(String(16))


class Rating(Base):
    """Every rating after a follow-up call (回访), one per round."""

    __tablename__ = "ratings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(ForeignKey("tickets.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    rating: Mapped[str] = mapped_column(String(24))
    satisfied: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The unit that resolved the rated round: the one the rating is counted against.
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    # The ticket's, fixed at intake (see Clock.category).
    category: Mapped[str] = mapped_column(String(64))
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)

    # A round is rated once, whatever races; the row lock in rate() is the first guard.
    __table_args__ = (UniqueConstraint("ticket_id", "round", name="uq_ratings_ticket_round"),)
