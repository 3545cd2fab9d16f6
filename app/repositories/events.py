"""Ticket event log queries, and the units the webhook outbox writes to: a unit is sent
webhooks while it has an endpoint (`hooked`)."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.models import Event, Unit


def of_ticket(session: Session, ticket_id: str) -> list[Event]:
    """A ticket's whole log, in recording order."""
    return list(session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id)))


def hooked() -> ColumnElement[bool]:
    """A unit with a webhook endpoint."""
    return Unit.webhook_url.is_not(None)


def hooked_among(session: Session, codes: Collection[str]) -> list[str]:
    """Those of these units that have a webhook endpoint."""
    return list(session.scalars(select(Unit.code).where(Unit.code.in_(codes), hooked())))
