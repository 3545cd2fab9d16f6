"""Unit queues: kept current on every change, read as one keyset scan per page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, tuple_, update

from app.models import Assignment, Clock, QueueItem, Supervision, Ticket, Unit
from app.services.context import Ctx
from app.services.rows import insert_rows
from app.services.sla import ClockKind
from app.services.views import AssignmentLike, ClockLike, local, ticket_summary

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
LEAD_ORDER = (ClockKind.CONTACT.value, ClockKind.RESOLVE.value, ClockKind.FEEDBACK.value)


def _desired(
    ctx: Ctx, ticket: Ticket, assignments: Sequence[AssignmentLike], clocks: Sequence[ClockLike],
    supervising: list[str],
) -> dict[tuple[str, str], tuple[str, datetime | None]]:
    """What each unit should see for this ticket: (unit, role) -> (next_action, next_due_at)."""
    want: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    if ticket.status not in ("closed", "returned"):
        roles = {a.unit_code: a.role for a in assignments if a.active}
        by_unit: dict[str, list[ClockLike]] = {}
        for c in clocks:
            if c.met_at is None and c.cancelled_at is None:
                by_unit.setdefault(c.unit_code, []).append(c)
        for unit, open_ in by_unit.items():
            role = roles.get(unit)
            if role is None:
                continue
            due = min(c.due_at for c in open_)
            kinds = {c.kind for c in open_}
            if role == "lead":
                action = next((k for k in LEAD_ORDER if k in kinds), None)
                if action:
                    want[(unit, "lead")] = (action, due)
            elif ClockKind.OPINION.value in kinds:
                want[(unit, "co")] = ("opinion", due)
    for unit in supervising:
        want[(unit, "supervisor")] = ("supervise", None)
    return want


def refresh_queue(
    ctx: Ctx, ticket: Ticket, *,
    fresh: tuple[Sequence[AssignmentLike], Sequence[ClockLike]] | None = None,
) -> None:
    """Bring this ticket's queue rows in line with its state; every row it touches is 'changed'.

    `fresh`: a ticket just created in this transaction, with all its assignments and clocks,
    so there is nothing to read back (intake's hot path)."""
    if fresh is None:
        ctx.session.flush()
    now = ctx.now()
    rows: dict[tuple[str, str], QueueItem] = {}
    if fresh is not None:
        assignments, clocks = fresh
        supervising: list[str] = []
    else:
        assignments = list(ctx.session.scalars(
            select(Assignment).where(Assignment.ticket_id == ticket.id)
        ))
        clocks = list(ctx.session.scalars(select(Clock).where(
            Clock.ticket_id == ticket.id, Clock.met_at.is_(None), Clock.cancelled_at.is_(None)
        )))
        supervising = [u for u in ctx.session.scalars(select(Supervision.unit_code).where(
            Supervision.ticket_id == ticket.id, Supervision.state == "open",
            Supervision.unit_code.is_not(None),
        )) if u is not None]
        rows = {
            (r.unit_code, r.role): r
            for r in ctx.session.scalars(select(QueueItem).where(QueueItem.ticket_id == ticket.id))
        }
    want = _desired(ctx, ticket, assignments, clocks, supervising)
    if fresh is not None:
        insert_rows(ctx.session, QueueItem, [
            {"unit_code": unit, "ticket_id": ticket.id, "role": role, "active": True,
             "next_action": action, "next_due_at": due, "sort_key": due or FAR_FUTURE,
             "updated_at": now}
            for (unit, role), (action, due) in want.items()
        ])
        return
    for key, (action, due) in want.items():
        row = rows.get(key)
        if row is None:
            row = QueueItem(unit_code=key[0], ticket_id=ticket.id, role=key[1])
            ctx.session.add(row)
        row.active, row.next_action, row.next_due_at = True, action, due
        row.sort_key = due or FAR_FUTURE
        row.updated_at = now
    for key, row in rows.items():
        if key not in want and row.active:
            row.active, row.next_action, row.next_due_at = False, None, None
            row.updated_at = now
    ctx.session.flush()


def touch(ctx: Ctx, ticket_ids: Iterable[str]) -> None:
    """Mark tickets' queue rows as changed (e.g. a breach recorded), without recomputing."""
    ids = list(set(ticket_ids))
    if ids:
        ctx.session.execute(update(QueueItem).where(
            QueueItem.ticket_id.in_(ids), QueueItem.active.is_(True)
        ).values(updated_at=ctx.now()))


def etag(ctx: Ctx, unit: str, params: str) -> str | None:
    """Changes when any row of the unit changes or the clock passes its next due time.

    One round trip of index seeks, whatever the queue's size: no page is built to decide a
    304. None when there is no such unit."""
    now = ctx.now()
    last_change = select(func.max(QueueItem.updated_at)).where(
        QueueItem.unit_code == unit).scalar_subquery()
    next_due = select(func.min(QueueItem.sort_key)).where(
        QueueItem.unit_code == unit, QueueItem.active.is_(True), QueueItem.sort_key > now
    ).scalar_subquery()
    row = ctx.session.execute(
        select(Unit.code, last_change, next_due).where(Unit.code == unit)
    ).first()
    if row is None:
        return None
    _, changed, due = row
    raw = f"{unit}|{params}|{changed}|{due}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def read_queue(
    ctx: Ctx, *, unit: str, limit: int, after: tuple[datetime, str, str] | None,
    updated_since: datetime | None,
) -> list[tuple[QueueItem, Ticket]]:
    """One page, nearest due first; with updated_since also the rows that left the queue."""
    q = (
        select(QueueItem, Ticket).join(Ticket, Ticket.id == QueueItem.ticket_id)
        .where(QueueItem.unit_code == unit)
        .order_by(QueueItem.sort_key, QueueItem.ticket_id, QueueItem.role)
        .limit(limit)
    )
    if updated_since is None:
        q = q.where(QueueItem.active.is_(True))
    else:
        q = q.where(QueueItem.updated_at > updated_since)
    if after is not None:
        q = q.where(tuple_(QueueItem.sort_key, QueueItem.ticket_id, QueueItem.role)
                    > tuple_(*after))
    return [(row[0], row[1]) for row in ctx.session.execute(q)]


def item_view(item: QueueItem, ticket: Ticket, now: datetime, tz: Any) -> dict[str, Any]:
    return {
        "ticket": ticket_summary(ticket, tz),
        "role": item.role,
        "next_action": item.next_action,
        "next_due_at": local(item.next_due_at, tz),
        "breached": item.next_due_at is not None and item.next_due_at <= now,
        "in_queue": item.active,
        "updated_at": local(item.updated_at, tz),
    }
