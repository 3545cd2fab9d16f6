"""The webhook outbox: what was sent to whom, and redelivery."""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query

from app.deps import CursorParam, Limit, OneTripRoute, decode_cursor, encode_cursor, reader, writer
from app.errors import Forbidden, Invalid
from app.models import WebhookDelivery
from app.schemas.common import Page, problem_responses
from app.schemas.webhooks import DeliveryDetail, DeliveryOut, DeliveryState
from app.services import vocabulary
from app.services.context import Ctx
from app.services.views import local
from app.webhooks import outbox

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1/webhooks",
    tags=["webhooks"],
    responses=problem_responses(401, 403),
)


def delivery_out(ctx: Ctx, d: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": d.id,
        "unit": d.unit_code,
        "event_type": d.event_type,
        "ticket_id": d.ticket_id,
        "state": d.state,
        "attempts": d.attempts,
        "next_attempt_at": local(d.next_attempt_at, ctx.tz)
        if d.state == vocabulary.DeliveryState.PENDING
        else None,
        "created_at": local(d.created_at, ctx.tz),
        "delivered_at": local(d.delivered_at, ctx.tz),
        "last_status": d.last_status,
        "last_error": d.last_error,
        "payload": orjson.loads(d.body),
    }


@router.get("/deliveries", response_model=Page[DeliveryOut], responses=problem_responses(422))
def list_deliveries(
    ctx: Ctx = reader("admin", "liaison", "unit"),
    unit: Annotated[str | None, Query(max_length=64)] = None,
    state: DeliveryState | None = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Any:
    """Deliveries, newest first; a unit key sees its own unit's only."""
    if ctx.actor.role == "unit":
        if unit is not None and unit != ctx.actor.unit_code:
            raise Forbidden("a unit key may list only its own unit's deliveries")
        unit = ctx.actor.unit_code
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    rows = outbox.list_deliveries(ctx.session, unit=unit, state=state, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [delivery_out(ctx, d) for d in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more else None,
    }


@router.get("/deliveries/{delivery_id}", response_model=DeliveryDetail, responses=problem_responses(404))
def get_delivery(delivery_id: str, ctx: Ctx = reader("admin", "liaison", "unit")) -> Any:
    """One delivery with every attempt made."""
    d = outbox.visible_delivery(ctx, delivery_id)
    return {
        **delivery_out(ctx, d),
        "attempt_log": [
            {
                "at": local(a.at, ctx.tz),
                "status_code": a.status_code,
                "error": a.error,
                "duration_ms": a.duration_ms,
            }
            for a in outbox.attempts_of(ctx.session, d.id)
        ],
    }


@router.post(
    "/deliveries/{delivery_id}/redeliver", response_model=DeliveryOut, responses=problem_responses(404)
)
def redeliver(delivery_id: str, ctx: Ctx = writer("admin", "liaison")) -> Any:
    """Back to pending, due now, with a fresh set of attempts (same id and body)."""
    d = outbox.visible_delivery(ctx, delivery_id)
    outbox.redeliver(ctx.session, d, now=ctx.now())
    ctx.session.flush()
    return delivery_out(ctx, d)
