"""The report as titled tables with Chinese headers: what CSV, XLSX and HTML all print.

A column is (header, key, kind); kind "pct" is a rate (a fraction, shown as a
percentage), "dt" an instant (shown in local time), "int"/"text" otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

OUTCOMES = {"solved": "已解决", "stepwise": "逐步解决", "referred": "已向上级反映",
            "explained": "解释说明"}
RATINGS = {"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
           "unsatisfied": "不满意", "very_unsatisfied": "非常不满意"}
CASE_KINDS = {"committee": "对口督办", "local": "属地督办", "joint": "联合督办",
              "coordination": "呈签协调"}
CASE_STATES = {"open": "督办中", "closed": "已办结", "withdrawn": "已撤销"}
STATUSES = {"dispatched": "已派单", "in_progress": "办理中", "resolved": "已办结",
            "fed_back": "已反馈", "closed": "已关闭", "supervising": "督办重办中",
            "returned": "已退回"}
LEVELS = {"national": "全国", "provincial": "省", "city": "市", "county": "县（区）",
          "township": "乡镇"}
URGENCY = {"urgent": "急办", "normal": "一般"}


def mask_phone(phone: str | None) -> str | None:
    """138****0001: the first three and last four digits stay."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return phone[:1] + "*" * max(len(phone) - 2, 1) + phone[-1:]


@dataclass
class Table:
    key: str  # a short ASCII name (sheet / anchor)
    title: str  # 中文标题, also the sheet name
    columns: list[tuple[str, str, str]]  # (header, key, kind)
    rows: list[dict[str, Any]]
    note: str = ""


FIGURES: list[tuple[str, str, str]] = [
    ("来电数", "calls", "int"), ("反映问题数", "problems", "int"),
    ("办结数", "resolved", "int"), ("解决数", "solved", "int"), ("解决率", "solve_rate", "pct"),
    ("联系代表及时率", "contact_on_time_rate", "pct"),
    ("办结及时率", "resolve_on_time_rate", "pct"),
    ("反馈及时率", "feedback_on_time_rate", "pct"),
    ("回访数", "rated", "int"), ("满意率", "satisfaction_rate", "pct"),
    ("不满意数", "unsatisfied", "int"),
]


def _label(mapping: dict[str, str], value: Any) -> Any:
    return mapping.get(value, value) if isinstance(value, str) else value


def _phone(value: str | None, mask: bool) -> str | None:
    return mask_phone(value) if mask else value


def report_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    """The monthly or annual report's sections, in the order the source material asks."""
    annual = "year" in report
    period = f"{report['year']}年" if annual else "{}年{}月".format(*report["month"].split("-"))
    t = report["totals"]
    info = Table("info", "报告信息", [("项目", "item", "text"), ("内容", "value", "text")], [
        {"item": "报告期", "value": period},
        {"item": "统计截止时间", "value": _fmt_dt(report["cutoff_at"])},
        {"item": "口径", "value": "来电、问题按来电时间；办结按办结时间；时限按本期开始计时的时限，"
                                 "截止时仍在期限内的不计；回访按回访时间"},
    ])
    overdue = Table("overdue", "应当办结但没有办结", [
        ("工单编号", "hotline_no", "text"), ("承办单位", "unit_name", "text"),
        ("事项分类", "category_name", "text"), ("属地", "district", "text"),
        ("紧急程度", "urgency", "text"), ("轮次", "round", "int"),
        ("来电时间", "called_at", "dt"), ("办结时限", "due_at", "dt"),
        ("超期天数", "overdue_days", "int"), ("截止后办结时间", "resolved_at", "dt"),
        ("代表", "deputy_name", "text"), ("来电姓名", "caller_name", "text"),
        ("来电号码", "caller_phone", "text"), ("当前状态", "status", "text"),
    ], [{**i, "urgency": _label(URGENCY, i["urgency"]), "status": _label(STATUSES, i["status"]),
         "caller_phone": _phone(i["caller_phone"], mask)} for i in report["overdue_unresolved"]],
        note="截止时办结时限已过而未办结的工单（不论何时到期）")
    unsatisfied = Table("unsatisfied", "不满意工单及督办情况", [
        ("工单编号", "hotline_no", "text"), ("承办单位", "unit_name", "text"),
        ("事项分类", "category_name", "text"), ("属地", "district", "text"),
        ("轮次", "round", "int"), ("满意度", "rating", "text"), ("回访时间", "rated_at", "dt"),
        ("代表", "deputy_name", "text"), ("来电号码", "caller_phone", "text"),
        ("督办情况", "supervision_text", "text"), ("当前状态", "status", "text"),
    ], [{**i, "rating": _label(RATINGS, i["rating"]), "status": _label(STATUSES, i["status"]),
         "caller_phone": _phone(i["caller_phone"], mask),
         "supervision_text": "；".join(
             f"{_label(CASE_KINDS, s['kind'])}（{s['unit_name'] or '联工委'}）："
             f"{_label(CASE_STATES, s['state'])}" for s in i["supervisions"]) or "未立案"}
        for i in report["unsatisfied"]])
    totals = Table("totals", "总体情况", [("指标", "item", "text"), ("数值", "value", "num")], [
        {"item": h, "value": t[k], "kind": kind} for h, k, kind in FIGURES
    ] + [{"item": "应当办结未办结数", "value": t["overdue_unresolved"], "kind": "int"}])
    dims = [
        Table("by_unit", "按承办单位", [("单位代码", "unit", "text"), ("单位名称", "name", "text"),
                                        *FIGURES, ("超期未办结", "overdue_unresolved", "int")],
              report["by_unit"], note="承办单位绩效考核"),
        Table("by_category", "按事项分类", [("分类代码", "category", "text"),
                                            ("分类名称", "name", "text"), *FIGURES,
                                            ("超期未办结", "overdue_unresolved", "int")],
              report["by_category"]),
        Table("by_district", "按属地", [("属地", "district", "text"), *FIGURES,
                                        ("超期未办结", "overdue_unresolved", "int")],
              report["by_district"]),
    ]
    s = report["supervisions"]
    cases = Table("supervisions", "督办情况", [
        ("督办类型", "kind", "text"), ("新立案", "opened", "int"), ("办结", "closed", "int"),
        ("撤销", "withdrawn", "int")],
        [{"kind": _label(CASE_KINDS, k), **v} for k, v in s["by_kind"].items()]
        + [{"kind": "合计", "opened": s["opened"], "closed": s["closed"],
            "withdrawn": s["withdrawn"]}],
        note=f"截止时在办督办案件 {s['open_at_cutoff']} 件")
    e, r = report["extensions"], report["returns"]
    ext = Table("extensions", "延期与退回", [("项目", "item", "text"), ("数量", "value", "int")], [
        {"item": "延期申请", "value": e["requested"]}, {"item": "延期批准", "value": e["approved"]},
        {"item": "延期不予批准", "value": e["refused"]},
        {"item": "截止时待审批延期", "value": e["pending_at_cutoff"]},
        {"item": "退回工单", "value": r["returned"]},
    ])
    tables = [info, overdue, unsatisfied, totals, *dims, cases, ext]
    if annual:
        tables.append(Table("months", "分月情况", [("月份", "month", "text"), *FIGURES],
                            report["months"]))
    return tables


def deputy_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    def person(d: dict[str, Any]) -> dict[str, Any]:
        return {**d, "phone": _phone(d["phone"], mask), "level": _label(LEVELS, d.get("level"))}

    base = [("姓名", "name", "text"), ("电话", "phone", "text"), ("层级", "level", "text"),
            ("属地", "district", "text"), ("代表团", "delegation", "text")]
    tt = report["totals"]
    return [
        Table("info", "报告信息", [("项目", "item", "text"), ("内容", "value", "text")], [
            {"item": "年度", "value": f"{report['year']}年"},
            {"item": "统计截止时间", "value": _fmt_dt(report["cutoff_at"])},
            {"item": "代表总数", "value": str(tt["deputies"])},
            {"item": "有来电代表", "value": str(tt["active"])},
            {"item": "未来电代表", "value": str(tt["silent"])},
        ]),
        Table("items", "代表履职情况", [*base, ("来电数", "calls", "int"),
                                          ("反映问题数", "problems", "int"),
                                          ("积分", "points", "int")],
              [person(d) for d in report["items"]], note="每反映一个问题计1分，每年最多5分"),
        Table("silent", "全年未来电代表", base, [person(d) for d in report["silent_deputies"]],
              note="不作为优秀代表和连任推荐人选"),
        Table("unverified", "未匹配代表的来电", [
            ("来电姓名", "name", "text"), ("来电号码", "phone", "text"),
            ("来电数", "calls", "int"), ("反映问题数", "problems", "int")],
            [{**d, "phone": _phone(d["phone"], mask)} for d in report["unverified_callers"]]),
    ]


def _fmt_dt(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def cell_text(value: Any, kind: str) -> str:
    """A value as printed in CSV and HTML."""
    if value is None:
        return "—" if kind == "pct" else ""
    if kind == "pct" or (kind == "num" and isinstance(value, float)):
        return f"{value * 100:.1f}%"
    if isinstance(value, datetime):
        return _fmt_dt(value)
    return str(value)


def row_kind(row: dict[str, Any], kind: str) -> str:
    """The kind of a cell; the totals table carries it per row."""
    return row.get("kind", kind) if kind == "num" else kind
