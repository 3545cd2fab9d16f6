"""The handling round: contact, opinions, resolve, feedback, return, re-dispatch, rating."""

from __future__ import annotations

from datetime import datetime

from app.errors import Conflict, Forbidden, Invalid
from app.models import Assignment, Category, Clock, Rating, Resolution, Ticket
from app.repositories import tickets as tickets_repo
from app.repositories.clocks import open_clocks
from app.services.clocks import cancel, meet, start_clock
from app.services.context import Ctx
from app.services.events import emit, log
from app.services.queue import refresh_queue
from app.services.routing import choose_lead
from app.services.sla import ClockKind
from app.services.supervision import open_rating_cases
from app.services.tickets import check_units, dispatch_to, get_visible
from app.services.vocabulary import RATING_LABELS, rating_of
from app.services.workflow import Action, Status, TransitionRefused, is_closed, next_status


def transition(ticket: Ticket, action: Action) -> Status:
    """The ticket's status after `action` (workflow.ALLOWED), or 409."""
    try:
        return next_status(Status(ticket.status), action)
    except TransitionRefused as exc:
        raise Conflict(str(exc)) from None


def _active_role(ctx: Ctx, ticket: Ticket) -> Assignment | None:
    return tickets_repo.active_assignment(ctx.session, ticket.id, ctx.actor.unit_code)


def require_role(ctx: Ctx, ticket: Ticket, role: str, what: str) -> Assignment:
    """The actor's unit's active assignment in `role` ("lead" or "co") on an open ticket,
    or 409 (closed) / 403 (not that role); `what` names the step in the refusal."""
    if is_closed(ticket.status):
        # Nothing is done on a closed ticket (409), even by a unit whose assignment ended
        # with it (a consultation is closed at intake with inactive assignments).
        raise Conflict(f"cannot {what} on a closed ticket")
    assignment = _active_role(ctx, ticket)
    if assignment is None or assignment.role != role:
        who = "the lead unit" if role == "lead" else "a co-handling unit"
        raise Forbidden(f"only {who} may {what}")
    return assignment


def _at(ctx: Ctx, at: datetime | None, *, not_before: datetime, step: str) -> datetime:
    """The action's instant: default now; never in the future; never before the step it follows."""
    now = ctx.now()
    if at is None:
        return max(now, not_before)
    if at > now:
        raise Invalid("at", "lies in the future")
    if at < not_before:
        raise Invalid("at", f"is before {step} ({ctx.iso(not_before)})")
    return at


def _open_clock(ctx: Ctx, ticket: Ticket, kind: ClockKind, unit: str | None) -> Clock | None:
    for clock in open_clocks(ctx.session, ticket.id):
        if clock.kind == kind.value and clock.unit_code == unit:
            return clock
    return None


def _round_started_at(ctx: Ctx, ticket: Ticket, lead: Assignment) -> datetime:
    if ticket.round == 1:
        return lead.assigned_at
    started = tickets_repo.rated_at(ctx.session, ticket.id, ticket.round - 1)
    return started or lead.assigned_at


def contact(
    ctx: Ctx, *, ticket_id: str, at: datetime | None, method: str, deputy_invited: bool, note: str | None
) -> Ticket:
    """The lead records contact with the deputy (联系代表); meets the contact clock."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    lead = require_role(ctx, ticket, "lead", "record contact")
    new_status = transition(ticket, Action.CONTACT)
    at = _at(ctx, at, not_before=lead.assigned_at, step="the dispatch")
    clock = _open_clock(ctx, ticket, ClockKind.CONTACT, lead.unit_code)
    ticket.status = new_status.value
    log(
        ctx,
        ticket,
        "ticket.contacted",
        at=at,
        data={
            "method": method,
            "deputy_invited": deputy_invited,
            "note": note,
        },
    )
    if clock is not None:
        meet(ctx, ticket, clock, at)
    refresh_queue(ctx, ticket)
    return ticket


def opinion(ctx: Ctx, *, ticket_id: str, content: str, at: datetime | None) -> Ticket:
    """A co-handler sends its opinion (协办意见) to the lead; meets its opinion clock."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    transition(ticket, Action.OPINION)
    co = require_role(ctx, ticket, "co", "submit a co-handling opinion")
    at = _at(ctx, at, not_before=co.assigned_at, step="the dispatch")
    co.opinion, co.opinion_at = content, at
    log(ctx, ticket, "ticket.opinion", at=at, data={"unit": co.unit_code, "content": content})
    clock = _open_clock(ctx, ticket, ClockKind.OPINION, co.unit_code)
    if clock is not None:
        meet(ctx, ticket, clock, at)
    refresh_queue(ctx, ticket)
    return ticket


def resolve(ctx: Ctx, *, ticket_id: str, at: datetime | None, outcome: str, reply: str) -> Ticket:
    """The lead resolves (办结): meets the resolve clock, starts the feedback clock."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    lead = require_role(ctx, ticket, "lead", "resolve")
    new_status = transition(ticket, Action.RESOLVE)
    at = _at(ctx, at, not_before=_round_started_at(ctx, ticket, lead), step="the round's start")
    ticket.status = new_status.value
    ticket.resolved_at, ticket.resolution_outcome, ticket.resolution_reply = at, outcome, reply
    ctx.session.add(
        Resolution(
            ticket_id=ticket.id,
            round=ticket.round,
            unit_code=lead.unit_code,
            at=at,
            outcome=outcome,
            reply=reply,
            ticket_kind=ticket.kind,
            **ticket.dimensions(),
        )
    )
    log(
        ctx,
        ticket,
        "ticket.resolved",
        at=at,
        data={
            "outcome": outcome,
            "reply": reply,
            "round": ticket.round,
        },
    )
    clock = _open_clock(ctx, ticket, ClockKind.RESOLVE, lead.unit_code)
    if clock is not None:
        meet(ctx, ticket, clock, at)
    start_clock(ctx, ticket, unit=lead.unit_code, kind=ClockKind.FEEDBACK, round_=ticket.round, started_at=at)
    ctx.session.flush()
    refresh_queue(ctx, ticket)
    return ticket


def feedback(ctx: Ctx, *, ticket_id: str, at: datetime | None, method: str, content: str) -> Ticket:
    """The lead feeds the result back to the deputy (反馈); meets the feedback clock."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    lead = require_role(ctx, ticket, "lead", "record feedback")
    new_status = transition(ticket, Action.FEEDBACK)
    assert ticket.resolved_at is not None
    at = _at(ctx, at, not_before=ticket.resolved_at, step="the resolution")
    ticket.status = new_status.value
    ticket.fed_back_at, ticket.feedback_method, ticket.feedback_content = at, method, content
    log(ctx, ticket, "ticket.fed_back", at=at, data={"method": method, "content": content})
    clock = _open_clock(ctx, ticket, ClockKind.FEEDBACK, lead.unit_code)
    if clock is not None:
        meet(ctx, ticket, clock, at)
    refresh_queue(ctx, ticket)
    if ticket.message_id is not None:
        from app.services.message_forward import ticket_fed_back

        ticket_fed_back(ctx, ticket, at)
    return ticket


def return_ticket(ctx: Ctx, *, ticket_id: str, reason: str, at: datetime | None) -> Ticket:
    """The lead returns a misrouted ticket (退回) before resolving; its clocks are cancelled."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    lead = require_role(ctx, ticket, "lead", "return the ticket")
    new_status = transition(ticket, Action.RETURN)
    at = _at(ctx, at, not_before=lead.assigned_at, step="the dispatch")
    assignments = tickets_repo.active_assignments(ctx.session, ticket.id)
    for a in assignments:
        a.active, a.ended_at = False, at
    cancel(ctx, ticket, open_clocks(ctx.session, ticket.id), at, "assignment returned")
    ticket.status, ticket.lead_unit = new_status.value, None
    log(ctx, ticket, "ticket.returned", at=at, data={"unit": lead.unit_code, "reason": reason})
    emit(
        ctx,
        "ticket.returned",
        ticket=ticket,
        units=[a.unit_code for a in assignments],
        data={"returned_by": lead.unit_code, "reason": reason},
    )
    refresh_queue(ctx, ticket)
    return ticket


def redispatch(
    ctx: Ctx, *, ticket_id: str, units: list[str], lead_unit: str | None, at: datetime | None
) -> Ticket:
    """The hotline re-dispatches a returned ticket; the new lead's clocks start now."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    new_status = transition(ticket, Action.DISPATCH)
    units = list(dict.fromkeys(units))
    if not units:
        raise Invalid("units", "at least one unit")
    check_units(ctx, units, "units")
    if lead_unit is not None and lead_unit not in units:
        raise Invalid("lead_unit", f"{lead_unit!r} is not one of units")
    returned_at = tickets_repo.last_ended(ctx.session, ticket.id) or ticket.dispatched_at
    at = _at(ctx, at, not_before=returned_at, step="the return")
    category = ctx.session.get(Category, ticket.category)
    routing = choose_lead(units, lead_unit, category.default_lead_unit if category else None)
    ticket.status = new_status.value
    dispatch_to(ctx, ticket, routing.lead, list(routing.co_handlers), at, rule=routing.rule)
    return ticket


def rate(ctx: Ctx, *, ticket_id: str, rating: str, at: datetime | None, comment: str | None) -> Ticket:
    """The hotline records the deputy's rating after the follow-up call (回访)."""
    ticket = get_visible(ctx, ticket_id, for_update=True)
    given = rating_of(rating)
    if given is None:
        raise Invalid("rating", "must be one of " + ", ".join([*RATING_LABELS, *RATING_LABELS.values()]))
    code, satisfied = given.value, given.satisfied
    new_status = transition(ticket, Action.RATE_SATISFIED if satisfied else Action.RATE_UNSATISFIED)
    assert ticket.fed_back_at is not None
    at = _at(ctx, at, not_before=ticket.fed_back_at, step="the feedback")
    resolved_by = tickets_repo.resolved_by(ctx.session, ticket.id, ticket.round)
    ctx.session.add(
        Rating(
            ticket_id=ticket.id,
            round=ticket.round,
            at=at,
            rating=code,
            satisfied=satisfied,
            comment=comment,
            unit_code=resolved_by or ticket.lead_unit,
            **ticket.dimensions(),
        )
    )
    ticket.rated_at, ticket.rating, ticket.rating_comment = at, code, comment
    log(
        ctx,
        ticket,
        "rating.recorded",
        at=at,
        data={
            "rating": code,
            "satisfied": satisfied,
            "comment": comment,
            "round": ticket.round,
        },
    )
    emit(
        ctx,
        "rating.recorded",
        ticket=ticket,
        units=[ticket.lead_unit],
        data={"rating": code, "satisfied": satisfied, "round": ticket.round},
    )
    ticket.status = new_status.value
    if satisfied:
        ticket.closed_at = at
        still_running = [c for c in open_clocks(ctx.session, ticket.id) if c.due_at > at]
        cancel(ctx, ticket, still_running, at, "ticket closed")
        log(ctx, ticket, "ticket.closed", at=at, data={"rating": code})
    else:
        _start_rehandling(ctx, ticket, at)
    ctx.session.flush()
    refresh_queue(ctx, ticket)
    return ticket


def _start_rehandling(ctx: Ctx, ticket: Ticket, at: datetime) -> None:
    """Unsatisfied: a new round (重办) with fresh resolve and feedback clocks, and supervision."""
    previous_round = ticket.round
    ticket.round += 1
    ticket.resolved_at = ticket.resolution_outcome = ticket.resolution_reply = None
    ticket.fed_back_at = ticket.feedback_method = ticket.feedback_content = None
    assert ticket.lead_unit is not None
    clock = start_clock(
        ctx, ticket, unit=ticket.lead_unit, kind=ClockKind.RESOLVE, round_=ticket.round, started_at=at
    )
    ctx.session.flush()
    log(
        ctx,
        ticket,
        "ticket.rehandling",
        at=at,
        data={
            "round": ticket.round,
            "lead_unit": ticket.lead_unit,
            "resolve_due_at": ctx.iso(clock.due_at),
        },
    )
    open_rating_cases(ctx, ticket, at=at, rounds_rated=previous_round)
