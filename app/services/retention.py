"""Voters' personal information kept no longer than needed (PIPL art. 19; SPEC "A deputy's
code and voters' messages"): a closed message's voter name and phone, and the client
address its public form recorded, are erased HOTLINE_VOTER_DATA_DAYS after it closed.

The message itself stays (deputy, content, status, dates, reply, rating, ticket), so every
count in every report is unchanged. Each erasure is a line in the message's history and
each run logs its count (app.jobs.scheduler); neither carries any personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from app.models import Message, MessageEvent
from app.services.context import Ctx
from app.services.message_flow import MsgStatus

BATCH = 500
ERASED = "message.voter_data_erased"


def cutoff(now: datetime, days: int) -> datetime:
    """Messages closed at or before this instant are past their keeping time."""
    return now - timedelta(days=days)


def erase_batch(ctx: Ctx, *, days: int, limit: int = BATCH) -> int:
    """Erase the voter data of up to `limit` messages past their keeping time; returns how
    many. Small batches, each its own transaction (the caller's): a first run over years of
    messages never holds many rows locked at once."""
    now = ctx.now()
    q = (
        select(Message.id)
        .where(
            Message.status == MsgStatus.CLOSED.value,
            Message.voter_erased_at.is_(None),
            Message.closed_at <= cutoff(now, days),
        )
        .order_by(Message.closed_at)
        .limit(limit)
    )
    if ctx.session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)  # two schedulers never erase the same row
    ids = list(ctx.session.scalars(q))
    if not ids:
        return 0
    ctx.session.execute(
        update(Message)
        .where(Message.id.in_(ids))
        .values(voter_name=None, voter_phone=None, client_address=None, voter_erased_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    ctx.session.add_all(
        MessageEvent(
            message_id=mid,
            at=now,
            recorded_at=now,
            actor=ctx.actor.name,
            actor_role=ctx.actor.role,
            type=ERASED,
            data={"fields": ["voter.name", "voter.phone", "client_address"], "after_days": days},
        )
        for mid in ids
    )
    ctx.session.flush()
    return len(ids)
