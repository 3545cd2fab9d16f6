"""Voters' message queries."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection

from sqlalchemy import select, text
from sqlalchemy.orm import Session

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
    locks = ", ".join(f"pg_advisory_xact_lock(hashtextextended(:k{i}, 17))" for i in range(len(keys)))
    session.execute(text(f"SELECT {locks}"), {f"k{i}": key for i, key in enumerate(keys)})
