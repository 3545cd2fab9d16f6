"""An invitation's log, webhooks and queue entry: written by its use-cases, and by the clock
engine (sweep, recompute) for its clocks."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from app.models import Invitation, InvitationEvent
from app.repositories import invitations as repo
from app.services.context import Ctx
from app.services.events import outbox
from app.services.invitation_flow import NEXT_ACTION, Status
from app.services.queue import FAR_FUTURE, changed


def log(
    ctx: Ctx, inv: Invitation, type_: str, *, at: datetime, data: dict[str, Any], now: datetime | None = None
) -> None:
    """Append an event to the invitation's history; the invitation counts as changed."""
    now = now or ctx.now()
    inv.updated_at = now
    ctx.session.add(
        InvitationEvent(
            invitation_id=inv.id, at=at, recorded_at=now, **ctx.actor.event_columns(), type=type_, data=data
        )
    )


def emit(ctx: Ctx, type_: str, inv: Invitation, data: dict[str, Any]) -> int:
    """A webhook to the invited unit (if it has an endpoint)."""
    return outbox(
        ctx,
        type_,
        units=[inv.unit_code],
        payload={
            "invitation_id": inv.id,
            "number": inv.number,
            "station": inv.station_code,
            "subject": inv.subject,
            "status": inv.status,
            "round": inv.round,
            **data,
        },
    )


def refresh_queue(ctx: Ctx, inv: Invitation) -> None:
    """Bring the invited unit's queue entry in line: `acknowledge` while issued, `report`
    while acknowledged, due at its open clock's due time; out of the queue otherwise."""
    ctx.session.flush()
    action = NEXT_ACTION.get(Status(inv.status))
    due = None
    if action is not None:
        due = repo.nearest_open_due(ctx.session, inv.id)
    inv.queue_active = action is not None
    inv.next_action, inv.next_due_at = action, due
    inv.sort_key = due or FAR_FUTURE
    inv.updated_at = ctx.now()
    changed(ctx.session, [inv.unit_code])


def touch(ctx: Ctx, invitation_ids: Iterable[str]) -> None:
    """Mark invitations' queue entries as changed (a warning or breach recorded)."""
    ids = list(set(invitation_ids))
    if ids:
        changed(ctx.session, repo.touch(ctx.session, ids, ctx.now()))
