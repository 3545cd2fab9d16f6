"""Ticket queries."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Ticket


def get(session: Session, ticket_id: str) -> Ticket | None:
    """One ticket by id."""
    return session.get(Ticket, ticket_id)


def of_deputy(session: Session, deputy_id: str | None, *, limit: int = 200) -> list[Ticket]:
    """A deputy's calls on the line, newest first."""
    q = select(Ticket).where(Ticket.deputy_id == deputy_id).order_by(Ticket.called_at.desc()).limit(limit)
    return list(session.scalars(q))
