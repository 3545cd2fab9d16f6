"""The duty-report coverage report (述职) and the points reports (履职积分) as titled tables
with Chinese headers, for CSV, XLSX and HTML (see `tables`)."""

from __future__ import annotations

from typing import Any

from app.services.duty_schedule import KIND_NAMES
from app.services.reports.tables import LEVELS, Column, Table, label_of, phone_shown

METHODS = {"oral": "常委会会议口头报告", "meeting": "选民会议报告", "written": "书面报告"}
AUDIENCES = {"electoral_unit": "原选举单位", "voters": "原选区选民"}


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _yes(value: bool | None) -> str:
    return "—" if value is None else ("是" if value else "否")


def _person(d: dict[str, Any], mask: bool) -> dict[str, Any]:
    return {
        **d,
        "phone": phone_shown(d.get("phone"), mask),
        "level": label_of(LEVELS, d.get("level")),
        "district_name": d.get("district_name") or d.get("district"),
        "kind": KIND_NAMES.get(d.get("kind", ""), d.get("kind")),
        "due_years": "、".join(f"第{y}年" for y in d.get("due_years", [])),
    }


PERSON: list[Column] = [
    ("姓名", "name", "text"),
    ("电话", "phone", "text"),
    ("属地", "district_name", "text"),
    ("属地代码", "district", "code"),
    ("类别", "kind", "text"),
    ("应述职年度", "due_years", "text"),
]


def coverage_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    """The coverage report: summary, then due, overdue, done (every report) and upcoming."""
    r = report
    info = Table(
        "info",
        "报告信息",
        [("项目", "item", "text"), ("内容", "value", "text")],
        [
            {
                "item": "届次",
                "value": f"{r['term_name']}（{label_of(LEVELS, r['level'])}，"
                f"{r['starts_on']} 至 {r['ends_on']}）",
            },
            {"item": "年度", "value": f"{r['year']}年（本届第{r['term_year']}年，共{r['term_years']}年）"},
            {"item": "统计截止", "value": str(r["cutoff_on"])},
            {"item": "本届代表数", "value": str(r["deputies"])},
            {"item": "已述职代表数", "value": str(r["reported"])},
            {"item": "述职覆盖率", "value": _pct(r["coverage"])},
            {"item": "述职次数", "value": str(r["reports"])},
            {"item": "会议述职次数", "value": str(r["meeting_reports"])},
            {"item": "会议述职占比", "value": _pct(r["meeting_share"])},
            {
                "item": "会议述职占比要求",
                "value": _pct(r["meeting_share_required"])
                if r["meeting_share_required"] is not None
                else "不适用",
            },
            {"item": "会议述职占比达标进度", "value": _yes(r["meeting_share_on_course"])},
            {
                "item": "述职安排",
                "value": "；".join(
                    f"{s['name']}：第{'、'.join(str(y) for y in s['term_years'])}年" for s in r["schedule"]
                ),
            },
        ],
        legend=[
            "覆盖率：截止时本届已述职的代表 ÷ 本届代表数",
            "会议述职占比：在常委会会议口头报告或在选民会议上报告的次数 ÷ 述职次数"
            "（县、乡两级代表不低于要求比例）",
        ],
    )
    due = Table(
        "due",
        "本年度应述职",
        PERSON,
        [_person(d, mask) for d in r["due"]],
        note="按述职安排本年度应述职、截止时尚未述职的代表",
    )
    overdue = Table(
        "overdue",
        "逾期未述职",
        PERSON,
        [_person(d, mask) for d in r["overdue"]],
        note="应述职年度已过仍未述职的代表",
    )
    done_rows = [
        {
            **_person(d, mask),
            "held_on": str(x["held_on"]),
            "method": label_of(METHODS, x["method"]),
            "audience": label_of(AUDIENCES, x["audience"]),
            "note": x["note"],
        }
        for d in r["done"]
        for x in d["reports"]
    ]
    done = Table(
        "done",
        "已述职",
        [
            *PERSON,
            ("述职日期", "held_on", "text"),
            ("方式", "method", "text"),
            ("对象", "audience", "text"),
            ("备注", "note", "text"),
        ],
        done_rows,
        note="本届截止时已述职的代表，每次述职一行",
    )
    upcoming = Table(
        "upcoming",
        "以后年度述职",
        PERSON,
        [_person(d, mask) for d in r["upcoming"]],
        note="按述职安排在本届以后年度述职的代表",
    )
    return [info, due, overdue, done, upcoming]


def _cap(cap: int | None) -> str:
    return "不设上限" if cap is None else f"{cap}分"


def _rules_table(types: list[dict[str, Any]], key: str = "points") -> Table:
    return Table(
        "types",
        "积分项目",
        [
            ("项目", "name", "text"),
            ("项目代码", "type", "code"),
            ("每项分值", key, "int"),
            ("年度上限", "cap", "text"),
            ("来源", "source", "text"),
        ],
        [
            {**t, "cap": _cap(t["yearly_cap"]), "source": "系统自动统计" if t["builtin"] else "联工委登记"}
            for t in types
        ],
        legend=[
            "专线反映问题：本年在代表专线反映问题的工单（含补登记后归入的来电），按来电时间",
            "按时处理选民留言：在答复时限内答复或分级交办的选民留言（不含不予受理），按处理时间",
            "参加接待选民：出席联络站接待日，按接待日期",
            "向选民报告履职：本年述职，按述职日期",
            "各项积分＝每项分值×项数，超过年度上限的按上限计",
        ],
    )


def points_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    """Every deputy's points by type (one column a type), then the points table."""
    types = report["types"]
    rows = [
        {
            **_person(d, mask),
            "silent": "是" if d["silent"] else "否",
            **{f"t:{t['type']}": d["by_type"].get(t["type"], 0) for t in types},
            **{f"n:{t['type']}": d["items"].get(t["type"], 0) for t in types},
        }
        for d in report["items"]
    ]
    columns: list[Column] = [
        ("姓名", "name", "text"),
        ("电话", "phone", "text"),
        ("层级", "level", "text"),
        ("属地", "district_name", "text"),
        ("属地代码", "district", "code"),
        ("总积分", "total", "int"),
    ]
    for t in types:
        columns += [
            (f"{t['name']}（项）", f"n:{t['type']}", "int"),
            (f"{t['name']}（分）", f"t:{t['type']}", "int"),
        ]
    columns.append(("全年未来电", "silent", "text"))
    info = Table(
        "info",
        "报告信息",
        [("项目", "item", "text"), ("内容", "value", "text")],
        [
            {"item": "年度", "value": f"{report['year']}年"},
            {"item": "代表数", "value": str(len(report["items"]))},
            {
                "item": "全年未通过专线来电的代表",
                "value": str(sum(1 for d in report["items"] if d["silent"])),
            },
        ],
    )
    return [
        info,
        Table(
            "items",
            "代表履职积分",
            columns,
            rows,
            note="按总积分从高到低；各项积分已按年度上限计。全年未来电的代表不作为优秀代表和连任推荐人选",
        ),
        _rules_table(types),
    ]


def deputy_points_tables(report: dict[str, Any], *, mask: bool = True) -> list[Table]:
    """One deputy's year: the figure of each type, then every item behind it."""
    d = report["deputy"]
    info = Table(
        "info",
        "报告信息",
        [("项目", "item", "text"), ("内容", "value", "text")],
        [
            {"item": "代表", "value": d["name"]},
            {"item": "电话", "value": phone_shown(d["phone"], mask)},
            {"item": "层级", "value": label_of(LEVELS, d["level"])},
            {"item": "属地", "value": d.get("district_name") or d.get("district") or ""},
            {"item": "年度", "value": f"{report['year']}年"},
            {"item": "总积分", "value": str(report["total"])},
            {
                "item": "专线来电",
                "value": f"{report['calls']}次"
                + ("（全年未来电，不作为优秀代表和连任推荐人选）" if report["silent"] else ""),
            },
        ],
    )
    figures = Table(
        "by_type",
        "分项积分",
        [
            ("项目", "name", "text"),
            ("项目代码", "type", "code"),
            ("项数", "count", "int"),
            ("每项分值", "points_per_item", "int"),
            ("未封顶积分", "raw_points", "int"),
            ("年度上限", "cap", "text"),
            ("计入积分", "points", "int"),
        ],
        [{**t, "cap": _cap(t["yearly_cap"])} for t in report["types"]],
        note="计入积分＝每项分值×项数，超过年度上限的按上限计",
    )
    lines = Table(
        "lines",
        "积分明细",
        [
            ("项目", "name", "text"),
            ("日期", "on", "text"),
            ("编号", "ref", "code"),
            ("内容", "detail", "text"),
        ],
        [{"name": t["name"], **line} for t in report["types"] for line in t["lines"]],
        note="每项积分所依据的记录，一条一行",
    )
    return [info, figures, lines]


def title_of(kind: str, report: dict[str, Any]) -> tuple[str, str]:
    """(title, file stem) of the coverage or a points report."""
    if kind == "duty-reports":
        return (
            f"代表述职情况（{report['term_name']}，{report['year']}年）",
            f"duty-reports-{report['term']}-{report['year']}",
        )
    if kind == "points":
        return f"代表履职积分（{report['year']}年）", f"points-{report['year']}"
    name = report["deputy"]["name"]
    return (
        f"{name}代表履职积分（{report['year']}年）",
        f"points-{report['year']}-{report['deputy']['deputy_id']}",
    )


def tables_of(kind: str, report: dict[str, Any], *, mask: bool) -> list[Table]:
    if kind == "duty-reports":
        return coverage_tables(report, mask=mask)
    if kind == "points":
        return points_tables(report, mask=mask)
    return deputy_points_tables(report, mask=mask)
