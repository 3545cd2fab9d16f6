"""The report as titled tables with Chinese headers: what CSV, XLSX and HTML all print.

A column is (header, key, kind). Kinds: "text"; "code", a machine code shown beside
its Chinese name in CSV and XLSX and left out of the HTML a person reads; "int"; "pct",
a rate (a fraction, shown as a percentage); "score" (0-100, one decimal); "dt", an
instant (local time); "num", whose row says its kind (the totals table). Each table
carries a legend: one line per count saying which cohort it counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.services.privacy import mask_phone as mask_phone  # re-exported: callers import it here
from app.services.privacy import mask_phones
from app.services.vocabulary import CASE_KIND_LABELS, CASE_STATE_LABELS, RATING_LABELS

OUTCOMES = {"solved": "已解决", "stepwise": "逐步解决", "referred": "已向上级反映", "explained": "解释说明"}
RATINGS = RATING_LABELS
CASE_KINDS = CASE_KIND_LABELS
CASE_STATES = CASE_STATE_LABELS
STATUSES = {
    "dispatched": "已派单",
    "in_progress": "办理中",
    "resolved": "已办结",
    "fed_back": "已反馈",
    "closed": "已关闭",
    "supervising": "督办重办中",
    "returned": "已退回",
}
LEVELS = {"national": "全国", "provincial": "省", "city": "市", "county": "县（区）", "township": "乡镇"}
URGENCY = {"urgent": "急办", "normal": "一般"}
NO_UNIT = "（未分派）"
NO_DISTRICT = "（未填属地）"
NUMERIC = ("int", "pct", "num", "score")


Column = tuple[str, str, str]


@dataclass
class Table:
    key: str  # a short ASCII name (sheet / anchor)
    title: str  # 中文标题, also the sheet name
    columns: list[Column]  # (header, key, kind)
    rows: list[dict[str, Any]]
    note: str = ""
    legend: list[str] = field(default_factory=list)  # one line per count: its cohort
    chart: bool = False  # the per-unit rates, drawn as charts after the table

    def shown(self, *, codes: bool) -> list[Column]:
        """The columns printed: code columns only where a machine reads (`codes`)."""
        return [c for c in self.columns if codes or c[2] != "code"]

    @property
    def wide(self) -> bool:
        """Printed across the page (landscape), so that no column is squeezed."""
        return len(self.shown(codes=False)) > 9


# (header, key, kind, the cohort it counts in one line)
FIGURE_ROWS: list[tuple[str, str, str, str]] = [
    ("来电数", "calls", "int", "本期来电的工单，按来电时间（含咨询、建议）"),
    ("反映问题数", "problems", "int", "本期来电中“反映问题”类工单，按来电时间"),
    (
        "办结数",
        "resolved",
        "int",
        "本期办结的“反映问题”类工单，按办结时间，不论何时来电（建议、咨询不计办结）",
    ),
    ("解决数", "solved", "int", "本期办结中结果为“已解决”的，按办结时间"),
    ("解决率", "solve_rate", "pct", "解决数 ÷ 办结数"),
    (
        "联系代表及时率",
        "contact_on_time_rate",
        "pct",
        "本期派单起算的联系时限中按时联系的比例（截止时未到期又未联系的不计）",
    ),
    (
        "办结及时率",
        "resolve_on_time_rate",
        "pct",
        "本期起算的办结时限（含重办轮次）中按时办结的比例（截止时未到期又未办结的不计）",
    ),
    (
        "反馈及时率",
        "feedback_on_time_rate",
        "pct",
        "本期办结起算的反馈时限中按时反馈的比例（截止时未到期又未反馈的不计）",
    ),
    ("回访数", "rated", "int", "本期回访并评价的工单，按回访时间，不论何时办结（含建议类，故可多于办结数）"),
    ("满意率", "satisfaction_rate", "pct", "（非常满意＋满意＋基本满意）÷ 回访数"),
    ("不满意数", "unsatisfied", "int", "本期回访中评价为不满意、非常不满意的"),
]
FIGURES: list[Column] = [(h, k, kind) for h, k, kind, _ in FIGURE_ROWS]
OVERDUE_LINE = "截止时办结时限已过而未办结的工单（不论何时到期），计入其承办单位"
LEGEND = [f"{h}：{line}" for h, _, _, line in FIGURE_ROWS] + [f"超期未办结：{OVERDUE_LINE}"]


def label_of(mapping: dict[str, str], value: Any) -> Any:
    """A code's Chinese label; the value itself when it has none."""
    return mapping.get(value, value) if isinstance(value, str) else value


# Identifiers that may look like a mobile number but are not anyone's phone.
IDENTIFIERS = frozenset({"hotline_no"})


def masked(tables: list[Table]) -> list[Table]:
    """Every mobile number in every text cell masked, not only in the phone columns: people
    type phones into names and notes (张先生13800000001), and a new table's new column is
    covered without anyone remembering to list it."""
    out = []
    for t in tables:
        keys = [key for _, key, kind in t.columns if kind in ("text", "code") and key not in IDENTIFIERS]
        rows = [
            {**row, **{k: mask_phones(row[k]) for k in keys if isinstance(row.get(k), str)}} for row in t.rows
        ]
        out.append(Table(t.key, t.title, t.columns, rows, t.note, t.legend, t.chart))
    return out


def phone_shown(value: str | None, mask: bool) -> str | None:
    """A phone number as an export shows it: masked unless the reader may see it whole."""
    return mask_phone(value) if mask else value


def _named(row: dict[str, Any], code: str, name: str, empty: str) -> dict[str, Any]:
    """A row whose `name` shows `empty` where the code itself is missing."""
    return {**row, name: row.get(name) or (empty if row.get(code) is None else row.get(code))}


def _listed(item: dict[str, Any], mask: bool) -> dict[str, Any]:
    """A listed ticket's cells: names in Chinese, the caller's phone masked."""
    out = {
        **item,
        "status": label_of(STATUSES, item["status"]),
        "caller_phone": phone_shown(item["caller_phone"], mask),
    }
    out = _named(out, "unit", "unit_name", NO_UNIT)
    return _named(out, "district", "district_name", NO_DISTRICT)


def _ticket_columns(*middle: Column) -> list[Column]:
    return [
        ("工单编号", "hotline_no", "text"),
        ("承办单位", "unit_name", "text"),
        ("单位代码", "unit", "code"),
        ("事项分类", "category_name", "text"),
        ("分类代码", "category", "code"),
        ("属地", "district_name", "text"),
        ("属地代码", "district", "code"),
        *middle,
    ]


def report_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    """The monthly or annual report's sections, in the order the source material asks."""
    from app.services.reports.scoring import ScoreWeights, formula

    annual = "year" in report
    period = f"{report['year']}年" if annual else "{}年{}月".format(*report["month"].split("-"))
    t = report["totals"]
    weights = ScoreWeights(**report.get("score_weights", {}))
    info = Table(
        "info",
        "报告信息",
        [("项目", "item", "text"), ("内容", "value", "text")],
        [
            {"item": "报告期", "value": period},
            {"item": "统计截止时间", "value": format_instant(report["cutoff_at"])},
            {
                "item": "统计口径",
                "value": "各项按其发生时间计入本期（口径见各表说明）；截止时间后"
                "补录但发生在截止前的办理行为一并计入",
            },
        ],
    )
    overdue = Table(
        "overdue",
        "应当办结但没有办结",
        _ticket_columns(
            ("紧急程度", "urgency", "text"),
            ("轮次", "round", "int"),
            ("来电时间", "called_at", "dt"),
            ("办结时限", "due_at", "dt"),
            ("超期天数", "overdue_days", "int"),
            ("截止后办结时间", "resolved_at", "dt"),
            ("代表", "deputy_name", "text"),
            ("来电姓名", "caller_name", "text"),
            ("来电号码", "caller_phone", "text"),
            ("当前状态", "status", "text"),
        ),
        [
            {**_listed(i, mask), "urgency": label_of(URGENCY, i["urgency"])}
            for i in report["overdue_unresolved"]
        ],
        note=OVERDUE_LINE,
    )
    unsatisfied = Table(
        "unsatisfied",
        "不满意工单及督办情况",
        _ticket_columns(
            ("轮次", "round", "int"),
            ("满意度", "rating", "text"),
            ("回访时间", "rated_at", "dt"),
            ("代表", "deputy_name", "text"),
            ("来电号码", "caller_phone", "text"),
            ("督办情况", "supervision_text", "text"),
            ("当前状态", "status", "text"),
        ),
        [
            {
                **_listed(i, mask),
                "rating": label_of(RATINGS, i["rating"]),
                "supervision_text": "；".join(
                    f"{label_of(CASE_KINDS, s['kind'])}（{s['unit_name'] or '联工委'}）："
                    f"{label_of(CASE_STATES, s['state'])}"
                    for s in i["supervisions"]
                )
                or "未立案",
            }
            for i in report["unsatisfied"]
        ],
        note="本期回访评价为不满意、非常不满意的工单（按回访时间），及其督办案件截止时的状态",
    )
    totals = Table(
        "totals",
        "总体情况",
        [("指标", "item", "text"), ("数值", "value", "num"), ("口径", "cohort", "text")],
        [{"item": h, "value": t[k], "kind": kind, "cohort": line} for h, k, kind, line in FIGURE_ROWS]
        + [
            {
                "item": "应当办结未办结数",
                "value": t["overdue_unresolved"],
                "kind": "int",
                "cohort": OVERDUE_LINE,
            }
        ],
    )
    units = sorted(
        (_named(r, "unit", "name", NO_UNIT) for r in report["by_unit"]),
        key=lambda r: (r.get("rank") is None, r.get("rank") or 0, r["name"]),
    )
    dims = [
        Table(
            "by_unit",
            "承办单位绩效考核",
            [
                ("排名", "rank", "int"),
                ("承办单位", "name", "text"),
                ("单位代码", "unit", "code"),
                ("得分", "score", "score"),
                *FIGURES,
                ("超期未办结", "overdue_unresolved", "int"),
            ],
            units,
            note=f"按得分排名，得分相同者名次相同。{formula(weights)}",
            legend=LEGEND,
            chart=True,
        ),
        Table(
            "by_category",
            "按事项分类",
            [
                ("事项分类", "name", "text"),
                ("分类代码", "category", "code"),
                *FIGURES,
                ("超期未办结", "overdue_unresolved", "int"),
            ],
            report["by_category"],
            legend=LEGEND,
        ),
        Table(
            "by_district",
            "按属地",
            [
                ("属地", "name", "text"),
                ("属地代码", "district", "code"),
                *FIGURES,
                ("超期未办结", "overdue_unresolved", "int"),
            ],
            [_named(r, "district", "name", NO_DISTRICT) for r in report["by_district"]],
            legend=LEGEND,
        ),
    ]
    s = report["supervisions"]
    cases = Table(
        "supervisions",
        "督办情况",
        [
            ("督办类型", "kind", "text"),
            ("新立案", "opened", "int"),
            ("办结", "closed", "int"),
            ("撤销", "withdrawn", "int"),
        ],
        [{"kind": label_of(CASE_KINDS, k), **v} for k, v in s["by_kind"].items()]
        + [{"kind": "合计", "opened": s["opened"], "closed": s["closed"], "withdrawn": s["withdrawn"]}],
        note=f"截止时在办督办案件 {s['open_at_cutoff']} 件",
        legend=[
            "新立案：本期立案的督办案件，按立案时间",
            "办结、撤销：本期办结或撤销的案件，按办结时间，不论何时立案",
        ],
    )
    e, r = report["extensions"], report["returns"]
    ext = Table(
        "extensions",
        "延期与退回",
        [("项目", "item", "text"), ("数量", "value", "int")],
        [
            {"item": "延期申请", "value": e["requested"]},
            {"item": "延期批准", "value": e["approved"]},
            {"item": "延期不予批准", "value": e["refused"]},
            {"item": "截止时待审批延期", "value": e["pending_at_cutoff"]},
            {"item": "退回工单", "value": r["returned"]},
        ],
        legend=["延期申请、退回：按申请、退回时间；批准、不予批准：按审批时间"],
    )
    tables = [info, overdue, unsatisfied, totals, *dims, cases, ext]
    if annual:
        tables.append(
            Table(
                "months",
                "分月情况",
                [("月份", "month", "text"), *FIGURES],
                report["months"],
                legend=LEGEND[:-1],
            )
        )
    return tables


MESSAGE_COLUMNS: list[Column] = [
    ("收到选民留言", "messages", "int"),
    ("答复", "messages_answered", "int"),
    ("交办", "messages_forwarded", "int"),
    ("选民满意率", "voter_satisfaction_rate", "pct"),
]
MESSAGE_LEGEND = [
    "收到选民留言：本年收到的选民留言（扫码、联络站接待、书面、微信群），按收到时间",
    "答复、交办：其中截止时已由代表直接答复、已分级交办的",
    "选民满意率：本年选民评价中（满意＋基本满意）÷ 评价数",
]


def deputy_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    def person(d: dict[str, Any]) -> dict[str, Any]:
        return {
            **d,
            "phone": phone_shown(d["phone"], mask),
            "level": label_of(LEVELS, d.get("level")),
            "district_name": d.get("district_name") or d.get("district"),
        }

    base: list[Column] = [
        ("姓名", "name", "text"),
        ("电话", "phone", "text"),
        ("层级", "level", "text"),
        ("属地", "district_name", "text"),
        ("属地代码", "district", "code"),
        ("代表团", "delegation", "text"),
    ]
    tt = report["totals"]
    rule = report.get("points_rule", {"points": 1, "yearly_cap": 5})
    scoring = f"每反映一个问题计{rule['points']}分" + (
        f"，每年最多{rule['yearly_cap']}分" if rule["yearly_cap"] is not None else ""
    )
    return [
        Table(
            "info",
            "报告信息",
            [("项目", "item", "text"), ("内容", "value", "text")],
            [
                {"item": "年度", "value": f"{report['year']}年"},
                {"item": "统计截止时间", "value": format_instant(report["cutoff_at"])},
                {"item": "代表总数", "value": str(tt["deputies"])},
                {"item": "有来电代表", "value": str(tt["active"])},
                {"item": "未来电代表", "value": str(tt["silent"])},
            ],
        ),
        Table(
            "items",
            "代表履职情况",
            [
                *base,
                ("来电数", "calls", "int"),
                ("反映问题数", "problems", "int"),
                ("积分", "points", "int"),
                *MESSAGE_COLUMNS,
            ],
            [person(d) for d in report["items"]],
            note=scoring,
            legend=[
                "来电数：本年来电，按来电时间（含咨询、建议）",
                "反映问题数：其中“反映问题”类",
                f"积分：{scoring}",
                *MESSAGE_LEGEND,
            ],
        ),
        Table(
            "silent",
            "全年未来电代表",
            [*base, *MESSAGE_COLUMNS],
            [person(d) for d in report["silent_deputies"]],
            note="不作为优秀代表和连任推荐人选",
        ),
        Table(
            "unverified",
            "未匹配代表的来电",
            [
                ("来电姓名", "name", "text"),
                ("来电号码", "phone", "text"),
                ("来电数", "calls", "int"),
                ("反映问题数", "problems", "int"),
            ],
            [{**d, "phone": phone_shown(d["phone"], mask)} for d in report["unverified_callers"]],
            note="来电号码不在代表名册中的来电；登记该号码的代表后自动归入其名下",
        ),
    ]


def format_instant(value: Any) -> str:
    """An instant as a table cell shows it (minutes), anything else as text."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def cell_text(value: Any, kind: str) -> str:
    """A value as printed in CSV and HTML."""
    if value is None:
        return "—" if kind in ("pct", "score") else ""
    if kind == "pct" or (kind == "num" and isinstance(value, float)):
        return f"{value * 100:.1f}%"
    if kind == "score":
        return f"{float(value):.1f}"
    if isinstance(value, datetime):
        return format_instant(value)
    return str(value)


def row_kind(row: dict[str, Any], kind: str) -> str:
    """The kind of a cell; the totals table carries it per row."""
    return str(row.get("kind", kind)) if kind == "num" else kind
