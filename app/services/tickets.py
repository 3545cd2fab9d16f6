"""Ticket intake and reads: idempotent ingestion, routing, visibility, the filtered list."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import and_, exists, insert, or_, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Invalid, NotFound
from app.models import Assignment, Category, Clock, Deputy, Supervision, Ticket, Unit
from app.models.base import new_id
from app.services.calendars import signature_columns
from app.services.clocks import clock_values, insert_clocks
from app.services.context import Ctx
from app.services.events import emit, log
from app.services.queue import refresh_queue
from app.services.registry import normalize_phone
from app.services.routing import choose_lead
from app.services.sla import ClockKind
from app.services.supervision import open_coordination
from app.services.workflow import Status


@dataclass
class TicketInput:
    hotline_no: str
    called_at: datetime
    caller_name: str
    caller_phone: str
    category: str
    content: str
    dispatched_at: datetime | None = None
    kind: str | None = None
    district: str | None = None
    urgency: str | None = None
    units: list[str] | None = None
    lead_unit: str | None = None
    complex: bool | None = None

    def fingerprint(self) -> str:
        """Hash of the fields as submitted: absent and null are equal; instants compare as UTC."""
        fields: dict[str, Any] = {
            k: v for k, v in self.__dict__.items() if v is not None
        }
        for k in ("called_at", "dispatched_at"):
            if k in fields:
                fields[k] = fields[k].timestamp()
        return hashlib.sha256(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass
class Ingested:
    """A ticket as intake left it; `parts` holds what a new one was built with."""

    ticket: Ticket
    created: bool
    parts: tuple[list[Assignment], list[Clock], Deputy | None] | None = None


def ingest(ctx: Ctx, data: TicketInput) -> Ingested:
    """Store a deputy call; created=False (the existing ticket) on an identical retry."""
    fingerprint = data.fingerprint()
    phone = normalize_phone(data.caller_phone)
    # Everything intake looks up, in one round trip.
    looked_up = ctx.session.execute(select(
        select(Ticket.id).where(Ticket.hotline_no == data.hotline_no).scalar_subquery(),
        select(Category.code).where(Category.code == data.category).scalar_subquery(),
        select(Category.default_lead_unit).where(Category.code == data.category)
        .scalar_subquery(),
        *(select(col).where(Deputy.phone == phone).scalar_subquery()
          for col in (Deputy.id, Deputy.name, Deputy.level)),
        *signature_columns(),
    )).one()
    existing_id, category_code, default_lead, deputy_id, deputy_name, deputy_level, \
        cal_count, cal_latest = tuple(looked_up)
    if existing_id is not None:
        existing = ctx.session.get(Ticket, existing_id)
        assert existing is not None
        return Ingested(_same_or_conflict(existing, fingerprint), False)
    ctx._calendar = ctx.calendars(ctx.session, (int(cal_count), cal_latest))
    now = ctx.now()
    dispatched_at = data.dispatched_at or now
    _check_times(data.called_at, dispatched_at, now)
    if category_code is None:
        raise Invalid("category", f"unknown category {data.category!r}")
    units = list(dict.fromkeys(data.units or []))
    if not units:
        if default_lead is None:
            raise Invalid("units", "required: the category has no default lead unit")
        units = [default_lead]
    _check_units(ctx, units, "units")
    if data.lead_unit is not None and data.lead_unit not in units:
        raise Invalid("lead_unit", f"{data.lead_unit!r} is not one of units")
    routing = choose_lead(units, data.lead_unit, default_lead)
    deputy = None if deputy_id is None else Deputy(id=deputy_id, name=deputy_name,
                                                   level=deputy_level)
    kind = data.kind or "problem"
    ticket = Ticket(
        id=new_id(), hotline_no=data.hotline_no, request_hash=fingerprint,
        status=Status.CLOSED.value if kind == "consultation" else Status.DISPATCHED.value,
        kind=kind, category=category_code, district=data.district,
        urgency=data.urgency or "normal", complex=bool(data.complex), content=data.content,
        called_at=data.called_at, dispatched_at=dispatched_at, caller_name=data.caller_name,
        caller_phone=phone, deputy_id=deputy_id, deputy_verified=deputy_id is not None,
        lead_unit=routing.lead, round=1, created_at=now, updated_at=now,
        closed_at=dispatched_at if kind == "consultation" else None,
    )
    # Flushed at once: without ORM relationships, inserts are not ordered by foreign key.
    ctx.session.add(ticket)
    try:
        ctx.session.flush()
    except IntegrityError:
        # A concurrent identical post won the unique hotline_no. Nothing was written yet,
        # so the whole transaction goes (cheaper than a savepoint on every intake).
        ctx.session.rollback()
        winner = ctx.session.scalar(select(Ticket).where(Ticket.hotline_no == data.hotline_no))
        if winner is None:
            raise
        return Ingested(_same_or_conflict(winner, fingerprint), False)

    log(ctx, ticket, "ticket.received", at=data.called_at, data={
        "hotline_no": ticket.hotline_no, "kind": kind, "category": category_code,
        "deputy_verified": ticket.deputy_verified, "deputy_id": ticket.deputy_id,
    })
    if kind == "consultation":
        # Answered on the spot by the hotline: a call to count, not a problem to handle.
        assignments = [Assignment(
            ticket_id=ticket.id, unit_code=unit, role="lead" if unit == routing.lead else "co",
            active=False, assigned_at=dispatched_at, ended_at=dispatched_at,
        ) for unit in units]
        ctx.session.add_all(assignments)
        log(ctx, ticket, "ticket.closed", at=dispatched_at, data={
            "reason": "consultation answered by the hotline at intake",
        })
        ctx.session.flush()
        return Ingested(ticket, True, (assignments, [], deputy))
    assignments, clocks = dispatch_to(ctx, ticket, routing.lead, list(routing.co_handlers),
                                      dispatched_at, rule=routing.rule, fresh=True)
    if ticket.complex:
        category = ctx.session.get(Category, category_code)
        assert category is not None
        open_coordination(ctx, ticket, category, at=dispatched_at)
        refresh_queue(ctx, ticket)  # the coordinator's `supervise` item
    ctx.session.flush()
    return Ingested(ticket, True, (assignments, clocks, deputy))


def dispatch_to(
    ctx: Ctx, ticket: Ticket, lead: str, co: list[str], at: datetime, *, rule: str,
    fresh: bool = False,
) -> tuple[list[Assignment], list[Clock]]:
    """Assign lead and co-handlers and start their clocks (intake and re-dispatch).

    `fresh`: the ticket is new in this transaction, so its queue rows need no read-back."""
    ticket.lead_unit = lead
    if not fresh:
        ctx.session.flush()  # the ticket row first: the rows below are inserted without the ORM
    # No autoflush in between: the events written here go out together at the end.
    with ctx.session.no_autoflush:
        rows = [
            {"ticket_id": ticket.id, "unit_code": unit, "role": role, "active": True,
             "assigned_at": at, "ended_at": None, "opinion": None, "opinion_at": None}
            for unit, role in [(lead, "lead"), *((u, "co") for u in co)]
        ]
        ctx.session.execute(insert(Assignment), rows)
        assignments = [Assignment(**r) for r in rows]
        clocks = insert_clocks(ctx, [
            clock_values(ctx, ticket, unit=unit, kind=kind, round_=ticket.round, started_at=at)
            for unit, kind in [(lead, ClockKind.CONTACT), (lead, ClockKind.RESOLVE),
                               *((u, ClockKind.OPINION) for u in co)]
        ])
        log(ctx, ticket, "ticket.dispatched", at=at, data={
            "lead_unit": lead, "co_units": co, "rule": rule,
            "clocks": [{"clock_id": c.id, "kind": c.kind, "unit": c.unit_code,
                        "due_at": ctx.iso(c.due_at), "provisional": c.provisional}
                       for c in clocks],
        })
        emit(ctx, "ticket.assigned", ticket=ticket, units=[lead, *co], data={
            "lead_unit": lead, "co_units": co, "status": ticket.status,
        })
        refresh_queue(ctx, ticket, fresh=(assignments, clocks) if fresh else None)
    return assignments, clocks


def _same_or_conflict(ticket: Ticket, fingerprint: str) -> Ticket:
    if ticket.request_hash != fingerprint:
        raise Conflict(
            f"hotline_no {ticket.hotline_no} was already received with a different body"
        )
    return ticket


def _check_times(called_at: datetime, dispatched_at: datetime, now: datetime) -> None:
    if called_at > now:
        raise Invalid("called_at", "lies in the future")
    if dispatched_at > now:
        raise Invalid("dispatched_at", "lies in the future")
    if dispatched_at < called_at:
        raise Invalid("dispatched_at", "is before called_at")


def _check_units(ctx: Ctx, units: list[str], field: str) -> None:
    rows = ctx.session.execute(
        select(Unit.code, Unit.webhook_url.is_not(None)).where(Unit.code.in_(units))
    ).all()
    known = {code for code, _ in rows}
    ctx.webhook_units.update({code: bool(has_hook) for code, has_hook in rows})
    for i, unit in enumerate(units):
        if unit not in known:
            raise Invalid(f"{field}[{i}]", f"unknown unit {unit!r}")


# --- reads ------------------------------------------------------------------------------------

def can_read(ctx: Ctx, ticket_id: str) -> bool:
    """SPEC.md "Who may read a ticket": privileged roles, assigned units, supervising units."""
    if ctx.actor.privileged:
        return True
    unit = ctx.actor.unit_code
    if unit is None:
        return False
    assigned = exists().where(Assignment.ticket_id == ticket_id, Assignment.unit_code == unit)
    supervising = exists().where(Supervision.ticket_id == ticket_id, Supervision.unit_code == unit)
    return bool(ctx.session.scalar(select(or_(assigned, supervising))))


def get_visible(ctx: Ctx, ticket_id: str, *, for_update: bool = False) -> Ticket:
    """The ticket, or NotFound when it does not exist or this key may not read it."""
    q = select(Ticket).where(Ticket.id == ticket_id)
    if for_update:
        q = q.with_for_update()
    ticket = ctx.session.scalar(q)
    if ticket is None or not can_read(ctx, ticket_id):
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def get_by_hotline_no(ctx: Ctx, hotline_no: str) -> Ticket:
    ticket = ctx.session.scalar(select(Ticket).where(Ticket.hotline_no == hotline_no))
    if ticket is None:
        raise NotFound(f"no ticket with hotline_no {hotline_no}")
    return ticket


@dataclass
class TicketFilter:
    status: str | None = None
    category: str | None = None
    district: str | None = None
    unit: str | None = None
    breached: bool | None = None
    deputy_verified: bool | None = None
    called_from: datetime | None = None
    called_to: datetime | None = None


def list_tickets(ctx: Ctx, f: TicketFilter, *, after: str | None, limit: int) -> list[Ticket]:
    """Newest first, keyset-paged on the time-ordered id, so inserts never shift a page."""
    q = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    conds = []
    if f.status:
        conds.append(Ticket.status == f.status)
    if f.category:
        conds.append(Ticket.category == f.category)
    if f.district:
        conds.append(Ticket.district == f.district)
    if f.unit:
        conds.append(exists().where(
            Assignment.ticket_id == Ticket.id, Assignment.unit_code == f.unit
        ))
    if f.breached is not None:
        breached = exists().where(
            Clock.ticket_id == Ticket.id, Clock.met_at.is_(None), Clock.cancelled_at.is_(None),
            Clock.due_at <= ctx.now(),
        )
        conds.append(breached if f.breached else ~breached)
    if f.deputy_verified is not None:
        conds.append(Ticket.deputy_verified == f.deputy_verified)
    if f.called_from:
        conds.append(Ticket.called_at >= f.called_from)
    if f.called_to:
        conds.append(Ticket.called_at < f.called_to)
    if after:
        conds.append(Ticket.id < after)
    if conds:
        q = q.where(and_(*conds))
    return list(ctx.session.scalars(q))
