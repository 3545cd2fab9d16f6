"""Duty records on the pages: the committee's coverage report of a term, the forms that
record duty reports (述职) and activities (履职积分), and the deputy's own record."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OneTripRoute, app_state
from app.errors import DomainError, Invalid
from app.pages.forms import Field, FormState, submit
from app.pages.web import page_reader, page_writer, render
from app.schemas.duty import ActivityIn, DutyReportIn
from app.services import duty_reports, points, registry, terms
from app.services.context import Ctx
from app.services.duty_schedule import KIND_NAMES
from app.services.reports import points as points_report
from app.services.reports.duty_tables import AUDIENCES, METHODS
from app.services.reports.period import year_period

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
COMMITTEE = ("liaison", "admin")

REPORT_FIELDS = [
    Field("held_on", "述职日期", kind="date", width="w-10"),
    Field("method", "述职方式", kind="radios", options=tuple(METHODS.items())),
    Field("audience", "述职对象", kind="radios", options=tuple(AUDIENCES.items())),
    Field("note", "备注", kind="textarea", required=False, hint="如会议名称、地点、参加人数。"),
]


def _activity_fields(ctx: Ctx) -> list[Field]:
    own = tuple((r.type, r.name) for r in points.rules(ctx.session).values() if not r.builtin)
    return [
        Field(
            "type",
            "履职项目",
            kind="select",
            options=own,
            hint="专线反映问题、按时处理留言、参加接待和述职由系统自动计分，不在此登记。",
        ),
        Field("on", "日期", kind="date", width="w-10"),
        Field("note", "内容", kind="textarea", required=False, hint="如会议名称、培训主题。"),
    ]


def _year(ctx: Ctx, raw: str | None) -> int:
    today = ctx.now().astimezone(ctx.tz).date()
    if not raw:
        return today.year
    return int(year_period(raw, ctx.now(), ctx.tz).label)


@router.get("/duty")
def coverage_page(
    request: Request,
    ctx: Ctx = page_reader(*COMMITTEE),
    term: Annotated[str | None, Query(max_length=64)] = None,
    year: Annotated[str | None, Query(max_length=8)] = None,
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """A term's duty reports in a year: coverage, meeting share, who is due and overdue."""
    all_terms = terms.list_terms(ctx.session)
    chosen = next((t for t in all_terms if t.code == term), all_terms[0] if all_terms else None)
    report: dict[str, Any] | None = None
    problem = ""
    shown_year = _year(ctx, year)
    if chosen is not None:
        if year is None:  # the latest year of the term that is not ahead
            shown_year = max(min(shown_year, chosen.ends_on.year), chosen.starts_on.year)
        try:
            report = duty_reports.coverage(
                ctx,
                term_code=chosen.code,
                period=year_period(shown_year, ctx.now(), ctx.tz),
                schedule=app_state(request).duty_schedule,
            )
        except DomainError as exc:
            problem = "所选年度不在该届任期内或尚未到来。" if isinstance(exc, Invalid) else exc.detail
    years = (
        list(range(chosen.starts_on.year, min(chosen.ends_on.year, ctx.now().astimezone(ctx.tz).year) + 1))
        if chosen
        else []
    )
    notice = {"report": "已登记述职。", "activity": "已登记履职活动。"}.get(done or "", "")
    return render(
        request,
        "duty/coverage.html",
        title="代表述职",
        terms=all_terms,
        term=chosen,
        year=shown_year,
        years=years,
        r=report,
        problem=problem,
        kinds=KIND_NAMES,
        methods=METHODS,
        audiences=AUDIENCES,
        notice=notice,
    )


@router.get("/duty/report")
def coverage_download(
    request: Request,
    ctx: Ctx = page_reader(*COMMITTEE),
    term: Annotated[str, Query(max_length=64)] = "",
    year: Annotated[str, Query(max_length=8)] = "",
    format: Annotated[str, Query(max_length=8)] = "xlsx",
) -> Response:
    """The coverage report as a file to download (XLSX, CSV) or a page to print."""
    from app.pages.liaison import REPORT_CSP
    from app.services import reports as reports_svc

    fmt = reports_svc.check_format(format)
    if fmt == "json":
        raise Invalid("format", "pages offer html, xlsx or csv")
    data = duty_reports.coverage(
        ctx,
        term_code=term,
        period=year_period(year, ctx.now(), ctx.tz),
        schedule=app_state(request).duty_schedule,
    )
    body = reports_svc.render("duty-reports", data, fmt, mask=True)
    _, stem = reports_svc.title_of("duty-reports", data)
    headers = {
        "Content-Disposition": f'{"inline" if fmt == "html" else "attachment"}; filename="{stem}.{fmt}"',
        "Cache-Control": "no-store",
    }
    if fmt == "html":
        headers["Content-Security-Policy"] = REPORT_CSP
    return Response(body, media_type=reports_svc.MEDIA_TYPES[fmt], headers=headers)


def _deputy_caption(ctx: Ctx, deputy_id: str) -> str:
    d = registry.get_deputy(ctx.session, deputy_id)
    term = terms.get_term(ctx.session, d.term_code) if d.term_code else None
    return f"{d.name} · {term.name if term else '未设届次'}"


def _back(ctx: Ctx, deputy_id: str) -> str:
    d = registry.get_deputy(ctx.session, deputy_id)
    return f"/ui/duty?term={d.term_code}" if d.term_code else "/ui/duty"


def _report_form(request: Request, ctx: Ctx, deputy_id: str, state: FormState, status: int = 200) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="登记述职",
        caption=_deputy_caption(ctx, deputy_id),
        form=state,
        submit="登记",
        action=f"/ui/duty/deputies/{deputy_id}/report",
        back=_back(ctx, deputy_id),
        intro="代表向原选举单位或原选区选民报告履职情况后登记。",
    )


@router.get("/duty/deputies/{deputy_id}/report")
def report_form(request: Request, deputy_id: str, ctx: Ctx = page_reader("liaison")) -> Response:
    return _report_form(request, ctx, deputy_id, FormState(REPORT_FIELDS))


@router.post("/duty/deputies/{deputy_id}/report")
def record_report(request: Request, deputy_id: str, ctx: Ctx = page_writer("liaison")) -> Response:
    """The same use-case as POST /api/v1/deputies/{id}/duty-reports."""
    back = _back(ctx, deputy_id)
    return submit(
        request,
        ctx,
        REPORT_FIELDS,
        DutyReportIn,
        lambda m: duty_reports.record(
            ctx, deputy_id=deputy_id, held_on=m.held_on, method=m.method, audience=m.audience, note=m.note
        ),
        done=f"{back}{'&' if '?' in back else '?'}done=report",
        show=lambda state, status: _report_form(request, ctx, deputy_id, state, status),
    )


def _activity_form(
    request: Request, ctx: Ctx, deputy_id: str, state: FormState, status: int = 200
) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="登记履职活动",
        caption=_deputy_caption(ctx, deputy_id),
        form=state,
        submit="登记",
        action=f"/ui/duty/deputies/{deputy_id}/activity",
        back=_back(ctx, deputy_id),
        intro="登记联工委设立的履职项目（如参加人代会、培训、视察），按积分表计分。",
    )


@router.get("/duty/deputies/{deputy_id}/activity")
def activity_form(request: Request, deputy_id: str, ctx: Ctx = page_reader("liaison")) -> Response:
    return _activity_form(request, ctx, deputy_id, FormState(_activity_fields(ctx)))


@router.post("/duty/deputies/{deputy_id}/activity")
def record_activity(request: Request, deputy_id: str, ctx: Ctx = page_writer("liaison")) -> Response:
    """The same use-case as POST /api/v1/deputies/{id}/activities."""
    back = _back(ctx, deputy_id)
    return submit(
        request,
        ctx,
        _activity_fields(ctx),
        ActivityIn,
        lambda m: points.record_activity(ctx, deputy_id=deputy_id, type_=m.type, on=m.on, note=m.note),
        done=f"{back}{'&' if '?' in back else '?'}done=activity",
        show=lambda state, status: _activity_form(request, ctx, deputy_id, state, status),
    )


@router.get("/my/record")
def my_record(
    request: Request,
    ctx: Ctx = page_reader("deputy"),
    year: Annotated[str | None, Query(max_length=8)] = None,
) -> Response:
    """The deputy's own points in a year, item by item, and his or her duty reports."""
    deputy_id = ctx.actor.deputy_id or ""
    deputy = registry.get_deputy(ctx.session, deputy_id)
    shown = _year(ctx, year)
    data = points_report.for_deputy(ctx.session, year_period(shown, ctx.now(), ctx.tz), deputy)
    reports = duty_reports.of_deputy(ctx, deputy_id)
    term = terms.get_term(ctx.session, deputy.term_code) if deputy.term_code else None
    schedule = app_state(request).duty_schedule
    kind = schedule.kind_of(reelected=deputy.reelected, official=deputy.official)
    due = list(schedule.due_years(kind, term.ends_on.year - term.starts_on.year + 1)) if term else []
    this_year = ctx.now().astimezone(ctx.tz).year
    return render(
        request,
        "duty/mine.html",
        title="我的履职",
        p=data,
        year=shown,
        years=list(range(this_year, this_year - 5, -1)),
        reports=reports,
        term=term,
        kind=KIND_NAMES[kind],
        due=due,
        methods=METHODS,
        audiences=AUDIENCES,
        in_term=[r for r in reports if term and r.term_code == term.code],
        term_names={t.code: t.name for t in terms.list_terms(ctx.session)},
    )
