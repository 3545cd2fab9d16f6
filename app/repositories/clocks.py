"""Clock queries: tickets' clocks and invitations' clocks share their columns and their
one definition of "open". The sweep's batches (`due_rows`, `mark`) and the recomputation
after a calendar change (`open_from`) read them here too."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, exists, func, literal_column, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Clock, Deputy, Extension, Invitation, InvitationClock, Ticket
from app.repositories.batches import claimed

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


# --- the sweep's batches --------------------------------------------------------------------

# The mark each due time is recorded in, once.
_MARKS = {"due_at": "breach_recorded_at", "warn_at": "warned_at", "escalate_at": "escalated_at"}


def due_rows(
    session: Session, column: str, now: datetime, model: ClockTable = Clock, *, limit: int
) -> list[Any]:
    """The next `limit` open clocks whose `column` time ("warn_at", "due_at") has come and
    is not yet marked, earliest first, claimed, as plain rows (id, owner_id, kind, unit_code,
    round, due_at): the sweep marks a batch with one UPDATE instead of loading (and flushing)
    thousands of ORM objects one by one.

    `model`: a ticket's clocks, or an invitation's (same columns, `invitation_id` for
    `ticket_id`)."""
    col = getattr(model, column)
    mark = getattr(model, _MARKS[column])
    owner = model.ticket_id if model is Clock else InvitationClock.invitation_id
    q = (
        select(model.id, owner.label("owner_id"), model.kind, model.unit_code, model.round, model.due_at)
        .where(open_clock(model), mark.is_(None), col <= now)
        .order_by(col)
        .limit(limit)
    )
    return list(session.execute(claimed(session, q)))


def due_clocks(session: Session, column: str, now: datetime, *, limit: int) -> list[Clock]:
    """Like `due_rows`, as tickets' clocks (ORM objects): the long-overdue batch, whose cases
    read and change them one by one."""
    col = getattr(Clock, column)
    mark = getattr(Clock, _MARKS[column])
    q = select(Clock).where(open_clock(), mark.is_(None), col <= now).order_by(col).limit(limit)
    return list(session.scalars(claimed(session, q)))


def mark(session: Session, column: str, ids: list[int], now: datetime, model: ClockTable = Clock) -> None:
    """Record that these clocks' `column` time was swept at `now` (one UPDATE, below the ORM)."""
    session.execute(
        update(model)
        .where(model.id.in_(ids))
        .values({_MARKS[column]: now})
        .execution_options(synchronize_session=False)
    )


def tickets_of(session: Session, ticket_ids: Collection[str]) -> dict[str, Ticket]:
    """The tickets owning a batch of clocks, by id."""
    return {t.id: t for t in session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))}


def invitations_of(session: Session, invitation_ids: Collection[str]) -> dict[str, Invitation]:
    """The invitations owning a batch of clocks, by id."""
    return {i.id: i for i in session.scalars(select(Invitation).where(Invitation.id.in_(invitation_ids)))}


# --- after a calendar change ----------------------------------------------------------------


def open_from(session: Session, boundary: datetime) -> Iterable[Clock]:
    """The tickets' open clocks that fall due, or go long overdue, at or after `boundary`,
    ticket by ticket."""
    return session.scalars(
        select(Clock)
        .where(
            open_clock(),
            (Clock.due_at >= boundary) | (Clock.escalate_at >= boundary),
        )
        .order_by(Clock.ticket_id, Clock.id)
    )


def invitation_open_from(session: Session, boundary: datetime) -> Iterable[InvitationClock]:
    """The invitations' open clocks that fall due at or after `boundary`, invitation by
    invitation."""
    return session.scalars(
        select(InvitationClock)
        .where(
            open_clock(InvitationClock),
            InvitationClock.due_at >= boundary,
        )
        .order_by(InvitationClock.invitation_id, InvitationClock.id)
    )


def pending_extensions_of(session: Session, clock_ids: Collection[int]) -> Iterable[Extension]:
    """The extension requests of these resolve clocks still waiting for a decision."""
    # Imported here: the tickets' queries import this module (`breached_exists`).
    from app.repositories.tickets import pending_extension

    return session.scalars(select(Extension).where(Extension.clock_id.in_(clock_ids), pending_extension()))
