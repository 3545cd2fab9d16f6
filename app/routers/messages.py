"""Voters' messages, and deputies' public codes and their QR images (SPEC Part II)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.deps import CursorParam, Limit, OneTripRoute, decode_cursor, encode_cursor, reader, writer
from app.errors import Forbidden, Invalid, NotFound
from app.models import Message
from app.routers.accounts import base_url
from app.routers.tickets import view as ticket_view
from app.schemas.common import Page, QueryInstant, problem_responses
from app.schemas.messages import (
    CodeOut,
    DeclineIn,
    ForwardIn,
    ForwardOut,
    MessageIn,
    MessageOut,
    MessageStatus,
    ReplyIn,
)
from app.services import codes, message_forward, messages
from app.services.context import Ctx
from app.services.privacy import mask_phone

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["messages"],
    responses=problem_responses(401, 403, 404, 422),
)
READERS = ("liaison", "admin", "deputy", "station")


def message_out(ctx: Ctx, m: Message) -> dict[str, Any]:
    """The message as every read returns it; the station role sees the voter's phone masked."""
    phone = m.voter_phone if ctx.actor.role != "station" else mask_phone(m.voter_phone)
    local = ctx.tz
    return {
        "id": m.id,
        "tracking_code": m.tracking_code,
        "deputy_id": m.deputy_id,
        "channel": m.channel,
        "content": m.content,
        "voter": {"name": m.voter_name, "phone": phone},
        "district": m.district,
        "station": m.station_code,
        "reception_id": m.reception_id,
        "status": m.status,
        "received_at": m.received_at.astimezone(local),
        "clock": {
            "due_at": m.due_at.astimezone(local),
            "state": messages.response_state(m, ctx.now()).value,
            "provisional": m.provisional,
            "met_at": m.responded_at and m.responded_at.astimezone(local),
        },
        "reply": m.reply,
        "decline_reason": m.decline_reason,
        "forward_level": m.forward_level,
        "ticket_id": m.ticket_id,
        "rating": m.rating,
        "rating_comment": m.rating_comment,
        "rated_at": m.rated_at and m.rated_at.astimezone(local),
        "closed_at": m.closed_at and m.closed_at.astimezone(local),
        "history": [
            {"at": e.at.astimezone(local), "type": e.type, "actor": e.actor, "data": e.data}
            for e in messages.history(ctx, m.id)
        ],
    }


@router.post("/messages", status_code=201, response_model=MessageOut)
def record_message(body: MessageIn, ctx: Ctx = writer("station", "liaison")) -> Any:
    """A message taken by a station (for one of its deputies) or the liaison committee."""
    data = messages.NewMessage(
        deputy_id=body.deputy_id,
        channel=body.channel,
        content=body.content,
        voter_name=body.voter.name or None,
        voter_phone=body.voter.phone,
        district=body.district,
        received_at=body.received_at,
        reception_id=body.reception_id,
    )
    return message_out(ctx, messages.record(ctx, data))


@router.get("/messages", response_model=Page[MessageOut])
def list_messages(
    ctx: Ctx = reader(*READERS),
    deputy_id: Annotated[str | None, Query(max_length=64)] = None,
    station: Annotated[str | None, Query(max_length=64)] = None,
    status: MessageStatus | None = None,
    received_from: QueryInstant | None = None,
    received_to: QueryInstant | None = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> dict[str, Any]:
    """Messages the caller may read, newest first (a deputy: its own; a station: its
    deputies')."""
    after = decode_cursor(cursor)
    if after is not None:
        try:
            after = (datetime.fromisoformat(after[0]), str(after[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            raise Invalid("cursor", "not a cursor this service issued") from None
    f = messages.MessageFilter(
        deputy_id=deputy_id,
        station=station,
        status=status,
        received_from=received_from,
        received_to=received_to,
    )
    rows = messages.list_messages(ctx, f, after=after, limit=limit)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].received_at.isoformat(), rows[-1].id]) if more else None
    return {"items": [message_out(ctx, m) for m in rows], "next_cursor": nxt}


@router.get("/messages/{message_id}", response_model=MessageOut)
def get_message(message_id: str, ctx: Ctx = reader(*READERS)) -> Any:
    return message_out(ctx, messages.get_visible(ctx, message_id))


@router.post("/messages/{message_id}/reply", response_model=MessageOut, responses=problem_responses(409))
def reply(message_id: str, body: ReplyIn, ctx: Ctx = writer("deputy", "liaison")) -> Any:
    """The deputy answers or settles it directly (立马办)."""
    return message_out(ctx, messages.reply(ctx, message_id=message_id, content=body.content, at=body.at))


@router.post("/messages/{message_id}/decline", response_model=MessageOut, responses=problem_responses(409))
def decline(message_id: str, body: DeclineIn, ctx: Ctx = writer("deputy", "liaison")) -> Any:
    """The deputy declines, with the reason (courts, petitions, another channel)."""
    return message_out(ctx, messages.decline(ctx, message_id=message_id, reason=body.reason, at=body.at))


@router.post(
    "/messages/{message_id}/forward",
    status_code=201,
    response_model=ForwardOut,
    responses=problem_responses(409),
)
def forward(message_id: str, body: ForwardIn, ctx: Ctx = writer("deputy", "liaison")) -> Any:
    """Forward by level (分级交办): a deputy-line ticket is created, linked both ways."""
    message, ticket = message_forward.forward(
        ctx, message_id=message_id, data=(message_forward.ForwardInput(**body.model_dump()))
    )
    return {"message": message_out(ctx, message), "ticket": ticket_view(ctx, ticket)}


# --- codes ------------------------------------------------------------------------------------


def _deputy_itself_or_staff(ctx: Ctx, deputy_id: str) -> None:
    if ctx.actor.role == "deputy" and ctx.actor.deputy_id != deputy_id:
        raise NotFound(f"no deputy {deputy_id}")
    if ctx.actor.role not in ("deputy", "liaison", "admin"):
        raise Forbidden("the QR image is for the deputy and the liaison committee")


@router.get(
    "/deputies/{deputy_id}/qr",
    responses={
        200: {
            "content": {"image/png": {}, "image/svg+xml": {}},
            "description": "the QR image of the deputy's public page",
        },
        **problem_responses(409),
    },
)
def qr(
    deputy_id: str,
    request: Request,
    ctx: Ctx = writer("liaison", "admin", "deputy"),
    format: Annotated[str, Query(pattern="^(png|svg)$")] = "png",
) -> Response:
    """The QR image of `<public base URL>/d/<code>`; a deputy's first code is issued here."""
    _deputy_itself_or_staff(ctx, deputy_id)
    code = codes.ensure_code(ctx, deputy_id)
    image = codes.qr_image(codes.page_url(base_url(request), code.code), format)
    media = "image/svg+xml" if format == "svg" else "image/png"
    return Response(image, media_type=media, headers={"Cache-Control": "no-store"})


@router.post("/deputies/{deputy_id}/code/rotate", response_model=CodeOut)
def rotate_code(deputy_id: str, request: Request, ctx: Ctx = writer("liaison", "admin")) -> CodeOut:
    """A new code; the old one then shows "no longer in use" and accepts nothing."""
    code = codes.rotate(ctx, deputy_id)
    return CodeOut(public_code=code.code, url=codes.page_url(base_url(request), code.code))


@router.post("/deputies/{deputy_id}/code/disable", status_code=204)
def disable_code(deputy_id: str, ctx: Ctx = writer("liaison", "admin")) -> Response:
    """The deputy's page stops accepting messages until the code is rotated."""
    codes.disable(ctx, deputy_id)
    return Response(status_code=204)
