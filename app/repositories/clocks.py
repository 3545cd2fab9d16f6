"""Clock queries: tickets' clocks and invitations' clocks share their columns and their
one definition of "open"."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Clock, InvitationClock

ClockTable = type[Clock] | type[InvitationClock]


def open_clock(model: ClockTable = Clock) -> ColumnElement[bool]:
    """A clock still running: neither met nor cancelled (the partial indexes' condition)."""
    return and_(model.met_at.is_(None), model.cancelled_at.is_(None))


def missed_due(model: ClockTable = Clock) -> ColumnElement[bool]:
    """Not met by its due time: unmet, or met at or after it (the late-resolve index's term)."""
    return or_(model.met_at.is_(None), model.met_at >= model.due_at)


def breached_exists(
    ticket_id: ColumnElement[str] | InstrumentedAttribute[str], now: datetime
) -> ColumnElement[bool]:
    """The ticket has an open clock whose due time has passed."""
    return exists().where(Clock.ticket_id == ticket_id, open_clock(), Clock.due_at <= now)


def open_clocks(session: Session, ticket_id: str) -> list[Clock]:
    """A ticket's open clocks, in creation order."""
    return list(
        session.scalars(select(Clock).where(Clock.ticket_id == ticket_id, open_clock()).order_by(Clock.id))
    )
