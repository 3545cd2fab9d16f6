"""The sweep's part of voters' messages: each response clock's warning and breach recorded
once, and the messages not rated in time closed. Runs inside the SLA sweep (its lock, its
transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app.models import Message, MessageEvent
from app.services.context import Ctx
from app.services.message_flow import SETTLED, MsgStatus

BATCH = 1000


@dataclass
class MessageSweep:
    warned: int = 0
    breached: int = 0
    closed: int = 0


def _due_rows(ctx: Ctx, column: str, mark: str, now: datetime) -> list[Any]:
    col, marked = getattr(Message, column), getattr(Message, mark)
    q = (
        select(Message.id, Message.deputy_id, Message.due_at)
        .where(Message.status == MsgStatus.RECEIVED.value, marked.is_(None), col <= now)
        .order_by(col)
        .limit(BATCH)
    )
    if ctx.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    return list(ctx.session.execute(q))


def _events(ctx: Ctx, rows: list[tuple[str, datetime, str, dict[str, Any]]]) -> None:
    now = ctx.now()
    if rows:
        ctx.session.add_all(
            MessageEvent(
                message_id=mid,
                at=at,
                recorded_at=now,
                actor=ctx.actor.name,
                actor_role=ctx.actor.role,
                type=type_,
                data=data,
            )
            for mid, at, type_, data in rows
        )
        ctx.session.execute(
            update(Message)
            .where(Message.id.in_([r[0] for r in rows]))
            .values(updated_at=now)
            .execution_options(synchronize_session=False)
        )


def sweep(ctx: Ctx) -> MessageSweep:
    """Record each response clock's warning and breach once, and close the messages not rated
    in time. Runs inside the SLA sweep (its lock, its transaction)."""
    result, now = MessageSweep(), ctx.now()
    for column, mark, type_ in (
        ("warn_at", "warned_at", "message.clock_warning"),
        ("due_at", "breach_recorded_at", "message.clock_breached"),
    ):
        while rows := _due_rows(ctx, column, mark, now):
            ids = [r.id for r in rows]
            ctx.session.execute(
                update(Message)
                .where(Message.id.in_(ids))
                .values({mark: now})
                .execution_options(synchronize_session=False)
            )
            if column == "warn_at":
                rows = [r for r in rows if r.due_at > now]  # past due: the breach says it all
                result.warned += len(rows)
            else:
                result.breached += len(rows)
            _events(
                ctx,
                [
                    (
                        r.id,
                        now if column == "warn_at" else r.due_at,
                        type_,
                        {"deputy_id": r.deputy_id, "due_at": ctx.iso(r.due_at)},
                    )
                    for r in rows
                ],
            )
            ctx.session.flush()
    limit = now - timedelta(days=ctx.policy.message_rating_days)
    while True:
        q = (
            select(Message.id, Message.status, Message.settled_at)
            .where(Message.status.in_([s.value for s in SETTLED]), Message.settled_at <= limit)
            .order_by(Message.settled_at)
            .limit(BATCH)
        )
        if ctx.session.get_bind().dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True)
        rows = list(ctx.session.execute(q))
        if not rows:
            break
        ctx.session.execute(
            update(Message)
            .where(Message.id.in_([r.id for r in rows]))
            .values(status=MsgStatus.CLOSED.value, closed_at=now)
            .execution_options(synchronize_session=False)
        )
        _events(
            ctx,
            [
                (
                    r.id,
                    now,
                    "message.closed",
                    {"reason": f"not rated within {ctx.policy.message_rating_days} days", "from": r.status},
                )
                for r in rows
            ],
        )
        result.closed += len(rows)
        ctx.session.flush()
    return result
