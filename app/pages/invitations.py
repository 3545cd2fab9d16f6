"""Invitations (约请): the list, submitting one, an invitation's page, its letter and form on A4."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.deps import OneTripRoute, decode_cursor, encode_cursor
from app.errors import Invalid
from app.pages import labels
from app.pages.forms import Field, FormState, submit
from app.pages.invitation_forms import invitation_context
from app.pages.printable import printable
from app.pages.web import page_reader, page_writer, render
from app.repositories import registry as names_repo
from app.schemas.invitations import InvitationIn
from app.services import invitation_extensions as ext_svc
from app.services import invitations as svc
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
ROLES = ("liaison", "admin", "unit", "station")
PAGE = 50


# --- the list --------------------------------------------------------------------------------


@router.get("/invitations")
def list_page(
    request: Request,
    ctx: Ctx = page_reader(*ROLES),
    status: Annotated[str | None, Query(max_length=16)] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Invitations this person may follow: all for the committee, their own for the others."""
    after = decode_cursor(cursor) if cursor else None
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    chosen = status if status in labels.INVITATION_STATUSES else None
    rows = svc.list_visible(ctx, status=chosen, unit=None, station=None, after=after, limit=PAGE + 1)
    more, rows = len(rows) > PAGE, rows[:PAGE]
    names = _names(ctx, {i.unit_code for i in rows}, {i.station_code for i in rows})
    next_url = f"/ui/invitations?status={chosen or ''}&cursor={encode_cursor(rows[-1].id)}" if more else None
    waiting = ext_svc.pending_extensions(ctx, limit=PAGE) if ctx.actor.role == "liaison" else []
    return render(
        request,
        "invitations/list.html",
        title="约请事项",
        rows=rows,
        names=names,
        waiting=waiting,
        chosen=chosen or "",
        next_url=next_url,
        may_submit=ctx.actor.role in ("station", "liaison"),
    )


def _names(ctx: Ctx, units: set[str], stations: set[str]) -> dict[str, str]:
    out = names_repo.unit_names(ctx.session, units)
    out.update({f"station:{c}": n for c, n in names_repo.station_names(ctx.session, stations).items()})
    return out


# --- submitting ------------------------------------------------------------------------------


def _submit_fields(ctx: Ctx) -> list[Field]:
    units = tuple(names_repo.unit_names(ctx.session).items())
    station = ctx.actor.station_code if ctx.actor.role == "station" else None
    deputies = tuple(names_repo.deputy_choices(ctx.session, station=station))
    fields = [
        Field("unit", "被约请单位", kind="select", options=units),
        Field("subject", "约请事项", hint="一句话说明请对方来解决什么问题。"),
        Field("content", "事项内容", kind="textarea", hint="选民反映的情况、涉及范围、诉求。"),
        Field("deputies", "参加面商的代表", kind="checkboxes", options=deputies, required=False),
    ]
    if ctx.actor.role == "liaison":
        stations = tuple(names_repo.station_names(ctx.session).items())
        fields.insert(0, Field("station", "代表联络站", kind="select", options=stations))
    return fields


def _submit_page(request: Request, ctx: Ctx, state: FormState, status: int = 200) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="上报约请",
        form=state,
        caption="约请事项",
        submit="上报联工委审定",
        action="/ui/invitations/new",
        back="/ui/invitations",
        intro="联络站收集的选民问题需要职能部门到站面商解决的，可申请约请。联工委审定后编号发出约请函。",
    )


@router.get("/invitations/new")
def submit_form(request: Request, ctx: Ctx = page_reader("station", "liaison")) -> Response:
    return _submit_page(request, ctx, FormState(_submit_fields(ctx)))


@router.post("/invitations/new")
def submit_invitation(request: Request, ctx: Ctx = page_writer("station", "liaison")) -> Response:
    """The same use-case as POST /api/v1/invitations."""
    fields = _submit_fields(ctx)
    form = request.state.form
    deputies = [str(d) for d in form.getlist("deputies")]
    shown = [f for f in fields if f.name != "deputies"]
    fixed: dict[str, Any] = {"deputies": deputies}
    if ctx.actor.role == "station":
        fixed["station"] = ctx.actor.station_code

    def again(state: FormState, status: int) -> Response:
        full = FormState(
            fields, {**state.values, "deputies": deputies}, dict(state.errors), list(state.problems)
        )
        return _submit_page(request, ctx, full, status)

    return submit(
        request,
        ctx,
        shown,
        InvitationIn,
        lambda m: svc.submit(
            ctx, station=m.station, unit=m.unit, subject=m.subject, content=m.content, deputies=m.deputies
        ),
        done=lambda inv: f"/ui/invitations/{inv.id}?done=submitted",
        show=again,
        **fixed,
    )


# --- one invitation --------------------------------------------------------------------------

DONE = {
    "submitted": "约请已上报，等待联工委审定。",
    "review": "审定意见已保存。",
    "acknowledge": "已签收。",
    "extension": "延期申请已提交，等待联工委决定。",
    "report": "办理情况表已报送。",
    "evaluate": "评议已保存。",
    "decide": "延期申请已决定。",
    "view": "联络站意见已送联工委。",
}


@router.get("/invitations/{invitation_id}")
def invitation_page(
    request: Request,
    invitation_id: str,
    ctx: Ctx = page_reader(*ROLES),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    data = invitation_context(ctx, invitation_id)
    return render(
        request,
        "invitations/invitation.html",
        title=data["v"]["number"] or data["v"]["subject"],
        notice=DONE.get(done or "", ""),
        **data,
    )


# --- printable pages (also served by the API) -------------------------------------------------


@router.get("/invitations/{invitation_id}/letter")
def letter_page(invitation_id: str, ctx: Ctx = page_reader(*ROLES)) -> Response:
    return HTMLResponse(
        printable(ctx, invitation_id, "letter", back=f"/ui/invitations/{invitation_id}"),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/invitations/{invitation_id}/form")
def form_page(
    invitation_id: str,
    ctx: Ctx = page_reader(*ROLES),
    round: Annotated[int | None, Query(ge=1, le=1000)] = None,
) -> Response:
    return HTMLResponse(
        printable(ctx, invitation_id, "form", round_=round, back=f"/ui/invitations/{invitation_id}"),
        headers={"Cache-Control": "no-store"},
    )
