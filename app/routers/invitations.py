"""Invitations (约请, SPEC Part II): submit, review, acknowledge, extensions, report,
evaluation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse

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
from app.pages.printable import printable
from app.schemas.common import Page, problem_responses
from app.schemas.invitations import (
    AcknowledgeIn,
    EvaluationIn,
    ExtensionNoteIn,
    InvitationExtensionIn,
    InvitationExtensionOut,
    InvitationIn,
    InvitationOut,
    InvitationStatus,
    ReportIn,
    ReviewIn,
)
from app.services import invitation_extensions as ext_svc
from app.services import invitations as svc
from app.services.context import Ctx
from app.services.invitation_views import extension_view, invitation_view

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["invitations"],
    responses=problem_responses(401, 403, 404, 409, 422),
)

READERS = ("liaison", "admin", "unit", "station")


@router.post("/invitations", status_code=201, response_model=InvitationOut)
def submit(body: InvitationIn, ctx: Ctx = writer("station", "liaison")) -> Any:
    """A station (for itself) or the liaison committee (for a station) invites a unit."""
    return invitation_view(
        ctx,
        svc.submit(
            ctx,
            station=body.station,
            unit=body.unit,
            subject=body.subject,
            content=body.content,
            deputies=body.deputies,
        ),
    )


@router.get("/invitations", response_model=Page[InvitationOut])
def list_invitations(
    ctx: Ctx = reader(*READERS),
    status: InvitationStatus | None = None,
    unit: str | None = Query(None, max_length=64),
    station: str | None = Query(None, max_length=64),
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Any:
    """Invitations this key may read (liaison, admin: all; a unit: its own; a station: its
    own), newest first."""
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    rows = svc.list_visible(ctx, status=status, unit=unit, station=station, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": [invitation_view(ctx, i) for i in rows],
        "next_cursor": encode_cursor(rows[-1].id) if more else None,
    }


@router.get("/invitations/{invitation_id}", response_model=InvitationOut)
def get_invitation(invitation_id: str, ctx: Ctx = reader(*READERS)) -> Any:
    """An invitation with its clocks, acknowledgment, reports, evaluations and history."""
    return invitation_view(ctx, svc.get_visible(ctx, invitation_id))


@router.get("/invitations/{invitation_id}/letter", response_class=HTMLResponse)
def letter(invitation_id: str, ctx: Ctx = reader(*READERS)) -> Any:
    """The letter (约请函), printable on A4: number, addressee, body, issuing body, date;
    409 before the committee approves (it has no number yet)."""
    return HTMLResponse(printable(ctx, invitation_id, "letter"))


@router.get("/invitations/{invitation_id}/form", response_class=HTMLResponse)
def form(
    invitation_id: str, ctx: Ctx = reader(*READERS), round: int | None = Query(None, ge=1, le=1000)
) -> Any:
    """The filled-in form (约请事项办理情况表) of a round (default: the latest), on A4."""
    return HTMLResponse(printable(ctx, invitation_id, "form", round_=round))


@router.post("/invitations/{invitation_id}/review", response_model=InvitationOut)
def review(invitation_id: str, body: ReviewIn, ctx: Ctx = writer("liaison")) -> Any:
    """The liaison committee approves (the letter is numbered and issued) or rejects."""
    return invitation_view(
        ctx, svc.review(ctx, invitation_id=invitation_id, approve=body.approve, note=body.note)
    )


@router.post("/invitations/{invitation_id}/acknowledge", response_model=InvitationOut)
def acknowledge(invitation_id: str, body: AcknowledgeIn, ctx: Ctx = writer("unit")) -> Any:
    """The invited unit acknowledges: meeting time, responsible person, contact phone."""
    return invitation_view(
        ctx,
        svc.acknowledge(
            ctx,
            invitation_id=invitation_id,
            meeting_at=body.meeting_at,
            responsible_person=body.responsible_person,
            contact_phone=body.contact_phone,
            note=body.note,
            at=body.at,
        ),
    )


@router.post(
    "/invitations/{invitation_id}/extensions", status_code=201, response_model=InvitationExtensionOut
)
def request_extension(invitation_id: str, body: InvitationExtensionIn, ctx: Ctx = writer("unit")) -> Any:
    """The invited unit asks for 1-30 more working days, with its written reason."""
    return extension_view(
        ctx,
        ext_svc.request_extension(
            ctx, invitation_id=invitation_id, working_days=body.working_days, reason=body.reason
        ),
    )


@router.post("/extensions/{extension_id}/notes", response_model=InvitationExtensionOut)
def note_extension(extension_id: str, body: ExtensionNoteIn, ctx: Ctx = writer("station")) -> Any:
    """The submitting station adds its view on an invitation's extension request."""
    return extension_view(ctx, ext_svc.note_extension(ctx, extension_id=extension_id, content=body.content))


@router.post("/invitations/{invitation_id}/report", response_model=InvitationOut)
def report(invitation_id: str, body: ReportIn, ctx: Ctx = writer("unit")) -> Any:
    """The invited unit files the form (约请事项办理情况表) for the current round."""
    return invitation_view(
        ctx,
        svc.report(
            ctx,
            invitation_id=invitation_id,
            summary=body.summary,
            measures=body.measures,
            outcome=body.outcome,
            responsible_person=body.responsible_person,
            at=body.at,
        ),
    )


@router.post("/invitations/{invitation_id}/evaluation", response_model=InvitationOut)
def evaluate(invitation_id: str, body: EvaluationIn, ctx: Ctx = writer("station", "liaison")) -> Any:
    """The station (or the liaison committee) evaluates the report; unsatisfied reopens."""
    return invitation_view(
        ctx,
        svc.evaluate(ctx, invitation_id=invitation_id, rating=body.rating, comment=body.comment, at=body.at),
    )
