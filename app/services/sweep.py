"""The SLA sweep: record each warning, breach and long-overdue case once, and notify.

Idempotent: each mark is written once (the row's own NULL column decides), and on
PostgreSQL an advisory lock lets one replica sweep at a time while others skip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, text

from app.models import Clock, Event, InvitationClock, Ticket
from app.repositories import clocks
from app.services import invitation_log, message_sweep
from app.services.context import Ctx
from app.services.events import emit
from app.services.queue import touch
from app.services.supervision import open_long_overdue

SWEEP_LOCK = 0x5E1A_5EE9  # pg advisory lock key: one sweeping replica at a time
BATCH = 1000


@dataclass
class SweepResult:
    breached: int = 0
    warned: int = 0
    supervisions_opened: int = 0
    # Voters' messages (Part II): the deputies' response clocks, and messages closed unrated.
    messages_warned: int = 0
    messages_breached: int = 0
    messages_closed: int = 0
    skipped: bool = False


def _locked(ctx: Ctx) -> bool:
    if ctx.session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: the writer connection (BEGIN IMMEDIATE) already serializes us
    return bool(ctx.session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}))


def _due_rows(ctx: Ctx, column: str, now: datetime, model: clocks.ClockTable = Clock) -> list[Any]:
    return clocks.due_rows(ctx.session, column, now, model, limit=BATCH)


def _log_many(ctx: Ctx, tickets: dict[str, Ticket], events: list[dict[str, Any]], now: datetime) -> None:
    """`events.log` for a batch: one multi-row INSERT; the tickets count as changed."""
    if not events:
        return
    ctx.session.execute(
        insert(Event), [{**e, "recorded_at": now, **ctx.actor.event_columns()} for e in events]
    )
    for ticket_id in {e["ticket_id"] for e in events}:
        tickets[ticket_id].updated_at = now


def _clock_data(ctx: Ctx, c: Any) -> dict[str, object]:
    return {
        "clock_id": c.id,
        "kind": c.kind,
        "unit": c.unit_code,
        "round": c.round,
        "due_at": ctx.iso(c.due_at),
    }


def sweep(ctx: Ctx) -> SweepResult:
    """Run one sweep at ctx.now(); safe to run on every replica at once."""
    result = SweepResult()
    if not _locked(ctx):
        result.skipped = True
        return result
    now = ctx.now()
    while rows := _due_rows(ctx, "warn_at", now):
        clocks.mark(ctx.session, "warn_at", [c.id for c in rows], now)
        rows = [c for c in rows if c.due_at > now]  # already past due: the breach says it all
        tickets = clocks.tickets_of(ctx.session, {c.owner_id for c in rows})
        events = []
        for c in rows:
            data = _clock_data(ctx, c)
            events.append({"ticket_id": c.owner_id, "at": now, "type": "clock.warning", "data": data})
            emit(ctx, "clock.warning", ticket=tickets[c.owner_id], units=[c.unit_code], data=data)
            result.warned += 1
        _log_many(ctx, tickets, events, now)
        touch(ctx, tickets)
        ctx.session.flush()
    while rows := _due_rows(ctx, "due_at", now):
        clocks.mark(ctx.session, "due_at", [c.id for c in rows], now)
        tickets = clocks.tickets_of(ctx.session, {c.owner_id for c in rows})
        events = []
        for c in rows:
            data = _clock_data(ctx, c)
            events.append({"ticket_id": c.owner_id, "at": c.due_at, "type": "clock.breached", "data": data})
            emit(ctx, "clock.breached", ticket=tickets[c.owner_id], units=[c.unit_code], data=data)
            result.breached += 1
        _log_many(ctx, tickets, events, now)
        touch(ctx, tickets)
        ctx.session.flush()
    _sweep_invitations(ctx, result, now)
    while batch := clocks.due_clocks(ctx.session, "escalate_at", now, limit=BATCH):
        tickets = clocks.tickets_of(ctx.session, {c.ticket_id for c in batch})
        for c in batch:
            c.escalated_at = now
            if open_long_overdue(ctx, tickets[c.ticket_id], c, at=now):
                result.supervisions_opened += 1
        ctx.session.flush()
    done = message_sweep.sweep(ctx)
    result.messages_warned, result.messages_breached = done.warned, done.breached
    result.messages_closed = done.closed
    return result


def _sweep_invitations(ctx: Ctx, result: SweepResult, now: datetime) -> None:
    """The invitations' clocks, by the same marks: each warning and breach recorded once,
    logged in the invitation's history and sent to the invited unit."""
    for column, type_ in (("warn_at", "clock.warning"), ("due_at", "clock.breached")):
        while rows := _due_rows(ctx, column, now, InvitationClock):
            clocks.mark(ctx.session, column, [c.id for c in rows], now, InvitationClock)
            if column == "warn_at":
                rows = [c for c in rows if c.due_at > now]
            ids = {c.owner_id for c in rows}
            invitations = clocks.invitations_of(ctx.session, ids)
            for c in rows:
                inv = invitations[c.owner_id]
                data = _clock_data(ctx, c)
                invitation_log.log(
                    ctx, inv, type_, at=now if column == "warn_at" else c.due_at, data=data, now=now
                )
                invitation_log.emit(ctx, type_, inv, data)
                if column == "warn_at":
                    result.warned += 1
                else:
                    result.breached += 1
            invitation_log.touch(ctx, ids)
            ctx.session.flush()
