"""The sweep's part of voters' messages: each response clock's warning and breach recorded
once, and the messages not rated in time closed. Runs inside the SLA sweep (its lock, its
transaction)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from app.models import MessageEvent
from app.repositories import message_batches as repo
from app.services.context import Ctx

BATCH = 1000


@dataclass
class MessageSweep:
    warned: int = 0
    breached: int = 0
    closed: int = 0


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
        repo.touch(ctx.session, [r[0] for r in rows], now)


def sweep(ctx: Ctx) -> MessageSweep:
    """Record each response clock's warning and breach once, and close the messages not rated
    in time. Runs inside the SLA sweep (its lock, its transaction)."""
    result, now = MessageSweep(), ctx.now()
    for column, mark, type_ in (
        ("warn_at", "warned_at", "message.clock_warning"),
        ("due_at", "breach_recorded_at", "message.clock_breached"),
    ):
        while rows := repo.due_rows(ctx.session, column, mark, now, limit=BATCH):
            repo.mark(ctx.session, [r.id for r in rows], mark, now)
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
    settled_by = now - timedelta(days=ctx.policy.message_rating_days)
    while rows := repo.unrated(ctx.session, settled_by, limit=BATCH):
        repo.close(ctx.session, [r.id for r in rows], now)
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
