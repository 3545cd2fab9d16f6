"""Webhook outbox queries: deliveries and their attempts. A delivery is due while it is
`pending` and its next attempt time (or a lapsed lease) has come."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, Update, func, select, update
from sqlalchemy.orm import Session

from app.models import WebhookAttempt, WebhookDelivery
from app.services.vocabulary import DeliveryState


def due(now: datetime) -> ColumnElement[bool]:
    """A delivery to attempt now."""
    return (WebhookDelivery.state == DeliveryState.PENDING.value) & (WebhookDelivery.next_attempt_at <= now)


def due_units(session: Session, now: datetime, skip: Collection[str] = ()) -> list[str]:
    """The units with a delivery due, except `skip`."""
    q = select(WebhookDelivery.unit_code).where(due(now)).distinct()
    if skip:
        q = q.where(WebhookDelivery.unit_code.not_in(skip))
    return list(session.scalars(q))


def lock_due(session: Session, unit: str, now: datetime, limit: int) -> list[WebhookDelivery]:
    """A unit's due deliveries, oldest first, locked against other workers (rows another
    worker holds are skipped on PostgreSQL; SQLite's write lock serialises claims)."""
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(due(now), WebhookDelivery.unit_code == unit)
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )


def still_leased(delivery_id: str, lease_until: datetime) -> Update:
    """An UPDATE of a delivery that applies only while the claim's lease still holds it."""
    return (
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == DeliveryState.PENDING.value,
            WebhookDelivery.next_attempt_at == lease_until,
        )
        .execution_options(synchronize_session=False)
    )


def list_deliveries(
    session: Session, *, unit: str | None, state: str | None, after: str | None, limit: int
) -> list[WebhookDelivery]:
    """Deliveries newest first, filtered, after the cursor's id."""
    q = select(WebhookDelivery).order_by(WebhookDelivery.id.desc()).limit(limit)
    if unit:
        q = q.where(WebhookDelivery.unit_code == unit)
    if state:
        q = q.where(WebhookDelivery.state == state)
    if after:
        q = q.where(WebhookDelivery.id < after)
    return list(session.scalars(q))


def get_delivery(session: Session, delivery_id: str) -> WebhookDelivery | None:
    """One delivery by id."""
    return session.get(WebhookDelivery, delivery_id)


def attempts_of(session: Session, delivery_id: str) -> list[WebhookAttempt]:
    """A delivery's attempts in the order they were made."""
    return list(
        session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
    )


def pending_count(session: Session) -> int:
    """How many deliveries are still pending (the backlog)."""
    return (
        session.scalar(select(func.count()).where(WebhookDelivery.state == DeliveryState.PENDING.value)) or 0
    )
