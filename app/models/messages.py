"""Part II: deputies' public codes (一人一码) and voters' messages, with their log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, JSONType, UTCDateTime, new_id

BigId = BigInteger().with_variant(Integer(), "sqlite")


class DeputyCode(Base):
    """A deputy's public code. Rotating retires the old row (kept, so that its page can say
    the code is no longer in use); at most one active code per deputy."""

    __tablename__ = "deputy_codes"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("deputies.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))  # active | retired | disabled
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # The deputy's id while the code is active, null after: unique, so a deputy has at most
    # one active code whatever races (NULLs never collide, on either engine).
    active_for: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)


_OPEN = "status = 'received'"


class Message(Base):
    """A voter's message to a deputy: from the public page (channel `code`) or recorded by a
    station. The deputy's response clock lives here (it is no unit's clock), reckoned by the
    same engine as a ticket's."""

    __tablename__ = "messages"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    tracking_code: Mapped[str] = mapped_column(String(32))
    # Public look-ups go by the SHA-256 of the code, so the index compares digests, never a
    # prefix of a real code (see app.services.messages.find_by_tracking_code).
    tracking_hash: Mapped[str] = mapped_column(String(64), unique=True)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("deputies.id"))
    channel: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    # The voter's personal information (PIPL): erased a set time after the message closes.
    voter_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    voter_phone: Mapped[str | None] = mapped_column(String(32), nullable=True)
    client_address: Mapped[str | None] = mapped_column(String(64), nullable=True)
    voter_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    station_code: Mapped[str | None] = mapped_column(ForeignKey("stations.code"), nullable=True)
    reception_id: Mapped[str | None] = mapped_column(ForeignKey("receptions.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # The response clock: reply, forward or decline by the due time.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    warn_at: Mapped[datetime] = mapped_column(UTCDateTime())
    provisional: Mapped[bool] = mapped_column(Boolean, default=False)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    breach_recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    reply: Mapped[str | None] = mapped_column(Text, nullable=True)
    decline_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    forward_level: Mapped[str | None] = mapped_column(String(16), nullable=True)
    forward_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    ticket_id: Mapped[str | None] = mapped_column(ForeignKey("tickets.id"), nullable=True, unique=True)
    # When it reached answered / result_ready / declined: the 15 days to rate run from here.
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rating: Mapped[str | None] = mapped_column(String(24), nullable=True)
    rating_comment: Mapped[str | None] = mapped_column(Text, nullable=True)
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_messages_deputy_id_received_at", "deputy_id", "received_at"),
        Index("ix_messages_station_code_received_at", "station_code", "received_at"),
        Index("ix_messages_received_at", "received_at"),
        Index("ix_messages_status_settled_at", "status", "settled_at"),
        # The public form's limits count recent messages per address and per phone.
        Index("ix_messages_client_address_received_at", "client_address", "received_at"),
        Index("ix_messages_voter_phone_received_at", "voter_phone", "received_at"),
        # The sweep reads only unanswered messages that are due to warn or breach.
        Index(
            "ix_messages_open_due",
            "due_at",
            postgresql_where=text(f"{_OPEN} AND breach_recorded_at IS NULL"),
            sqlite_where=text(f"{_OPEN} AND breach_recorded_at IS NULL"),
        ),
        Index(
            "ix_messages_open_warn",
            "warn_at",
            postgresql_where=text(f"{_OPEN} AND warned_at IS NULL"),
            sqlite_where=text(f"{_OPEN} AND warned_at IS NULL"),
        ),
    )


class MessageEvent(Base):
    """Append-only log of a message (its history); `id` is the recording order."""

    __tablename__ = "message_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    type: Mapped[str] = mapped_column(String(48))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    __table_args__ = (Index("ix_message_events_message_id_id", "message_id", "id"),)
