"""The monthly station report (联络站工作情况): receptions and the messages taken at each
station, and the stations that held no reception (each is expected to hold one a month);
and the per-deputy message figures of the deputies report.

Cohorts, as of the period's cut-off: receptions by their date; messages by the time they
were received; answered / forwarded / declined: those of the month's messages responded to
that way by the cut-off; resolved: of them, forwarded ones whose ticket was resolved by the
cut-off; response on time: of the month's messages whose clock was met or due by the
cut-off, those met before the due time; voter satisfaction: ratings given in the month,
(satisfied + basically satisfied) / rated."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.models import Message
from app.repositories import stations as repo
from app.services.reports.period import Period
from app.services.reports.tables import Table
from app.services.vocabulary import THREE_POINT


def _rate(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


def _days(period: Period) -> tuple[date, date]:
    """The local dates of the period, up to the cut-off's day."""
    first = period.start.astimezone(period.tz).date()
    last = (period.end.astimezone(period.tz) - timedelta(days=1)).date()
    if period.current:
        last = min(last, period.cutoff.astimezone(period.tz).date())
    return first, last


def message_figures(session: Session, period: Period, key: Any) -> dict[Any, dict[str, Any]]:
    """Per `key` (Message.station_code or Message.deputy_id): the month's messages and how
    they were handled, the response clock's on-time rate and the voters' satisfaction."""
    rows = repo.message_handling(session, period, key)
    out: dict[Any, dict[str, Any]] = {}
    for k, total, answered, forwarded, declined, resolved, on_time, counted in rows:
        out[k] = {
            "messages": int(total),
            "answered": int(answered),
            "forwarded": int(forwarded),
            "declined": int(declined),
            "resolved": int(resolved),
            "response_on_time_rate": _rate(int(on_time), int(counted)),
        }
    satisfied = [r.value for r in THREE_POINT if r.satisfied]
    for k, rated, happy in repo.message_ratings(session, period, key, satisfied):
        row = out.setdefault(
            k,
            {
                "messages": 0,
                "answered": 0,
                "forwarded": 0,
                "declined": 0,
                "resolved": 0,
                "response_on_time_rate": None,
            },
        )
        row["rated"] = int(rated)
        row["voter_satisfaction_rate"] = _rate(int(happy), int(rated))
    for row in out.values():
        row.setdefault("rated", 0)
        row.setdefault("voter_satisfaction_rate", None)
    return out


def build(session: Session, period: Period) -> dict[str, Any]:
    first, last = _days(period)
    receptions = {
        code: (int(n), int(voters or 0), int(batches or 0))
        for code, n, voters, batches in repo.receptions_by_station(session, first, last)
    }
    messages = message_figures(session, period, Message.station_code)
    items, inactive = [], []
    for s in repo.by_code(session):
        n, voters, batches = receptions.get(s.code, (0, 0, 0))
        m = messages.get(s.code, {})
        items.append(
            {
                "station": s.code,
                "name": s.name,
                "district": s.district,
                "kind": s.kind,
                "receptions": n,
                "voters_received": voters,
                "batches": batches,
                "messages": m.get("messages", 0),
                "answered": m.get("answered", 0),
                "forwarded": m.get("forwarded", 0),
                "declined": m.get("declined", 0),
                "resolved": m.get("resolved", 0),
                "response_on_time_rate": m.get("response_on_time_rate"),
                "rated": m.get("rated", 0),
                "voter_satisfaction_rate": m.get("voter_satisfaction_rate"),
            }
        )
        if n == 0:
            inactive.append({"station": s.code, "name": s.name, "district": s.district})
    totals = {
        k: sum(int(i[k]) for i in items)
        for k in (
            "receptions",
            "voters_received",
            "batches",
            "messages",
            "answered",
            "forwarded",
            "declined",
            "resolved",
            "rated",
        )
    }
    return {
        "month": period.label,
        "cutoff_at": period.local(period.cutoff),
        "items": items,
        "inactive_stations": inactive,
        "totals": {**totals, "stations": len(items), "inactive": len(inactive)},
    }


def deputy_message_figures(session: Session, period: Period) -> dict[str, dict[str, Any]]:
    """Per deputy: messages received in the period, answered, forwarded, voter satisfaction."""
    return {str(k): v for k, v in message_figures(session, period, Message.deputy_id).items()}


KINDS = {"physical": "实体站", "online": "网上站", "professional": "专业站"}


def tables(report: dict[str, Any]) -> list[Table]:
    """The station report as titled tables (CSV, XLSX, HTML)."""
    tt = report["totals"]
    y, m = report["month"].split("-")
    info = Table(
        "info",
        "报告信息",
        [("项目", "item", "text"), ("内容", "value", "text")],
        [
            {"item": "月份", "value": f"{y}年{int(m)}月"},
            {"item": "统计截止时间", "value": report["cutoff_at"].strftime("%Y-%m-%d %H:%M")},
            {"item": "联络站数", "value": str(tt["stations"])},
            {"item": "本月未开展接待的联络站", "value": str(tt["inactive"])},
            {"item": "接待次数", "value": str(tt["receptions"])},
            {"item": "接待群众（人次）", "value": str(tt["voters_received"])},
            {"item": "收到留言", "value": str(tt["messages"])},
        ],
    )
    rows = [{**i, "kind": KINDS.get(i["kind"], i["kind"])} for i in report["items"]]
    items = Table(
        "items",
        "各联络站工作情况",
        [
            ("联络站", "name", "text"),
            ("联络站代码", "station", "code"),
            ("属地", "district", "text"),
            ("类型", "kind", "text"),
            ("接待次数", "receptions", "int"),
            ("接待人次", "voters_received", "int"),
            ("批次", "batches", "int"),
            ("收到留言", "messages", "int"),
            ("答复", "answered", "int"),
            ("交办", "forwarded", "int"),
            ("不予受理", "declined", "int"),
            ("交办已办结", "resolved", "int"),
            ("按时处理率", "response_on_time_rate", "pct"),
            ("评价数", "rated", "int"),
            ("选民满意率", "voter_satisfaction_rate", "pct"),
        ],
        rows,
        legend=[
            "接待次数、人次、批次：本月的接待日，按接待日期",
            "收到留言：本月在该站记录的选民留言（接待、书面、微信群），按收到时间",
            "答复、交办、不予受理：其中截止时代表已如此处理的；交办已办结：交办后工单已办结的",
            "按时处理率：截止时已处理或已到期的留言中，在答复时限内处理的比例",
            "选民满意率：本月选民评价中（满意＋基本满意）÷ 评价数",
        ],
    )
    inactive = Table(
        "inactive",
        "本月未开展接待的联络站",
        [("联络站", "name", "text"), ("联络站代码", "station", "code"), ("属地", "district", "text")],
        report["inactive_stations"],
        note="联络站每月应至少开展一次接待",
    )
    return [info, inactive, items]
