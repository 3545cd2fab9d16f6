"""Invitations (约请, SPEC Part II): the use-cases of the status machine, on the clock engine.

Each use-case locks the invitation's row, asks `invitation_flow` whether this party may do
this now (403 before 409), checks the action's instant, then writes the change, its clocks,
its history, the invited unit's queue entry and its webhooks in the caller's transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.models import (
    Deputy,
    Invitation,
    InvitationClock,
    InvitationEvaluation,
    InvitationEvent,
    InvitationExtension,
    InvitationReport,
    LetterCounter,
    Station,
    Supervision,
    Unit,
)
from app.repositories.clocks import open_clock
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


def _party(ctx: Ctx, inv: Invitation) -> Party | None:
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
    q = select(Invitation).where(Invitation.id == invitation_id)
    if for_update:
        q = q.with_for_update()
    inv = ctx.session.scalar(q)
    if inv is None or _party(ctx, inv) is None:
        raise NotFound(f"no invitation {invitation_id}")
    return inv


def _step(ctx: Ctx, inv: Invitation, action: Action) -> Status:
    """The next status, or Forbidden (not this party's action) / Conflict (out of order)."""
    party = _party(ctx, inv)
    assert party is not None  # get_visible ran first
    try:
        return next_status(party, Status(inv.status), action)
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


def _open_clock(ctx: Ctx, inv: Invitation, kind: ClockKind) -> InvitationClock | None:
    return ctx.session.scalar(
        select(InvitationClock)
        .where(
            InvitationClock.invitation_id == inv.id,
            InvitationClock.kind == kind.value,
            InvitationClock.round == inv.round,
            open_clock(InvitationClock),
        )
        .order_by(InvitationClock.id.desc())
        .limit(1)
    )


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
    if ctx.session.get(Station, station) is None:
        raise Invalid("station", f"no station {station!r}")
    if ctx.session.get(Unit, unit) is None:
        raise Invalid("unit", f"no unit {unit!r}")
    wanted = list(dict.fromkeys(deputies))
    known = set(ctx.session.scalars(select(Deputy.id).where(Deputy.id.in_(wanted))))
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


def _next_letter(ctx: Ctx, year: int) -> int:
    """The year's next letter number, taken under the counter row's lock: numbers follow the
    order in which approvals commit, and a rolled-back approval gives its number back."""
    dialect = ctx.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    ctx.session.execute(
        insert(LetterCounter).values(year=year, last=0).on_conflict_do_nothing(index_elements=["year"])
    )
    n = ctx.session.scalar(
        update(LetterCounter)
        .where(LetterCounter.year == year)
        .values(last=LetterCounter.last + 1)
        .returning(LetterCounter.last)
    )
    assert n is not None
    return int(n)


def review(ctx: Ctx, *, invitation_id: str, approve: bool, note: str | None) -> Invitation:
    """The liaison committee approves (the letter is numbered and issued; the acknowledge
    clock starts) or rejects with a reason."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    to = _step(ctx, inv, Action.APPROVE if approve else Action.REJECT)
    if not approve and not (note and note.strip()):
        raise Invalid("note", "a rejection gives its reason")
    now = ctx.now()
    inv.status, inv.reviewed_at, inv.reviewed_by, inv.review_note = to.value, now, ctx.actor.name, note
    if not approve:
        invitation_log.log(ctx, inv, "invitation.rejected", at=now, data={"reason": note})
        return inv
    year = now.astimezone(ctx.tz).year
    seq = _next_letter(ctx, year)
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
            "unit_name": _unit_name(ctx, inv.unit_code),
            "content": inv.content,
            "acknowledge_due_at": ctx.iso(clock.due_at),
        },
    )
    return inv


def _unit_name(ctx: Ctx, code: str) -> str | None:
    return ctx.session.scalar(select(Unit.name).where(Unit.code == code))


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
    to = _step(ctx, inv, Action.ACKNOWLEDGE)
    assert inv.reviewed_at is not None
    when = _at(ctx, at, not_before=inv.reviewed_at, step="the letter was issued")
    inv.status, inv.acknowledged_at = to.value, when
    inv.meeting_at, inv.responsible_person = meeting_at, responsible_person
    inv.contact_phone, inv.acknowledgment_note = contact_phone, note
    _meet(ctx, inv, _open_clock(ctx, inv, ClockKind.ACKNOWLEDGE), when)
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
    to = _step(ctx, inv, Action.REPORT)
    clock = _open_clock(ctx, inv, ClockKind.COMPLETE)
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
    for ext in ctx.session.scalars(
        select(InvitationExtension).where(
            InvitationExtension.invitation_id == inv.id,
            InvitationExtension.state == ExtensionState.PENDING.value,
        )
    ):
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
    to = _step(ctx, inv, action)
    reported = ctx.session.scalar(
        select(InvitationReport.at).where(
            InvitationReport.invitation_id == inv.id, InvitationReport.round == inv.round
        )
    )
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


# --- extensions ----------------------------------------------------------------------------


def request_extension(ctx: Ctx, *, invitation_id: str, working_days: int, reason: str) -> InvitationExtension:
    """The invited unit asks for more working days on the current round's `complete` clock,
    with its written reason (书面告知延期理由); one request pending at a time."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    _step(ctx, inv, Action.EXTENSION)
    clock = _open_clock(ctx, inv, ClockKind.COMPLETE)
    if clock is None:
        raise Conflict("there is no running complete limit to extend")
    pending = ctx.session.scalar(
        select(InvitationExtension.id).where(
            InvitationExtension.invitation_id == inv.id,
            InvitationExtension.state == ExtensionState.PENDING.value,
        )
    )
    if pending is not None:
        raise Conflict(f"extension {pending} is still pending")
    now = ctx.now()
    ext = InvitationExtension(
        invitation_id=inv.id,
        clock_id=clock.id,
        unit_code=inv.unit_code,
        round=inv.round,
        working_days=working_days,
        reason=reason,
        state=ExtensionState.PENDING.value,
        requested_at=now,
    )
    ctx.session.add(ext)
    ctx.session.flush()
    invitation_log.log(
        ctx,
        inv,
        "extension.requested",
        at=now,
        data={"extension_id": ext.id, "working_days": working_days, "reason": reason},
    )
    return ext


def find_extension(ctx: Ctx, extension_id: str, *, for_update: bool = False) -> InvitationExtension | None:
    """An invitation's extension request by id (None: not one; perhaps a ticket's)."""
    q = select(InvitationExtension).where(InvitationExtension.id == extension_id)
    if for_update:
        q = q.with_for_update()
    return ctx.session.scalar(q)


def _extension(ctx: Ctx, extension_id: str) -> tuple[InvitationExtension, Invitation]:
    ext = find_extension(ctx, extension_id, for_update=True)
    if ext is None:
        raise NotFound(f"no extension {extension_id}")
    try:
        inv = get_visible(ctx, ext.invitation_id, for_update=True)
    except NotFound:
        raise NotFound(f"no extension {extension_id}") from None
    return ext, inv


def note_extension(ctx: Ctx, *, extension_id: str, content: str) -> InvitationExtension:
    """The submitting station adds its view on a pending request, for the committee."""
    ext, inv = _extension(ctx, extension_id)
    if _party(ctx, inv) is not Party.STATION:
        raise Forbidden("only the submitting station adds its view on an extension request")
    if ext.state != ExtensionState.PENDING:
        raise Conflict(f"extension {extension_id} was already {ext.state}")
    now = ctx.now()
    ext.station_view, ext.station_view_at, ext.station_view_by = content, now, ctx.actor.name
    invitation_log.log(
        ctx, inv, "extension.station_view", at=now, data={"extension_id": ext.id, "content": content}
    )
    return ext


def decide_extension(ctx: Ctx, *, extension_id: str, approve: bool, note: str | None) -> InvitationExtension:
    """The liaison committee decides; approval moves the `complete` due date on by the
    working days asked, from the current due (as for tickets)."""
    ext, inv = _extension(ctx, extension_id)
    if ctx.actor.role != "liaison":
        raise Forbidden("the liaison committee decides an invitation's extension")
    if ext.state != ExtensionState.PENDING:
        raise Conflict(f"extension {extension_id} was already {ext.state}")
    from app.services.clocks import apply_due  # the engine's own rule for moving a due

    now = ctx.now()
    ext.state = (ExtensionState.APPROVED if approve else ExtensionState.REFUSED).value
    ext.decided_at, ext.decided_by, ext.note = now, ctx.actor.name, note
    data: dict[str, object] = {"extension_id": ext.id, "approve": approve, "note": note}
    if approve:
        clock = ctx.session.get(InvitationClock, ext.clock_id)
        assert clock is not None
        change = apply_due(ctx, clock, amount=clock.amount + ext.working_days)
        if change:
            data.update(change)
    invitation_log.log(ctx, inv, "extension.decided", at=now, data=data)
    invitation_log.refresh_queue(ctx, inv)
    return ext


# --- reading -------------------------------------------------------------------------------


def list_visible(
    ctx: Ctx, *, status: str | None, unit: str | None, station: str | None, after: str | None, limit: int
) -> list[Invitation]:
    """Invitations this actor may read, newest first."""
    q = select(Invitation).order_by(Invitation.id.desc()).limit(limit)
    a = ctx.actor
    if a.role == "unit":
        q = q.where(Invitation.unit_code == a.unit_code)
    elif a.role == "station":
        q = q.where(Invitation.station_code == a.station_code)
    elif a.role not in ("liaison", "admin"):
        raise Forbidden(f"the {a.role} role does not read invitations")
    if status:
        q = q.where(Invitation.status == status)
    if unit:
        q = q.where(Invitation.unit_code == unit)
    if station:
        q = q.where(Invitation.station_code == station)
    if after:
        q = q.where(Invitation.id < after)
    return list(ctx.session.scalars(q))


def pending_extensions(ctx: Ctx, *, limit: int) -> list[tuple[InvitationExtension, Invitation]]:
    """Extension requests waiting for the committee, oldest first, with their invitations."""
    return [
        (e, i)
        for e, i in ctx.session.execute(
            select(InvitationExtension, Invitation)
            .join(Invitation, Invitation.id == InvitationExtension.invitation_id)
            .where(InvitationExtension.state == ExtensionState.PENDING.value)
            .order_by(InvitationExtension.requested_at, InvitationExtension.id)
            .limit(limit)
        )
    ]


def invitation_numbers(ctx: Ctx, ids: set[str]) -> dict[str, str | None]:
    """The letter numbers of these invitations (for lists that name them)."""
    if not ids:
        return {}
    return {
        i: n
        for i, n in ctx.session.execute(
            select(Invitation.id, Invitation.number).where(Invitation.id.in_(ids))
        )
    }


def parts_of(ctx: Ctx, inv: Invitation) -> dict[str, list[object]]:
    """Everything an invitation's page and view show beside the row itself."""

    def rows(model: Any, order: Any) -> list[Any]:
        return list(ctx.session.scalars(select(model).where(model.invitation_id == inv.id).order_by(order)))

    return {
        "clocks": rows(InvitationClock, InvitationClock.id),
        "reports": rows(InvitationReport, InvitationReport.round),
        "evaluations": rows(InvitationEvaluation, InvitationEvaluation.round),
        "extensions": rows(InvitationExtension, InvitationExtension.requested_at),
        "history": rows(InvitationEvent, InvitationEvent.id),
        "cases": list(
            ctx.session.scalars(
                select(Supervision).where(Supervision.invitation_id == inv.id).order_by(Supervision.opened_at)
            )
        ),
    }
