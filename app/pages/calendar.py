"""The admin's page for the working calendar: a year's holidays and make-up working days,
saved with the same use-case as PUT /api/v1/calendar/{year} (every open deadline
recomputed), or reverted to the built-in arrangement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import savepoint
from app.deps import OneTripRoute, app_state
from app.errors import DomainError, status_of
from app.pages import labels
from app.pages.forms import Field, FormState
from app.pages.web import page_reader, page_writer, redirect, render
from app.schemas.calendar import CalendarIn
from app.services import calendar_changes
from app.services.calendar_in_force import check_year
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui/admin", include_in_schema=False)

CALENDAR_FIELDS = [
    Field(
        "holidays", "放假日期", kind="textarea", hint="每行一个日期，如 2027-01-01。包括与周末重合的假日。"
    ),
    Field(
        "workdays",
        "调休上班日期",
        kind="textarea",
        required=False,
        hint="因调休需要上班的周六、周日，每行一个日期。",
    ),
]


def _calendar_page(
    request: Request, ctx: Ctx, year: int, state: FormState | None = None, status: int = 200, notice: str = ""
) -> Response:
    provider = app_state(request).calendars
    arrangement = ctx.calendar.years.get(year)
    holidays = sorted(arrangement.holidays) if arrangement else []
    workdays = sorted(arrangement.workdays) if arrangement else []
    state = state or FormState(
        CALENDAR_FIELDS,
        {
            "holidays": "\n".join(d.isoformat() for d in holidays),
            "workdays": "\n".join(d.isoformat() for d in workdays),
        },
    )
    return render(
        request,
        "admin/calendar.html",
        status=status,
        title=f"工作日历 {year}年",
        year=year,
        source=provider.source(ctx.session, year),
        holidays=holidays,
        workdays=workdays,
        form=state,
        notice=notice,
    )


def _year(ctx: Ctx, year: int | None) -> int:
    chosen = year or ctx.now().astimezone(ctx.tz).year
    check_year(chosen)
    return chosen


@router.get("/calendar")
def calendar_page(
    request: Request,
    ctx: Ctx = page_reader("admin"),
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    y = _year(ctx, year)
    notice = ""
    if done:
        notice = (
            f"已保存 {y} 年的安排；重新计算了 {done} 个未完成的时限。"
            if done.isdigit()
            else f"{y} 年已恢复为内置数据。"
        )
    return _calendar_page(request, ctx, y, notice=notice)


def _dates(raw: str) -> list[str]:
    return [part for part in raw.replace(",", "\n").replace("，", "\n").split() if part]


@router.post("/calendar")
def save_calendar(
    request: Request,
    ctx: Ctx = page_writer("admin"),
    year: Annotated[int | None, Query(ge=1900, le=2999)] = None,
) -> Response:
    """The same use-case as PUT /api/v1/calendar/{year} (every open deadline recomputed)."""
    y = _year(ctx, year)
    form = request.state.form
    if form.get("revert") == "yes":
        n = calendar_changes.revert_year(ctx, year=y)
        return redirect(f"/ui/admin/calendar?year={y}&done=reverted-{n}")
    values = {
        "holidays": _dates(str(form.get("holidays", ""))),
        "workdays": _dates(str(form.get("workdays", ""))),
    }
    state = FormState(CALENDAR_FIELDS, {k: str(form.get(k, "")) for k in values})
    try:
        body = CalendarIn.model_validate(values)
    except Exception:
        state.problems.append("日期格式不正确：请每行填写一个日期，如 2027-01-01")
        return _calendar_page(request, ctx, y, state, 422)
    try:
        with savepoint(ctx.session):
            n = calendar_changes.replace_year(
                ctx, year=y, holidays=list(body.holidays), workdays=list(body.workdays)
            )
    except DomainError as exc:
        state.problems.append(labels.translate_detail(exc.detail))
        return _calendar_page(request, ctx, y, state, status_of(exc))
    return redirect(f"/ui/admin/calendar?year={y}&done={n}")
