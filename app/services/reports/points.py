"""The points reports (履职积分): every deputy's points in a year by type, caps applied, and
one deputy's annual report with every item behind each figure.

Counted as at the period's cut-off: instants (calls, responses) inside the period and by
the cut-off; dated records (receptions, duty reports, recorded items) from 1 January to
the cut-off's date. A deputy with no call on the line in the year is marked silent (Part
I: not recommended as an outstanding deputy or for re-election).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.models import Deputy
from app.repositories import points as repo
from app.repositories import registry
from app.services.points import Rule, rules
from app.services.reports.period import Period

METHODS = {"oral": "常委会会议口头报告", "meeting": "选民会议报告", "written": "书面报告"}
AUDIENCES = {"electoral_unit": "原选举单位", "voters": "原选区选民"}


def dates_of(period: Period) -> tuple[date, date]:
    """The first and last dates of the period as at its cut-off (local dates)."""
    year = int(period.label)
    last = period.cutoff.astimezone(period.tz).date() if period.current else date(year, 12, 31)
    return date(year, 1, 1), last


def _types(rs: dict[str, Rule]) -> list[dict[str, Any]]:
    return [
        {"type": r.type, "name": r.name, "points": r.points, "yearly_cap": r.yearly_cap, "builtin": r.builtin}
        for r in rs.values()
    ]


def build(session: Session, period: Period) -> dict[str, Any]:
    """Every deputy's points in the year, by type, caps applied; the highest first."""
    rs = rules(session)
    first, last = dates_of(period)
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    calls: dict[str, int] = {}
    for deputy_id, n, problems in repo.calls_by_deputy(session, period):
        calls[deputy_id] = int(n)
        counts[deputy_id]["hotline_problem"] = int(problems)
    for type_, rows in repo.items_by_deputy(session, period, first, last):
        for deputy_id, n in rows:
            counts[deputy_id][type_] = int(n)
    for deputy_id, type_, n in repo.activities_by_deputy(session, first, last):
        counts[deputy_id][type_] = int(n)
    districts = dict(registry.districts(session))
    items: list[dict[str, Any]] = []
    for deputy_id, name, phone, level, district in repo.deputies(session):
        own = counts.get(deputy_id, {})
        by_type = {t: r.capped(own.get(t, 0)) for t, r in rs.items()}
        items.append(
            {
                "deputy_id": deputy_id,
                "name": name,
                "phone": phone,
                "level": level,
                "district": district,
                "district_name": districts.get(district, district) if district else None,
                "total": sum(by_type.values()),
                "by_type": by_type,
                "items": {t: own.get(t, 0) for t in rs},
                "calls": calls.get(deputy_id, 0),
                "silent": deputy_id not in calls,
            }
        )
    items.sort(key=lambda i: (-int(i["total"]), str(i["name"]), str(i["phone"])))
    return {
        "year": int(period.label),
        "cutoff_at": period.local(period.cutoff),
        "types": _types(rs),
        "items": items,
    }


def _lines(session: Session, period: Period, deputy_id: str) -> dict[str, list[dict[str, Any]]]:
    """Every item of the deputy's year, by type, in date order."""
    first, last = dates_of(period)
    local = period.local
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    cats = registry.category_names(session)
    for hotline_no, called_at, category in repo.problems_of(session, deputy_id, period):
        at = local(called_at)
        name = cats.get(category, category)
        out["hotline_problem"].append(
            {"on": at.date() if at else None, "ref": hotline_no, "detail": f"工单 {hotline_no}：{name}"}
        )
    for message_id, responded_at, reply, ticket_id in repo.handled_of(session, deputy_id, period):
        at = local(responded_at)
        out["message_handled"].append(
            {
                "on": at.date() if at else None,
                "ref": message_id,
                "detail": "分级交办" if ticket_id is not None and reply is None else "答复选民",
            }
        )
    for reception_id, held_on, station in repo.receptions_of(session, deputy_id, first, last):
        out["reception"].append({"on": held_on, "ref": reception_id, "detail": station})
    for report_id, held_on, method, audience, note in repo.duty_reports_of(session, deputy_id, first, last):
        detail = f"{METHODS.get(method, method)}，对象：{AUDIENCES.get(audience, audience)}"
        out["duty_report"].append(
            {"on": held_on, "ref": report_id, "detail": f"{detail}；{note}" if note else detail}
        )
    for activity_id, type_, done_on, note in repo.activities_of(session, deputy_id, first, last):
        out[type_].append({"on": done_on, "ref": activity_id, "detail": note or ""})
    return out


def for_deputy(session: Session, period: Period, deputy: Deputy) -> dict[str, Any]:
    """One deputy's annual points report: each type's items, its points and cap."""
    rs = rules(session)
    lines = _lines(session, period, deputy.id)
    types = []
    for t, r in rs.items():
        own = lines.get(t, [])
        raw = r.points * len(own)
        types.append(
            {
                "type": t,
                "name": r.name,
                "points_per_item": r.points,
                "yearly_cap": r.yearly_cap,
                "builtin": r.builtin,
                "count": len(own),
                "raw_points": raw,
                "points": r.capped(len(own)),
                "capped": r.capped(len(own)) < raw,
                "lines": own,
            }
        )
    calls = repo.calls_of(session, deputy.id, period)
    district = registry.get_district(session, deputy.district) if deputy.district else None
    return {
        "year": int(period.label),
        "cutoff_at": period.local(period.cutoff),
        "deputy": {
            "deputy_id": deputy.id,
            "name": deputy.name,
            "phone": deputy.phone,
            "level": deputy.level,
            "district": deputy.district,
            "district_name": district.name if district else deputy.district,
            "term": deputy.term_code,
        },
        "total": sum(t["points"] for t in types),
        "by_type": {t["type"]: t["points"] for t in types},
        "calls": int(calls),
        "silent": not calls,
        "types": types,
    }
