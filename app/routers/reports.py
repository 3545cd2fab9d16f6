"""Reports (liaison, admin): monthly, annual, deputy participation; JSON, CSV, XLSX, HTML."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from app.deps import OneTripRoute, app_state, reader
from app.errors import NotFound
from app.schemas.common import json_bytes, problem_responses
from app.schemas.duty import CoverageReport, DeputyPointsReport, PointsReport
from app.schemas.reports import (
    AnnualReport,
    DeputiesReport,
    InvitationsReport,
    MonthlyReport,
    StationsReport,
)
from app.services import duty_reports
from app.services import reports as svc
from app.services.context import Ctx
from app.services.registry import get_deputy
from app.services.reports import points
from app.services.reports.period import year_period
from app.services.reports.scoring import ScoreWeights

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1/reports",
    tags=["reports"],
    responses=problem_responses(401, 403, 422),
)

YearParam = Annotated[str, Query(max_length=8, description="YYYY; not in the future")]
MonthParam = Annotated[str, Query(max_length=16, description="YYYY-MM; not in the future")]
FormatParam = Annotated[str, Query(max_length=8, description="json (default), csv, xlsx or html")]
MaskParam = Annotated[
    bool, Query(description="mask phone numbers (138****0001) in CSV, XLSX and HTML; false shows them")
]
READERS = reader("liaison", "admin")  # who reads the reports (a deputy reads his or her points)
DOWNLOADS: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            svc.MEDIA_TYPES["xlsx"]: {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
        },
        "description": "the report; `format` picks JSON or a download",
    }
}


def _download(kind: str, format: str, mask: bool, build: Callable[[], dict[str, Any]]) -> Any:
    """The report in the asked format: the format is checked before any work is done."""
    fmt = svc.check_format(format)
    report = build()
    if fmt == "json":
        # Serialized directly: re-validating a month's report through its response model
        # cost 0.7 s at 1 M tickets (26,000 listed tickets); tests hold the output to the
        # model field for field.
        return Response(json_bytes(report), media_type="application/json")
    body = svc.render(kind, report, fmt, mask=mask)
    _, stem = svc.title_of(kind, report)
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        body,
        media_type=svc.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'{disposition}; filename="{stem}.{fmt}"',
            "Cache-Control": "no-store",
        },
    )


def _weights(request: Request) -> ScoreWeights:
    weights: ScoreWeights = request.app.state.hotline.score_weights
    return weights


@router.get("/monthly", response_model=MonthlyReport, responses=DOWNLOADS)
def monthly(
    request: Request,
    month: MonthParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """The monthly report to the liaison committee (月报), as it stood at the cut-off."""
    return _download(
        "monthly",
        format,
        mask,
        lambda: svc.monthly_report(ctx.session, month, ctx.now(), ctx.tz, _weights(request)),
    )


@router.get("/annual", response_model=AnnualReport, responses=DOWNLOADS)
def annual(
    request: Request,
    year: YearParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """The annual report (年报): the monthly figures over a year, with month-by-month totals."""
    return _download(
        "annual",
        format,
        mask,
        lambda: svc.annual_report(ctx.session, year, ctx.now(), ctx.tz, _weights(request)),
    )


@router.get("/deputies", response_model=DeputiesReport, responses=DOWNLOADS)
def deputies(
    year: YearParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """Deputy participation (代表履职): calls, problems and points; silent deputies."""
    return _download(
        "deputies", format, mask, lambda: svc.deputies_report(ctx.session, year, ctx.now(), ctx.tz)
    )


@router.get("/stations", response_model=StationsReport, responses=DOWNLOADS)
def stations(
    month: MonthParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """The liaison stations' month (联络站): receptions and messages per station, and the
    stations that held no reception."""
    return _download(
        "stations", format, mask, lambda: svc.stations_report(ctx.session, month, ctx.now(), ctx.tz)
    )


@router.get("/duty-reports", response_model=CoverageReport, responses=DOWNLOADS)
def duty_coverage(
    request: Request,
    term: Annotated[str, Query(max_length=64, description="the term's code")],
    year: Annotated[str, Query(max_length=8, description="YYYY, a year of the term; not in the future")],
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """Duty reports (述职) of a term in a year: due, overdue and done, coverage and the share
    made at a meeting, per the configured schedule, as at the end of the year (today for
    this year)."""
    return _download(
        "duty-reports",
        format,
        mask,
        lambda: duty_reports.coverage(
            ctx,
            term_code=term,
            period=year_period(year, ctx.now(), ctx.tz),
            schedule=app_state(request).duty_schedule,
        ),
    )


@router.get("/points", response_model=PointsReport, responses=DOWNLOADS)
def points_report(
    year: YearParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """Points (履职积分) of every deputy in a year by type, caps applied, the highest first;
    silent deputies (no call on the line) marked."""
    return _download(
        "points", format, mask, lambda: points.build(ctx.session, year_period(year, ctx.now(), ctx.tz))
    )


@router.get(
    "/points/{deputy_id}",
    response_model=DeputyPointsReport,
    responses={**DOWNLOADS, **problem_responses(404)},
)
def deputy_points_report(
    deputy_id: str,
    year: YearParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = reader("liaison", "admin", "deputy"),
) -> Any:
    """A deputy's annual points report: every item behind each figure, by type, with the
    caps applied (a deputy: his or her own)."""

    def build() -> dict[str, Any]:
        if ctx.actor.role == "deputy" and ctx.actor.deputy_id != deputy_id:
            raise NotFound(f"no deputy {deputy_id}")
        deputy = get_deputy(ctx.session, deputy_id)
        return points.for_deputy(ctx.session, year_period(year, ctx.now(), ctx.tz), deputy)

    return _download("deputy-points", format, mask, build)


@router.get("/invitations", response_model=InvitationsReport, responses=DOWNLOADS)
def invitations(
    year: YearParam,
    format: FormatParam = "json",
    mask: MaskParam = True,
    ctx: Ctx = READERS,
) -> Any:
    """Invitations (约请) per invited unit: letters received, acknowledged and completed on
    time, evaluations, satisfaction and rounds reopened."""
    return _download(
        "invitations", format, mask, lambda: svc.invitations_report(ctx.session, year, ctx.now(), ctx.tz)
    )
