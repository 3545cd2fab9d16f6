"""Ticket intake and reads: idempotent ingestion, routing, visibility, the filtered list."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from app.db import Raced
from app.errors import Conflict, Invalid, NotFound
from app.models import Assignment, Category, Clock, Deputy, Event, Ticket
from app.models.base import new_id
from app.repositories import events as events_repo
from app.repositories import tickets as tickets_repo
from app.repositories.tickets import TicketFilter as TicketFilter
from app.services.clocks import clock_values, insert_clocks
from app.services.context import Ctx
from app.services.events import emit, event_row
from app.services.queue import refresh_queue
from app.services.registry import normalize_phone
from app.services.routing import choose_lead
from app.services.rows import insert_rows, instance_of, pipelined, row_of
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
        fields: dict[str, Any] = {k: v for k, v in self.__dict__.items() if v is not None}
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
    named = list(dict.fromkeys(data.units or []))
    looked_up = tickets_repo.intake_lookup(
        ctx.session, hotline_no=data.hotline_no, category=data.category, phone=phone, units=named
    )
    (
        existing_id,
        category_code,
        default_lead,
        deputy_id,
        deputy_name,
        deputy_level,
        cal_count,
        cal_latest,
        known_units,
        hooked_units,
    ) = looked_up
    if existing_id is not None:
        existing = ctx.session.get(Ticket, existing_id)
        assert existing is not None
        return Ingested(_same_or_conflict(existing, fingerprint), False)
    ctx.use_calendar(ctx.calendars(ctx.session, (int(cal_count), cal_latest)))
    now = ctx.now()
    dispatched_at = data.dispatched_at or now
    _check_times(data.called_at, dispatched_at, now)
    if category_code is None:
        raise Invalid("category", f"unknown category {data.category!r}")
    units = named
    if not units:
        if default_lead is None:
            raise Invalid("units", "required: the category has no default lead unit")
        units = [default_lead]
    check_units(ctx, units, "units", counted=(known_units, hooked_units) if units is named else None)
    if data.lead_unit is not None and data.lead_unit not in units:
        raise Invalid("lead_unit", f"{data.lead_unit!r} is not one of units")
    routing = choose_lead(units, data.lead_unit, default_lead)
    deputy = None if deputy_id is None else Deputy(id=deputy_id, name=deputy_name, level=deputy_level)
    kind = data.kind or "problem"
    consultation = kind == "consultation"
    row = row_of(
        Ticket,
        {
            "id": new_id(),
            "hotline_no": data.hotline_no,
            "request_hash": fingerprint,
            "status": Status.CLOSED.value if consultation else Status.DISPATCHED.value,
            "kind": kind,
            "category": category_code,
            "district": data.district,
            "urgency": data.urgency or "normal",
            "complex": bool(data.complex),
            "content": data.content,
            "called_at": data.called_at,
            "dispatched_at": dispatched_at,
            "caller_name": data.caller_name,
            "caller_phone": phone,
            "deputy_id": deputy_id,
            "deputy_verified": deputy_id is not None,
            "lead_unit": routing.lead,
            "round": 1,
            "closed_at": dispatched_at if consultation else None,
            "created_at": now,
            "updated_at": now,
        },
    )
    # The new rows go out below the ORM (see app.services.rows); `ticket` holds the same
    # values, for the helpers and the response.
    ticket = instance_of(Ticket, row)
    # One instant for the new ticket: its row, its events and what the response shows.
    events = [
        event_row(
            ctx,
            ticket,
            "ticket.received",
            at=data.called_at,
            now=now,
            data={
                "hotline_no": ticket.hotline_no,
                "kind": kind,
                "category": category_code,
                "deputy_verified": ticket.deputy_verified,
                "deputy_id": ticket.deputy_id,
            },
        )
    ]
    try:
        # The ticket's rows only; the ticket row goes first, so a duplicate hotline_no
        # fails before anything else is written.
        with pipelined(ctx.session):
            insert_rows(ctx.session, Ticket, [row])
            if consultation:
                # Answered on the spot by the hotline: a call to count, not a problem to handle.
                rows = [
                    assignment_row(
                        ticket,
                        unit,
                        "lead" if unit == routing.lead else "co",
                        dispatched_at,
                        ended_at=dispatched_at,
                    )
                    for unit in units
                ]
                insert_rows(ctx.session, Assignment, rows)
                assignments = [instance_of(Assignment, r) for r in rows]
                events.append(
                    event_row(
                        ctx,
                        ticket,
                        "ticket.closed",
                        at=dispatched_at,
                        now=now,
                        data={
                            "reason": "consultation answered by the hotline at intake",
                        },
                    )
                )
                insert_rows(ctx.session, Event, events)
                clocks: list[Clock] = []
            else:
                assignments, clocks = dispatch_to(
                    ctx,
                    ticket,
                    routing.lead,
                    list(routing.co_handlers),
                    dispatched_at,
                    rule=routing.rule,
                    events=events,
                )
    except IntegrityError as exc:
        # A concurrent post of the same hotline_no committed first. The transaction is lost
        # (cheaper than a savepoint on every intake): its owner rolls it back and runs the
        # intake again, which then finds the winner (same body: 200, else 409).
        raise Raced(f"hotline_no {data.hotline_no} was received concurrently") from exc
    if consultation:
        return Ingested(ticket, True, (assignments, [], deputy))
    if ticket.complex:
        category = ctx.session.get(Category, category_code)
        stored = ctx.session.get(Ticket, ticket.id)
        assert category is not None and stored is not None
        open_coordination(ctx, stored, category, at=dispatched_at)
        refresh_queue(ctx, stored)  # the coordinator's `supervise` item
        ctx.session.flush()
        ticket = stored
    return Ingested(ticket, True, (assignments, clocks, deputy))


def assignment_row(
    ticket: Ticket, unit: str, role: str, at: datetime, *, ended_at: datetime | None = None
) -> dict[str, Any]:
    """The row of a unit's new assignment to the ticket: active unless it ended at once
    (a consultation answered at intake)."""
    return row_of(
        Assignment,
        {
            "ticket_id": ticket.id,
            "unit_code": unit,
            "role": role,
            "active": ended_at is None,
            "assigned_at": at,
            "ended_at": ended_at,
        },
    )


def dispatch_to(
    ctx: Ctx,
    ticket: Ticket,
    lead: str,
    co: list[str],
    at: datetime,
    *,
    rule: str,
    events: list[dict[str, Any]] | None = None,
) -> tuple[list[Assignment], list[Clock]]:
    """Assign lead and co-handlers and start their clocks (intake and re-dispatch).

    `events`: a ticket new in this transaction, with its log so far; nothing of it is in
    the session, so its queue rows need no read-back and its events go out with these."""
    fresh = events is not None
    ticket.lead_unit = lead
    if not fresh:
        # Whatever the session holds goes first: the rows below are inserted without it.
        ctx.session.flush()
    rows = [assignment_row(ticket, lead, "lead", at), *(assignment_row(ticket, u, "co", at) for u in co)]
    insert_rows(ctx.session, Assignment, rows)
    assignments = [instance_of(Assignment, r) for r in rows]
    clocks = insert_clocks(
        ctx,
        [
            clock_values(ctx, ticket, unit=unit, kind=kind, round_=ticket.round, started_at=at)
            for unit, kind in [
                (lead, ClockKind.CONTACT),
                (lead, ClockKind.RESOLVE),
                *((u, ClockKind.OPINION) for u in co),
            ]
        ],
    )
    dispatched = event_row(
        ctx,
        ticket,
        "ticket.dispatched",
        at=at,
        now=ticket.created_at if fresh else None,
        data={
            "lead_unit": lead,
            "co_units": co,
            "rule": rule,
            "clocks": [
                {
                    "clock_id": c.id,
                    "kind": c.kind,
                    "unit": c.unit_code,
                    "due_at": ctx.iso(c.due_at),
                    "provisional": c.provisional,
                }
                for c in clocks
            ],
        },
    )
    insert_rows(ctx.session, Event, [*(events or []), dispatched])
    emit(
        ctx,
        "ticket.assigned",
        ticket=ticket,
        units=[lead, *co],
        data={
            "lead_unit": lead,
            "co_units": co,
            "status": ticket.status,
        },
    )
    refresh_queue(ctx, ticket, fresh=(assignments, clocks) if fresh else None)
    return assignments, clocks


def _same_or_conflict(ticket: Ticket, fingerprint: str) -> Ticket:
    if ticket.request_hash != fingerprint:
        raise Conflict(f"hotline_no {ticket.hotline_no} was already received with a different body")
    return ticket


def _check_times(called_at: datetime, dispatched_at: datetime, now: datetime) -> None:
    if called_at > now:
        raise Invalid("called_at", "lies in the future")
    if dispatched_at > now:
        raise Invalid("dispatched_at", "lies in the future")
    if dispatched_at < called_at:
        raise Invalid("dispatched_at", "is before called_at")


def check_units(ctx: Ctx, units: list[str], field: str, *, counted: tuple[int, int] | None = None) -> None:
    """Every unit exists (else a 422 naming the first unknown one); remembers which have
    webhooks. `counted`: how many of them exist and have webhooks, when a caller's own
    query already counted them; all known and none hooked needs no look-up of its own."""
    if counted == (len(units), 0):
        ctx.webhook_units.update(dict.fromkeys(units, False))
        return
    rows = tickets_repo.units_hooked(ctx.session, units)
    known = {code for code, _ in rows}
    ctx.webhook_units.update({code: bool(has_hook) for code, has_hook in rows})
    for i, unit in enumerate(units):
        if unit not in known:
            raise Invalid(f"{field}[{i}]", f"unknown unit {unit!r}")


# --- reads ------------------------------------------------------------------------------------


def can_read(ctx: Ctx, ticket_id: str, district: str | None = None, deputy_id: str | None = None) -> bool:
    """SPEC.md "Who may read a ticket": privileged roles, assigned units, supervising units,
    and the district congress of the ticket's `district` (spot checks, 抽查: it reads, and
    an action it tries is refused by the action's own role check); a deputy reads his or
    her own calls (Part II), `deputy_id` being the ticket's."""
    if ctx.actor.privileged:
        return True
    if ctx.actor.role == "deputy":
        return deputy_id is not None and deputy_id == ctx.actor.deputy_id
    unit = ctx.actor.unit_code
    if unit is None:
        return False
    return tickets_repo.unit_may_read(ctx.session, ticket_id, unit, district)


def get_visible(ctx: Ctx, ticket_id: str, *, for_update: bool = False) -> Ticket:
    """The ticket, or NotFound when it does not exist or this key may not read it."""
    ticket = tickets_repo.get(ctx.session, ticket_id, for_update=for_update)
    if ticket is None or not can_read(ctx, ticket_id, ticket.district, ticket.deputy_id):
        raise NotFound(f"no ticket {ticket_id}")
    return ticket


def events_of(ctx: Ctx, ticket_id: str) -> list[Event]:
    """The ticket's whole log in recording order; NotFound as for the ticket itself."""
    get_visible(ctx, ticket_id)
    return events_repo.of_ticket(ctx.session, ticket_id)


def hotline_numbers(ctx: Ctx, ticket_ids: set[str]) -> dict[str, str]:
    """The hotline numbers of these tickets (for lists that name tickets)."""
    return tickets_repo.hotline_numbers(ctx.session, ticket_ids)


def get_by_hotline_no(ctx: Ctx, hotline_no: str) -> Ticket:
    ticket = tickets_repo.by_hotline_no(ctx.session, hotline_no)
    if ticket is None:
        raise NotFound(f"no ticket with hotline_no {hotline_no}")
    return ticket


def list_tickets(ctx: Ctx, f: TicketFilter, *, after: str | None, limit: int) -> list[Ticket]:
    """Newest first, keyset-paged on the time-ordered id, so inserts never shift a page."""
    return tickets_repo.filtered(ctx.session, f, now=ctx.now(), after=after, limit=limit)
