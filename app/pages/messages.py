"""Voters' messages at a desk: the deputy's inbox with its response clocks, a message with
the three actions (reply, forward, decline), the deputy's tickets and printable QR card.
The liaison committee sees every message and may act for a deputy; station staff see their
deputies' messages (phones masked)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import OneTripRoute
from app.errors import Invalid, NotFound
from app.models import Deputy, Message
from app.pages import labels
from app.pages.forms import Field, FormState, submit
from app.pages.web import page_reader, page_writer, render
from app.repositories import registry as names_repo
from app.repositories import tickets as tickets_repo
from app.routers.accounts import base_url
from app.schemas.common import Code, ShortText, Strict
from app.schemas.messages import DeclineIn, Level, ReplyIn
from app.schemas.tickets import Urgency
from app.services import codes, message_forward, messages
from app.services.context import Ctx
from app.services.privacy import mask_phone
from app.services.stations import list_stations
from app.services.views import ticket_views

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
PAGE = 50
READERS = ("deputy", "liaison", "admin", "station")
ACTORS = ("deputy", "liaison")
DONE = {
    "reply": "已答复，群众可在查询页看到答复并评价。",
    "forward": "已交办，已生成代表专线工单，办理结果反馈后群众可以评价。",
    "decline": "已说明不予受理的理由。",
    "recorded": "已记录留言。请把查询码和查询地址告诉群众。",
}


class ForwardForm(Strict):
    level: Level
    category: Code
    unit: Code | None = None
    urgency: Urgency | None = None
    note: ShortText | None = None


def _forward_fields(ctx: Ctx) -> list[Field]:
    categories = list(names_repo.category_names(ctx.session).items())
    units = names_repo.handling_units(ctx.session)
    return [
        Field(
            "level",
            "交办层级",
            kind="radios",
            options=tuple(labels.FORWARD_LEVELS.items()),
            hint="乡镇（街道）事项交所在乡镇（街道）办理；区县、市级事项交事项分类的牵头单位，"
            "或指定的承办单位。",
        ),
        Field("category", "事项分类", kind="select", options=tuple(categories)),
        Field(
            "unit",
            "承办单位",
            kind="select",
            options=tuple(units),
            required=False,
            hint="不选则由事项分类的默认牵头单位办理（乡镇事项为所在乡镇政府）。",
        ),
        Field(
            "urgency",
            "紧急程度",
            kind="radios",
            required=False,
            options=(("normal", "一般"), ("urgent", "急办")),
        ),
        Field(
            "note",
            "代表意见",
            kind="textarea",
            required=False,
            hint="写给承办单位的意见，将附在工单内容之后。",
        ),
    ]


FORMS: dict[str, tuple[str, str, list[Field] | None, type[BaseModel]]] = {
    "reply": (
        "答复群众",
        "发送答复",
        [
            Field(
                "content",
                "答复内容",
                kind="textarea",
                hint="直接答复或当场办结（立马办）的情况，群众将在查询页看到。",
            ),
        ],
        ReplyIn,
    ),
    "forward": ("分级交办", "交办", None, ForwardForm),
    "decline": (
        "不予受理",
        "确认",
        [
            Field(
                "reason",
                "理由",
                kind="textarea",
                hint="如属于诉讼、信访或其他渠道处理的事项，请告诉群众应当向哪里反映。",
            ),
        ],
        DeclineIn,
    ),
}


def _names(ctx: Ctx, deputy_ids: set[str]) -> dict[str, str]:
    return names_repo.deputy_names(ctx.session, deputy_ids)


def _line(ctx: Ctx, m: Message, names: dict[str, str], now: datetime) -> dict[str, Any]:
    state = messages.response_state(m, now)
    return {
        "id": m.id,
        "received": labels.when(m.received_at, ctx.tz),
        "deputy": names.get(m.deputy_id, ""),
        "excerpt": m.content[:60],
        "more": len(m.content) > 60,
        "status": labels.label(m.status, "msg_status"),
        "due": labels.when(m.due_at, ctx.tz),
        "state": state.value,
        "open": m.status == "received",
        "channel": labels.label(m.channel, "channel"),
    }


@router.get("/messages")
def inbox(
    request: Request,
    ctx: Ctx = page_reader(*READERS),
    status: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """Messages this person may read; those still to answer first, nearest due first."""
    f = messages.MessageFilter(status=status if status in labels.MSG_STATUSES else None)
    rows = messages.list_messages(ctx, f, after=None, limit=500)
    now = ctx.now()
    waiting = sorted((m for m in rows if m.status == "received"), key=lambda m: m.due_at)
    rest = [m for m in rows if m.status != "received"][:PAGE]
    names = _names(ctx, {m.deputy_id for m in rows})
    title = "留言收件箱" if ctx.actor.role == "deputy" else "群众留言"
    return render(
        request,
        "messages/inbox.html",
        title=title,
        waiting=[_line(ctx, m, names, now) for m in waiting],
        rest=[_line(ctx, m, names, now) for m in rest],
        late=sum(1 for m in waiting if m.due_at <= now),
        show_deputy=ctx.actor.role != "deputy",
        chosen=status,
    )


def _message_context(ctx: Ctx, message_id: str) -> dict[str, Any]:
    m = messages.get_visible(ctx, message_id)
    deputy = names_repo.get_deputy(ctx.session, m.deputy_id)
    ticket = tickets_repo.get(ctx.session, m.ticket_id) if m.ticket_id else None
    phone = mask_phone(m.voter_phone) if ctx.actor.role == "station" else m.voter_phone
    return {
        "m": m,
        "deputy": deputy,
        "phone": phone,
        "ticket": ticket_views(ctx.session, [ticket], ctx.now(), ctx.tz)[0] if ticket else None,
        "state": messages.response_state(m, ctx.now()).value,
        "history": messages.history(ctx, m.id),
        "acts": m.status == "received" and ctx.actor.role in ACTORS,
        "event_names": EVENTS,
    }


EVENTS = {
    "message.received": "收到留言",
    "message.answered": "代表答复",
    "message.forwarded": "代表交办",
    "message.declined": "不予受理",
    "message.result_ready": "办理结果已反馈",
    "message.rated": "群众评价",
    "message.closed": "办结（未评价）",
    "message.clock_warning": "答复期限预警",
    "message.clock_breached": "超过答复期限",
    "message.voter_data_erased": "留言人姓名和电话已按规定删除",
}


@router.get("/messages/{message_id}")
def message_page(
    request: Request,
    message_id: str,
    ctx: Ctx = page_reader(*READERS),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """One message: what the voter asked, the response clock, what happened, the actions."""
    data = _message_context(ctx, message_id)
    return render(request, "messages/message.html", title="群众留言", notice=DONE.get(done or "", ""), **data)


def _fields(ctx: Ctx, what: str) -> list[Field]:
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    fields = FORMS[what][2]
    return fields if fields is not None else _forward_fields(ctx)


def _form_page(
    request: Request, ctx: Ctx, message_id: str, what: str, state: FormState, status: int = 200
) -> Response:
    title, button, _, _ = FORMS[what]
    data = _message_context(ctx, message_id)
    return render(
        request,
        "form.html",
        status=status,
        title=title,
        caption="群众留言",
        form=state,
        submit=button,
        action=f"/ui/messages/{message_id}/{what}",
        back=f"/ui/messages/{message_id}",
        context_template="messages/_summary.html",
        danger=what == "decline",
        **data,
    )


@router.get("/messages/{message_id}/{what}")
def action_form(request: Request, message_id: str, what: str, ctx: Ctx = page_reader(*ACTORS)) -> Response:
    return _form_page(request, ctx, message_id, what, FormState(_fields(ctx, what)))


def _run(ctx: Ctx, message_id: str, what: str, m: Any) -> Any:
    match what:
        case "reply":
            return messages.reply(ctx, message_id=message_id, content=m.content, at=None)
        case "decline":
            return messages.decline(ctx, message_id=message_id, reason=m.reason, at=None)
        case "forward":
            return message_forward.forward(
                ctx,
                message_id=message_id,
                data=(
                    message_forward.ForwardInput(
                        level=m.level,
                        category=m.category,
                        units=[m.unit] if m.unit else None,
                        urgency=m.urgency,
                        note=m.note,
                    )
                ),
            )
    raise NotFound(f"no form {what}")


@router.post("/messages/{message_id}/{what}")
def action(request: Request, message_id: str, what: str, ctx: Ctx = page_writer(*ACTORS)) -> Response:
    """Reply, forward or decline: the API's models and use-cases."""
    fields = _fields(ctx, what)
    return submit(
        request,
        ctx,
        fields,
        FORMS[what][3],
        lambda m: _run(ctx, message_id, what, m),
        done=f"/ui/messages/{message_id}?done={what}",
        show=lambda state, status: _form_page(request, ctx, message_id, what, state, status),
    )


# --- the deputy's own ----------------------------------------------------------------------


@router.get("/my-tickets")
def my_tickets(request: Request, ctx: Ctx = page_reader("deputy")) -> Response:
    """The deputy's calls on the line, those forwarded from messages included."""
    rows = tickets_repo.of_deputy(ctx.session, ctx.actor.deputy_id)
    views = ticket_views(ctx.session, rows, ctx.now(), ctx.tz)
    unit_ids = {v["lead_unit"] for v in views if v["lead_unit"]}
    units = names_repo.unit_names(ctx.session, unit_ids)
    return render(request, "messages/my_tickets.html", title="我的工单", tickets=views, units=units)


def _deputy_for_card(ctx: Ctx, deputy_id: str | None) -> Deputy:
    if ctx.actor.role == "deputy":
        deputy_id = ctx.actor.deputy_id
    if not deputy_id:
        raise Invalid("deputy", "choose a deputy")
    deputy = names_repo.get_deputy(ctx.session, deputy_id)
    if deputy is None:
        raise NotFound(f"no deputy {deputy_id}")
    return deputy


@router.get("/qr-card")
def qr_card(
    request: Request,
    ctx: Ctx = page_writer("deputy", "liaison", "admin"),
    deputy: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The printable card: the QR code, the deputy's name, level and stations (the first
    code is issued here if the deputy never had one)."""
    d = _deputy_for_card(ctx, deputy)
    code = codes.ensure_code(ctx, d.id)
    url = codes.page_url(base_url(request), code.code)
    svg = codes.qr_image(url, "svg", scale=6).decode("utf-8")
    stations = [v.station.name for v in list_stations(ctx.session, deputy_id=d.id)]
    return render(
        request,
        "messages/qr_card.html",
        title="我的二维码",
        deputy=d,
        url=url,
        stations=stations,
        svg_src="data:image/svg+xml;base64," + _b64(svg),
        query=f"?deputy={d.id}" if ctx.actor.role != "deputy" else "",
    )


@router.get("/qr-card/qr.{fmt}")
def qr_file(
    request: Request,
    fmt: str,
    ctx: Ctx = page_writer("deputy", "liaison", "admin"),
    deputy: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """The card's QR code as a PNG or SVG file."""
    if fmt not in ("png", "svg"):
        raise NotFound(f"no format {fmt}")
    d = _deputy_for_card(ctx, deputy)
    code = codes.ensure_code(ctx, d.id)
    image = codes.qr_image(codes.page_url(base_url(request), code.code), fmt)
    return Response(
        image,
        media_type="image/svg+xml" if fmt == "svg" else "image/png",
        headers={
            "Content-Disposition": f'attachment; filename="qr-{d.id}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def _b64(text: str) -> str:
    import base64

    return base64.b64encode(text.encode("utf-8")).decode("ascii")
