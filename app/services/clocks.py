"""Use-cases of the clock engine: start, meet, cancel, move and recompute clocks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from app.models import Clock, Invitation, InvitationClock, Ticket
from app.repositories import clocks as clocks_repo
from app.services import invitation_log
from app.services.context import Ctx
from app.services.events import log
from app.services.queue import refresh_queue
from app.services.rows import insert_rows, instance_of, row_of
from app.services.sla import Basis, ClockKind, clock_state, compute_due, end_of_day, rule_for
from app.services.supervision import withdraw_disproved
from app.services.vocabulary import ExtensionState


def _reckoned(
    ctx: Ctx, kind: ClockKind, urgency: str, started_at: datetime, *, escalates: bool
) -> dict[str, Any]:
    """A new clock's counting columns: its rule, and its times on the calendar in force."""
    basis, amount = rule_for(kind, urgency, ctx.policy)
    due = compute_due(
        calendar=ctx.calendar,
        tz=ctx.tz,
        basis=basis,
        amount=amount,
        started_at=started_at,
        policy=ctx.policy,
        escalates=escalates,
    )
    return {
        "basis": basis.value,
        "amount": amount,
        "due_at": due.due_at,
        "warn_at": due.warn_at,
        "escalate_at": due.escalate_at,
        "provisional": due.provisional,
    }


def clock_values(
    ctx: Ctx, ticket: Ticket, *, unit: str, kind: ClockKind, round_: int, started_at: datetime
) -> dict[str, Any]:
    """The row of a new running clock of the ticket, its due time computed on the calendar
    in force: what `start_clock` adds and intake inserts below the ORM."""
    return row_of(
        Clock,
        {
            "ticket_id": ticket.id,
            "unit_code": unit,
            "kind": kind.value,
            "round": round_,
            "started_at": started_at,
            **ticket.dimensions(),
            **_reckoned(ctx, kind, ticket.urgency, started_at, escalates=kind is ClockKind.RESOLVE),
        },
    )


def start_clock(
    ctx: Ctx, ticket: Ticket, *, unit: str, kind: ClockKind, round_: int, started_at: datetime
) -> Clock:
    """A new running clock, added to the session."""
    clock = Clock(**clock_values(ctx, ticket, unit=unit, kind=kind, round_=round_, started_at=started_at))
    ctx.session.add(clock)
    return clock


def start_invitation_clock(
    ctx: Ctx, inv: Invitation, *, kind: ClockKind, round_: int, started_at: datetime
) -> InvitationClock:
    """A new running clock of the invited unit (`acknowledge`, `complete`), counted by the
    same rules as a ticket's, added to the session."""
    clock = InvitationClock(
        **row_of(
            InvitationClock,
            {
                "invitation_id": inv.id,
                "unit_code": inv.unit_code,
                "kind": kind.value,
                "round": round_,
                "started_at": started_at,
                **_reckoned(ctx, kind, "normal", started_at, escalates=False),
            },
        )
    )
    ctx.session.add(clock)
    return clock


def insert_clocks(ctx: Ctx, values: list[dict[str, Any]]) -> list[Clock]:
    """Several new clocks in one statement, below the ORM (`clock_values` rows); returns
    them with their ids, in the order of their ids."""
    returned = insert_rows(ctx.session, Clock, values, returning=("id", "unit_code", "kind"))
    ids = {(unit, kind): id_ for id_, unit, kind in returned}
    clocks = [instance_of(Clock, {"id": ids[(v["unit_code"], v["kind"])], **v}) for v in values]
    clocks.sort(key=lambda c: c.id)
    return clocks


def meet(ctx: Ctx, ticket: Ticket, clock: Clock, at: datetime) -> None:
    """Record the action that meets a clock, judged by its `at`."""
    clock.met_at = at
    state = clock_state(due_at=clock.due_at, met_at=at, cancelled_at=None, now=ctx.now())
    log(
        ctx,
        ticket,
        "clock.met",
        at=at,
        data={
            "clock_id": clock.id,
            "kind": clock.kind,
            "unit": clock.unit_code,
            "round": clock.round,
            "state": state.value,
            "due_at": ctx.iso(clock.due_at),
        },
    )
    withdraw_disproved(ctx, ticket, clock)
    lapse_extensions(ctx, ticket, [clock], at, "the resolve clock was met")


def cancel(ctx: Ctx, ticket: Ticket, clocks: list[Clock], at: datetime, reason: str) -> None:
    """Cancel clocks that are no longer needed (assignment returned, ticket closed)."""
    for clock in clocks:
        clock.cancelled_at = at
    if clocks:
        log(
            ctx,
            ticket,
            "clock.cancelled",
            at=at,
            data={
                "reason": reason,
                "clocks": [{"clock_id": c.id, "kind": c.kind, "unit": c.unit_code} for c in clocks],
            },
        )
        lapse_extensions(ctx, ticket, clocks, at, f"the resolve clock was cancelled ({reason})")


def lapse_extensions(ctx: Ctx, ticket: Ticket, clocks: list[Clock], at: datetime, why: str) -> None:
    """A request still pending when its clock is met or cancelled lapses (SPEC, extensions):
    deciding it later could otherwise move a met due time and turn a late resolution into
    an on-time one, and it would block every later round's requests."""
    ids = [c.id for c in clocks if c.kind == ClockKind.RESOLVE.value]
    if not ids:
        return
    for ext in clocks_repo.pending_extensions_of(ctx.session, ids):
        ext.state = ExtensionState.LAPSED.value
        log(
            ctx,
            ticket,
            "extension.lapsed",
            at=at,
            data={"extension_id": ext.id, "round": ext.round, "why": why},
        )


def apply_due(
    ctx: Ctx, clock: Clock | InvitationClock, *, amount: int | None = None
) -> dict[str, Any] | None:
    """Recompute a clock's due from its rule; the change of its due time or provisional
    flag, or None when neither moved (a moved long-overdue threshold alone is applied
    quietly: it is the sweep's mark, not the clock's deadline).

    A moved deadline that lies ahead again may warn and breach again: those marks reset."""
    if amount is not None:
        clock.amount = amount
    due = compute_due(
        calendar=ctx.calendar,
        tz=ctx.tz,
        basis=Basis(clock.basis),
        amount=clock.amount,
        started_at=clock.started_at,
        policy=ctx.policy,
        escalates=clock.kind == ClockKind.RESOLVE.value,
    )
    now = ctx.now()
    if (due.due_at, due.provisional) == (clock.due_at, clock.provisional):
        if due.escalate_at != clock.escalate_at:
            clock.escalate_at = due.escalate_at
            if due.escalate_at is not None and due.escalate_at > now:
                clock.escalated_at = None
        return None
    change = {
        "clock_id": clock.id,
        "kind": clock.kind,
        "unit": clock.unit_code,
        "round": clock.round,
        "old_due_at": ctx.iso(clock.due_at),
        "new_due_at": ctx.iso(due.due_at),
        "old_provisional": clock.provisional,
        "new_provisional": due.provisional,
    }
    clock.due_at, clock.warn_at = due.due_at, due.warn_at
    clock.escalate_at, clock.provisional = due.escalate_at, due.provisional
    if clock.due_at > now:
        clock.breach_recorded_at = None
    if clock.warn_at > now:
        clock.warned_at = None
    if clock.escalate_at is not None and clock.escalate_at > now:
        clock.escalated_at = None
    return change


def recompute_open(ctx: Ctx, years: set[int]) -> int:
    """Recompute every open clock whose period may touch `years`; returns how many changed
    their due time or provisional flag (each logged).

    Hour-counted clocks can change only their long-overdue time, which is not counted."""
    if not years:
        return 0
    lo = min(years)
    # A period reaches at most a few weeks past its start: anything started before the
    # year's start minus that margin and due before the year cannot be affected.
    boundary = end_of_day(date(lo - 1, 11, 30), ctx.tz)
    changed = 0
    tickets: dict[str, Ticket] = {}
    for clock in clocks_repo.open_from(ctx.session, boundary):
        change = apply_due(ctx, clock)
        if change is None:
            continue
        changed += 1
        ticket = tickets.get(clock.ticket_id) or ctx.session.get(Ticket, clock.ticket_id)
        assert ticket is not None
        tickets[ticket.id] = ticket
        log(
            ctx,
            ticket,
            "clock.recomputed",
            at=ctx.now(),
            data={
                **change,
                "reason": f"working calendar changed for {sorted(years)}",
            },
        )
    for ticket in tickets.values():
        refresh_queue(ctx, ticket)
    return changed + _recompute_invitations(ctx, years, boundary)


def _recompute_invitations(ctx: Ctx, years: set[int], boundary: datetime) -> int:
    """`recompute_open` for the invitations' clocks, logged in their histories."""
    changed = 0
    invitations: dict[str, Invitation] = {}
    for clock in clocks_repo.invitation_open_from(ctx.session, boundary):
        change = apply_due(ctx, clock)
        if change is None:
            continue
        changed += 1
        inv = invitations.get(clock.invitation_id) or ctx.session.get(Invitation, clock.invitation_id)
        assert inv is not None
        invitations[inv.id] = inv
        invitation_log.log(
            ctx,
            inv,
            "clock.recomputed",
            at=ctx.now(),
            data={
                **change,
                "reason": f"working calendar changed for {sorted(years)}",
            },
        )
    for inv in invitations.values():
        invitation_log.refresh_queue(ctx, inv)
    return changed
