"""Tickets: the search (hotline, liaison, admin), the ticket page with its clocks and log
(everyone who may read the ticket), and the handling forms of the lead and co-handlers."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import OneTripRoute, decode_cursor, encode_cursor
from app.errors import Invalid, NotFound
from app.pages import labels
from app.pages.forms import Field, FormState, submit
from app.pages.web import page_reader, page_writer, redirect, render
from app.schemas.tickets import ContactIn, ExtensionIn, FeedbackIn, OpinionIn, ResolveIn, ReturnIn
from app.services import accounts, actions, registry, supervision
from app.services import extensions as ext_svc
from app.services import tickets as svc
from app.services.context import Actor, Ctx
from app.services.views import ticket_views
from app.services.workflow import Action, Status, TransitionRefused, is_unresolved, next_status

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)

WHEN_HINT = "不填则记为现在；补录时填写实际时间，如 2025-10-01 09:30。"
METHODS = tuple(labels.METHODS.items())
OUTCOMES = tuple(labels.LABELS["outcome"].items())

# The handling forms: (title, button, fields, request model of the API, who may).
FORMS: dict[str, tuple[str, str, list[Field], type[BaseModel]]] = {
    "contact": (
        "记录联系代表",
        "保存联系记录",
        [
            Field("method", "联系方式", kind="radios", options=METHODS),
            Field(
                "deputy_invited", "已邀请代表参与办理（如实地察看、座谈）", kind="checkbox", required=False
            ),
            Field("note", "联系情况", kind="textarea", required=False, hint="如约定的时间、代表的意见。"),
            Field("at", "联系时间", kind="datetime", required=False, hint=WHEN_HINT),
        ],
        ContactIn,
    ),
    "opinion": (
        "提交协办意见",
        "提交意见",
        [
            Field(
                "content", "协办意见", kind="textarea", hint="本单位职责范围内的办理意见，供牵头单位汇总。"
            ),
            Field("at", "提交时间", kind="datetime", required=False, hint=WHEN_HINT),
        ],
        OpinionIn,
    ),
    "resolve": (
        "办结",
        "确认办结",
        [
            Field("outcome", "办理结果", kind="radios", options=OUTCOMES),
            Field("reply", "答复内容", kind="textarea", hint="向代表答复的办理情况，将作为办结答复存档。"),
            Field("at", "办结时间", kind="datetime", required=False, hint=WHEN_HINT),
        ],
        ResolveIn,
    ),
    "feedback": (
        "反馈代表",
        "保存反馈记录",
        [
            Field("method", "反馈方式", kind="radios", options=METHODS),
            Field("content", "反馈内容", kind="textarea", hint="向代表反馈的内容及代表的意见。"),
            Field("at", "反馈时间", kind="datetime", required=False, hint=WHEN_HINT),
        ],
        FeedbackIn,
    ),
    "extension": (
        "申请延期",
        "提交延期申请",
        [
            Field(
                "working_days",
                "延期工作日数",
                kind="number",
                width="w-5",
                hint="1 至 7 个工作日，从现在的办结期限起算。",
            ),
            Field("reason", "延期理由", kind="textarea"),
        ],
        ExtensionIn,
    ),
    "return": (
        "退回工单",
        "退回",
        [
            Field(
                "reason", "退回理由", kind="textarea", hint="说明为什么不属于本单位职责，热线办将重新派单。"
            ),
            Field("at", "退回时间", kind="datetime", required=False, hint=WHEN_HINT),
        ],
        ReturnIn,
    ),
}
DONE = {
    "contact": "已记录联系代表。",
    "opinion": "已提交协办意见。",
    "resolve": "已办结。",
    "feedback": "已记录反馈。",
    "extension": "已提交延期申请，等待审批。",
    "return": "已退回工单，热线办将重新派单。",
    "decided": "已处理延期申请。",
    "case": "已开启督办案件。",
}


def _run(ctx: Ctx, ticket_id: str, what: str, m: Any) -> Any:
    """The same use-cases as the API's handling endpoints (app.routers.actions)."""
    match what:
        case "contact":
            return actions.contact(
                ctx,
                ticket_id=ticket_id,
                at=m.at,
                method=m.method,
                deputy_invited=m.deputy_invited,
                note=m.note,
            )
        case "opinion":
            return actions.opinion(ctx, ticket_id=ticket_id, content=m.content, at=m.at)
        case "resolve":
            return actions.resolve(ctx, ticket_id=ticket_id, at=m.at, outcome=m.outcome, reply=m.reply)
        case "feedback":
            return actions.feedback(ctx, ticket_id=ticket_id, at=m.at, method=m.method, content=m.content)
        case "extension":
            return ext_svc.request_extension(
                ctx, ticket_id=ticket_id, working_days=m.working_days, reason=m.reason
            )
        case "return":
            return actions.return_ticket(ctx, ticket_id=ticket_id, reason=m.reason, at=m.at)
    raise NotFound(f"no form {what}")


def _allowed(status: Status, action: Action) -> bool:
    try:
        next_status(status, action)
    except TransitionRefused:
        return False
    return True


def available(actor: Actor, view: dict[str, Any], pending: bool) -> list[str]:
    """The handling forms this unit may use on the ticket now (the status machine decides;
    the service checks again when the form is sent)."""
    if actor.role != "unit":
        return []
    mine = [a["role"] for a in view["assignments"] if a["unit"] == actor.unit_code and a["active"]]
    status = Status(view["status"])
    if "lead" in mine:
        forms = [
            what
            for what, action in (
                ("contact", Action.CONTACT),
                ("resolve", Action.RESOLVE),
                ("feedback", Action.FEEDBACK),
            )
            if _allowed(status, action)
        ]
        if is_unresolved(status) and view["urgency"] == "normal" and not pending:
            forms.append("extension")
        if _allowed(status, Action.RETURN):
            forms.append("return")
        return forms
    if "co" in mine and _allowed(status, Action.OPINION):
        return ["opinion"]
    return []


def _next_step(actor: Actor, view: dict[str, Any]) -> str | None:
    """The form the unit's own open clocks ask for first (contact, resolve, feedback, opinion)."""
    open_kinds = {
        c["kind"]
        for c in view["clocks"]
        if c["unit"] == actor.unit_code and c["state"] in ("running", "breached")
    }
    return next((k for k in ("contact", "resolve", "feedback", "opinion") if k in open_kinds), None)


def ticket_context(ctx: Ctx, ticket_id: str) -> dict[str, Any]:
    """Everything the ticket page shows, read through the API's own services."""
    ticket = svc.get_visible(ctx, ticket_id)
    view = ticket_views(ctx.session, [ticket], ctx.now(), ctx.tz)[0]
    events = svc.events_of(ctx, ticket_id)
    cases = supervision.list_cases(
        ctx, kind=None, state=None, unit=None, ticket_id=ticket_id, after=None, limit=50
    )
    exts = ext_svc.of_ticket(ctx, ticket_id)
    codes = (
        {a["unit"] for a in view["assignments"]}
        | {c["unit"] for c in view["clocks"]}
        | {c.unit_code for c in cases}
        | {e.unit_code for e in exts}
    )
    for e in events:
        codes |= {
            e.data.get("unit"),
            e.data.get("lead_unit"),
            *(e.data.get("co_units") or []),
            *(e.data.get("participants") or []),
        }
    units = registry.unit_names(ctx.session, codes)
    pending = next((e for e in exts if e.state == "pending"), None)
    return {
        "t": view,
        "events": events,
        "cases": cases,
        "extensions": exts,
        "pending": pending,
        "units": units,
        "category": registry.category_names(ctx.session, [view["category"]]),
        "actors": accounts.actor_names(ctx.session, {e.actor for e in events}),
        "describe": lambda e: labels.describe(e.type, e.data, units),
        "forms": available(ctx.actor, view, pending is not None),
        "next_step": _next_step(ctx.actor, view),
        "decides": ctx.actor.role in ("hotline", "liaison"),
        # The liaison committee may open a joint case by hand, once per round (SPEC).
        "opens_joint": ctx.actor.role == "liaison"
        and view["status"] != "closed"
        and not any(c.kind == "joint" and c.round == view["round"] for c in cases),
        "districts": registry.district_names(ctx.session),
    }


@router.get("/tickets/{ticket_id}")
def ticket_page(
    request: Request,
    ticket_id: str,
    ctx: Ctx = page_reader(),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """A ticket: what was asked, its clocks, its log, its cases, and what this unit may do."""
    data = ticket_context(ctx, ticket_id)
    return render(
        request,
        "tickets/ticket.html",
        title=f"工单 {data['t']['hotline_no']}",
        notice=DONE.get(done or "", ""),
        forms_meta=FORMS,
        **data,
    )


def _form_page(
    request: Request, ctx: Ctx, ticket_id: str, what: str, state: FormState, status: int = 200
) -> Response:
    title, button, _, _ = FORMS[what]
    data = ticket_context(ctx, ticket_id)
    return render(
        request,
        "form.html",
        status=status,
        title=title,
        caption=f"工单 {data['t']['hotline_no']}",
        form=state,
        submit=button,
        action=f"/ui/tickets/{ticket_id}/{what}",
        back=f"/ui/tickets/{ticket_id}",
        context_template="tickets/_summary.html",
        danger=what == "return",
        **data,
    )


@router.get("/tickets/{ticket_id}/{what}")
def action_form(request: Request, ticket_id: str, what: str, ctx: Ctx = page_reader("unit")) -> Response:
    """One handling form (one thing per page)."""
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    return _form_page(request, ctx, ticket_id, what, FormState(FORMS[what][2]))


@router.post("/tickets/{ticket_id}/{what}")
def action(request: Request, ticket_id: str, what: str, ctx: Ctx = page_writer("unit")) -> Response:
    """Send a handling form: validated by the API's model, done by the API's use-case."""
    if what not in FORMS:
        raise NotFound(f"no form {what}")
    _, _, fields, schema = FORMS[what]
    return submit(
        request,
        ctx,
        fields,
        schema,
        lambda m: _run(ctx, ticket_id, what, m),
        done=f"/ui/tickets/{ticket_id}?done={what}",
        show=lambda state, status: _form_page(request, ctx, ticket_id, what, state, status),
    )


# --- the search ------------------------------------------------------------------------------


def _day_start(d: date | None, ctx: Ctx, *, next_day: bool = False) -> datetime | None:
    if d is None:
        return None
    start = datetime.combine(d, time(0), tzinfo=ctx.tz)
    if next_day:
        from datetime import timedelta

        start = datetime.combine(d + timedelta(days=1), time(0), tzinfo=ctx.tz)
    return start


@router.get("/tickets")
def search(
    request: Request,
    ctx: Ctx = page_reader("hotline", "liaison", "admin"),
    no: Annotated[str | None, Query(max_length=64)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    category: Annotated[str | None, Query(max_length=64)] = None,
    district: Annotated[str | None, Query(max_length=64)] = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    breached: Annotated[str | None, Query(max_length=3)] = None,
    verified: Annotated[str | None, Query(max_length=3)] = None,
    called_from: date | None = None,
    called_to: date | None = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Tickets by hotline number, or filtered, newest first."""
    if no and no.strip():
        try:
            return redirect(f"/ui/tickets/{svc.get_by_hotline_no(ctx, no.strip()).id}")
        except NotFound:
            pass
    after = decode_cursor(cursor) if cursor else None
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    f = svc.TicketFilter(
        status=status if status in labels.LABELS["status"] else None,
        category=category or None,
        district=district or None,
        unit=unit or None,
        breached=True if breached == "yes" else None,
        deputy_verified={"yes": True, "no": False}.get(verified or ""),
        called_from=_day_start(called_from, ctx),
        called_to=_day_start(called_to, ctx, next_day=True),
    )
    rows = svc.list_tickets(ctx, f, after=after, limit=51)
    more = len(rows) > 50
    rows = rows[:50]
    views = ticket_views(ctx.session, rows, ctx.now(), ctx.tz)
    units = registry.list_units(ctx.session)
    query = {k: v for k, v in request.query_params.items() if k != "cursor"}
    next_url = None
    if more:
        from urllib.parse import urlencode

        next_url = "/ui/tickets?" + urlencode({**query, "cursor": encode_cursor(rows[-1].id)})
    return render(
        request,
        "tickets/search.html",
        title="工单查询",
        tickets=views,
        q=query,
        missing=bool(no and no.strip()),
        next_url=next_url,
        unit_names={u.code: u.name for u in units},
        unit_options=[(u.code, u.name) for u in units],
        categories=[(c.code, c.name) for c in registry.list_categories(ctx.session)],
        districts=registry.district_names(ctx.session),
        category_names={c.code: c.name for c in registry.list_categories(ctx.session)},
    )
