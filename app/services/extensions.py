"""Extension requests (延期) on a normal resolve clock, and their decision."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, NotFound
from app.models import Clock, Extension, Ticket
from app.repositories import clocks, tickets
from app.services.actions import require_role, transition
from app.services.clocks import apply_due
from app.services.context import Ctx
from app.services.events import log
from app.services.queue import refresh_queue
from app.services.sla import Basis, ClockKind
from app.services.tickets import get_visible
from app.services.vocabulary import ExtensionState
from app.services.workflow import Action, is_closed, is_unresolved


def request_extension(ctx: Ctx, *, ticket_id: str, working_days: int, reason: str) -> Extension:
    """The lead asks for more working days on the current round's resolve clock."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    lead = require_role(ctx, ticket, "lead", "ask for an extension")
    transition(ticket, Action.EXTENSION)
    if not is_unresolved(ticket.status):
        raise Conflict(f"an extension is for an unresolved ticket; this one is {ticket.status}")
    clock = clocks.uncancelled_of(
        ctx.session, ticket.id, ClockKind.RESOLVE.value, ticket.round, lead.unit_code
    )
    if clock is None:
        raise Conflict("there is no resolve clock to extend")
    if clock.basis != Basis.WORKDAYS.value:
        raise Conflict("an urgent ticket's resolve limit cannot be extended")
    pending = tickets.pending_extension_id(ctx.session, ticket.id)
    if pending is not None:
        raise Conflict(f"extension {pending} is still pending")
    now = ctx.now()
    ext = Extension(
        ticket_id=ticket.id,
        clock_id=clock.id,
        unit_code=lead.unit_code,
        round=ticket.round,
        working_days=working_days,
        reason=reason,
        state=ExtensionState.PENDING.value,
        requested_at=now,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(ext)
            ctx.session.flush()
    except IntegrityError:
        raise Conflict("another extension request is pending") from None
    log(
        ctx,
        ticket,
        "extension.requested",
        at=now,
        data={
            "extension_id": ext.id,
            "working_days": working_days,
            "reason": reason,
        },
    )
    return ext


def decide_extension(ctx: Ctx, *, extension_id: str, approve: bool, note: str | None) -> Extension:
    """Approve (moving the resolve due on by the working days asked) or refuse."""
    ext = tickets.get_extension(ctx.session, extension_id, for_update=True)
    if ext is None:
        raise NotFound(f"no extension {extension_id}")
    if ext.state != ExtensionState.PENDING:
        raise Conflict(
            f"extension {extension_id} has {ext.state}"
            if ext.state == ExtensionState.LAPSED
            else f"extension {extension_id} was already {ext.state}"
        )
    ticket = ctx.session.get(Ticket, ext.ticket_id)
    assert ticket is not None
    if is_closed(ticket.status):
        raise Conflict("the ticket is closed")
    now = ctx.now()
    ext.state = (ExtensionState.APPROVED if approve else ExtensionState.REFUSED).value
    ext.decided_at, ext.decided_by, ext.note = now, ctx.actor.name, note
    data: dict[str, object] = {"extension_id": ext.id, "approve": approve, "note": note}
    if approve:
        clock = ctx.session.get(Clock, ext.clock_id)
        assert clock is not None
        change = apply_due(ctx, clock, amount=clock.amount + ext.working_days)
        if change:
            data.update(change)
    log(ctx, ticket, "extension.decided", at=now, data=data)
    refresh_queue(ctx, ticket)
    return ext


def get_extension(ctx: Ctx, extension_id: str) -> Extension:
    ext = ctx.session.get(Extension, extension_id)
    if ext is None:
        raise NotFound(f"no extension {extension_id}")
    return ext


def of_ticket(ctx: Ctx, ticket_id: str) -> list[Extension]:
    """A ticket's extension requests, oldest first (the ticket must be visible)."""
    get_visible(ctx, ticket_id)
    return tickets.extensions_of(ctx.session, ticket_id)


def pending(ctx: Ctx, *, limit: int) -> list[tuple[Extension, Ticket]]:
    """Requests waiting for a decision, oldest first, with their tickets."""
    return tickets.pending_extensions(ctx.session, limit=limit)
