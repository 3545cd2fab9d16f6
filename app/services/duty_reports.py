"""Duty reports (述职): recording them, and the coverage report of a term in a year.

Every deputy reports on his or her duties at least once a term, in the term years the
schedule (`app.services.duty_schedule`) gives his or her kind; county and township terms
must make a share of their reports at a meeting (`oral` before the standing committee or
`meeting` before voters).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from app.errors import Conflict, Invalid
from app.models import DutyReport
from app.repositories import registry as names
from app.repositories import terms as repo
from app.services import registry, terms
from app.services.context import Ctx
from app.services.duty_schedule import MEETING_METHODS, Schedule
from app.services.reports.period import Period

METHODS = ("oral", "meeting", "written")
AUDIENCES = ("electoral_unit", "voters")


def record(
    ctx: Ctx, *, deputy_id: str, held_on: date, method: str, audience: str, note: str | None
) -> DutyReport:
    """Record a report for the deputy's term; it must fall within the term, not ahead."""
    deputy = registry.get_deputy(ctx.session, deputy_id)
    if deputy.term_code is None:
        raise Conflict(
            "the deputy belongs to no term: set the term first (PATCH /api/v1/deputies/{id} with `term`)"
        )
    term = terms.get_term(ctx.session, deputy.term_code)
    if not term.starts_on <= held_on <= term.ends_on:
        raise Invalid(
            "held_on", f"must lie within the deputy's term {term.name} ({term.starts_on} to {term.ends_on})"
        )
    if held_on > ctx.now().astimezone(ctx.tz).date():
        raise Invalid("held_on", "lies in the future; record a report once it is made")
    report = DutyReport(
        deputy_id=deputy.id,
        term_code=term.code,
        held_on=held_on,
        method=method,
        audience=audience,
        note=note,
        recorded_by=ctx.actor.name,
        recorded_at=ctx.now(),
    )
    ctx.session.add(report)
    ctx.session.flush()
    return report


def report_dict(r: DutyReport) -> dict[str, Any]:
    return {
        "id": r.id,
        "term": r.term_code,
        "held_on": r.held_on,
        "method": r.method,
        "audience": r.audience,
        "note": r.note,
        "recorded_by": r.recorded_by,
    }


def of_deputy(ctx: Ctx, deputy_id: str) -> list[DutyReport]:
    """A deputy's duty reports, the oldest first."""
    registry.get_deputy(ctx.session, deputy_id)
    return repo.reports_of_deputy(ctx.session, deputy_id)


def coverage(ctx: Ctx, *, term_code: str, period: Period, schedule: Schedule) -> dict[str, Any]:
    """Due, overdue and done in a year of a term, coverage and the meeting share, as they
    stood at the period's cut-off (the end of the year; today for this year)."""
    term = terms.get_term(ctx.session, term_code, field="term")
    year = int(period.label)
    length = term.ends_on.year - term.starts_on.year + 1
    year_n = terms.term_year(term, year)
    if not 1 <= year_n <= length:
        raise Invalid("year", f"term {term.name} runs from {term.starts_on.year} to {term.ends_on.year}")
    cutoff_on = min(
        period.cutoff.astimezone(ctx.tz).date() if period.current else date(year, 12, 31), term.ends_on
    )
    session = ctx.session
    deputies = repo.deputies_of(session, term.code)
    reports: dict[str, list[DutyReport]] = defaultdict(list)
    for r in repo.reports_by(session, term.code, cutoff_on):
        reports[r.deputy_id].append(r)
    districts = dict(names.districts(session))
    lists: dict[str, list[dict[str, Any]]] = {"due": [], "overdue": [], "done": [], "upcoming": []}
    made = meetings = 0
    for d in deputies:
        kind = schedule.kind_of(reelected=d.reelected, official=d.official)
        own = reports.get(d.id, [])
        state = schedule.state(kind, term_years=length, year_n=year_n, reported=bool(own))
        row: dict[str, Any] = {
            "deputy_id": d.id,
            "name": d.name,
            "phone": d.phone,
            "level": d.level,
            "district": d.district,
            "district_name": districts.get(d.district, d.district) if d.district else None,
            "reelected": d.reelected,
            "official": d.official,
            "kind": kind,
            "due_years": list(schedule.due_years(kind, length)),
        }
        if own:
            row["reports"] = [report_dict(r) for r in own]
            made += len(own)
            meetings += sum(1 for r in own if r.method in MEETING_METHODS)
        lists[state].append(row)
    share = meetings / made if made else None
    applies = schedule.meeting_rule_applies(term.level)
    return {
        "term": term.code,
        "term_name": term.name,
        "level": term.level,
        "starts_on": term.starts_on,
        "ends_on": term.ends_on,
        "year": year,
        "term_year": year_n,
        "term_years": length,
        "cutoff_on": cutoff_on,
        "cutoff_at": period.local(period.cutoff),
        "deputies": len(deputies),
        "reported": len(lists["done"]),
        "coverage": len(lists["done"]) / len(deputies) if deputies else None,
        "reports": made,
        "meeting_reports": meetings,
        "meeting_share": share,
        "meeting_share_required": schedule.meeting_share if applies else None,
        # On course: the reports made so far meet the share; null where the rule does not
        # apply (a level other than county or township) or nothing was measured yet.
        "meeting_share_on_course": (
            share >= schedule.meeting_share if applies and share is not None else None
        ),
        "schedule": schedule.describe(),
        **lists,
    }
