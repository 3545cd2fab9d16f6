"""Clock queries: tickets' clocks and invitations' clocks share their columns and their
one definition of "open"."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Clock, Deputy, InvitationClock, Ticket

if TYPE_CHECKING:
    from app.services.reports.period import Period

ClockTable = type[Clock] | type[InvitationClock]


def open_clock(model: ClockTable = Clock) -> ColumnElement[bool]:
    """A clock still running: neither met nor cancelled (the partial indexes' condition)."""
    return and_(model.met_at.is_(None), model.cancelled_at.is_(None))


def missed_due(model: ClockTable = Clock) -> ColumnElement[bool]:
    """Not met by its due time: unmet, or met at or after it (the late-resolve index's term)."""
    return or_(model.met_at.is_(None), model.met_at >= model.due_at)


def breached_exists(
    ticket_id: ColumnElement[str] | InstrumentedAttribute[str], now: datetime
) -> ColumnElement[bool]:
    """The ticket has an open clock whose due time has passed."""
    return exists().where(Clock.ticket_id == ticket_id, open_clock(), Clock.due_at <= now)


def open_clocks(session: Session, ticket_id: str) -> list[Clock]:
    """A ticket's open clocks, in creation order."""
    return list(
        session.scalars(select(Clock).where(Clock.ticket_id == ticket_id, open_clock()).order_by(Clock.id))
    )


def overdue(period: Period) -> list[Any]:
    """A resolve clock that should have been resolved by the cut-off and was not."""
    # Due by the cut-off and unmet at it implies unmet or met late: the first two terms are
    # ix_clocks_resolve_late_due's predicate, written out term for term (a literal, not a
    # bound value) so that both engines can prove it and read only that index.
    return [
        Clock.kind == literal_column("'resolve'"),
        missed_due(),
        Clock.due_at <= period.cutoff,
        period.not_acted(Clock.met_at),
        period.not_acted(Clock.cancelled_at),
    ]


def judgement(period: Period) -> tuple[Any, Any]:
    """(on time, late) of a clock as of the cut-off: met before its due time; met at or
    after it, or still unmet (and not cancelled) once it has passed. A clock running and
    not yet due is neither (SPEC "Reports": on-time rates)."""
    met = and_(Clock.met_at.is_not(None), period.acted(Clock.met_at))
    on_time = and_(met, Clock.met_at < Clock.due_at)
    late = and_(met, Clock.met_at >= Clock.due_at) | and_(
        period.not_acted(Clock.met_at), period.not_acted(Clock.cancelled_at), Clock.due_at <= period.cutoff
    )
    return on_time, late


def overdue_now(session: Session, period: Period, *, limit: int) -> tuple[int, list[Any]]:
    """How many resolve clocks are overdue as of the period's cut-off and still open, and
    the first `limit` of them, nearest due first, with their tickets; the two terms that
    let the database read only open clocks are added to the report's rule."""
    terms = [*overdue(period), open_clock()]
    count = session.scalar(select(func.count()).select_from(Clock).where(*terms))
    rows = session.execute(
        select(
            Ticket.id,
            Ticket.hotline_no,
            Ticket.category,
            Ticket.urgency,
            Clock.unit_code,
            Clock.round,
            Clock.due_at,
        )
        .select_from(Clock)
        .join(Ticket, Ticket.id == Clock.ticket_id)
        .where(*terms)
        .order_by(Clock.due_at, Clock.id)
        .limit(limit)
    ).all()
    return int(count or 0), list(rows)


def breached_between(session: Session, since: datetime, now: datetime) -> int:
    """How many clocks fell due from `since` to `now` unmet by then (cancelled only after)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Clock)
            .where(
                Clock.due_at >= since,
                Clock.due_at <= now,
                missed_due(),
                (Clock.cancelled_at.is_(None)) | (Clock.cancelled_at > Clock.due_at),
            )
        )
        or 0
    )


def overdue_with_tickets(session: Session, period: Period) -> list[Any]:
    """The overdue resolve clocks as of the period's cut-off with their tickets and callers'
    deputies, nearest due first: (ticket id, hotline number, category, district, urgency,
    called at, status, caller name, caller phone, deputy name, unit, round, due, met), as
    plain rows."""
    return list(
        session.connection()
        .execute(
            select(
                Ticket.id,
                Ticket.hotline_no,
                Ticket.category,
                Ticket.district,
                Ticket.urgency,
                Ticket.called_at,
                Ticket.status,
                Ticket.caller_name,
                Ticket.caller_phone,
                Deputy.name,
                Clock.unit_code,
                Clock.round,
                Clock.due_at,
                Clock.met_at,
            )
            .select_from(Clock)
            .join(Ticket, Ticket.id == Clock.ticket_id)
            .outerjoin(Deputy, Deputy.id == Ticket.deputy_id)
            .where(*overdue(period))
            .order_by(Clock.due_at, Ticket.hotline_no, Clock.id)
        )
        .all()
    )


def uncancelled_of(session: Session, ticket_id: str, kind: str, round_: int, unit: str) -> Clock | None:
    """The unit's latest clock of this kind in the round, not cancelled (met or not)."""
    return session.scalar(
        select(Clock)
        .where(
            Clock.ticket_id == ticket_id,
            Clock.kind == kind,
            Clock.round == round_,
            Clock.unit_code == unit,
            Clock.cancelled_at.is_(None),
        )
        .order_by(Clock.id.desc())
        .limit(1)
    )
