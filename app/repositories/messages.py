"""Voters' message queries: the public form's (its look-ups and its one-trip write), the
reads a reader's scope narrows, and the look-ups of recording and forwarding a message."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    TextClause,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from app.db import first_row, in_one_trip
from app.models import CalendarYear, DeputyCode, Message, MessageEvent, StationDeputy, Unit
from app.repositories.calendars import signature_columns
from app.repositories.codes import is_active


def counts_by_reception(session: Session, reception_ids: Collection[str]) -> dict[str, int]:
    """How many messages each of these receptions recorded (absent: none)."""
    if not reception_ids:
        return {}
    q = select(Message.reception_id).where(Message.reception_id.in_(reception_ids))
    return dict(Counter(rid for rid in session.scalars(q) if rid))


def _counted(column: Any, key: str) -> tuple[Any, Any]:
    """The sender's messages since an instant, counted up to the limit and no further (a
    limit is only ever compared with it: an address that has sent thousands costs what one
    at its limit costs), and the oldest of them (one step down the sender's index)."""
    where = (column == bindparam(key), Message.received_at > bindparam(f"{key}_since"))
    first = select(literal_column("1")).where(*where).limit(bindparam(f"{key}_cap")).subquery()
    return (
        select(func.count()).select_from(first).scalar_subquery(),
        select(func.min(Message.received_at)).where(*where).scalar_subquery(),
    )


_FROM_ADDRESS = select(*_counted(Message.client_address, "address"))


def recent_from_address(
    conn: Connection, address: str, since: datetime, cap: int
) -> tuple[int, datetime | None]:
    """Messages stored from an address since an instant (counted up to `cap`), and the
    oldest of them (one query on a connection of its own, no transaction: the only one a
    refused submission makes)."""
    row = first_row(conn, _FROM_ADDRESS, {"address": address, "address_since": since, "address_cap": cap})
    assert row is not None  # an aggregate's one row
    return int(row[0]), row[1]


# Everything a public submission looks up, in one round trip; built once.
_PUBLIC_LOOKUP = select(
    select(DeputyCode.deputy_id).where(*is_active(bindparam("code"))).scalar_subquery(),
    *_counted(Message.client_address, "address"),
    *_counted(Message.voter_phone, "phone"),
    *signature_columns(),
)


def public_lookup(
    conn: Connection,
    code: str,
    address: tuple[str, datetime],
    phone: tuple[str, datetime],
    caps: tuple[int, int],
) -> tuple[Any, ...]:
    """The active code's deputy (None if none), each sender's recent messages (an address or
    phone since an instant, counted up to its cap) and the oldest of them, and the working
    calendar's signature: one statement."""
    row = conn.execute(
        _PUBLIC_LOOKUP,
        {
            "code": code,
            "address": address[0],
            "address_since": address[1],
            "phone": phone[0],
            "phone_since": phone[1],
            "address_cap": caps[0],
            "phone_cap": caps[1],
        },
    ).one()
    return tuple(row)


def _bound(table: Any, names: list[str], prefix: str = "") -> list[Any]:
    return [bindparam(prefix + n, type_=table.c[n].type) for n in names]


# The columns a new message's rows fill (messages.public_rows builds them); the statements
# name these, and store_public_params refuses rows that fill others, so a column added to
# the rows cannot be dropped here without a word.
_MESSAGE_COLUMNS = frozenset({
    "id", "tracking_code", "tracking_hash", "deputy_id", "channel", "content", "voter_name",
    "voter_phone", "client_address", "district", "station_code", "reception_id", "status",
    "received_at", "due_at", "warn_at", "provisional", "recorded_by", "created_at", "updated_at",
})  # fmt: skip
_EVENT_COLUMNS = frozenset({"message_id", "at", "recorded_at", "actor", "actor_role", "type", "data"})


def _store_public_statements() -> tuple[Any, Any]:
    """A public message's two rows as two INSERT ... SELECT, each written only if it may be:
    the message while its code is active for its deputy, both senders are under their
    limits and the calendar its due date was reckoned on is still the one in force (the
    same conditions `public_intake` reads, checked by the write itself); its first event
    only if the message was written. Nothing is written otherwise."""
    messages, events = Message.__table__, MessageEvent.__table__
    message_columns, event_columns = sorted(_MESSAGE_COLUMNS), sorted(_EVENT_COLUMNS)
    values = _bound(messages, message_columns)
    deputy = values[message_columns.index("deputy_id")]
    by_address, _ = _counted(Message.client_address, "address")
    by_phone, _ = _counted(Message.voter_phone, "phone")
    cal_count, cal_latest = signature_columns()
    latest = bindparam("cal_latest", type_=CalendarYear.__table__.c.updated_at.type)
    may = select(*values).where(
        exists().where(*is_active(bindparam("code")), DeputyCode.deputy_id == deputy),
        by_address < bindparam("address_cap"),
        by_phone < bindparam("phone_cap"),
        cal_count == bindparam("cal_count"),
        cal_latest.is_not_distinct_from(latest),
    )
    written = select(*_bound(events, event_columns, "e_")).where(
        exists().where(Message.id == bindparam("e_message_id"))
    )
    return (
        insert(Message).from_select(message_columns, may, include_defaults=False),
        insert(MessageEvent).from_select(event_columns, written, include_defaults=False),
    )


STORE_PUBLIC_MESSAGE, STORE_PUBLIC_EVENT = _store_public_statements()


def store_public_params(
    row: dict[str, Any],
    event: dict[str, Any],
    code: str,
    since: tuple[datetime, datetime],
    caps: tuple[int, int],
    signature: tuple[int, datetime | None],
) -> dict[str, Any]:
    """The parameters of STORE_PUBLIC_MESSAGE and STORE_PUBLIC_EVENT: the rows (`public_rows`),
    the code, each limit's window start and cap (the address's then the phone's), and the
    signature of the calendar the due date was reckoned on."""
    if row.keys() != _MESSAGE_COLUMNS or event.keys() != _EVENT_COLUMNS:
        raise ValueError("the public message's rows fill other columns than its statements write")
    return {
        **row,
        **{f"e_{k}": v for k, v in event.items()},
        "code": code,
        "address": row["client_address"],
        "address_since": since[0],
        "address_cap": caps[0],
        "phone": row["voter_phone"],
        "phone_since": since[1],
        "phone_cap": caps[1],
        "cal_count": signature[0],
        "cal_latest": signature[1],
    }


def lock_senders(session: Session, keys: Collection[str]) -> None:
    """On PostgreSQL, take a transaction lock per sender key (an address, a phone), so that
    concurrent submissions from one sender count each other's rows; SQLite's single writer
    already orders them."""
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return
    # One statement, one round trip; the locks are taken in the order given. Its own
    # statement: what the caller counts next must be read after the locks are held.
    session.execute(*_sender_locks(keys))


def _sender_locks(keys: Collection[str]) -> tuple[TextClause, dict[str, str]]:
    return _locks_statement(len(keys)), {f"k{i}": key for i, key in enumerate(keys)}


@functools.cache
def _locks_statement(n: int) -> TextClause:
    return text(
        "SELECT " + ", ".join(f"pg_advisory_xact_lock(hashtextextended(:k{i}, 17))" for i in range(n))
    )


def write_in_one_trip(
    conn: Connection, senders: tuple[str, str], first: Executable, second: Executable, params: dict[str, Any]
) -> int:
    """`first` and `second` in one short transaction (`db.in_one_trip`). On PostgreSQL, after
    the senders' transaction locks (as `lock_senders` takes them), all in one round trip:
    each statement takes its snapshot after the locks are held, so concurrent writers of
    one sender still see each other's rows. On SQLite (`conn` the writer's), BEGIN
    IMMEDIATE orders every writer already. Returns how many rows `first` wrote."""
    steps = [(first, params), (second, params)]
    if conn.dialect.name != "postgresql":
        return in_one_trip(conn, steps)[0]
    return in_one_trip(conn, [_sender_locks(senders), *steps])[1]


_INSERT_MESSAGE = insert(Message)
_INSERT_EVENT = insert(MessageEvent)


def insert_rows(conn: Connection, row: dict[str, Any], event: dict[str, Any]) -> None:
    """A new message's row and its first event's, as two plain INSERTs (no unit of work)."""
    conn.execute(_INSERT_MESSAGE, row)
    conn.execute(_INSERT_EVENT, event)


# --- recording and forwarding -----------------------------------------------------------------


def deputy_at_station(session: Session, deputy_id: str, station_code: str) -> bool:
    """The deputy belongs to the station (a station records messages for its own only)."""
    return bool(
        session.scalar(
            select(
                exists().where(
                    StationDeputy.station_code == station_code, StationDeputy.deputy_id == deputy_id
                )
            )
        )
    )


def units_named(session: Session, codes: Collection[str]) -> dict[str, Unit]:
    """code -> unit, of those of these codes a forwarded message names that exist."""
    return {u.code: u for u in session.scalars(select(Unit).where(Unit.code.in_(codes)))}


def townships_of(session: Session, district: str) -> list[str]:
    """The codes of the district's township governments, by code (where a township matter
    goes when the message names none)."""
    q = select(Unit.code).where(Unit.kind == "township", Unit.district == district).order_by(Unit.code)
    return list(session.scalars(q))


# --- reads: a reader's scope is a predicate (None: every message) --------------------------------


def to_deputy(deputy_id: str | None) -> ColumnElement[bool]:
    """A message to this deputy."""
    return Message.deputy_id == deputy_id


def to_station(station_code: str | None) -> ColumnElement[bool]:
    """A message to one of the station's deputies."""
    return Message.deputy_id.in_(
        select(StationDeputy.deputy_id).where(StationDeputy.station_code == station_code)
    )


def no_message() -> ColumnElement[bool]:
    """No message at all (a reader who may read none)."""
    return Message.id.is_(None)


def get(
    session: Session, message_id: str, *, scope: ColumnElement[bool] | None = None, for_update: bool = False
) -> Message | None:
    """One message by id, if within the scope (locked for the transaction when `for_update`)."""
    q = select(Message).where(Message.id == message_id)
    if scope is not None:
        q = q.where(scope)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


@dataclass
class MessageFilter:
    """The message list's filters (GET /api/v1/messages)."""

    deputy_id: str | None = None
    station: str | None = None
    status: str | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None


def listed(
    session: Session,
    f: MessageFilter,
    *,
    scope: ColumnElement[bool] | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Message]:
    """Messages within the scope, filtered, newest first, after the cursor's (received at,
    id), at most `limit`."""
    q = select(Message)
    if scope is not None:
        q = q.where(scope)
    if f.deputy_id is not None:
        q = q.where(to_deputy(f.deputy_id))
    if f.station is not None:
        q = q.where(to_station(f.station))
    if f.status is not None:
        q = q.where(Message.status == f.status)
    if f.received_from is not None:
        q = q.where(Message.received_at >= f.received_from)
    if f.received_to is not None:
        q = q.where(Message.received_at < f.received_to)
    if after is not None:
        at, mid = after
        q = q.where((Message.received_at < at) | ((Message.received_at == at) & (Message.id < mid)))
    return list(session.scalars(q.order_by(Message.received_at.desc(), Message.id.desc()).limit(limit)))


def events(session: Session, message_id: str) -> list[MessageEvent]:
    """A message's history, in recording order."""
    q = select(MessageEvent).where(MessageEvent.message_id == message_id).order_by(MessageEvent.id)
    return list(session.scalars(q))


def by_tracking_hash(session: Session, digest: str) -> Message | None:
    """The message whose tracking code hashes to this digest (the unique index's probe)."""
    return session.scalar(select(Message).where(Message.tracking_hash == digest))
