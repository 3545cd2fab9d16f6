"""Ticket queries: the ticket's row and its parts (assignments, clocks, ratings,
resolutions, extensions), intake's look-up, and the lists. An assignment in force is defined
once (`active`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, and_, bindparam, exists, func, or_, select
from sqlalchemy.orm import Session

from app.models import (
    Assignment,
    Category,
    Clock,
    Deputy,
    Extension,
    Rating,
    Resolution,
    Supervision,
    Ticket,
    Unit,
)
from app.repositories.calendars import signature_columns
from app.repositories.clocks import breached_exists
from app.repositories.events import hooked
from app.repositories.figures import count_rows
from app.services.vocabulary import ExtensionState
from app.services.workflow import Status

if TYPE_CHECKING:
    from app.services.reports.period import Period


def get(session: Session, ticket_id: str, *, for_update: bool = False) -> Ticket | None:
    """One ticket by id (locked for the transaction when `for_update`)."""
    if not for_update:
        return session.get(Ticket, ticket_id)
    return session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())


def of_deputy(session: Session, deputy_id: str | None, *, limit: int = 200) -> list[Ticket]:
    """A deputy's calls on the line, newest first."""
    q = select(Ticket).where(Ticket.deputy_id == deputy_id).order_by(Ticket.called_at.desc()).limit(limit)
    return list(session.scalars(q))


def unit_may_read(session: Session, ticket_id: str, unit: str, district: str | None) -> bool:
    """The unit is assigned to the ticket, supervises it, or is the district congress of
    the ticket's district (SPEC.md "Who may read a ticket")."""
    assigned = exists().where(Assignment.ticket_id == ticket_id, Assignment.unit_code == unit)
    supervising = exists().where(Supervision.ticket_id == ticket_id, Supervision.unit_code == unit)
    checks = [assigned, supervising]
    if district is not None:
        checks.append(
            exists().where(Unit.code == unit, Unit.kind == "district_congress", Unit.district == district)
        )
    return bool(session.scalar(select(or_(*checks))))


def by_hotline_no(session: Session, hotline_no: str) -> Ticket | None:
    """The ticket received under this hotline number."""
    return session.scalar(select(Ticket).where(Ticket.hotline_no == hotline_no))


# Everything intake looks up, in one round trip; built once (building costs more than running).
_INTAKE = select(
    select(Ticket.id).where(Ticket.hotline_no == bindparam("hotline_no")).scalar_subquery(),
    select(Category.code).where(Category.code == bindparam("category")).scalar_subquery(),
    select(Category.default_lead_unit).where(Category.code == bindparam("category")).scalar_subquery(),
    *(
        select(col).where(Deputy.phone == bindparam("phone")).scalar_subquery()
        for col in (Deputy.id, Deputy.name, Deputy.level)
    ),
    *signature_columns(),
    # The units named, and how many have webhooks: the usual post needs no other look-up.
    select(func.count()).where(Unit.code.in_(bindparam("units", expanding=True))).scalar_subquery(),
    select(func.count()).where(Unit.code.in_(bindparam("units", expanding=True)), hooked()).scalar_subquery(),
)


def intake_lookup(
    session: Session, *, hotline_no: str, category: str, phone: str, units: list[str]
) -> tuple[Any, ...]:
    """What a new call needs, in one statement: the id of a ticket already received under
    the hotline number, the category's code and default lead unit (None when unknown), the
    id, name and level of the deputy with this phone, the working calendar's signature
    (count, latest change), and how many of `units` exist and how many of them have a
    webhook endpoint."""
    return tuple(
        session.connection()
        .execute(_INTAKE, {"hotline_no": hotline_no, "category": category, "phone": phone, "units": units})
        .one()
    )


_UNITS = select(Unit.code, hooked()).where(Unit.code.in_(bindparam("units", expanding=True)))


def units_hooked(session: Session, units: list[str]) -> Sequence[Row[str, bool]]:
    """(code, has a webhook endpoint) of those of these units that exist."""
    return session.connection().execute(_UNITS, {"units": units}).all()


# --- assignments and the round's steps -----------------------------------------------------


def active() -> ColumnElement[bool]:
    """An assignment in force: not returned, replaced or ended with its ticket's closing."""
    return Assignment.active.is_(True)


def assignments_of(session: Session, ticket_id: str) -> list[Assignment]:
    """All of a ticket's assignments, ended or not (in no order)."""
    return list(session.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id)))


def active_assignments(session: Session, ticket_id: str) -> list[Assignment]:
    """A ticket's assignments in force (in no order)."""
    return list(session.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id, active())))


def active_assignment(session: Session, ticket_id: str, unit: str | None) -> Assignment | None:
    """The unit's assignment in force on the ticket, if any (a unit holds one at a time)."""
    return session.scalar(
        select(Assignment).where(
            Assignment.ticket_id == ticket_id,
            Assignment.unit_code == unit,
            active(),
        )
    )


def last_ended(session: Session, ticket_id: str) -> datetime | None:
    """When the ticket's latest assignment to end ended (None: none has)."""
    return session.scalar(select(func.max(Assignment.ended_at)).where(Assignment.ticket_id == ticket_id))


def rated_at(session: Session, ticket_id: str, round_: int) -> datetime | None:
    """When the ticket's rating of the round was given (None: not rated)."""
    return session.scalar(select(Rating.at).where(Rating.ticket_id == ticket_id, Rating.round == round_))


def resolved_by(session: Session, ticket_id: str, round_: int) -> str | None:
    """The unit whose resolution of the round came last (None: not resolved)."""
    return session.scalar(
        select(Resolution.unit_code)
        .where(
            Resolution.ticket_id == ticket_id,
            Resolution.round == round_,
        )
        .order_by(Resolution.at.desc(), Resolution.id.desc())
        .limit(1)
    )


def parts(
    session: Session, ticket_ids: Collection[str], deputy_ids: Collection[str]
) -> tuple[list[Assignment], list[Clock], list[Deputy]]:
    """The assignments and clocks of these tickets, each in creation order, and these
    deputies (their callers'): a query each, none for no deputies."""
    assignments = list(
        session.scalars(
            select(Assignment).where(Assignment.ticket_id.in_(ticket_ids)).order_by(Assignment.id)
        )
    )
    clocks = list(session.scalars(select(Clock).where(Clock.ticket_id.in_(ticket_ids)).order_by(Clock.id)))
    deputies = list(session.scalars(select(Deputy).where(Deputy.id.in_(deputy_ids)))) if deputy_ids else []
    return assignments, clocks, deputies


def hotline_numbers(session: Session, ticket_ids: Collection[str]) -> dict[str, str]:
    """id -> hotline number of these tickets."""
    if not ticket_ids:
        return {}
    q = select(Ticket.id, Ticket.hotline_no).where(Ticket.id.in_(ticket_ids))
    return {tid: no for tid, no in session.execute(q)}


@dataclass
class TicketFilter:
    """The ticket list's filters (GET /api/v1/tickets)."""

    status: str | None = None
    category: str | None = None
    district: str | None = None
    unit: str | None = None
    breached: bool | None = None
    deputy_verified: bool | None = None
    called_from: datetime | None = None
    called_to: datetime | None = None


def filtered(
    session: Session, f: TicketFilter, *, now: datetime, after: str | None, limit: int
) -> list[Ticket]:
    """Newest first, keyset-paged on the time-ordered id, so inserts never shift a page."""
    q = select(Ticket).order_by(Ticket.id.desc()).limit(limit)
    conds: list[ColumnElement[bool]] = []
    if f.status:
        conds.append(Ticket.status == f.status)
    if f.category:
        conds.append(Ticket.category == f.category)
    if f.district:
        conds.append(Ticket.district == f.district)
    if f.unit:
        conds.append(exists().where(Assignment.ticket_id == Ticket.id, Assignment.unit_code == f.unit))
    if f.breached is not None:
        breached = breached_exists(Ticket.id, now)
        conds.append(breached if f.breached else ~breached)
    if f.deputy_verified is not None:
        conds.append(Ticket.deputy_verified == f.deputy_verified)
    if f.called_from:
        conds.append(Ticket.called_at >= f.called_from)
    if f.called_to:
        conds.append(Ticket.called_at < f.called_to)
    if after:
        conds.append(Ticket.id < after)
    if conds:
        q = q.where(and_(*conds))
    return list(session.scalars(q))


def supervising(session: Session, *, limit: int) -> tuple[int, list[Any]]:
    """How many tickets are under supervision (rated unsatisfied), and the newest `limit` of
    them: (id, hotline number, category, lead unit, round, rated at)."""
    under = Ticket.status == Status.SUPERVISING.value
    count = count_rows(session, Ticket, under)
    rows = session.execute(
        select(Ticket.id, Ticket.hotline_no, Ticket.category, Ticket.lead_unit, Ticket.round, Ticket.rated_at)
        .where(under)
        .order_by(Ticket.id.desc())
        .limit(limit)
    ).all()
    return count, list(rows)


def pending_extension() -> ColumnElement[bool]:
    """A ticket's extension request still waiting for a decision."""
    return Extension.state == ExtensionState.PENDING.value


def pending_extensions_count(session: Session) -> int:
    """How many tickets' extension requests wait for a decision."""
    return count_rows(session, Extension, pending_extension())


def pending_extension_id(session: Session, ticket_id: str) -> str | None:
    """The ticket's pending extension request, if any (one at a time)."""
    return session.scalar(select(Extension.id).where(Extension.ticket_id == ticket_id, pending_extension()))


def get_extension(session: Session, extension_id: str, *, for_update: bool = False) -> Extension | None:
    """A ticket's extension request by id (locked when `for_update`)."""
    q = select(Extension).where(Extension.id == extension_id)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def extensions_of(session: Session, ticket_id: str) -> list[Extension]:
    """A ticket's extension requests in the order they were made."""
    q = (
        select(Extension)
        .where(Extension.ticket_id == ticket_id)
        .order_by(Extension.requested_at, Extension.id)
    )
    return list(session.scalars(q))


def pending_extensions(session: Session, *, limit: int) -> list[tuple[Extension, Ticket]]:
    """Requests waiting for a decision, oldest first, with their tickets."""
    q = (
        select(Extension, Ticket)
        .join(Ticket, Ticket.id == Extension.ticket_id)
        .where(pending_extension())
        .order_by(Extension.requested_at, Extension.id)
        .limit(limit)
    )
    return [(e, t) for e, t in session.execute(q)]


def unsatisfied_in(period: Period) -> list[ColumnElement[bool]]:
    """A rating given in the period that was not satisfied."""
    return [period.within(Rating.at), Rating.satisfied.is_(False)]


def unsatisfied_ratings(session: Session, period: Period) -> list[Any]:
    """The period's unsatisfied ratings with their tickets, in rating order: (ticket id,
    round, at, rating, comment, hotline number, category, district, status, caller name,
    caller phone, deputy name, unit), as plain rows."""
    return list(
        session.connection()
        .execute(
            select(
                Rating.ticket_id,
                Rating.round,
                Rating.at,
                Rating.rating,
                Rating.comment,
                Ticket.hotline_no,
                Ticket.category,
                Ticket.district,
                Ticket.status,
                Ticket.caller_name,
                Ticket.caller_phone,
                Deputy.name,
                Rating.unit_code.label("unit"),
            )
            .select_from(Rating)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .outerjoin(Deputy, Deputy.id == Ticket.deputy_id)
            .where(*unsatisfied_in(period))
            .order_by(Rating.at, Ticket.hotline_no, Rating.id)
        )
        .all()
    )


def unlinked_calls(session: Session, phones: Collection[str], since: datetime) -> Iterable[Ticket]:
    """Calls from these phones since `since` not yet linked to a deputy, in call order."""
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.deputy_id.is_(None),
            Ticket.caller_phone.in_(phones),
            Ticket.called_at >= since,
        )
        .order_by(Ticket.called_at, Ticket.id)
    )
