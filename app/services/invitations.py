"""Invitations (约请, SPEC Part II): the use-cases of the status machine, on the clock engine.

Each use-case locks the invitation's row, asks `invitation_flow` whether this party may do
this now (403 before 409), checks the action's instant, then writes the change, its clocks,
its history, the invited unit's queue entry and its webhooks in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import Invitation, InvitationClock, InvitationEvaluation, InvitationReport, Supervision
from app.repositories import EVERY, registry
from app.repositories import invitations as repo
from app.services import invitation_log
from app.services.clocks import start_invitation_clock
from app.services.context import Ctx
from app.services.invitation_flow import (
    Action,
    OutOfOrder,
    Party,
    Status,
    WrongParty,
    letter_number,
    next_round,
    next_status,
    party_of,
    rating_action,
)
from app.services.queue import FAR_FUTURE
from app.services.sla import ClockKind, clock_state
from app.services.vocabulary import THREE_POINT, ExtensionState, rating_of

OUTCOMES = ("solved", "stepwise", "referred", "explained")


# --- reading and acting --------------------------------------------------------------------


def party(ctx: Ctx, inv: Invitation) -> Party | None:
    """The part this actor plays in the invitation (None: none; it may not read it)."""
    a = ctx.actor
    return party_of(
        role=a.role,
        unit_code=a.unit_code,
        station_code=a.station_code,
        invited_unit=inv.unit_code,
        station=inv.station_code,
    )


def get_visible(ctx: Ctx, invitation_id: str, *, for_update: bool = False) -> Invitation:
    """The invitation, or NotFound when there is none or this actor may not read it."""
    inv = repo.get(ctx.session, invitation_id, for_update=for_update)
    if inv is None or party(ctx, inv) is None:
        raise NotFound(f"no invitation {invitation_id}")
    return inv


def step(ctx: Ctx, inv: Invitation, action: Action) -> Status:
    """The next status, or Forbidden (not this party's action) / Conflict (out of order)."""
    who = party(ctx, inv)
    assert who is not None  # get_visible ran first
    try:
        return next_status(who, Status(inv.status), action)
    except WrongParty as exc:
        raise Forbidden(str(exc)) from None
    except OutOfOrder as exc:
        raise Conflict(str(exc)) from None


def _at(ctx: Ctx, at: datetime | None, *, not_before: datetime, step: str) -> datetime:
    """The action's instant: default now; never in the future; never before the step it
    follows."""
    now = ctx.now()
    if at is None:
        return max(now, not_before)
    if at > now:
        raise Invalid("at", "lies in the future")
    if at < not_before:
        raise Invalid("at", f"is before {step} ({ctx.iso(not_before)})")
    return at


def open_clock(ctx: Ctx, inv: Invitation, kind: ClockKind) -> InvitationClock | None:
    """The current round's open clock of this kind."""
    return repo.open_clock_of(ctx.session, inv.id, kind.value, inv.round)


def _meet(ctx: Ctx, inv: Invitation, clock: InvitationClock | None, at: datetime) -> None:
    if clock is None:
        return
    clock.met_at = at
    state = clock_state(due_at=clock.due_at, met_at=at, cancelled_at=None, now=ctx.now())
    invitation_log.log(
        ctx,
        inv,
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


# --- submit and review ---------------------------------------------------------------------


def submit(
    ctx: Ctx, *, station: str, unit: str, subject: str, content: str, deputies: list[str]
) -> Invitation:
    """A station (for itself) or the liaison committee (for a station) asks for a unit."""
    if ctx.actor.role == "station" and ctx.actor.station_code != station:
        raise Forbidden("a station submits invitations for itself only")
    if registry.get_station(ctx.session, station) is None:
        raise Invalid("station", f"no station {station!r}")
    if registry.get_unit(ctx.session, unit) is None:
        raise Invalid("unit", f"no unit {unit!r}")
    wanted = list(dict.fromkeys(deputies))
    known = registry.known_deputies(ctx.session, wanted)
    for i, d in enumerate(deputies):
        if d not in known:
            raise Invalid(f"deputies[{i}]", f"no deputy {d!r}")
    now = ctx.now()
    inv = Invitation(
        station_code=station,
        unit_code=unit,
        subject=subject,
        content=content,
        deputies=wanted,
        status=Status.SUBMITTED.value,
        round=1,
        submitted_at=now,
        submitted_by=ctx.actor.name,
        queue_active=False,
        sort_key=FAR_FUTURE,
        created_at=now,
        updated_at=now,
    )
    ctx.session.add(inv)
    ctx.session.flush()
    invitation_log.log(
        ctx,
        inv,
        "invitation.submitted",
        at=now,
        data={"station": station, "unit": unit, "subject": subject, "deputies": wanted},
    )
    return inv


def review(ctx: Ctx, *, invitation_id: str, approve: bool, note: str | None) -> Invitation:
    """The liaison committee approves (the letter is numbered and issued; the acknowledge
    clock starts) or rejects with a reason."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    to = step(ctx, inv, Action.APPROVE if approve else Action.REJECT)
    if not approve and not (note and note.strip()):
        raise Invalid("note", "a rejection gives its reason")
    now = ctx.now()
    inv.status, inv.reviewed_at, inv.reviewed_by, inv.review_note = to.value, now, ctx.actor.name, note
    if not approve:
        invitation_log.log(ctx, inv, "invitation.rejected", at=now, data={"reason": note})
        return inv
    year = now.astimezone(ctx.tz).year
    seq = repo.next_letter(ctx.session, year)
    inv.letter_year, inv.letter_seq = year, seq
    inv.number = letter_number(ctx.policy.invitation_letter_prefix, year, seq)
    clock = start_invitation_clock(ctx, inv, kind=ClockKind.ACKNOWLEDGE, round_=1, started_at=now)
    ctx.session.flush()
    invitation_log.log(
        ctx,
        inv,
        "invitation.issued",
        at=now,
        data={"number": inv.number, "note": note, "acknowledge_due_at": ctx.iso(clock.due_at)},
    )
    invitation_log.refresh_queue(ctx, inv)
    invitation_log.emit(
        ctx,
        "invitation.issued",
        inv,
        {
            "unit_name": registry.unit_name(ctx.session, inv.unit_code),
            "content": inv.content,
            "acknowledge_due_at": ctx.iso(clock.due_at),
        },
    )
    return inv


# --- the invited unit ----------------------------------------------------------------------


def acknowledge(
    ctx: Ctx,
    *,
    invitation_id: str,
    meeting_at: datetime,
    responsible_person: str,
    contact_phone: str,
    note: str | None,
    at: datetime | None,
) -> Invitation:
    """The invited unit acknowledges: the meeting arranged, who answers for it; the
    `complete` clock starts from the day of acknowledgment."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    to = step(ctx, inv, Action.ACKNOWLEDGE)
    assert inv.reviewed_at is not None
    when = _at(ctx, at, not_before=inv.reviewed_at, step="the letter was issued")
    inv.status, inv.acknowledged_at = to.value, when
    inv.meeting_at, inv.responsible_person = meeting_at, responsible_person
    inv.contact_phone, inv.acknowledgment_note = contact_phone, note
    _meet(ctx, inv, open_clock(ctx, inv, ClockKind.ACKNOWLEDGE), when)
    clock = start_invitation_clock(ctx, inv, kind=ClockKind.COMPLETE, round_=inv.round, started_at=when)
    ctx.session.flush()
    invitation_log.log(
        ctx,
        inv,
        "invitation.acknowledged",
        at=when,
        data={
            "meeting_at": ctx.iso(meeting_at),
            "responsible_person": responsible_person,
            "contact_phone": contact_phone,
            "note": note,
            "complete_due_at": ctx.iso(clock.due_at),
        },
    )
    invitation_log.refresh_queue(ctx, inv)
    return inv


def report(
    ctx: Ctx,
    *,
    invitation_id: str,
    summary: str,
    measures: str,
    outcome: str,
    responsible_person: str,
    at: datetime | None,
) -> Invitation:
    """The invited unit files the form (约请事项办理情况表) for the current round."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    to = step(ctx, inv, Action.REPORT)
    clock = open_clock(ctx, inv, ClockKind.COMPLETE)
    started = clock.started_at if clock is not None else inv.acknowledged_at
    assert started is not None
    when = _at(ctx, at, not_before=started, step="this round began")
    inv.status = to.value
    ctx.session.add(
        InvitationReport(
            invitation_id=inv.id,
            round=inv.round,
            summary=summary,
            measures=measures,
            outcome=outcome,
            responsible_person=responsible_person,
            at=when,
            recorded_by=ctx.actor.name,
        )
    )
    _meet(ctx, inv, clock, when)
    _lapse_pending(ctx, inv, when)
    invitation_log.log(
        ctx,
        inv,
        "invitation.reported",
        at=when,
        data={"round": inv.round, "outcome": outcome, "responsible_person": responsible_person},
    )
    invitation_log.refresh_queue(ctx, inv)
    return inv


def _lapse_pending(ctx: Ctx, inv: Invitation, at: datetime) -> None:
    """A request still pending when its round's `complete` clock is met lapses: it could no
    longer make a late report an on-time one."""
    for ext in repo.pending_extensions_of(ctx.session, inv.id):
        ext.state = ExtensionState.LAPSED.value
        invitation_log.log(
            ctx,
            inv,
            "extension.lapsed",
            at=at,
            data={"extension_id": ext.id, "reason": "the report was filed before a decision"},
        )


# --- evaluation ----------------------------------------------------------------------------


def evaluate(
    ctx: Ctx, *, invitation_id: str, rating: str, comment: str | None, at: datetime | None
) -> Invitation:
    """The station (or the liaison committee) evaluates the report: satisfied or basically
    satisfied closes it; unsatisfied starts a new handling round with a fresh `complete`
    clock and opens an `invitation` supervision case for the liaison committee."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    try:
        action = rating_action(rating)
    except KeyError:
        raise Invalid("rating", "satisfied, basically_satisfied or unsatisfied") from None
    to = step(ctx, inv, action)
    reported = repo.report_at(ctx.session, inv.id, inv.round)
    assert reported is not None
    when = _at(ctx, at, not_before=reported, step="the report was filed")
    given = rating_of(rating, THREE_POINT)
    assert given is not None  # rating_action took it
    code = given.value
    satisfied = action is Action.EVALUATE_SATISFIED
    rated_round = inv.round
    ctx.session.add(
        InvitationEvaluation(
            invitation_id=inv.id,
            round=rated_round,
            rating=code,
            satisfied=satisfied,
            comment=comment,
            at=when,
            recorded_by=ctx.actor.name,
        )
    )
    inv.status, inv.round = to.value, next_round(inv.round, action)
    data: dict[str, object] = {"rated_round": rated_round, "rating": code, "comment": comment}
    if satisfied:
        inv.closed_at = when
    else:
        clock = start_invitation_clock(ctx, inv, kind=ClockKind.COMPLETE, round_=inv.round, started_at=when)
        ctx.session.flush()
        case = _open_case(ctx, inv, at=when, rated=code)
        data.update(new_round=inv.round, complete_due_at=ctx.iso(clock.due_at), supervision_id=case.id)
    invitation_log.log(ctx, inv, "invitation.evaluated", at=when, data=data)
    invitation_log.refresh_queue(ctx, inv)
    invitation_log.emit(ctx, "invitation.evaluated", inv, data)
    return inv


def _open_case(ctx: Ctx, inv: Invitation, *, at: datetime, rated: str) -> Supervision:
    """The liaison committee's `invitation` case for the new round (once: the row lock and
    the status machine allow one evaluation per round)."""
    case = Supervision(
        ticket_id=None,
        invitation_id=inv.id,
        kind="invitation",
        unit_code=None,
        state="open",
        round=inv.round,
        opened_at=at,
        reason=f"invitation {inv.number} rated {rated}: re-handling round "
        f"{inv.round}, followed by the liaison committee",
    )
    ctx.session.add(case)
    ctx.session.flush()
    invitation_log.log(
        ctx,
        inv,
        "supervision.opened",
        at=at,
        data={
            "supervision_id": case.id,
            "kind": "invitation",
            "unit": None,
            "round": inv.round,
            "reason": case.reason,
        },
    )
    return case


# --- reading -------------------------------------------------------------------------------


def list_visible(
    ctx: Ctx, *, status: str | None, unit: str | None, station: str | None, after: str | None, limit: int
) -> list[Invitation]:
    """Invitations this actor may read, newest first."""
    a = ctx.actor
    if a.role not in ("unit", "station", "liaison", "admin"):
        raise Forbidden(f"the {a.role} role does not read invitations")
    return repo.listed(
        ctx.session,
        own_unit=a.unit_code if a.role == "unit" else EVERY,
        own_station=a.station_code if a.role == "station" else EVERY,
        status=status,
        unit=unit,
        station=station,
        after=after,
        limit=limit,
    )


def invitation_numbers(ctx: Ctx, ids: set[str]) -> dict[str, str | None]:
    """The letter numbers of these invitations (for lists that name them)."""
    return repo.numbers(ctx.session, ids)
