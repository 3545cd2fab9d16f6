"""The invitations report (约请办理情况): per invited unit, for a year, as it stood at the
cut-off; and its tables for CSV, XLSX and HTML.

Cohorts (the same rules as the monthly report's):
- received: letters issued to the unit in the year (by approval time);
- on-time rates: over the unit's clocks that started in the year; a clock met before its
  due counts on time; met late, or unmet with its due passed at the cut-off, counts late; a
  clock still running and not yet due is left out;
- evaluated, satisfaction rate, reopened: evaluations dated in the year; satisfied or
  basically satisfied over all; reopened counts the unsatisfied ones (each a new round).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy.orm import Session

from app.repositories import invitations as repo
from app.repositories import registry
from app.services.reports.period import Period
from app.services.reports.tables import Column, Table, format_instant

FIGURES = (
    "received",
    "acknowledged_on_time_rate",
    "completed_on_time_rate",
    "evaluated",
    "satisfaction_rate",
    "reopened",
)


def _rate(on_time: int, late: int) -> float | None:
    return on_time / (on_time + late) if on_time + late else None


def build(session: Session, period: Period) -> dict[str, Any]:
    """{year, cutoff_at, items: [per unit], totals}."""
    cutoff = period.cutoff

    def acted(at: Any) -> bool:
        return at is not None and (at <= cutoff if period.current else at < cutoff)

    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for unit in repo.units_issued(session, period):
        counts[unit]["received"] += 1
    for unit, kind, due_at, met_at in repo.clocks_started(session, period):
        met = met_at if acted(met_at) else None
        if met is not None:
            verdict = "on_time" if met < due_at else "late"
        elif due_at <= cutoff:
            verdict = "late"
        else:
            continue  # still running and not yet due at the cut-off
        counts[unit][f"{kind}_{verdict}"] += 1
    for unit, satisfied in repo.evaluations_in(session, period):
        counts[unit]["evaluated"] += 1
        counts[unit]["satisfied" if satisfied else "reopened"] += 1
    names = registry.unit_names(session, list(counts))

    def figures(c: dict[str, int]) -> dict[str, Any]:
        return {
            "received": c["received"],
            "acknowledged_on_time_rate": _rate(c["acknowledge_on_time"], c["acknowledge_late"]),
            "completed_on_time_rate": _rate(c["complete_on_time"], c["complete_late"]),
            "evaluated": c["evaluated"],
            "satisfaction_rate": c["satisfied"] / c["evaluated"] if c["evaluated"] else None,
            "reopened": c["reopened"],
        }

    total: dict[str, int] = defaultdict(int)
    for c in counts.values():
        for k, n in c.items():
            total[k] += n
    return {
        "year": int(period.label),
        "cutoff_at": cutoff.astimezone(period.tz),
        "items": [{"unit": u, "name": names.get(u, u), **figures(counts[u])} for u in sorted(counts)],
        "totals": figures(total),
    }


def invitation_tables(report: dict[str, Any]) -> list[Table]:
    """The report as the tables every download prints."""
    figures: list[Column] = [
        ("收到约请", "received", "int"),
        ("按时签收率", "acknowledged_on_time_rate", "pct"),
        ("按时办结率", "completed_on_time_rate", "pct"),
        ("评议数", "evaluated", "int"),
        ("满意率", "satisfaction_rate", "pct"),
        ("重办数", "reopened", "int"),
    ]
    legend = [
        "收到约请：本年审定发出的约请函，按审定时间",
        "按时签收率、按时办结率：本年起算的时限，按期完成的占比；未到期的不计",
        "评议数、满意率：本年评议，满意和基本满意计为满意",
        "重办数：本年评为不满意、重新办理的次数",
    ]
    t = report["totals"]
    return [
        Table(
            "info",
            "报告信息",
            [("项目", "item", "text"), ("内容", "value", "text")],
            [
                {"item": "年度", "value": f"{report['year']}年"},
                {"item": "统计截止时间", "value": format_instant(report["cutoff_at"])},
                {"item": "收到约请的单位", "value": str(len(report["items"]))},
                {"item": "约请函总数", "value": str(t["received"])},
            ],
        ),
        Table(
            "items",
            "各单位约请办理情况",
            [("单位", "name", "text"), ("单位代码", "unit", "code"), *figures],
            report["items"],
            legend=legend,
        ),
        Table("totals", "合计", figures, [t]),
    ]
