"""The SLA sweep: record each warning, breach and long-overdue case once, and notify.

Idempotent: each mark is written once (the row's own NULL column decides), and on
PostgreSQL an advisory lock lets one replica sweep at a time while others skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text

from app.models import Clock, Ticket
from app.services.context import Ctx
from app.services.events import emit, log
from app.services.queue import touch

SWEEP_LOCK = 0x5E1A_5EE9  # pg advisory lock key: one sweeping replica at a time
BATCH = 1000


@dataclass
class SweepResult:
    breached: int = 0
    warned: int = 0
    supervisions_opened: int = 0
    skipped: bool = False


def _locked(ctx: Ctx) -> bool:
    if ctx.session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the writer connection (BEGIN IMMEDIATE) already serializes us
    return bool(ctx.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                   {"k": SWEEP_LOCK}))


def _due(ctx: Ctx, column: str, now: datetime) -> list[Clock]:
    col = getattr(Clock, column)
    mark = {"due_at": Clock.breach_recorded_at, "warn_at": Clock.warned_at,
            "escalate_at": Clock.escalated_at}[column]
    q = (select(Clock).where(Clock.met_at.is_(None), Clock.cancelled_at.is_(None),
                             mark.is_(None), col <= now)
         .order_by(col).limit(BATCH))
    if ctx.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(ctx.session.scalars(q))


def _tickets(ctx: Ctx, clocks: list[Clock]) -> dict[str, Ticket]:
    ids = {c.ticket_id for c in clocks}
    return {t.id: t for t in ctx.session.scalars(select(Ticket).where(Ticket.id.in_(ids)))}


def _clock_data(ctx: Ctx, c: Clock) -> dict[str, object]:
    return {"clock_id": c.id, "kind": c.kind, "unit": c.unit_code, "round": c.round,
            "due_at": c.due_at.astimezone(ctx.tz).isoformat()}


def sweep(ctx: Ctx) -> SweepResult:
    """Run one sweep at ctx.now(); safe to run on every replica at once."""
    from app.services.supervision import open_long_overdue

    result = SweepResult()
    if not _locked(ctx):
        result.skipped = True
        return result
    now = ctx.now()
    while batch := _due(ctx, "warn_at", now):
        tickets = _tickets(ctx, batch)
        for c in batch:
            c.warned_at = now
            if c.due_at <= now:
                continue  # already past due: the breach says it all
            t = tickets[c.ticket_id]
            log(ctx, t, "clock.warning", at=now, data=_clock_data(ctx, c))
            emit(ctx, "clock.warning", ticket=t, units=[c.unit_code], data=_clock_data(ctx, c))
            result.warned += 1
        touch(ctx, tickets)
        ctx.session.flush()
    while batch := _due(ctx, "due_at", now):
        tickets = _tickets(ctx, batch)
        for c in batch:
            c.breach_recorded_at = now
            t = tickets[c.ticket_id]
            log(ctx, t, "clock.breached", at=c.due_at, data=_clock_data(ctx, c))
            emit(ctx, "clock.breached", ticket=t, units=[c.unit_code], data=_clock_data(ctx, c))
            result.breached += 1
        touch(ctx, tickets)
        ctx.session.flush()
    while batch := _due(ctx, "escalate_at", now):
        tickets = _tickets(ctx, batch)
        for c in batch:
            c.escalated_at = now
            if open_long_overdue(ctx, tickets[c.ticket_id], c, at=now):
                result.supervisions_opened += 1
        ctx.session.flush()
    return result
