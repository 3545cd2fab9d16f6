"""Supervision (督办): when cases open, who owns them, and their notes and conclusions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import (
    Category,
    Clock,
    Supervision,
    SupervisionMeeting,
    SupervisionNote,
    Ticket,
)
from app.repositories import EVERY, invitations, registry, tickets
from app.repositories import supervision as repo
from app.services import escalation
from app.services.context import Ctx
from app.services.events import emit, log
from app.services.queue import refresh_queue
from app.services.vocabulary import CaseKind, CaseState
from app.services.workflow import is_closed


def open_case(
    ctx: Ctx,
    ticket: Ticket,
    *,
    kind: str,
    round_: int,
    unit: str | None,
    reason: str,
    at: datetime,
    trigger_clock_id: int | None = None,
) -> Supervision | None:
    """Open a case unless this kind is already open for this round (the unique key decides)."""
    existing = repo.of_round(ctx.session, ticket.id, kind, round_)
    if existing is not None:
        return None
    case = Supervision(
        ticket_id=ticket.id,
        kind=kind,
        unit_code=unit,
        state=CaseState.OPEN.value,
        reason=reason,
        round=round_,
        trigger_clock_id=trigger_clock_id,
        opened_at=at,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(case)
            ctx.session.flush()
    except IntegrityError:
        return None
    log(
        ctx,
        ticket,
        "supervision.opened",
        at=at,
        data={
            "supervision_id": case.id,
            "kind": kind,
            "unit": unit,
            "round": round_,
            "reason": reason,
        },
    )
    emit(
        ctx,
        "supervision.opened",
        ticket=ticket,
        units=[unit, ticket.lead_unit],
        data={
            "supervision_id": case.id,
            "kind": kind,
            "supervising_unit": unit,
            "round": round_,
            "reason": reason,
        },
    )
    return case


def open_coordination(ctx: Ctx, ticket: Ticket, category: Category, *, at: datetime) -> None:
    """A complex ticket (复杂疑难) goes to the coordinator in charge (呈签)."""
    coordinators: list[str] = []
    if category.coordinator_unit is None:
        coordinators = registry.coordinators(ctx.session, limit=2)
    case = escalation.on_complex(category_coordinator=category.coordinator_unit, coordinators=coordinators)
    open_case(ctx, ticket, kind=case.kind.value, round_=1, unit=case.unit, reason=case.reason, at=at)


def open_rating_cases(ctx: Ctx, ticket: Ticket, *, at: datetime, rounds_rated: int) -> None:
    """Unsatisfied: the cases app.services.escalation decides, for the new round."""
    category = registry.get_category(ctx.session, ticket.category)
    congress = None
    if ticket.district:
        congress = registry.district_congress(ctx.session, ticket.district)
    cases = escalation.on_unsatisfied(
        rating=ticket.rating,
        rounds_rated=rounds_rated,
        category=ticket.category,
        committee_unit=category.committee_unit if category else None,
        district=ticket.district,
        district_congress=congress,
    )
    for case in cases:
        open_case(
            ctx, ticket, kind=case.kind.value, round_=ticket.round, unit=case.unit, reason=case.reason, at=at
        )


def open_long_overdue(ctx: Ctx, ticket: Ticket, clock: Clock, *, at: datetime) -> bool:
    """久拖不决: a resolve clock still unmet some working days after its due day."""
    decided = escalation.on_long_overdue(
        due_at=ctx.iso(clock.due_at), working_days=ctx.policy.long_overdue_working_days
    )
    case = open_case(
        ctx,
        ticket,
        kind=decided.kind.value,
        round_=clock.round,
        unit=decided.unit,
        trigger_clock_id=clock.id,
        reason=decided.reason,
        at=at,
    )
    return case is not None


def open_joint_by_hand(ctx: Ctx, *, ticket_id: str, reason: str) -> Supervision:
    """The liaison committee opens a joint case (联合督办) on a ticket not closed, for a hard
    case (难点) or poor handling (办理不力); at most one joint case per ticket round."""
    ticket = tickets.get(ctx.session, ticket_id, for_update=True)
    if ticket is None:
        raise Invalid("ticket_id", f"no ticket {ticket_id}")
    if is_closed(ticket.status):
        raise Conflict("the ticket is closed: a joint case is opened on a ticket still open")
    case = open_case(
        ctx, ticket, kind=CaseKind.JOINT.value, round_=ticket.round, unit=None, reason=reason, at=ctx.now()
    )
    if case is None:
        raise Conflict(f"a joint case was already opened in round {ticket.round} of this ticket")
    return case


def withdraw_disproved(ctx: Ctx, ticket: Ticket, clock: Clock) -> None:
    """A case opened because this clock ran long is withdrawn if the clock was in fact met."""
    if clock.met_at is None or not escalation.disproved(met_at=clock.met_at, escalate_at=clock.escalate_at):
        return
    for case in repo.open_triggered_by(ctx.session, clock.id):
        case.state, case.closed_at = CaseState.WITHDRAWN.value, ctx.now()
        case.conclusion = (
            f"withdrawn: the clock was met at "
            f"{ctx.iso(clock.met_at)}, before the "
            "long-overdue threshold, as recorded later"
        )
        log(
            ctx,
            ticket,
            "supervision.withdrawn",
            at=ctx.now(),
            data={
                "supervision_id": case.id,
                "kind": case.kind,
                "reason": case.conclusion,
            },
        )


def _visible_case(ctx: Ctx, case_id: str, *, for_update: bool = False) -> Supervision:
    case = repo.get(ctx.session, case_id, for_update=for_update)
    if case is None:
        raise NotFound(f"no supervision case {case_id}")
    if ctx.actor.role == "unit" and case.unit_code != ctx.actor.unit_code:
        raise NotFound(f"no supervision case {case_id}")
    return case


def get_case(ctx: Ctx, case_id: str) -> Supervision:
    return _visible_case(ctx, case_id)


def _may_work(ctx: Ctx, case: Supervision) -> None:
    if ctx.actor.role == "liaison":
        return
    if ctx.actor.role == "unit" and case.unit_code == ctx.actor.unit_code:
        return
    raise Forbidden("only the case's own unit or the liaison committee works a case")


def add_note(ctx: Ctx, *, case_id: str, content: str) -> Supervision:
    case = _visible_case(ctx, case_id, for_update=True)
    _may_work(ctx, case)
    if case.state != CaseState.OPEN:
        raise Conflict(f"the case is {case.state}")
    now = ctx.now()
    ctx.session.add(SupervisionNote(supervision_id=case.id, author=ctx.actor.name, content=content, at=now))
    _log_case(ctx, case, "supervision.note", at=now, data={"supervision_id": case.id, "content": content})
    ctx.session.flush()
    return case


def close_case(ctx: Ctx, *, case_id: str, conclusion: str) -> Supervision:
    case = _visible_case(ctx, case_id, for_update=True)
    _may_work(ctx, case)
    if case.state != CaseState.OPEN:
        raise Conflict(f"the case is already {case.state}")
    now = ctx.now()
    case.state, case.closed_at, case.conclusion = CaseState.CLOSED.value, now, conclusion
    ticket = _log_case(
        ctx,
        case,
        "supervision.closed",
        at=now,
        data={
            "supervision_id": case.id,
            "kind": case.kind,
            "conclusion": conclusion,
        },
    )
    if ticket is not None:
        refresh_queue(ctx, ticket)
    return case


def add_meeting(
    ctx: Ctx, *, case_id: str, held_at: datetime, participants: list[str], conclusion: str
) -> Supervision:
    """Record a consultation meeting (会商) held on a case while it was open."""
    case = _visible_case(ctx, case_id, for_update=True)
    now = ctx.now()
    if held_at > now:
        raise Invalid("held_at", "lies in the future")
    if held_at < case.opened_at:
        raise Invalid("held_at", f"is before the case opened ({ctx.iso(case.opened_at)})")
    if case.closed_at is not None and held_at > case.closed_at:
        raise Invalid("held_at", f"is after the case was {case.state} ({ctx.iso(case.closed_at)})")
    people = list(dict.fromkeys(participants))
    meeting = SupervisionMeeting(
        supervision_id=case.id,
        held_at=held_at,
        participants=people,
        conclusion=conclusion,
        recorded_by=ctx.actor.name,
        recorded_at=now,
    )
    ctx.session.add(meeting)
    _log_case(
        ctx,
        case,
        "supervision.meeting",
        at=held_at,
        data={
            "supervision_id": case.id,
            "participants": people,
            "conclusion": conclusion,
        },
    )
    ctx.session.flush()
    return case


def _log_case(
    ctx: Ctx, case: Supervision, type_: str, *, at: datetime, data: dict[str, Any]
) -> Ticket | None:
    """Log a case's step in its ticket's log, or its invitation's history; the ticket."""
    if case.ticket_id is None:
        from app.services import invitation_log

        assert case.invitation_id is not None
        inv = invitations.by_id(ctx.session, case.invitation_id)
        assert inv is not None
        invitation_log.log(ctx, inv, type_, at=at, data=data)
        return None
    ticket = tickets.get(ctx.session, case.ticket_id)
    assert ticket is not None
    log(ctx, ticket, type_, at=at, data=data)
    return ticket


def meetings_of(ctx: Ctx, case_ids: list[str]) -> dict[str, list[SupervisionMeeting]]:
    return repo.by_case(ctx.session, SupervisionMeeting, case_ids, SupervisionMeeting.held_at)


def notes_of(ctx: Ctx, case_ids: list[str]) -> dict[str, list[SupervisionNote]]:
    return repo.by_case(ctx.session, SupervisionNote, case_ids, SupervisionNote.at)


def list_cases(
    ctx: Ctx,
    *,
    kind: str | None,
    state: str | None,
    unit: str | None,
    ticket_id: str | None,
    after: str | None,
    limit: int,
) -> list[Supervision]:
    return repo.listed(
        ctx.session,
        own_unit=ctx.actor.unit_code if ctx.actor.role == "unit" else EVERY,
        kind=kind,
        state=state,
        unit=unit,
        ticket_id=ticket_id,
        after=after,
        limit=limit,
    )
