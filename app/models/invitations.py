"""The invitation aggregate (约请, SPEC Part II): the invitation, its letter number, its
clocks, extension requests, the unit's reports, the station's evaluations, and its log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime, new_id
from app.models.mixins import ClockColumns, EventColumns, open_clock_index
from app.models.ticket import BigId


class Invitation(Base):
    """A station's invitation of a unit. The invited unit's queue entry is kept on the row
    (next_action, next_due_at, sort_key): the queue reads it beside the tickets' entries."""

    __tablename__ = "invitations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    station_code: Mapped[str] = mapped_column(ForeignKey("stations.code"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    subject: Mapped[str] = mapped_column(String(200))
    content: Mapped[str] = mapped_column(Text)
    deputies: Mapped[list[str]] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(String(16))
    round: Mapped[int] = mapped_column(Integer, default=1)
    # The letter (约请函): numbered at approval, `<prefix>〔<year>〕<n>号`.
    letter_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    letter_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    number: Mapped[str | None] = mapped_column(String(64), nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    submitted_by: Mapped[str] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    review_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The unit's acknowledgment: the meeting arranged, who answers for it.
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    meeting_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    responsible_person: Mapped[str | None] = mapped_column(String(100), nullable=True)
    contact_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    acknowledgment_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The invited unit's queue entry (see app.services.queue).
    queue_active: Mapped[bool] = mapped_column(Boolean, default=False)
    next_action: Mapped[str | None] = mapped_column(String(16), nullable=True)
    next_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    sort_key: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        # Never two letters with one number, whatever races (the counter row is the first guard).
        UniqueConstraint("letter_year", "letter_seq", name="uq_invitations_letter_year_seq"),
        Index("ix_invitations_queue_scan", "unit_code", "queue_active", "sort_key", "id"),
        Index("ix_invitations_queue_changes", "unit_code", "updated_at"),
        Index("ix_invitations_station_code_id", "station_code", "id"),
        Index("ix_invitations_status_id", "status", "id"),
    )


class LetterCounter(Base):
    """The last letter number given in a year; raised under its row lock at each approval,
    in the approving transaction, so numbers follow approval order with no gap."""

    __tablename__ = "invitation_letter_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer)


class InvitationClock(ClockColumns, Base):
    """One of the invited unit's limits in one round (`acknowledge`, `complete`): the columns
    of a ticket's clock (app.models.ticket.Clock), reckoned and swept by the same engine."""

    __tablename__ = "invitation_clocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-10)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"), index=True, sort_order=-9)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (
        open_clock_index("ix_invitation_clocks_breach_due", "due_at", "breach_recorded_at IS NULL"),
        open_clock_index("ix_invitation_clocks_warn_due", "warn_at", "warned_at IS NULL"),
        open_clock_index("ix_invitation_clocks_open_due", "due_at"),
    )


class InvitationExtension(Base):
    """The unit's request for more working days on its `complete` clock (书面告知延期理由),
    the station's view on it, and the liaison committee's decision."""

    __tablename__ = "invitation_extensions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"), index=True)
    clock_id: Mapped[int] = mapped_column(ForeignKey("invitation_clocks.id"))
    unit_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    round: Mapped[int] = mapped_column(Integer)
    working_days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    station_view: Mapped[str | None] = mapped_column(Text, nullable=True)
    station_view_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    station_view_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class InvitationReport(Base):
    """The unit's report on the form (约请事项办理情况表), one per round."""

    __tablename__ = "invitation_reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"))
    round: Mapped[int] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text)
    measures: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(16))
    responsible_person: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("invitation_id", "round", name="uq_invitation_reports_invitation_id_round"),
    )


class InvitationEvaluation(Base):
    """The station's evaluation (评议) of a round's report."""

    __tablename__ = "invitation_evaluations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"))
    round: Mapped[int] = mapped_column(Integer)
    rating: Mapped[str] = mapped_column(String(24))
    satisfied: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    recorded_by: Mapped[str] = mapped_column(String(100))

    __table_args__ = (
        UniqueConstraint("invitation_id", "round", name="uq_invitation_evaluations_invitation_id_round"),
    )


class InvitationEvent(EventColumns, Base):
    """Append-only log of an invitation (its history); `id` is the recording order."""

    __tablename__ = "invitation_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True, sort_order=-10)
    invitation_id: Mapped[str] = mapped_column(ForeignKey("invitations.id"), sort_order=-9)

    __table_args__ = (Index("ix_invitation_events_invitation_id_id", "invitation_id", "id"),)
