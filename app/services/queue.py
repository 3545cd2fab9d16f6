"""Unit queues: kept current on every change, read as one keyset scan per page."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, event
from sqlalchemy.orm import Session, sessionmaker

from app.models import Assignment, Clock, QueueItem, Ticket
from app.repositories import queue as queue_repo
from app.repositories.queue import INVITED
from app.services.context import Ctx
from app.services.rows import insert_rows, row_of
from app.services.sla import ClockKind
from app.services.views import local
from app.services.workflow import in_queues

FAR_FUTURE = datetime(9999, 1, 1, tzinfo=UTC)
LEAD_ORDER = (ClockKind.CONTACT.value, ClockKind.RESOLVE.value, ClockKind.FEEDBACK.value)


def _desired(
    ctx: Ctx,
    ticket: Ticket,
    assignments: Sequence[Assignment],
    clocks: Sequence[Clock],
    supervising: list[str],
) -> dict[tuple[str, str], tuple[str, datetime | None]]:
    """What each unit should see for this ticket: (unit, role) -> (next_action, next_due_at)."""
    want: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    if in_queues(ticket.status):
        roles = {a.unit_code: a.role for a in assignments if a.active}
        by_unit: dict[str, list[Clock]] = {}
        for c in clocks:
            if c.met_at is None and c.cancelled_at is None:
                by_unit.setdefault(c.unit_code, []).append(c)
        for unit, open_ in by_unit.items():
            role = roles.get(unit)
            if role is None:
                continue
            due = min(c.due_at for c in open_)
            kinds = {c.kind for c in open_}
            if role == "lead":
                action = next((k for k in LEAD_ORDER if k in kinds), None)
                if action:
                    want[(unit, "lead")] = (action, due)
            elif ClockKind.OPINION.value in kinds:
                want[(unit, "co")] = ("opinion", due)
    for unit in supervising:
        want[(unit, "supervisor")] = ("supervise", None)
    return want


def refresh_queue(
    ctx: Ctx,
    ticket: Ticket,
    *,
    fresh: tuple[Sequence[Assignment], Sequence[Clock]] | None = None,
) -> None:
    """Bring this ticket's queue rows in line with its state; every row it touches is 'changed'.

    `fresh`: a ticket just created in this transaction, with all its assignments and clocks,
    so there is nothing to read back (intake's hot path)."""
    if fresh is None:
        ctx.session.flush()
    now = ctx.now()
    rows: dict[tuple[str, str], QueueItem] = {}
    assignments: Sequence[Assignment]
    clocks: Sequence[Clock]
    if fresh is not None:
        assignments, clocks = fresh
        supervising: list[str] = []
    else:
        assignments, clocks, supervising, items = queue_repo.sources(ctx.session, ticket.id)
        rows = {(r.unit_code, r.role): r for r in items}
    want = _desired(ctx, ticket, assignments, clocks, supervising)
    if fresh is not None:
        insert_rows(
            ctx.session,
            QueueItem,
            [
                row_of(
                    QueueItem,
                    {
                        "unit_code": unit,
                        "ticket_id": ticket.id,
                        "role": role,
                        "active": True,
                        "next_action": action,
                        "next_due_at": due,
                        "sort_key": due or FAR_FUTURE,
                        "updated_at": now,
                    },
                )
                for (unit, role), (action, due) in want.items()
            ],
        )
        changed(ctx.session, (unit for unit, _ in want))
        return
    for key, (action, due) in want.items():
        row = rows.get(key)
        if row is None:
            row = QueueItem(unit_code=key[0], ticket_id=ticket.id, role=key[1])
            ctx.session.add(row)
        row.active, row.next_action, row.next_due_at = True, action, due
        row.sort_key = due or FAR_FUTURE
        row.updated_at = now
    # Every unit with a row for the ticket: a row out of the queue still shows the ticket's
    # summary to `updated_since` polls.
    units = {unit for unit, _ in want} | {unit for unit, _ in rows}
    for key, row in rows.items():
        if key not in want and row.active:
            row.active, row.next_action, row.next_due_at = False, None, None
            row.updated_at = now
            units.add(key[0])
    changed(ctx.session, units)
    ctx.session.flush()


def touch(ctx: Ctx, ticket_ids: Iterable[str]) -> None:
    """Mark tickets' queue rows as changed (e.g. a breach recorded), without recomputing."""
    ids = list(set(ticket_ids))
    if ids:
        changed(ctx.session, queue_repo.touch(ctx.session, ids, ctx.now()))


# --- queue versions ------------------------------------------------------------------------
#
# A poll's ETag rests on a per-unit counter, raised in the same transaction as any change to
# the unit's queue rows. Row timestamps cannot serve: a transaction that commits after
# another can carry the earlier time (or, under a fixed clock, the same one), and a poll
# between the two commits would then never see it. The raise takes the unit row's lock, so
# concurrent changes to one unit's queue commit in the order of their versions; the units
# are raised once per transaction, in code order, so two transactions cannot deadlock.

_UNITS_KEY = "hotline.queue_units"


def changed(session: Session, units: Iterable[str]) -> None:
    """Record that these units' queues change in the session's current transaction."""
    session.info.setdefault(_UNITS_KEY, set()).update(units)


def track_versions(factory: sessionmaker[Session]) -> None:
    """Raise the queue versions of the units `changed` in a transaction when it commits,
    for every session `factory` makes (app.db does it for the writing sessions)."""
    event.listen(factory, "before_commit", _raise_versions)
    event.listen(factory, "after_transaction_end", _forget_versions)


def _raise_versions(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the units are raised when the whole transaction commits
    if not session.info.get(_UNITS_KEY):
        return
    session.flush()  # every other write first, so the unit locks are held the least
    units = session.info.pop(_UNITS_KEY)
    queue_repo.raise_versions(session.connection(), sorted(units))


def _forget_versions(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the whole transaction ended (rolled back or closed)
        session.info.pop(_UNITS_KEY, None)


def etag(ctx: Ctx, unit: str, params: str) -> str | None:
    """Changes when the unit's queue changes (its version) or the clock passes its next due
    time.

    One round trip of index seeks, whatever the queue's size: no page is built to decide a
    304. None when there is no such unit."""
    row = queue_repo.version(ctx.session.connection(), unit, ctx.now())
    if row is None:
        return None
    _, version, due, invitation_due = row
    raw = f"{unit}|{params}|{version}|{due}|{invitation_due}"
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def read_queue(
    ctx: Ctx,
    *,
    unit: str,
    limit: int,
    after: tuple[datetime, str, str] | None,
    updated_since: datetime | None,
) -> list[Row[Any]]:
    """One page, nearest due first; with updated_since also the rows that left the queue.
    Tickets' and invitations' entries in one order: each source gives its first `limit`,
    and the page is the first `limit` of both.

    Plain rows of the columns a page shows: loading ORM objects cost more than the query."""
    params: dict[str, Any] = {"unit": unit, "limit": limit, "since": updated_since}
    if after is not None:
        params.update(after_key=after[0], after_ticket=after[1], after_role=after[2])
    rows, invited = queue_repo.page(
        ctx.session.connection(), params, since=updated_since is not None, after=after is not None
    )
    if not invited:
        return rows
    merged = sorted(rows + invited, key=lambda r: (r.sort_key, r.id, r.role))
    return merged[:limit]


def item_view(row: Sequence[Any], now: datetime, tz: Any) -> dict[str, Any]:
    """A queue item as the API shows it: a ticket's, or an invitation's."""
    # Unpacked by position (app.repositories.queue's page columns, in their order): reading
    # a row's values by name cost four times as much as the rest of building the view. An
    # invitation's entry is told by its role, which no ticket's entry has.
    if row[2] == INVITED:
        (_, id_, role, active, action, due, updated, number, subject, status, round_, station) = row
        source: dict[str, Any] = {
            "kind": "invitation",
            "invitation": {
                "id": id_,
                "number": number,
                "subject": subject,
                "status": status,
                "round": round_,
                "station": station,
            },
        }
    else:
        (
            _,
            id_,
            role,
            active,
            action,
            due,
            updated,
            hotline_no,
            status,
            kind,
            category,
            district,
            urgency,
            round_,
            lead_unit,
            called_at,
        ) = row
        source = {
            "kind": "ticket",
            "ticket": {  # a ticket in a list (app.schemas.tickets.TicketSummary)
                "id": id_,
                "hotline_no": hotline_no,
                "status": status,
                "kind": kind,
                "category": category,
                "district": district,
                "urgency": urgency,
                "round": round_,
                "lead_unit": lead_unit,
                "called_at": local(called_at, tz),
            },
        }
    return {
        **source,
        "role": role,
        "next_action": action,
        "next_due_at": local(due, tz),
        "breached": due is not None and due <= now,
        "in_queue": active,
        "updated_at": local(updated, tz),
    }
