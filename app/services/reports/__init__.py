"""Reports (月报, 年报, 代表履职): built in SQL, rendered as JSON, CSV, XLSX or HTML."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.errors import Invalid
from app.services.reports import deputies, invitations, monthly
from app.services.reports.period import Period, month_period, year_period
from app.services.reports.scoring import ScoreWeights

FORMATS = ("json", "csv", "xlsx", "html")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
}
TITLE = "人大代表民情通达专线"


def check_format(value: str) -> str:
    fmt = (value or "json").lower()
    if fmt not in FORMATS:
        raise Invalid("format", "must be one of " + ", ".join(FORMATS))
    return fmt


def monthly_report(
    session: Session, month: str, now: datetime, tz: ZoneInfo, weights: ScoreWeights | None = None
) -> dict[str, Any]:
    return monthly.build(session, month_period(month, now, tz), weights)


def annual_report(
    session: Session, year: str | int, now: datetime, tz: ZoneInfo, weights: ScoreWeights | None = None
) -> dict[str, Any]:
    return monthly.build(session, year_period(year, now, tz, "year"), weights)


def deputies_report(session: Session, year: str | int, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return deputies.build(session, year_period(year, now, tz, "year"))


def stations_report(session: Session, month: str, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    from app.services.reports import stations

    return stations.build(session, month_period(month, now, tz))


def invitations_report(session: Session, year: str | int, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """Invitations (约请, SPEC Part II) per invited unit for a year."""
    return invitations.build(session, year_period(year, now, tz, "year"))


def title_of(kind: str, report: dict[str, Any]) -> tuple[str, str]:
    """(title, file stem) of a report."""
    if kind == "stations":
        y, m = report["month"].split("-")
        return f"代表联络站工作情况月报（{y}年{int(m)}月）", f"stations-{report['month']}"
    if kind == "invitations":
        return f"约请事项办理情况（{report['year']}年）", f"invitations-{report['year']}"
    if kind in ("duty-reports", "points", "deputy-points"):
        from app.services.reports import duty_tables

        return duty_tables.title_of(kind, report)
    if kind == "monthly":
        y, m = report["month"].split("-")
        return f"{TITLE}办理情况月报（{y}年{int(m)}月）", f"report-{report['month']}"
    if kind == "annual":
        return f"{TITLE}办理情况年报（{report['year']}年）", f"report-{report['year']}"
    return f"{TITLE}代表履职情况（{report['year']}年）", f"deputies-{report['year']}"


def render(kind: str, report: dict[str, Any], fmt: str, *, mask: bool = True) -> bytes:
    """A report as a CSV, XLSX or HTML document; with `mask` (the default) no whole mobile
    number appears in it, in a phone column or anywhere else."""
    from app.services.reports import export_csv, export_html, export_xlsx
    from app.services.reports.tables import deputy_tables, masked, report_tables

    title, _ = title_of(kind, report)
    if kind == "invitations":
        tables = invitations.invitation_tables(report)
    elif kind in ("duty-reports", "points", "deputy-points"):
        from app.services.reports import duty_tables

        tables = duty_tables.tables_of(kind, report, mask=mask)
    elif kind == "deputies":
        tables = deputy_tables(report, mask=mask)
    elif kind == "stations":
        from app.services.reports import stations

        tables = stations.tables(report)
    else:
        tables = report_tables(report, mask=mask)
    if mask:
        tables = masked(tables)
    cutoff = report["cutoff_at"].strftime("%Y-%m-%d %H:%M")
    subtitle = f"人大常委会联工委 · 统计截止 {cutoff}"
    if fmt == "csv":
        return export_csv.render(title, tables, subtitle)
    if fmt == "xlsx":
        return export_xlsx.render(title, tables, subtitle)
    if fmt == "html":
        return export_html.render(title, subtitle, tables)
    raise Invalid("format", "must be one of " + ", ".join(FORMATS))


__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Period",
    "annual_report",
    "check_format",
    "deputies_report",
    "invitations_report",
    "monthly_report",
    "render",
    "stations_report",
    "title_of",
]
