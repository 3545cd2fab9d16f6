"""Voters' message queries."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Collection
from typing import Any

from sqlalchemy import Connection, TextClause, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from app.db import in_one_trip
from app.models import Message


def counts_by_reception(session: Session, reception_ids: Collection[str]) -> dict[str, int]:
    """How many messages each of these receptions recorded (absent: none)."""
    if not reception_ids:
        return {}
    q = select(Message.reception_id).where(Message.reception_id.in_(reception_ids))
    return dict(Counter(rid for rid in session.scalars(q) if rid))


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
