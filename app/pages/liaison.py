"""The liaison committee's dashboard and reports."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OneTripRoute, app_state
from app.errors import Invalid
from app.pages import charts
from app.pages.web import CSP, page_reader, render
from app.services import dashboard, registry
from app.services import reports as reports_svc
from app.services.context import Ctx
from app.services.reports.export_html import CSS as REPORT_CSS
from app.services.reports.period import Period

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)


@router.get("/dashboard")
def dashboard_page(request: Request, ctx: Ctx = page_reader("liaison", "admin")) -> Response:
    """What needs attention now, and a year of calls, on-time resolution and satisfaction."""
    now = ctx.now()
    data = dashboard.overview(ctx.session, now, ctx.tz)
    cache: dashboard.TrendCache = request.app.state.dashboard_trends
    state = app_state(request)

    def compute(period: Period) -> list[dict[str, Any]]:
        with state.db.read_session() as session:
            return dashboard.trends(session, period)

    months, as_of = cache.get(now, ctx.tz, compute)
    labels = [m["month"] for m in months]
    figures = {
        "calls": charts.bars("每月来电量", labels, [m["calls"] for m in months]),
        "resolve": charts.rates("每月办结及时率", labels, [m["resolve_on_time_rate"] for m in months]),
        "satisfaction": charts.rates("每月满意率", labels, [m["satisfaction_rate"] for m in months]),
    }
    codes = (
        {r.unit_code for r in data["overdue_items"]}
        | {r.lead_unit for r in data["unsatisfied_items"]}
        | {u for cases in data["unsatisfied_cases"].values() for _, u in cases}
    )
    cats = {r.category for r in data["overdue_items"]} | {r.category for r in data["unsatisfied_items"]}
    return render(
        request,
        "liaison/dashboard.html",
        title="工作台",
        d=data,
        months=months,
        charts=figures,
        as_of=as_of,
        now=now,
        units=registry.unit_names(ctx.session, codes),
        categories=registry.category_names(ctx.session, cats),
    )


# --- reports ---------------------------------------------------------------------------------

KINDS = {"monthly": "月报", "annual": "年报", "deputies": "代表履职情况", "points": "代表履职积分"}
# The report's printable page carries its own <style>; its hash is the one inline style
# the policy allows, so nothing else inline can run or restyle the page.
REPORT_CSP = CSP.replace(
    "style-src 'self'",
    "style-src 'sha256-" + base64.b64encode(hashlib.sha256(REPORT_CSS.encode()).digest()).decode() + "'",
)


@router.get("/reports")
def reports_page(request: Request, ctx: Ctx = page_reader("liaison", "admin")) -> Response:
    """Pick a report and a period; view it, or download it for Excel."""
    today = ctx.now().astimezone(ctx.tz).date()
    last = today.replace(day=1) - timedelta(days=1)
    months = []
    y, m = today.year, today.month
    for _ in range(24):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    years = [str(today.year - i) for i in range(5)]
    return render(
        request,
        "liaison/reports.html",
        title="报表",
        months=months,
        years=years,
        default_month=f"{last.year:04d}-{last.month:02d}",
        kinds=KINDS,
    )


@router.get("/reports/{kind}")
def report(
    request: Request,
    kind: str,
    ctx: Ctx = page_reader("liaison", "admin"),
    period: Annotated[str, Query(max_length=16)] = "",
    format: Annotated[str, Query(max_length=8)] = "html",
) -> Response:
    """A report from the same service as GET /api/v1/reports/...: the page to read (and
    print) or a file to download (XLSX, CSV), phone numbers masked."""
    if kind not in KINDS:
        raise Invalid("kind", "must be monthly, annual, deputies or points")
    fmt = reports_svc.check_format(format)
    if fmt == "json":
        raise Invalid("format", "pages offer html, xlsx or csv")
    if kind == "deputies":
        data = reports_svc.deputies_report(ctx.session, period, ctx.now(), ctx.tz)
    elif kind == "points":
        from app.services.reports import points
        from app.services.reports.period import year_period

        data = points.build(ctx.session, year_period(period, ctx.now(), ctx.tz, "period"))
    else:
        build = reports_svc.monthly_report if kind == "monthly" else reports_svc.annual_report
        data = build(ctx.session, period, ctx.now(), ctx.tz, app_state(request).score_weights)
    body = reports_svc.render(kind, data, fmt, mask=True)
    _, stem = reports_svc.title_of(kind, data)
    headers = {
        "Content-Disposition": f'{"inline" if fmt == "html" else "attachment"}; filename="{stem}.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(body, media_type=reports_svc.MEDIA_TYPES[fmt], headers=headers)
