"""Extension decisions (延期审批) for the hotline office and the liaison committee."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import OneTripRoute
from app.pages.forms import Field, FormState, submit
from app.pages.web import page_reader, page_writer, render
from app.schemas.tickets import DecisionIn
from app.services import extensions as svc
from app.services import registry
from app.services import tickets as tickets_svc
from app.services.context import Ctx
from app.services.views import ticket_views

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
ROLES = ("hotline", "liaison")
FIELDS = [
    Field(
        "approve",
        "审批意见",
        kind="radios",
        options=(("yes", "批准：办结期限顺延申请的工作日数"), ("no", "不批准：办结期限不变")),
    ),
    Field("note", "说明", kind="textarea", required=False, hint="将记入工单的办理记录，承办单位可以看到。"),
]


@router.get("/extensions")
def pending_page(request: Request, ctx: Ctx = page_reader(*ROLES)) -> Response:
    """Requests waiting for a decision, oldest first."""
    rows = svc.pending(ctx, limit=200)
    views = {v["id"]: v for v in ticket_views(ctx.session, [t for _, t in rows], ctx.now(), ctx.tz)}
    return render(
        request,
        "decisions/list.html",
        title="延期审批",
        rows=rows,
        views=views,
        units=registry.unit_names(ctx.session, {e.unit_code for e, _ in rows}),
    )


def _context(ctx: Ctx, extension_id: str) -> dict[str, Any]:
    ext = svc.get_extension(ctx, extension_id)
    ticket = tickets_svc.get_visible(ctx, ext.ticket_id)
    view = ticket_views(ctx.session, [ticket], ctx.now(), ctx.tz)[0]
    return {
        "ext": ext,
        "t": view,
        "units": registry.unit_names(ctx.session, {ext.unit_code, *(c["unit"] for c in view["clocks"])}),
        "category": registry.category_names(ctx.session, [view["category"]]),
    }


def _page(request: Request, ctx: Ctx, extension_id: str, state: FormState, status: int = 200) -> Response:
    data = _context(ctx, extension_id)
    return render(request, "decisions/decide.html", status=status, title="审批延期申请", form=state, **data)


@router.get("/extensions/{extension_id}")
def decision_form(request: Request, extension_id: str, ctx: Ctx = page_reader(*ROLES)) -> Response:
    return _page(request, ctx, extension_id, FormState(FIELDS))


@router.post("/extensions/{extension_id}")
def decide(request: Request, extension_id: str, ctx: Ctx = page_writer(*ROLES)) -> Response:
    """The same use-case as POST /api/v1/extensions/{id}/decision."""
    return submit(
        request,
        ctx,
        FIELDS,
        DecisionIn,
        lambda m: svc.decide_extension(ctx, extension_id=extension_id, approve=m.approve, note=m.note),
        done=lambda ext: f"/ui/tickets/{ext.ticket_id}?done=decided",
        show=lambda state, status: _page(request, ctx, extension_id, state, status),
    )
