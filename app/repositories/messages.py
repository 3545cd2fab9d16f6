"""Voters' message queries."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection
from typing import Any

import psycopg
from sqlalchemy import Connection, Dialect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.expression import Executable

from app.models import Message


def counts_by_reception(session: Session, reception_ids: Collection[str]) -> dict[str, int]:
    """How many messages each of these receptions recorded (absent: none)."""
    if not reception_ids:
        return {}
    q = select(Message.reception_id).where(Message.reception_id.in_(reception_ids))
    return dict(Counter(rid for rid in session.scalars(q) if rid))


_LOCKS = (
    "SELECT pg_advisory_xact_lock(hashtextextended(%s, 17)), pg_advisory_xact_lock(hashtextextended(%s, 17))"
)


def lock_senders(session: Session, keys: Collection[str]) -> None:
    """On PostgreSQL, take a transaction lock per sender key (an address, a phone), so that
    concurrent submissions from one sender count each other's rows; SQLite's single writer
    already orders them."""
    if session.get_bind().dialect.name != "postgresql" or not keys:
        return
    # One statement, one round trip; the locks are taken in the order given. Its own
    # statement: what the caller counts next must be read after the locks are held.
    locks = ", ".join(f"pg_advisory_xact_lock(hashtextextended(:k{i}, 17))" for i in range(len(keys)))
    session.execute(text(f"SELECT {locks}"), {f"k{i}": key for i, key in enumerate(keys)})


@functools.cache
def _compiled(statement: Executable, dialect: Dialect) -> Compiled:
    return statement.compile(dialect=dialect)  # type: ignore[attr-defined,no-any-return]


@functools.cache
def _processors(compiled: Compiled, dialect: Dialect) -> dict[str, Any]:
    """Each bound name's bind processor, from the types' public API (what SQLAlchemy's own
    execution applies before handing values to the driver)."""
    found = {}
    for bind, name in compiled.bind_names.items():  # type: ignore[attr-defined]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found[name] = process
    return found


def _driver_params(compiled: Compiled, dialect: Dialect, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters as SQLAlchemy would hand them to the driver (types' bind processing)."""
    values = dict(compiled.construct_params(params) or {})
    for name, process in _processors(compiled, dialect).items():
        if values.get(name) is not None:
            values[name] = process(values[name])
    return values


def write_in_one_trip(
    conn: Connection, senders: tuple[str, str], first: Executable, second: Executable, params: dict[str, Any]
) -> int:
    """On PostgreSQL, one transaction in one round trip: BEGIN, the senders' transaction
    locks (as `lock_senders` takes them), `first`, `second`, COMMIT, sent together in
    pipeline mode on a connection in autocommit. Each statement takes its snapshot when it
    starts, after the locks are held, so concurrent writers of one sender still see each
    other's rows; the locks are held for the server's work alone, never for a trip back
    to this process. Returns how many rows `first` wrote. On an error nothing is kept
    (the transaction is rolled back) and the error is SQLAlchemy's, as any query's."""
    raw = conn.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection) and raw.autocommit
    one, two = (_compiled(s, conn.dialect) for s in (first, second))
    control, written, after = raw.cursor(), raw.cursor(), raw.cursor()
    try:
        with raw.pipeline():
            control.execute("BEGIN")
            control.execute(_LOCKS, senders)
            written.execute(one.string, _driver_params(one, conn.dialect, params))
            after.execute(two.string, _driver_params(two, conn.dialect, params))
            control.execute("COMMIT")
        return written.rowcount
    except psycopg.Error as exc:
        if not raw.broken and raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            raw.rollback()
        elif raw.broken:
            conn.invalidate(exc)
        raise DBAPIError.instance(
            one.string, None, exc, psycopg.Error, connection_invalidated=raw.broken, dialect=conn.dialect
        ) from exc
    finally:
        for cursor in (control, written, after):
            cursor.close()
