"""Working calendar and the SLA sweep."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from app.deps import OneTripRoute, reader, writer
from app.errors import Invalid
from app.observability import record_sweep
from app.schemas.calendar import CalendarChanged, CalendarIn, CalendarOut, WorkingDaysOut
from app.schemas.common import problem_responses
from app.schemas.sweep import SweepOut
from app.services import calendar_changes
from app.services.calendar_in_force import check_year
from app.services.context import Ctx
from app.services.sweep import sweep
from app.services.working_days import OutOfRange

router = APIRouter(
    route_class=OneTripRoute, prefix="/api/v1", tags=["calendar"], responses=problem_responses(401, 403, 422)
)


@router.get("/calendar/working-days/add", response_model=WorkingDaysOut)
def add_working_days(
    start: date,
    days: Annotated[int, Query(ge=0, le=3650)],
    ctx: Ctx = reader(),
) -> WorkingDaysOut:
    """The Nth working day after `start` (0: `start` itself if it is a working day)."""
    try:
        result, provisional = ctx.calendar.add_working_days(start, days)
    except OutOfRange as exc:
        raise Invalid("start", str(exc)) from None
    return WorkingDaysOut(start=start, days=days, date=result, provisional=provisional)


def _year_out(request: Request, ctx: Ctx, year: int) -> CalendarOut:
    provider = request.app.state.hotline.calendars
    cal = ctx.calendar
    arrangement = cal.years.get(year)
    return CalendarOut(
        year=year,
        source=provider.source(ctx.session, year),
        holidays=sorted(cal.holidays_of(year)),
        workdays=sorted(arrangement.workdays) if arrangement else [],
        provisional=arrangement is None,
    )


@router.get("/calendar/{year}", response_model=CalendarOut, responses=problem_responses(404))
def get_year(year: int, request: Request, ctx: Ctx = reader()) -> CalendarOut:
    """A year's holidays and make-up working days, and where they come from."""
    check_year(year)
    return _year_out(request, ctx, year)


@router.put("/calendar/{year}", response_model=CalendarChanged, responses=problem_responses(404))
def put_year(year: int, body: CalendarIn, request: Request, ctx: Ctx = writer("admin")) -> CalendarChanged:
    """Load or replace a year; every open deadline it affects is recomputed and logged."""
    n = calendar_changes.replace_year(ctx, year=year, holidays=body.holidays, workdays=body.workdays)
    return CalendarChanged(year=year, source="custom", recomputed_clocks=n)


@router.delete("/calendar/{year}", response_model=CalendarChanged, responses=problem_responses(404))
def delete_year(year: int, request: Request, ctx: Ctx = writer("admin")) -> CalendarChanged:
    """Revert a year to the built-in data (or to none), recomputing open deadlines."""
    n = calendar_changes.revert_year(ctx, year=year)
    source = request.app.state.hotline.calendars.source(ctx.session, year)
    return CalendarChanged(year=year, source=source, recomputed_clocks=n)


@router.post("/admin/sla-sweep", response_model=SweepOut)
def run_sweep(ctx: Ctx = writer("admin")) -> Any:
    """Run the SLA sweep now; counts are of marks and cases newly recorded by this run."""
    started = time.perf_counter()
    r = sweep(ctx)
    record_sweep(r, time.perf_counter() - started)
    return SweepOut(breached=r.breached, warned=r.warned, supervisions_opened=r.supervisions_opened)
