"""Supervision cases (督办), their notes and their consultation meetings (会商)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime, new_id


class Supervision(Base):
    __tablename__ = "supervisions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # A ticket's case, or (kind `invitation`, SPEC Part II) an invitation's: exactly one is set.
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), nullable=True)
    invitation_id: Mapped[str | None] = mapped_column(ForeignKey("invitations.id"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    round: Mapped[int] = mapped_column(Integer)
    trigger_clock_id: Mapped[int | None] = mapped_column(ForeignKey("clocks.id"), nullable=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    conclusion: Mapped[str | None] = mapped_column(Text, nullable=True)

    __table_args__ = (
        # Each kind of case opens at most once per ticket round, whoever races to open it.
        UniqueConstraint("ticket_id", "kind", "round", name="uq_supervisions_ticket_kind_round"),
        Index("ix_supervisions_unit_state", "unit_code", "state"),
        # Open cases by kind (the dashboard): the open ones only, whatever the history.
        Index(
            "ix_supervisions_open_kind",
            "kind",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
        ),
    )


class SupervisionNote(Base):
    __tablename__ = "supervision_notes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    supervision_id: Mapped[str] = mapped_column(ForeignKey("supervisions.id"), index=True)
    author: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class SupervisionMeeting(Base):
    """A consultation meeting (会商) on a case: when, who took part, what was agreed."""

    __tablename__ = "supervision_meetings"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    supervision_id: Mapped[str] = mapped_column(ForeignKey("supervisions.id"), index=True)
    held_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Unit codes, or the names of participants that are not units (the hotline office).
    participants: Mapped[list[str]] = mapped_column(JSONType)
    conclusion: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
