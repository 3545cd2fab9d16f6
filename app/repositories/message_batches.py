"""Voters' messages taken in batches by the scheduled jobs: the sweep's response clocks and
unrated messages (app.services.message_sweep) and the voter data past its keeping time
(app.services.retention). Each batch is claimed (app.repositories.batches) and changed with
one UPDATE, below the ORM."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import Message
from app.repositories.batches import claimed
from app.services.message_flow import SETTLED, MsgStatus


def _set(session: Session, ids: Collection[str], values: dict[str, Any]) -> None:
    session.execute(
        update(Message).where(Message.id.in_(ids)).values(values).execution_options(synchronize_session=False)
    )


def due_rows(session: Session, column: str, mark: str, now: datetime, *, limit: int) -> list[Any]:
    """The next `limit` messages awaiting a response whose `column` time ("warn_at",
    "due_at") has come and whose `mark` is not yet set, earliest first, claimed, as rows
    (id, deputy_id, due_at)."""
    col, marked = getattr(Message, column), getattr(Message, mark)
    q = (
        select(Message.id, Message.deputy_id, Message.due_at)
        .where(Message.status == MsgStatus.RECEIVED.value, marked.is_(None), col <= now)
        .order_by(col)
        .limit(limit)
    )
    return list(session.execute(claimed(session, q)))


def mark(session: Session, ids: Collection[str], mark: str, now: datetime) -> None:
    """Record that these messages' response clock was swept (`mark`) at `now`."""
    _set(session, ids, {mark: now})


def touch(session: Session, ids: Collection[str], now: datetime) -> None:
    """These messages changed at `now` (a line was added to their histories)."""
    _set(session, ids, {"updated_at": now})


def unrated(session: Session, settled_by: datetime, *, limit: int) -> list[Any]:
    """The next `limit` settled messages left unrated since `settled_by` or earlier, first
    settled first, claimed, as rows (id, status, settled_at)."""
    q = (
        select(Message.id, Message.status, Message.settled_at)
        .where(Message.status.in_([s.value for s in SETTLED]), Message.settled_at <= settled_by)
        .order_by(Message.settled_at)
        .limit(limit)
    )
    return list(session.execute(claimed(session, q)))


def close(session: Session, ids: Collection[str], now: datetime) -> None:
    """Close these messages at `now`."""
    _set(session, ids, {"status": MsgStatus.CLOSED.value, "closed_at": now})


def past_keeping(session: Session, closed_by: datetime, *, limit: int) -> list[str]:
    """The next `limit` closed messages, closed at `closed_by` or earlier, whose voter data
    is not yet erased, first closed first, claimed."""
    q = (
        select(Message.id)
        .where(
            Message.status == MsgStatus.CLOSED.value,
            Message.voter_erased_at.is_(None),
            Message.closed_at <= closed_by,
        )
        .order_by(Message.closed_at)
        .limit(limit)
    )
    return list(session.scalars(claimed(session, q)))


def erase_voter_data(session: Session, ids: Collection[str], now: datetime) -> None:
    """Erase these messages' voter name and phone and the client address, at `now`."""
    erased = {"voter_name": None, "voter_phone": None, "client_address": None}
    _set(session, ids, {**erased, "voter_erased_at": now, "updated_at": now})
