"""Ticket intake and reads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from app.deps import (
    CursorParam,
    Limit,
    OneTripRoute,
    decode_cursor,
    encode_cursor,
    reader,
    writer,
)
from app.errors import Invalid
from app.observability import TICKETS_INGESTED
from app.schemas.common import Page, QueryInstant, json_bytes, problem_responses
from app.schemas.tickets import ActorOut, EventList, EventOut, Status, TicketIn, TicketOut
from app.services import tickets as svc
from app.services.context import Ctx
from app.services.views import actor_detail, local, ticket_view, ticket_views

router = APIRouter(
    route_class=OneTripRoute, prefix="/api/v1", tags=["tickets"], responses=problem_responses(401, 403)
)


def view(ctx: Ctx, ticket: Any) -> dict[str, Any]:
    return ticket_views(ctx.session, [ticket], ctx.now(), ctx.tz)[0]


@router.post(
    "/tickets",
    status_code=201,
    response_model=TicketOut,
    responses={
        200: {"model": TicketOut, "description": "the same ticket, already received with this body"},
        **problem_responses(409, 413, 422),
    },
)
def ingest(body: TicketIn, ctx: Ctx = writer("hotline")) -> Response:
    """Receive a deputy-line ticket; idempotent on `hotline_no`."""
    data = svc.TicketInput(
        hotline_no=body.hotline_no,
        called_at=body.called_at,
        caller_name=body.caller.name,
        caller_phone=body.caller.phone,
        category=body.category,
        content=body.content,
        dispatched_at=body.dispatched_at,
        kind=body.kind,
        district=body.district,
        urgency=body.urgency,
        units=body.units,
        lead_unit=body.lead_unit,
        complex=body.complex,
    )
    result = svc.ingest(ctx, data)
    ticket = result.ticket
    if result.parts is not None:
        TICKETS_INGESTED.inc()
        assignments, clocks, deputy = result.parts
        out = ticket_view(ticket, assignments, clocks, deputy, ctx.now(), ctx.tz)
    else:
        out = view(ctx, ticket)
    # Serialized directly: intake is the hot path, and the view is built from our own rows.
    return Response(
        json_bytes(out),
        status_code=201 if result.created else 200,
        media_type="application/json",
        headers={"Location": f"/api/v1/tickets/{ticket.id}"},
    )


@router.get("/tickets", response_model=Page[TicketOut], responses=problem_responses(422))
def list_tickets(
    ctx: Ctx = reader("hotline", "liaison", "admin"),
    status: Status | None = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    district: Annotated[str | None, Query(max_length=64)] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    breached: bool | None = None,
    deputy_verified: bool | None = None,
    called_from: QueryInstant | None = None,
    called_to: QueryInstant | None = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    """Tickets, newest first, filtered."""
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    f = svc.TicketFilter(
        status=status,
        category=category,
        district=district,
        unit=unit,
        breached=breached,
        deputy_verified=deputy_verified,
        called_from=called_from,
        called_to=called_to,
    )
    rows = svc.list_tickets(ctx, f, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": ticket_views(ctx.session, rows, ctx.now(), ctx.tz),
        "next_cursor": encode_cursor(rows[-1].id) if more else None,
    }


@router.get("/tickets/by-hotline-no/{hotline_no}", response_model=TicketOut, responses=problem_responses(404))
def by_hotline_no(hotline_no: str, ctx: Ctx = reader("hotline", "liaison", "admin")) -> Any:
    return view(ctx, svc.get_by_hotline_no(ctx, hotline_no))


@router.get("/tickets/{ticket_id}", response_model=TicketOut, responses=problem_responses(404))
def get_ticket(ticket_id: str, ctx: Ctx = reader()) -> Any:
    """A ticket; a unit sees only tickets it is assigned to or supervises."""
    return view(ctx, svc.get_visible(ctx, ticket_id))


@router.get("/tickets/{ticket_id}/events", response_model=EventList, responses=problem_responses(404))
def events(ticket_id: str, ctx: Ctx = reader()) -> EventList:
    """The ticket's whole append-only log, in recording order."""
    rows = svc.events_of(ctx, ticket_id)
    return EventList(
        items=[
            EventOut(
                seq=e.id,
                at=local(e.at, ctx.tz),
                recorded_at=local(e.recorded_at, ctx.tz),
                actor=e.actor,
                by=ActorOut(**actor_detail(e)),
                type=e.type,
                data=e.data,
            )
            for e in rows
        ]
    )
