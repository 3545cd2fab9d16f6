"""Unit queue queries: a ticket's queue rows and what they are derived from, the units'
queue versions, and a poll's statements (its ETag and the four shapes of a page, for the
tickets' rows and the invitations'), built once: building a statement cost as much as
running it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, Row, Select, bindparam, func, literal, select, tuple_, update
from sqlalchemy.orm import Session

from app.models import Assignment, Clock, Invitation, QueueItem, Supervision, Ticket, Unit
from app.repositories import tickets
from app.repositories.clocks import open_clock
from app.repositories.supervision import is_open

INVITED = "invited"  # the role of an invited unit's entry (SPEC Part II, invitations)


def sources(
    session: Session, ticket_id: str
) -> tuple[list[Assignment], list[Clock], list[str], list[QueueItem]]:
    """What a ticket's queue rows follow from, and the rows: its assignments, its open
    clocks (in no order: only their units, kinds and due times count), the units of its
    open supervision cases, and its queue rows."""
    assignments = tickets.assignments_of(session, ticket_id)
    clocks = list(session.scalars(select(Clock).where(Clock.ticket_id == ticket_id, open_clock())))
    supervising = [
        u
        for u in session.scalars(
            select(Supervision.unit_code).where(
                Supervision.ticket_id == ticket_id,
                is_open(),
                Supervision.unit_code.is_not(None),
            )
        )
        if u is not None
    ]
    items = list(session.scalars(select(QueueItem).where(QueueItem.ticket_id == ticket_id)))
    return assignments, clocks, supervising, items


def touch(session: Session, ticket_ids: Collection[str], now: datetime) -> Iterable[str]:
    """Mark these tickets' rows in a queue as changed at `now`; the units of the rows."""
    return session.scalars(
        update(QueueItem)
        .where(QueueItem.ticket_id.in_(ticket_ids), QueueItem.active.is_(True))
        .values(updated_at=now)
        .returning(QueueItem.unit_code)
    )


_RAISE = update(Unit).where(Unit.code == bindparam("unit")).values(queue_version=Unit.queue_version + 1)


def raise_versions(conn: Connection, units: Iterable[str]) -> None:
    """Raise these units' queue versions by one each, in the order given (one statement)."""
    conn.execute(_RAISE, [{"unit": code} for code in units])


def _next_due(unit_code: Any, active: Any, sort_key: Any) -> Any:
    """The unit's next due time after `now` among one table's queue entries."""
    return (
        select(func.min(sort_key))
        .where(
            unit_code == bindparam("unit"), active.is_(True), sort_key > bindparam("now", type_=sort_key.type)
        )
        .scalar_subquery()
    )


# A poll's 304 costs about as much to build as to run: bound per request. The unit's
# invitations (SPEC Part II) are queue entries too, kept on their own rows.
_ETAG = select(
    Unit.code,
    Unit.queue_version,
    _next_due(QueueItem.unit_code, QueueItem.active, QueueItem.sort_key),
    _next_due(Invitation.unit_code, Invitation.queue_active, Invitation.sort_key),
).where(Unit.code == bindparam("unit"))


def version(conn: Connection, unit: str, now: datetime) -> Row[str, int, datetime, datetime] | None:
    """(code, queue version, the next due time after `now` of its tickets' entries, and of
    its invitations') of the unit, or None when there is no such unit: one round trip of
    index seeks, whatever the queue's size."""
    return conn.execute(_ETAG, {"unit": unit, "now": now}).first()


_PAGE_COLUMNS = (
    QueueItem.sort_key,
    Ticket.id,
    QueueItem.role,
    QueueItem.active,
    QueueItem.next_action,
    QueueItem.next_due_at,
    QueueItem.updated_at,
    Ticket.hotline_no,
    Ticket.status,
    Ticket.kind,
    Ticket.category,
    Ticket.district,
    Ticket.urgency,
    Ticket.round,
    Ticket.lead_unit,
    Ticket.called_at,
)


def _page_query(*, since: bool, after: bool) -> Executable:
    q = (
        select(*_PAGE_COLUMNS)
        .join(Ticket, Ticket.id == QueueItem.ticket_id)
        .where(QueueItem.unit_code == bindparam("unit"))
        .order_by(QueueItem.sort_key, QueueItem.ticket_id, QueueItem.role)
        .limit(bindparam("limit"))
    )
    key = (QueueItem.sort_key, QueueItem.ticket_id, QueueItem.role)
    return _window(
        q, since=since, after=after, updated=QueueItem.updated_at, active=QueueItem.active, key=key
    )


def _window(
    q: Select[*tuple[Any, ...]], *, since: bool, after: bool, updated: Any, active: Any, key: tuple[Any, ...]
) -> Select[*tuple[Any, ...]]:
    """A page's rows: changed since an instant, or those still in the queue; after the
    cursor's keyset (sort key, ticket, role) when there is one. Tickets' and invitations'
    pages read the same parameters."""
    q = q.where(updated > bindparam("since", type_=updated.type) if since else active.is_(True))
    if after:
        q = q.where(
            tuple_(*key)
            > tuple_(
                bindparam("after_key", type_=key[0].type),
                bindparam("after_ticket"),
                bindparam("after_role"),
            )
        )
    return q


def _invitation_page_query(*, since: bool, after: bool) -> Executable:
    """The unit's invitations as queue rows, in the tickets' order and keyset: only issued
    letters are the unit's work (a request under review is not)."""
    q = (
        select(
            Invitation.sort_key,
            Invitation.id,
            literal(INVITED).label("role"),
            Invitation.queue_active.label("active"),
            Invitation.next_action,
            Invitation.next_due_at,
            Invitation.updated_at,
            Invitation.number.label("invitation_number"),
            Invitation.subject,
            Invitation.status,
            Invitation.round,
            Invitation.station_code,
        )
        .where(Invitation.unit_code == bindparam("unit"), Invitation.number.is_not(None))
        .order_by(Invitation.sort_key, Invitation.id)
        .limit(bindparam("limit"))
    )
    key = (Invitation.sort_key, Invitation.id, literal(INVITED))
    return _window(
        q, since=since, after=after, updated=Invitation.updated_at, active=Invitation.queue_active, key=key
    )


_PAGES = {
    (since, after): (_page_query(since=since, after=after), _invitation_page_query(since=since, after=after))
    for since in (False, True)
    for after in (False, True)
}


def page(
    conn: Connection, params: dict[str, Any], *, since: bool, after: bool
) -> tuple[list[Row[Any]], list[Row[Any]]]:
    """A unit's first `limit` ticket entries and first `limit` invitation entries in the
    queue's order (key, id, role), as plain rows of the columns a page shows (ORM objects
    cost more to load than the query to run); `params`: unit, limit, since, and with
    `after` the keyset's after_key, after_ticket, after_role."""
    tickets_page, invitations_page = _PAGES[(since, after)]
    # All at once: fetching a page row by row cost a fifth more.
    return list(conn.execute(tickets_page, params).all()), list(conn.execute(invitations_page, params).all())
