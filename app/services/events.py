"""The ticket event log and the webhook outbox (tickets' and invitations'), both written
in the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import orjson

from app.models import Event, Ticket, WebhookDelivery
from app.models.base import new_id
from app.repositories import events as events_repo
from app.services.context import Ctx
from app.services.vocabulary import DeliveryState


def event_row(
    ctx: Ctx,
    ticket: Ticket,
    type_: str,
    *,
    at: datetime,
    data: dict[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """The columns of an event recorded `now` (default: the clock's now); the ticket counts
    as changed."""
    now = now or ctx.now()
    ticket.updated_at = now
    return {
        "ticket_id": ticket.id,
        "at": at,
        "recorded_at": now,
        **ctx.actor.event_columns(),
        "type": type_,
        "data": data,
    }


def log(ctx: Ctx, ticket: Ticket, type_: str, *, at: datetime, data: dict[str, Any]) -> Event:
    """Append an event to the ticket's log (written with the session's next flush)."""
    event = Event(**event_row(ctx, ticket, type_, at=at, data=data))
    ctx.session.add(event)
    return event


def emit(ctx: Ctx, type_: str, *, ticket: Ticket, units: Iterable[str | None], data: dict[str, Any]) -> int:
    """Queue a webhook for every concerned unit that has an endpoint; returns how many."""
    return outbox(
        ctx,
        type_,
        units=units,
        ticket_id=ticket.id,
        payload={"ticket_id": ticket.id, "hotline_no": ticket.hotline_no, **data},
    )


def outbox(
    ctx: Ctx,
    type_: str,
    *,
    units: Iterable[str | None],
    payload: dict[str, Any],
    ticket_id: str | None = None,
) -> int:
    """Queue `payload` as a webhook to every unit named that has an endpoint (a ticket's or
    an invitation's event alike); returns how many."""
    codes = sorted({u for u in units if u})
    if not codes:
        return 0
    unknown = [c for c in codes if c not in ctx.webhook_units]
    if unknown:
        ctx.webhook_units.update({c: False for c in unknown})
        ctx.webhook_units.update(dict.fromkeys(events_repo.hooked_among(ctx.session, unknown), True))
    targets = [c for c in codes if ctx.webhook_units[c]]
    now = ctx.now()
    for code in targets:
        body = orjson.dumps(
            {"type": type_, "timestamp": ctx.iso(now), "data": {**payload, "unit": code}}
        ).decode()
        ctx.session.add(
            WebhookDelivery(
                id=new_id(),
                unit_code=code,
                event_type=type_,
                ticket_id=ticket_id,
                body=body,
                state=DeliveryState.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
        )
    return len(targets)
