"""Ticket queries."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from app.models import Assignment, Deputy, Event, Extension, Rating, Supervision, Ticket, Unit
from app.repositories.clocks import breached_exists
from app.services.vocabulary import ExtensionState

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


def events(session: Session, ticket_id: str) -> list[Event]:
    """A ticket's whole log, in recording order."""
    return list(session.scalars(select(Event).where(Event.ticket_id == ticket_id).order_by(Event.id)))


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
    count = session.scalar(select(func.count()).select_from(Ticket).where(Ticket.status == "supervising"))
    rows = session.execute(
        select(Ticket.id, Ticket.hotline_no, Ticket.category, Ticket.lead_unit, Ticket.round, Ticket.rated_at)
        .where(Ticket.status == "supervising")
        .order_by(Ticket.id.desc())
        .limit(limit)
    ).all()
    return int(count or 0), list(rows)


def pending_extension() -> ColumnElement[bool]:
    """A ticket's extension request still waiting for a decision."""
    return Extension.state == ExtensionState.PENDING.value


def pending_extensions_count(session: Session) -> int:
    """How many tickets' extension requests wait for a decision."""
    q = select(func.count()).select_from(Extension).where(pending_extension())
    return int(session.scalar(q) or 0)


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
