"""Points (履职积分) queries: the table of types, and the items each built-in type counts
from the service's own records (calls, messages handled in time, receptions attended, duty
reports) and the committee's recorded items, per deputy for a year or one deputy's lines.

A message handled in time is defined once (`handled_in_time`). The year's reads run on the
session's connection as plain rows: the points report reads every deputy's items at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from app.models import (
    Activity,
    Deputy,
    DutyReport,
    Message,
    PointRule,
    Reception,
    ReceptionDeputy,
    Station,
    Ticket,
)
from app.repositories.figures import count_if

if TYPE_CHECKING:
    from app.services.reports.period import Period


# --- the table of types --------------------------------------------------------------------


def stored_rules(session: Session) -> list[PointRule]:
    """The stored types (built-ins re-weighted and the committee's), by type."""
    return list(session.scalars(select(PointRule).order_by(PointRule.type)))


def rule_for_update(session: Session, type_: str) -> PointRule | None:
    """One stored type, locked for the transaction."""
    return session.scalar(select(PointRule).where(PointRule.type == type_).with_for_update())


def get_rule(session: Session, type_: str) -> PointRule | None:
    """One stored type."""
    return session.get(PointRule, type_)


# --- a year, every deputy ------------------------------------------------------------------


def handled_in_time(period: Period) -> list[ColumnElement[bool]]:
    """A message replied to or forwarded (not declined) in the period before its clock fell due."""
    return [
        Message.responded_at.is_not(None),
        Message.decline_reason.is_(None),
        Message.responded_at < Message.due_at,
        period.within(Message.responded_at),
    ]


def _problems() -> Any:
    """How many of a group's calls raised a problem."""
    return count_if(Ticket.kind == "problem")


def calls_by_deputy(session: Session, period: Period) -> Iterable[Any]:
    """(deputy, calls, problems) of each deputy who called the line in the period."""
    return session.connection().execute(
        select(Ticket.deputy_id, func.count(), _problems())
        .where(Ticket.deputy_id.is_not(None), period.within(Ticket.called_at))
        .group_by(Ticket.deputy_id)
    )


def unverified_callers(session: Session, period: Period) -> Iterable[Any]:
    """(name, phone, calls, problems) per phone of the calls in the period matched to no
    deputy, by phone."""
    return session.execute(
        select(func.max(Ticket.caller_name), Ticket.caller_phone, func.count(), _problems())
        .where(Ticket.deputy_id.is_(None), period.within(Ticket.called_at))
        .group_by(Ticket.caller_phone)
        .order_by(Ticket.caller_phone)
    )


def items_by_deputy(session: Session, period: Period, first: date, last: date) -> Iterable[tuple[str, Any]]:
    """(type, rows of (deputy, items)) for the built-in types counted from records other
    than calls: messages handled in the period, receptions attended and duty reports given
    from `first` to `last`."""
    conn = session.connection()
    grouped = [
        (
            "message_handled",
            select(Message.deputy_id, func.count())
            .where(*handled_in_time(period))
            .group_by(Message.deputy_id),
        ),
        (
            "reception",
            select(ReceptionDeputy.deputy_id, func.count())
            .join(Reception, Reception.id == ReceptionDeputy.reception_id)
            .where(Reception.held_on.between(first, last))
            .group_by(ReceptionDeputy.deputy_id),
        ),
        (
            "duty_report",
            select(DutyReport.deputy_id, func.count())
            .where(DutyReport.held_on.between(first, last))
            .group_by(DutyReport.deputy_id),
        ),
    ]
    for type_, query in grouped:
        yield type_, conn.execute(query)


def activities_by_deputy(session: Session, first: date, last: date) -> Iterable[Any]:
    """(deputy, type, items) of the committee's recorded items from `first` to `last`."""
    return session.connection().execute(
        select(Activity.deputy_id, Activity.type, func.count())
        .where(Activity.done_on.between(first, last))
        .group_by(Activity.deputy_id, Activity.type)
    )


def deputies(session: Session) -> Iterable[Any]:
    """(id, name, phone, level, district) of every deputy."""
    return session.connection().execute(
        select(Deputy.id, Deputy.name, Deputy.phone, Deputy.level, Deputy.district)
    )


# --- a year, one deputy's lines ------------------------------------------------------------


def problems_of(session: Session, deputy_id: str, period: Period) -> Iterable[Any]:
    """(hotline number, called at, category) of the deputy's problems in the period, in call order."""
    return session.connection().execute(
        select(Ticket.hotline_no, Ticket.called_at, Ticket.category)
        .where(Ticket.deputy_id == deputy_id, Ticket.kind == "problem", period.within(Ticket.called_at))
        .order_by(Ticket.called_at, Ticket.hotline_no)
    )


def handled_of(session: Session, deputy_id: str, period: Period) -> Iterable[Any]:
    """(id, responded at, reply, ticket) of the deputy's messages handled in time, in order."""
    return session.connection().execute(
        select(Message.id, Message.responded_at, Message.reply, Message.ticket_id)
        .where(Message.deputy_id == deputy_id, *handled_in_time(period))
        .order_by(Message.responded_at, Message.id)
    )


def receptions_of(session: Session, deputy_id: str, first: date, last: date) -> Iterable[Any]:
    """(id, held on, station name) of the receptions the deputy attended, by date."""
    return session.connection().execute(
        select(Reception.id, Reception.held_on, Station.name)
        .join(
            ReceptionDeputy,
            and_(ReceptionDeputy.reception_id == Reception.id, ReceptionDeputy.deputy_id == deputy_id),
        )
        .join(Station, Station.code == Reception.station_code)
        .where(Reception.held_on.between(first, last))
        .order_by(Reception.held_on, Reception.id)
    )


def duty_reports_of(session: Session, deputy_id: str, first: date, last: date) -> Iterable[Any]:
    """(id, held on, method, audience, note) of the deputy's duty reports, by date."""
    return session.connection().execute(
        select(DutyReport.id, DutyReport.held_on, DutyReport.method, DutyReport.audience, DutyReport.note)
        .where(DutyReport.deputy_id == deputy_id, DutyReport.held_on.between(first, last))
        .order_by(DutyReport.held_on, DutyReport.id)
    )


def activities_of(session: Session, deputy_id: str, first: date, last: date) -> Iterable[Any]:
    """(id, type, done on, note) of the deputy's recorded items, by date."""
    return session.connection().execute(
        select(Activity.id, Activity.type, Activity.done_on, Activity.note)
        .where(Activity.deputy_id == deputy_id, Activity.done_on.between(first, last))
        .order_by(Activity.done_on, Activity.id)
    )


def calls_of(session: Session, deputy_id: str, period: Period) -> int:
    """How many calls the deputy made on the line in the period."""
    q = (
        select(func.count())
        .select_from(Ticket)
        .where(Ticket.deputy_id == deputy_id, period.within(Ticket.called_at))
    )
    return int(session.scalar(q) or 0)
