"""Terms (届), duty reports (述职), point rules and activities (履职积分)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.deps import OneTripRoute, reader, writer
from app.errors import NotFound
from app.models import DutyReport, Term
from app.schemas.common import Code, problem_responses
from app.schemas.duty import (
    ActivityIn,
    ActivityOut,
    DutyReportIn,
    DutyReportOut,
    PointRuleIn,
    PointRuleOut,
    PointType,
    TermIn,
    TermOut,
)
from app.services import duty_reports, points, terms
from app.services.context import Ctx

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["duty records"],
    responses=problem_responses(401, 403, 422),
)


def term_out(t: Term) -> TermOut:
    return TermOut(
        code=t.code,
        level=t.level,
        name=t.name,
        starts_on=t.starts_on,
        ends_on=t.ends_on,
        years=t.ends_on.year - t.starts_on.year + 1,
    )


@router.put(
    "/terms/{code}", response_model=TermOut, responses={201: {"model": TermOut}, **problem_responses(409)}
)
def put_term(code: Code, body: TermIn, response: Response, ctx: Ctx = writer("admin", "liaison")) -> TermOut:
    """Create (201) or change (200) a term; its level and dates cannot move from under the
    deputies and duty reports that rest on them (409)."""
    term, created = terms.put_term(
        ctx.session,
        code=code,
        level=body.level,
        name=body.name,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        now=ctx.now(),
    )
    response.status_code = 201 if created else 200
    return term_out(term)


@router.get("/terms", response_model=list[TermOut])
def list_terms(ctx: Ctx = reader("admin", "liaison")) -> list[TermOut]:
    """Every term."""
    return [term_out(t) for t in terms.list_terms(ctx.session)]


@router.get("/terms/{code}", response_model=TermOut, responses=problem_responses(404))
def get_term(code: str, ctx: Ctx = reader("admin", "liaison")) -> TermOut:
    return term_out(terms.get_term(ctx.session, code))


def duty_report_out(r: DutyReport, ctx: Ctx) -> DutyReportOut:
    return DutyReportOut(
        id=r.id,
        deputy_id=r.deputy_id,
        term=r.term_code,
        held_on=r.held_on,
        method=r.method,
        audience=r.audience,
        note=r.note,
        recorded_by=r.recorded_by,
        recorded_at=r.recorded_at.astimezone(ctx.tz),
    )


def own_deputy(ctx: Ctx, deputy_id: str) -> None:
    """A deputy reads only his or her own record; anyone else's is not found."""
    if ctx.actor.role == "deputy" and ctx.actor.deputy_id != deputy_id:
        raise NotFound(f"no deputy {deputy_id}")


@router.post(
    "/deputies/{deputy_id}/duty-reports",
    status_code=201,
    response_model=DutyReportOut,
    responses=problem_responses(404, 409),
)
def record_duty_report(deputy_id: str, body: DutyReportIn, ctx: Ctx = writer("liaison")) -> DutyReportOut:
    """Record a deputy's report on his or her duties (述职) for the deputy's term: the date
    lies within the term and not ahead; a deputy without a term → 409."""
    report = duty_reports.record(
        ctx,
        deputy_id=deputy_id,
        held_on=body.held_on,
        method=body.method,
        audience=body.audience,
        note=body.note,
    )
    return duty_report_out(report, ctx)


@router.get(
    "/deputies/{deputy_id}/duty-reports", response_model=list[DutyReportOut], responses=problem_responses(404)
)
def list_duty_reports(deputy_id: str, ctx: Ctx = reader("liaison", "admin", "deputy")) -> list[DutyReportOut]:
    """A deputy's duty reports, every term, the oldest first (a deputy: his or her own)."""
    own_deputy(ctx, deputy_id)
    return [duty_report_out(r, ctx) for r in duty_reports.of_deputy(ctx, deputy_id)]


def rule_out(r: points.Rule) -> PointRuleOut:
    return PointRuleOut(type=r.type, name=r.name, points=r.points, yearly_cap=r.yearly_cap, builtin=r.builtin)


@router.put("/point-rules/{type}", response_model=PointRuleOut, responses={201: {"model": PointRuleOut}})
def put_point_rule(
    type_: Annotated[PointType, Path(alias="type")],
    body: PointRuleIn,
    response: Response,
    ctx: Ctx = writer("liaison", "admin"),
) -> PointRuleOut:
    """Add an activity type (201) or re-weight one (200); built-in types may be re-weighted,
    not removed."""
    rule, created = points.put_rule(
        ctx.session,
        type_=type_,
        name=body.name,
        points=body.points,
        yearly_cap=body.yearly_cap,
        now=ctx.now(),
    )
    response.status_code = 201 if created else 200
    return rule_out(rule)


@router.get("/point-rules", response_model=list[PointRuleOut])
def list_point_rules(ctx: Ctx = reader("liaison", "admin")) -> list[PointRuleOut]:
    """The points table: built-in types first, then the committee's."""
    return [rule_out(r) for r in points.rules(ctx.session).values()]


@router.post(
    "/deputies/{deputy_id}/activities",
    status_code=201,
    response_model=ActivityOut,
    responses=problem_responses(404),
)
def record_activity(deputy_id: str, body: ActivityIn, ctx: Ctx = writer("liaison")) -> ActivityOut:
    """Record an item of a type the committee added (an unknown or built-in type → 422)."""
    a = points.record_activity(ctx, deputy_id=deputy_id, type_=body.type, on=body.on, note=body.note)
    return ActivityOut(
        id=a.id,
        deputy_id=a.deputy_id,
        type=a.type,
        on=a.done_on,
        note=a.note,
        recorded_by=a.recorded_by,
        recorded_at=a.recorded_at.astimezone(ctx.tz),
    )
