"""A unit's work: its queue, nearest due first, with what to do next on each ticket."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OneTripRoute, encode_cursor
from app.pages import labels
from app.pages.web import page_reader, render
from app.routers.queue import after_cursor
from app.services import queue as svc
from app.services import registry
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
PAGE = 50


@router.get("/queue")
def queue_page(
    request: Request,
    ctx: Ctx = page_reader("unit", "liaison", "admin"),
    unit: Annotated[str | None, Query(max_length=64)] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """The unit's open work (the API's queue, as a page); breached items marked."""
    code = ctx.actor.unit_code if ctx.actor.role == "unit" else unit
    if not code:
        units = registry.list_units(ctx.session)
        return render(request, "unit/choose.html", title="选择单位", units=[(u.code, u.name) for u in units])
    me = request.state.signed_in
    # A unit's own name came with its session; another unit's is looked up (and checked).
    name = (
        me.unit_name if code == me.unit_code and me.unit_name else registry.get_unit(ctx.session, code).name
    )
    rows = svc.read_queue(ctx, unit=code, limit=PAGE + 1, after=after_cursor(cursor), updated_since=None)
    more = len(rows) > PAGE
    rows = rows[:PAGE]
    now = ctx.now()
    next_url = None
    if more:
        last = rows[-1]
        next_url = f"/ui/queue?cursor={encode_cursor([last.sort_key.isoformat(), last.id, last.role])}"
        if ctx.actor.role != "unit":
            next_url += f"&unit={code}"
    categories = request.app.state.names.categories(ctx.session, now)
    lines = [_line(r, now, ctx.tz, categories) for r in rows]
    return render(
        request,
        "unit/queue.html",
        title="待办工单",
        unit_name=name,
        lines=lines,
        late=sum(line.breached for line in lines),
        next_url=next_url,
        first_page=cursor is None,
    )


@dataclass(frozen=True, slots=True)
class Line:
    """One item of the queue as the page prints it (worked out here once: a page of fifty
    rendered from plain strings costs a third of one that looks each value up in the
    template)."""

    ticket_id: str
    hotline_no: str
    href: str
    due: str
    breached: bool
    action: str
    role: str
    category: str
    urgent: bool
    status: str


def _line(r: Any, now: datetime, tz: ZoneInfo, categories: dict[str, str]) -> Line:
    due_at = r.next_due_at
    action = labels.label(r.next_action, "next_action")
    if r.round > 1:
        action += f"（第{r.round}轮）"
    if "invitation_number" in r._fields:  # an invitation (约请) the unit is to answer
        return Line(
            ticket_id=r.id,
            hotline_no=r.invitation_number,
            href=f"/ui/invitations/{r.id}",
            due=labels.when(due_at, tz) or "—",
            breached=due_at is not None and due_at <= now,
            action=action,
            role=labels.label(r.role, "assignment"),
            category=f"约请：{r.subject}",
            urgent=False,
            status=labels.label(r.status, "invitation_status"),
        )
    return Line(
        ticket_id=r.id,
        hotline_no=r.hotline_no,
        href=f"/ui/tickets/{r.id}",
        due=labels.when(due_at, tz) or "—",
        breached=due_at is not None and due_at <= now,
        action=action,
        role=labels.label(r.role, "assignment"),
        category=categories.get(r.category, r.category),
        urgent=r.urgency == "urgent",
        status=labels.label(r.status, "status"),
    )
