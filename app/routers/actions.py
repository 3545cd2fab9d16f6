"""Handling actions on a ticket, and extensions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.deps import OneTripRoute, reader, writer
from app.errors import NotFound
from app.models import Extension
from app.routers.tickets import view
from app.schemas.common import problem_responses
from app.schemas.invitations import InvitationExtensionOut
from app.schemas.tickets import (
    ContactIn,
    DecisionIn,
    DispatchIn,
    ExtensionIn,
    ExtensionOut,
    FeedbackIn,
    OpinionIn,
    RatingIn,
    ResolveIn,
    ReturnIn,
    TicketOut,
)
from app.services import actions as svc
from app.services import extensions as ext_svc
from app.services import invitation_extensions as inv_ext_svc
from app.services import invitations as inv_svc
from app.services.context import Ctx
from app.services.invitation_views import extension_view
from app.services.views import local

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["handling"],
    responses=problem_responses(401, 403, 404, 409, 422),
)


@router.post("/tickets/{ticket_id}/contact", response_model=TicketOut)
def contact(ticket_id: str, body: ContactIn, ctx: Ctx = writer("unit")) -> Any:
    """The lead records contact with the deputy (联系代表)."""
    return view(
        ctx,
        svc.contact(
            ctx,
            ticket_id=ticket_id,
            at=body.at,
            method=body.method,
            deputy_invited=body.deputy_invited,
            note=body.note,
        ),
    )


@router.post("/tickets/{ticket_id}/opinions", response_model=TicketOut)
def opinion(ticket_id: str, body: OpinionIn, ctx: Ctx = writer("unit")) -> Any:
    """A co-handler sends its opinion (协办意见) to the lead."""
    return view(ctx, svc.opinion(ctx, ticket_id=ticket_id, content=body.content, at=body.at))


@router.post("/tickets/{ticket_id}/resolve", response_model=TicketOut)
def resolve(ticket_id: str, body: ResolveIn, ctx: Ctx = writer("unit")) -> Any:
    """The lead resolves the ticket (办结); the feedback clock starts."""
    return view(
        ctx, svc.resolve(ctx, ticket_id=ticket_id, at=body.at, outcome=body.outcome, reply=body.reply)
    )


@router.post("/tickets/{ticket_id}/feedback", response_model=TicketOut)
def feedback(ticket_id: str, body: FeedbackIn, ctx: Ctx = writer("unit")) -> Any:
    """The lead records feeding the result back to the deputy (反馈)."""
    return view(
        ctx, svc.feedback(ctx, ticket_id=ticket_id, at=body.at, method=body.method, content=body.content)
    )


@router.post("/tickets/{ticket_id}/return", response_model=TicketOut)
def return_ticket(ticket_id: str, body: ReturnIn, ctx: Ctx = writer("unit")) -> Any:
    """The lead returns a misrouted ticket (退回), before resolving it."""
    return view(ctx, svc.return_ticket(ctx, ticket_id=ticket_id, reason=body.reason, at=body.at))


@router.post("/tickets/{ticket_id}/dispatch", response_model=TicketOut)
def dispatch(ticket_id: str, body: DispatchIn, ctx: Ctx = writer("hotline")) -> Any:
    """The hotline re-dispatches a returned ticket."""
    return view(
        ctx, svc.redispatch(ctx, ticket_id=ticket_id, units=body.units, lead_unit=body.lead_unit, at=body.at)
    )


@router.post("/tickets/{ticket_id}/rating", response_model=TicketOut)
def rating(ticket_id: str, body: RatingIn, ctx: Ctx = writer("hotline")) -> Any:
    """The hotline records the deputy's rating after the follow-up call (回访)."""
    return view(ctx, svc.rate(ctx, ticket_id=ticket_id, rating=body.rating, at=body.at, comment=body.comment))


def extension_out(e: Extension, ctx: Ctx) -> ExtensionOut:
    return ExtensionOut(
        id=e.id,
        ticket_id=e.ticket_id,
        state=e.state,
        working_days=e.working_days,
        reason=e.reason,
        round=e.round,
        requested_at=local(e.requested_at, ctx.tz),
        decided_at=local(e.decided_at, ctx.tz),
        decided_by=e.decided_by,
        note=e.note,
    )


@router.post("/tickets/{ticket_id}/extensions", status_code=201, response_model=ExtensionOut)
def request_extension(ticket_id: str, body: ExtensionIn, ctx: Ctx = writer("unit")) -> Any:
    """The lead asks for more working days (延期) on a normal resolve limit."""
    return extension_out(
        ext_svc.request_extension(
            ctx, ticket_id=ticket_id, working_days=body.working_days, reason=body.reason
        ),
        ctx,
    )


@router.post("/extensions/{extension_id}/decision", response_model=ExtensionOut | InvitationExtensionOut)
def decide_extension(extension_id: str, body: DecisionIn, ctx: Ctx = writer("hotline", "liaison")) -> Any:
    """The hotline office or liaison committee approves or refuses a ticket's extension;
    the liaison committee an invitation's."""
    if inv_ext_svc.find_extension(ctx, extension_id) is not None:
        return extension_view(
            ctx,
            inv_ext_svc.decide_extension(
                ctx, extension_id=extension_id, approve=body.approve, note=body.note
            ),
        )
    return extension_out(
        ext_svc.decide_extension(ctx, extension_id=extension_id, approve=body.approve, note=body.note), ctx
    )


@router.get("/extensions/{extension_id}", response_model=ExtensionOut | InvitationExtensionOut)
def get_extension(extension_id: str, ctx: Ctx = reader()) -> Any:
    """An extension request; a unit sees those of tickets (or invitations) it may read."""
    from app.services.tickets import get_visible

    inv_ext = inv_ext_svc.find_extension(ctx, extension_id)
    if inv_ext is not None:
        try:
            inv_svc.get_visible(ctx, inv_ext.invitation_id)
        except NotFound:
            raise NotFound(f"no extension {extension_id}") from None
        return extension_view(ctx, inv_ext)
    ext = ext_svc.get_extension(ctx, extension_id)
    get_visible(ctx, ext.ticket_id)
    return extension_out(ext, ctx)
