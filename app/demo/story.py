"""The demo year: daily calls, and each ticket's course through units, ratings, extensions, supervision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import partial

from sqlalchemy import select

from app.demo.city import Registry
from app.demo.timeline import Timeline
from app.models import Supervision
from app.repositories import supervision as supervision_repo
from app.services import actions, deputies, extensions, registry, supervision, tickets
from app.services.context import SYSTEM, Actor
from app.services.sweep import sweep
from app.services.vocabulary import Rating
from app.state import AppState

MARK = "DEMO-"
SEED = 20251001
HOTLINE = Actor(role="hotline", label="demo: 12345 office")
LIAISON = Actor(role="liaison", label="demo: liaison committee")
CONTENT = {
    "water": ["小区停水三天，未见通知", "自来水浑浊发黄", "雨后道路积水严重，排水不畅"],
    "housing": ["老旧小区加装电梯推进缓慢", "物业擅自提高收费标准", "安置房迟迟未办不动产证"],
    "urban": ["夜市油烟扰民", "背街小巷路灯不亮", "建筑垃圾乱堆乱放"],
    "transport": ["学校门口上下学时段拥堵", "公交线路班次过少", "乡村公路坑洼破损"],
    "education": ["学位紧张，孩子就近入学难", "校外培训机构收费不退", "乡村学校缺少音体美教师"],
    "health": ["社区卫生服务中心缺医少药", "医保异地报销手续繁琐", "乡镇卫生院设备老化"],
    "social-security": ["农民工工资被拖欠", "灵活就业人员社保补贴申领难", "失业保险金发放延迟"],
    "environment": ["养殖场污水直排河道", "工厂夜间排放刺鼻气体", "河道垃圾无人清理"],
    "market": ["预付卡商家关门跑路", "农贸市场缺斤少两", "网购食品无中文标签"],
    "civil": ["高龄津贴未按时发放", "社区养老服务站无人值守", "低保申请审核时间过长"],
    "agriculture": ["农田灌溉渠道淤塞", "高标准农田建设质量差", "种粮补贴未足额发放"],
    "land": ["宅基地审批进度慢", "规划道路多年未动工", "违建占用公共绿地"],
}
LATE_PHONE = "15907370001"
OUTCOMES = ["solved"] * 6 + ["stepwise"] * 2 + ["referred", "explained"]


@dataclass
class _Case:
    """One ticket's story: what it is and how it is going to go."""

    id: str
    lead: str
    co: list[str]
    urgent: bool
    district: str
    rounds_left: int  # unsatisfied ratings still to come
    stalls: bool  # never resolved until the liaison committee steps in


class Story(Timeline):
    """The sample city's year, told step by step through the service's own use-cases."""

    def __init__(self, state: AppState, reg: Registry, start: datetime, end: datetime) -> None:
        super().__init__(state, start, end, seed=f"{SEED}-{start.date().isoformat()}")
        self.reg = reg
        self.lead_of = {c["code"]: c["default_lead_unit"] for c in reg.categories}
        self.district_gov = {
            u["district"]: u["code"] for u in reg.units if u["kind"] == "district_government"
        }
        self.departments = [u["code"] for u in reg.units if u["kind"] == "department"]

    # --- the year ---------------------------------------------------------------------------
    def tell(self) -> None:
        day = self.now.astimezone(self.tz).date()
        last = self.end.astimezone(self.tz).date()
        n = 0
        while day <= last:
            morning = datetime.combine(day, time(7, 0), tzinfo=self.tz)
            self.at(morning, self.sweep)
            calls = self.rnd.choice((0, 1, 1, 2, 2, 3)) if day.weekday() < 5 else self.rnd.choice((0, 0, 1))
            for _ in range(calls):
                n += 1
                called = morning + timedelta(hours=self.rnd.uniform(1.5, 11))
                self.at(called, self._intake_step(called, n))
            day += timedelta(days=1)
        # A deputy elected in a by-election calls twice before being registered.
        for months in (1, 3):
            when = self.now + timedelta(days=30 * months + 3, hours=3)
            n += 1
            self.at(when, self._intake_step(when, n, phone=LATE_PHONE))
        self.at(self.now + timedelta(days=150, hours=2), self.register_late_deputy)
        self.run()

    def sweep(self) -> None:
        result = self.act(SYSTEM, sweep)
        if result is not None:
            self.counts["supervisions opened by the sweep"] += result.supervisions_opened

    def register_late_deputy(self) -> None:
        data = registry.DeputyInput(
            name="周新民", phone=LATE_PHONE, level="city", district="heshan", delegation="赫山代表团"
        )
        if self.act(LIAISON, lambda ctx: deputies.register(ctx, data)) is not None:
            self.counts["deputies registered late"] += 1

    # --- one ticket -------------------------------------------------------------------------
    def _intake_step(self, called: datetime, n: int, phone: str | None = None) -> Callable[[], None]:
        return lambda: self.intake(called, n, phone)

    def intake(self, called: datetime, n: int, phone: str | None) -> None:
        rnd = self.rnd
        category = rnd.choice(list(self.lead_of))
        district = rnd.choice(list(self.district_gov))
        lead = self.lead_of[category]
        co = [self.district_gov[district]] if rnd.random() < 0.25 else []
        k = rnd.random()
        kind = "consultation" if k < 0.08 else "suggestion" if k < 0.18 else "problem"
        known = phone is None and rnd.random() < 0.88
        caller = phone or (
            rnd.choice(self.reg.deputy_phones) if known else f"1590737{rnd.randrange(10000):04d}"
        )
        data = tickets.TicketInput(
            hotline_no=f"{MARK}{called.astimezone(self.tz):%Y%m%d}-{n:04d}",
            called_at=called - timedelta(minutes=rnd.uniform(3, 40)),
            dispatched_at=called,
            caller_name="人大代表" if known else "来电人",
            caller_phone=caller,
            category=category,
            content=rnd.choice(CONTENT.get(category, ["群众反映问题"])),
            kind=kind,
            district=district,
            urgency="urgent" if rnd.random() < 0.1 else "normal",
            units=[lead, *co],
            lead_unit=lead,
            complex=rnd.random() < 0.03,
        )
        got = self.act(HOTLINE, lambda ctx: _id_if(tickets.ingest(ctx, data)))
        if got is None:
            return
        self.counts["tickets"] += 1
        if kind == "consultation":
            return
        case = _Case(
            got,
            lead,
            co,
            data.urgency == "urgent",
            district,
            rounds_left=(1 if rnd.random() < 0.14 else 0) + (1 if rnd.random() < 0.03 else 0),
            stalls=rnd.random() < 0.03,
        )
        if rnd.random() < 0.04:
            self.at(self.later(called, rnd.uniform(2, 20)), lambda: self.give_back(case))
            return
        self.handle(case, called)

    def give_back(self, case: _Case) -> None:
        """The lead returns a misrouted ticket; the hotline re-dispatches it."""
        if (
            self.act(
                self.unit(case.lead),
                lambda ctx: actions.return_ticket(
                    ctx, ticket_id=case.id, reason="不属于本单位职责，请改派", at=None
                ),
            )
            is None
        ):
            return
        self.counts["returned"] += 1
        others = [u for u in (*self.departments, self.district_gov[case.district]) if u != case.lead]
        case.lead, case.co = self.rnd.choice(others), []
        when = self.later(self.now, self.rnd.uniform(2, 26), office=False)
        self.at(when, lambda: self.redispatch(case))

    def redispatch(self, case: _Case) -> None:
        if self.act(
            HOTLINE,
            lambda ctx: actions.redispatch(
                ctx, ticket_id=case.id, units=[case.lead], lead_unit=case.lead, at=None
            ),
        ):
            self.handle(case, self.now)

    def handle(self, case: _Case, start: datetime) -> None:
        """Contact, opinions, and the first resolution (or a stall) of a dispatched ticket."""
        rnd = self.rnd
        r = rnd.random()
        if r < 0.82:
            self.at(self.later(start, rnd.uniform(0.5, 20), office=False), partial(self.contact, case))
        elif r < 0.95:
            self.at(self.later(start, rnd.uniform(26, 70)), partial(self.contact, case))
        for unit in case.co:
            self.at(self.later(start, rnd.uniform(10, 24 * 8)), partial(self.opinion, case, unit))
        if case.stalls:
            self.at(self.later(start, 24 * 16), lambda: self.step_in(case))
            return
        self.plan_resolution(case, start)

    def plan_resolution(self, case: _Case, start: datetime) -> None:
        rnd = self.rnd
        if case.urgent:
            hours = rnd.uniform(3, 20) if rnd.random() < 0.8 else rnd.uniform(26, 60)
        elif rnd.random() < 0.8:
            hours = rnd.uniform(20, 24 * 8)
        else:
            hours = rnd.uniform(24 * 10, 24 * 18)
            if rnd.random() < 0.5:  # asks for more time before the due day
                self.at(self.later(start, 24 * 6), lambda: self.ask_extension(case))
        self.at(self.later(start, hours), lambda: self.resolve(case))

    def unit(self, code: str) -> Actor:
        return Actor(role="unit", unit_code=code, label=f"demo: {code}")

    def contact(self, case: _Case) -> None:
        self.act(
            self.unit(case.lead),
            lambda ctx: actions.contact(
                ctx,
                ticket_id=case.id,
                at=None,
                method=self.rnd.choice(["phone", "visit", "online"]),
                deputy_invited=self.rnd.random() < 0.4,
                note="已与代表联系，约定处理方案",
            ),
        )

    def opinion(self, case: _Case, unit: str) -> None:
        self.act(
            self.unit(unit),
            lambda ctx: actions.opinion(
                ctx, ticket_id=case.id, content="协办单位意见：同意牵头单位方案，配合落实", at=None
            ),
        )

    def ask_extension(self, case: _Case) -> None:
        days = self.rnd.choice((3, 5, 7))
        ext = self.act(
            self.unit(case.lead),
            lambda ctx: (
                extensions.request_extension(
                    ctx, ticket_id=case.id, working_days=days, reason="需协调多部门联合处置"
                ).id
            ),
        )
        if ext is None:
            return
        self.counts["extensions requested"] += 1
        approve = self.rnd.random() < 0.75
        self.at(self.later(self.now, self.rnd.uniform(2, 30)), partial(self.decide, ext, approve))

    def decide(self, extension_id: str, approve: bool) -> None:
        self.act(
            LIAISON,
            lambda ctx: extensions.decide_extension(
                ctx,
                extension_id=extension_id,
                approve=approve,
                note="同意延期" if approve else "理由不充分，请按期办结",
            ),
        )

    def resolve(self, case: _Case) -> None:
        done = self.act(
            self.unit(case.lead),
            lambda ctx: actions.resolve(
                ctx,
                ticket_id=case.id,
                at=None,
                outcome=self.rnd.choice(OUTCOMES),
                reply="已现场核实并处理，结果已书面告知",
            ),
        )
        if done is None:
            return
        self.counts["resolved"] += 1
        hours = self.rnd.uniform(2, 40) if self.rnd.random() < 0.88 else self.rnd.uniform(80, 120)
        self.at(self.later(self.now, hours), lambda: self.feed_back(case))

    def feed_back(self, case: _Case) -> None:
        if (
            self.act(
                self.unit(case.lead),
                lambda ctx: actions.feedback(
                    ctx, ticket_id=case.id, at=None, method="phone", content="已向代表反馈办理结果"
                ),
            )
            is None
        ):
            return
        self.at(self.later(self.now, self.rnd.uniform(20, 70)), lambda: self.rate(case))

    def rate(self, case: _Case) -> None:
        unhappy = case.rounds_left > 0
        choice = self.rnd.choice(
            [Rating.UNSATISFIED, Rating.VERY_UNSATISFIED]
            if unhappy
            else [Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED]
        )
        rated = self.act(
            HOTLINE,
            lambda ctx: actions.rate(
                ctx, ticket_id=case.id, rating=choice, at=None, comment="办理不到位" if unhappy else None
            ),
        )
        if rated is None:
            return
        if unhappy:
            self.counts["rated unsatisfied"] += 1
            case.rounds_left -= 1
            self.plan_resolution(case, self.now)
        else:
            self.at(self.later(self.now, self.rnd.uniform(24, 24 * 6)), lambda: self.conclude(case))

    def conclude(self, case: _Case) -> None:
        """The supervising bodies close their cases once the deputy is satisfied."""
        with self.state.db.read_session() as session:
            open_cases = list(
                session.execute(
                    select(Supervision.id, Supervision.unit_code).where(
                        Supervision.ticket_id == case.id, supervision_repo.is_open()
                    )
                )
            )
        for case_id, unit in open_cases:
            actor = self.unit(unit) if unit else LIAISON
            if self.act(
                actor,
                partial(supervision.close_case, case_id=case_id, conclusion="经督办，问题已解决，代表满意"),
            ):
                self.counts["supervision cases closed"] += 1

    def step_in(self, case: _Case) -> None:
        """A stalled ticket: the liaison committee opens a joint case and holds a 会商."""
        opened = self.act(
            LIAISON,
            lambda ctx: (
                supervision.open_joint_by_hand(
                    ctx, ticket_id=case.id, reason="办理不力：超期未办结，承办单位推诿"
                ).id
            ),
        )
        if opened is None:
            self.plan_resolution(case, self.now)
            return
        self.counts["joint cases opened by hand"] += 1
        held = self.later(self.now, self.rnd.uniform(24, 72))
        self.at(held + timedelta(hours=3), partial(self.meeting, case, opened, held))

    def meeting(self, case: _Case, case_id: str, held: datetime) -> None:
        if self.act(
            LIAISON,
            lambda ctx: supervision.add_meeting(
                ctx,
                case_id=case_id,
                held_at=held,
                participants=["12345热线办", case.lead, self.district_gov[case.district]],
                conclusion="明确牵头单位十个工作日内办结，区政府配合",
            ),
        ):
            self.counts["consultation meetings"] += 1
        self.at(self.later(self.now, self.rnd.uniform(24 * 3, 24 * 9)), lambda: self.resolve(case))


def _id_if(ingested: tickets.Ingested) -> str | None:
    """The new ticket's id (None when the hotline number was already received)."""
    return ingested.ticket.id if ingested.created else None
