"""Voters' message queries."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
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

from app.db import in_one_trip
from app.models import CalendarYear, DeputyCode, Message, MessageEvent
from app.services.calendar_in_force import signature_columns


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
    row = conn.execute(_FROM_ADDRESS, {"address": address, "address_since": since, "address_cap": cap}).one()
    return int(row[0]), row[1]


# Everything a public submission looks up, in one round trip; built once.
_PUBLIC_LOOKUP = select(
    select(DeputyCode.deputy_id)
    .where(DeputyCode.code == bindparam("code"), DeputyCode.state == "active")
    .scalar_subquery(),
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
        exists().where(
            DeputyCode.code == bindparam("code"), DeputyCode.state == "active", DeputyCode.deputy_id == deputy
        ),
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
    """On PostgreSQL, the senders' transaction locks (as `lock_senders` takes them), `first`
    and `second` in one transaction sent in one round trip (`db.in_one_trip`): each
    statement takes its snapshot after the locks are held, so concurrent writers of one
    sender still see each other's rows. Returns how many rows `first` wrote."""
    return in_one_trip(conn, [_sender_locks(senders), (first, params), (second, params)])[1]
