"""Chinese words for the service's codes, times as people read them, the navigation each
role sees, and the services' (English) error details said in Chinese.

The report's labels (statuses, outcomes, ratings, case kinds) are the report's own, so a
page and a report never name a thing differently.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import jinja2

from app.services.reports.tables import (
    CASE_KINDS,
    CASE_STATES,
    LEVELS,
    OUTCOMES,
    RATINGS,
    STATUSES,
    URGENCY,
)
from app.services.vocabulary import EXTENSION_STATE_LABELS, THREE_POINT_LABELS

if TYPE_CHECKING:
    from app.services.sessions import SignedIn

ROLES = {
    "admin": "系统管理员",
    "hotline": "市长热线办",
    "liaison": "人大常委会联工委",
    "unit": "单位",
    "deputy": "人大代表",
    "station": "代表联络站",
    "system": "系统",
    "cli": "服务器命令",
}
CLOCK_KINDS = {
    "contact": "联系代表",
    "resolve": "办结",
    "feedback": "反馈",
    "opinion": "协办意见",
    "acknowledge": "签收约请",
    "complete": "办理完成",
}
CLOCK_STATES = {
    "running": "计时中",
    "met": "按时完成",
    "met_late": "超时完成",
    "breached": "已超时",
    "cancelled": "已取消",
}
METHODS = {"phone": "电话", "visit": "上门走访", "meeting": "座谈会商", "online": "网络"}
KINDS = {"problem": "反映问题", "consultation": "咨询", "suggestion": "建议"}
ASSIGNMENT_ROLES = {"lead": "牵头单位", "co": "协办单位", "supervisor": "督办单位", "invited": "被约请单位"}
NEXT_ACTIONS = {
    "contact": "联系代表",
    "resolve": "办结",
    "feedback": "反馈",
    "opinion": "提交协办意见",
    "supervise": "督办",
    "acknowledge": "签收约请",
    "report": "报送办理情况表",
}
# Invitations (约请, SPEC Part II).
INVITATION_STATUSES = {
    "submitted": "待审定",
    "issued": "已发约请函",
    "rejected": "未予审定",
    "acknowledged": "办理中",
    "reported": "待评议",
    "closed": "已办结",
}
EVALUATIONS = THREE_POINT_LABELS
EXTENSION_STATES = EXTENSION_STATE_LABELS
UNIT_KINDS = {
    "department": "市直部门",
    "district_government": "区县（市）人民政府",
    "township": "乡镇（街道）",
    "special_committee": "专门委员会",
    "district_congress": "区县人大常委会",
    "coordinator": "分管副秘书长",
}
ACCOUNT_STATES = {
    "invited": "已邀请，未设密码",
    "active": "正常",
    "disabled": "已停用",
    "expired": "邀请已过期",
}
EVENT_TYPES = {
    "ticket.received": "收到工单",
    "ticket.dispatched": "派单",
    "ticket.contacted": "联系代表",
    "ticket.opinion": "协办意见",
    "ticket.resolved": "办结",
    "ticket.fed_back": "反馈代表",
    "ticket.returned": "退回",
    "ticket.rehandling": "重办",
    "ticket.closed": "关闭",
    "ticket.deputy_linked": "关联代表",
    "rating.recorded": "回访评价",
    "clock.met": "时限完成",
    "clock.cancelled": "时限取消",
    "clock.recomputed": "时限重算",
    "clock.warning": "时限预警",
    "clock.breached": "超过时限",
    "supervision.opened": "督办立案",
    "supervision.note": "督办记录",
    "supervision.meeting": "会商",
    "supervision.closed": "督办办结",
    "supervision.withdrawn": "督办撤销",
    "extension.requested": "申请延期",
    "extension.decided": "延期审批",
    "invitation.submitted": "上报约请",
    "invitation.issued": "审定并发出约请函",
    "invitation.rejected": "未予审定",
    "invitation.acknowledged": "签收约请",
    "invitation.reported": "报送办理情况表",
    "invitation.evaluated": "评议",
    "extension.lapsed": "延期申请失效",
    "extension.station_view": "联络站意见",
}
MSG_STATUSES = {
    "received": "待代表处理",
    "answered": "代表已答复",
    "forwarded": "已交办，办理中",
    "declined": "代表已说明不予受理",
    "result_ready": "已有办理结果",
    "closed": "已办结",
}
CHANNELS = {
    "code": "扫码留言",
    "station": "联络站接待",
    "paper": "书面来信",
    "wechat": "微信群",
    "other": "其他",
}
FORWARD_LEVELS = {"township": "乡镇（街道）", "county": "区县", "city": "市级"}
VOTER_RATINGS = THREE_POINT_LABELS
STATION_KINDS = {"physical": "实体联络站", "online": "网上联络站", "professional": "专业（行业）联络站"}
LABELS: dict[str, dict[str, str]] = {
    "msg_status": MSG_STATUSES,
    "channel": CHANNELS,
    "fwd_level": FORWARD_LEVELS,
    "voter_rating": VOTER_RATINGS,
    "station_kind": STATION_KINDS,
    "status": STATUSES,
    "outcome": OUTCOMES,
    "rating": RATINGS,
    "case_kind": CASE_KINDS,
    "case_state": CASE_STATES,
    "urgency": URGENCY,
    "level": LEVELS,
    "role": ROLES,
    "clock_kind": CLOCK_KINDS,
    "clock_state": CLOCK_STATES,
    "method": METHODS,
    "kind": KINDS,
    "assignment": ASSIGNMENT_ROLES,
    "next_action": NEXT_ACTIONS,
    "extension": EXTENSION_STATES,
    "unit_kind": UNIT_KINDS,
    "account_state": ACCOUNT_STATES,
    "event": EVENT_TYPES,
    "invitation_status": INVITATION_STATUSES,
    "evaluation": EVALUATIONS,
}


def label(value: Any, kind: str) -> str:
    """The Chinese word for a code (the code itself when there is none)."""
    if value is None:
        return ""
    return LABELS[kind].get(str(value), str(value))


def when(value: datetime | None, tz: ZoneInfo | None = None) -> str:
    """2025-10-01 09:00 in the service's time zone."""
    if value is None:
        return ""
    if tz is not None:
        value = value.astimezone(tz)
    return value.strftime("%Y-%m-%d %H:%M")


@jinja2.pass_context
def _when(context: Any, value: datetime | None) -> str:
    return when(value, context.get("tz"))


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def mask(phone: str | None) -> str:
    from app.services.privacy import mask_phone

    return mask_phone(phone) or ""


def install(env: jinja2.Environment) -> None:
    env.filters.update(label=label, when=_when, percent=percent, mask=mask)
    env.filters["case_reason"] = lambda r: case_reason(str(r))
    env.globals.update(LABELS=LABELS)


# --- navigation ------------------------------------------------------------------------------

NAV: dict[str, list[tuple[str, str]]] = {
    "admin": [
        ("/ui/admin/accounts", "账户"),
        ("/ui/admin/units", "单位"),
        ("/ui/admin/categories", "事项分类"),
        ("/ui/admin/districts", "属地"),
        ("/ui/stations", "联络站"),
        ("/ui/admin/keys", "接口密钥"),
        ("/ui/admin/calendar", "工作日历"),
        ("/ui/tickets", "工单"),
    ],
    "liaison": [
        ("/ui/dashboard", "工作台"),
        ("/ui/tickets", "工单"),
        ("/ui/cases", "督办"),
        ("/ui/extensions", "延期审批"),
        ("/ui/messages", "群众留言"),
        ("/ui/invitations", "约请"),
        ("/ui/duty", "代表述职"),
        ("/ui/reports", "报表"),
        ("/ui/stations", "联络站"),
        ("/ui/admin/accounts", "代表和联络站账户"),
    ],
    "hotline": [("/ui/extensions", "延期审批"), ("/ui/tickets", "工单")],
    "unit": [("/ui/queue", "待办工单"), ("/ui/invitations", "约请事项"), ("/ui/cases", "督办案件")],
    "deputy": [
        ("/ui/messages", "留言收件箱"),
        ("/ui/my-tickets", "我的工单"),
        ("/ui/qr-card", "我的二维码"),
        ("/ui/my/record", "我的履职"),
        ("/ui/account", "我的账户"),
    ],
    "station": [
        ("/ui/station", "接待记录"),
        ("/ui/messages", "群众留言"),
        ("/ui/invitations", "约请事项"),
        ("/ui/account", "我的账户"),
    ],
}
HOME = {
    "admin": "/ui/admin/accounts",
    "liaison": "/ui/dashboard",
    "hotline": "/ui/extensions",
    "unit": "/ui/queue",
    "deputy": "/ui/messages",
    "station": "/ui/station",
}


def nav_for(me: SignedIn | None, path: str) -> list[dict[str, Any]]:
    if me is None:
        return []
    return [
        {"href": href, "text": text, "current": path == href or path.startswith(href + "/")}
        for href, text in NAV.get(me.role, [])
    ]


# --- what happened, in a line -------------------------------------------------------------


def describe(type_: str, data: dict[str, Any], names: dict[str, str]) -> str:
    """One line of Chinese for an event of the ticket log (user text shown as text)."""

    def unit(code: Any) -> str:
        return names.get(str(code), str(code)) if code else ""

    match type_:
        case "ticket.dispatched":
            co = "、".join(unit(u) for u in data.get("co_units") or [])
            return f"牵头：{unit(data.get('lead_unit'))}" + (f"；协办：{co}" if co else "")
        case "ticket.contacted":
            invited = "，已邀请代表参与" if data.get("deputy_invited") else ""
            note = f"：{data['note']}" if data.get("note") else ""
            return f"方式：{label(data.get('method'), 'method')}{invited}{note}"
        case "ticket.opinion":
            return f"{unit(data.get('unit'))}：{data.get('content', '')}"
        case "ticket.resolved":
            return f"{label(data.get('outcome'), 'outcome')}：{data.get('reply', '')}"
        case "ticket.fed_back":
            return f"方式：{label(data.get('method'), 'method')}：{data.get('content', '')}"
        case "ticket.returned":
            return f"{unit(data.get('unit'))}退回：{data.get('reason', '')}"
        case "rating.recorded":
            comment = f"（{data['comment']}）" if data.get("comment") else ""
            return f"第{data.get('round', 1)}轮：{label(data.get('rating'), 'rating')}{comment}"
        case "ticket.rehandling":
            return f"进入第{data.get('round')}轮办理，牵头单位：{unit(data.get('lead_unit'))}"
        case "clock.met":
            return (
                f"{unit(data.get('unit'))} {label(data.get('kind'), 'clock_kind')}时限："
                f"{label(data.get('state'), 'clock_state')}"
            )
        case "clock.warning" | "clock.breached":
            return f"{unit(data.get('unit'))} {label(data.get('kind'), 'clock_kind')}时限"
        case "supervision.opened":
            owner = unit(data.get("unit")) or "联工委"
            return (
                f"{label(data.get('kind'), 'case_kind')}（{owner}）："
                f"{case_reason(str(data.get('reason', '')))}"
            )
        case "supervision.note":
            return str(data.get("content", ""))
        case "supervision.meeting":
            people = "、".join(unit(p) for p in data.get("participants") or [])
            return f"参加：{people}；{data.get('conclusion', '')}"
        case "ticket.deputy_linked":
            return "来电人登记为代表后，工单关联到该代表"
        case "supervision.closed":
            return f"{label(data.get('kind'), 'case_kind')}：{data.get('conclusion', '')}"
        case "supervision.withdrawn":
            return str(data.get("reason", ""))
        case "extension.requested":
            return f"申请延期{data.get('working_days')}个工作日：{data.get('reason', '')}"
        case "extension.decided":
            verdict = "批准" if data.get("approve") else "不批准"
            return verdict + (f"：{data['note']}" if data.get("note") else "")
        case "ticket.closed":
            return str(data.get("reason", "")) if data.get("reason") else ""
    return ""


# --- the services' details, in Chinese --------------------------------------------------------

# Messages about one field are predicates (the form puts the field's label before them);
# the others are whole sentences.
_DETAILS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        (r"lies in the future", "不能晚于当前时间"),
        (r"is before the case opened", "不能早于立案时间"),
        (r"is after the case was", "不能晚于督办结束的时间"),
        (r"is before (?:the )?(.+?) \(", "不能早于{0}"),
        (r"must be at least (\d+) characters", "至少需要 {0} 个字符"),
        (r"must be at most (\d+) characters", "不能超过 {0} 个字符"),
        (r"is a commonly used password", "是常用密码，容易被猜到，请换一个"),
        (r"may not contain the username", "不能包含用户名"),
        (r"does not match the password", "与上面输入的新密码不一致"),
        (r"is taken$", "已被使用，请换一个"),
        (r"unknown unit '(.+)'", "不是已登记的单位（{0}）"),
        (r"unknown deputy", "不是代表名册中的编号"),
        (r"unknown category '(.+)'", "不是已登记的事项分类（{0}）"),
        (r"must name its", "必须填写"),
        (r"only a .+ is bound to", "在此身份下不需要填写"),
        (r"is a (\w+), not a (\w+)", "所选单位的类型不符"),
        (r"3 to 64 characters", "须为 3 至 64 个字母、数字或 . _ @ -，并以字母或数字开头"),
        (r"you cannot disable your own account", "不能停用自己的账户。"),
        (
            r"extension .+ is still pending|another extension request is pending",
            "已有一项延期申请等待审批，不能重复申请。",
        ),
        (r"urgent ticket's resolve limit cannot be extended", "急办工单的办结时限不能延期。"),
        (r"an extension is for an unresolved ticket", "工单已办结，不能再申请延期。"),
        (r"extension .+ was already (\w+)", "该延期申请已经处理过了。"),
        (r"the case is (?:already )?(\w+)", "该督办案件已经结束。"),
        (r"on a closed ticket|the ticket is closed", "工单已关闭，不能再办理。"),
        (r"cannot (.+) a ticket that is (\w+)", "工单当前的状态下不能进行此操作。"),
        (r"only the lead unit may", "只有牵头单位可以进行此操作。"),
        (r"only a co-handling unit may", "只有协办单位可以提交协办意见。"),
        (r"no resolve clock to extend", "当前没有可以延期的办结时限。"),
        (
            r"joint case was already opened|a second joint case|joint case .* this round",
            "本轮已经有联合督办案件。",
        ),
        (r"not a month this service|must be a month", "请选择月份。"),
        (r"must be a year", "请填写年份。"),
    ]
]
_STEPS = {
    "the dispatch": "派单时间",
    "dispatch": "派单时间",
    "the round's start": "本轮开始时间",
    "round's start": "本轮开始时间",
    "the resolution": "办结时间",
    "resolution": "办结时间",
    "the feedback": "反馈时间",
    "feedback": "反馈时间",
    "the return": "退回时间",
    "return": "退回时间",
}


def translate_detail(detail: str) -> str:
    """A service's error detail in Chinese, for a page; a detail with no translation is
    shown after a Chinese lead so that nothing is hidden from the person."""
    text = detail.split(": ", 1)[1] if re.match(r"^[a-z_\[\]0-9.]+: ", detail) else detail
    for pattern, message in _DETAILS:
        m = pattern.search(text)
        if m:
            groups = [_STEPS.get(g, g) for g in m.groups()]
            return message.format(*groups)
    return f"无法完成（{detail}）" if detail else ""


_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), m)
    for p, m in [
        (r"^rated (\w+) again", "第二次回访评价为“{r}”（重办后仍不满意）"),
        (r"^rated (\w+)", "回访评价为“{r}”"),
        (r"^long overdue", "久拖不决：办结时限过后 5 个工作日仍未办结"),
        (r"^complex ticket", "复杂疑难事项，呈分管副秘书长协调"),
    ]
]
_OWNERS = [
    (re.compile(p), m)
    for p, m in [
        (r"has no committee unit", "该事项分类没有对口专门委员会，由联工委督办"),
        (r"has no district congress unit", "该属地没有区县人大常委会单位，由联工委督办"),
        (r"names no district", "工单没有属地，由联工委督办"),
        (r"no coordinator unit is registered", "没有登记分管副秘书长，由联工委协调"),
        (r"several coordinator units", "有多位分管副秘书长而事项分类未指定，由联工委协调"),
    ]
]


def case_reason(reason: str) -> str:
    """Why a case opened, in Chinese (the service records it in English); a reason given
    by a person is shown as written."""
    parts = []
    for pattern, message in _REASONS:
        m = pattern.search(reason)
        if m:
            parts.append(message.format(r=label(m.group(1), "rating") if m.groups() else ""))
            break
    parts += [message for pattern, message in _OWNERS if pattern.search(reason)]
    return "；".join(parts) if parts else reason
