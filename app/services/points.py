"""Points (履职积分): the table of activity types, the items the liaison committee records,
and each deputy's points in a year, counted from the service's own records.

Built-in types are counted by the service itself (SPEC Part II): `hotline_problem` (a
problem raised on the deputy line, by call time: Part I's rule, so a call linked to a
deputy registered late counts once it is linked), `message_handled` (a voter message
replied to or forwarded before its response clock fell due, by response time),
`reception` (a reception attended, by its date) and `duty_report` (by its date). They may
be re-weighted, not removed, and take no hand-recorded items: the records are the items.
The committee adds its own types and records their items. A type's points in a year are
points per item × items, capped at its yearly cap; rules apply as they stand when the
report is read, so a re-weighting restates every year alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Invalid
from app.models import Activity, PointRule
from app.repositories import points as repo
from app.services import registry
from app.services.context import Ctx


@dataclass(frozen=True)
class Rule:
    type: str
    name: str
    points: int
    yearly_cap: int | None
    builtin: bool

    def capped(self, items: int) -> int:
        """The points that `items` items earn in a year."""
        raw = self.points * items
        return raw if self.yearly_cap is None else min(raw, self.yearly_cap)


BUILTIN: dict[str, Rule] = {
    r.type: r
    for r in (
        Rule("hotline_problem", "专线反映问题", 1, 5, True),
        Rule("message_handled", "按时处理选民留言", 1, 10, True),
        Rule("reception", "参加接待选民", 1, 12, True),
        Rule("duty_report", "向选民报告履职", 5, 5, True),
    )
}


def rules(session: Session) -> dict[str, Rule]:
    """Every type in force: the built-ins (as re-weighted) first, then the committee's."""
    stored = {r.type: r for r in repo.stored_rules(session)}
    out: dict[str, Rule] = {}
    for code, default in BUILTIN.items():
        row = stored.pop(code, None)
        out[code] = default if row is None else Rule(code, row.name, row.points, row.yearly_cap, True)
    for code, row in stored.items():
        out[code] = Rule(code, row.name, row.points, row.yearly_cap, False)
    return out


def put_rule(
    session: Session, *, type_: str, name: str, points: int, yearly_cap: int | None, now: datetime
) -> tuple[Rule, bool]:
    """Add a type (True) or re-weight one (False), built-in types included."""
    row = repo.rule_for_update(session, type_)
    created = row is None and type_ not in BUILTIN
    if row is None:
        row = PointRule(
            type=type_, name=name, points=points, yearly_cap=yearly_cap, created_at=now, updated_at=now
        )
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
            return Rule(type_, name, points, yearly_cap, type_ in BUILTIN), created
        except IntegrityError:
            # Added at the same moment by another request: change that one, as any PUT does.
            created = False
            row = repo.rule_for_update(session, type_)
            assert row is not None
    row.name, row.points, row.yearly_cap, row.updated_at = name, points, yearly_cap, now
    session.flush()
    return Rule(type_, name, points, yearly_cap, type_ in BUILTIN), created


def record_activity(ctx: Ctx, *, deputy_id: str, type_: str, on: date, note: str | None) -> Activity:
    """Record an item of one of the committee's types for a deputy."""
    registry.get_deputy(ctx.session, deputy_id)
    if type_ in BUILTIN:
        raise Invalid(
            "type",
            f"{type_} is counted by the service from its own records; "
            "record an item of a type the committee added",
        )
    if repo.get_rule(ctx.session, type_) is None:
        raise Invalid("type", f"unknown type {type_!r}; add it with PUT /api/v1/point-rules/{{type}}")
    if on > ctx.now().astimezone(ctx.tz).date():
        raise Invalid("on", "lies in the future; record an item once it is done")
    item = Activity(
        deputy_id=deputy_id,
        type=type_,
        done_on=on,
        note=note,
        recorded_by=ctx.actor.name,
        recorded_at=ctx.now(),
    )
    ctx.session.add(item)
    ctx.session.flush()
    return item
