"""Voters' personal information kept no longer than needed (PIPL art. 19; SPEC "A deputy's
code and voters' messages"): a closed message's voter name and phone, and the client
address its public form recorded, are erased HOTLINE_VOTER_DATA_DAYS after it closed.

The message itself stays (deputy, content, status, dates, reply, rating, ticket), so every
count in every report is unchanged. Each erasure is a line in the message's history and
each run logs its count (app.jobs.scheduler); neither carries any personal data.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from app.models import MessageEvent
from app.repositories import message_batches as repo
from app.services.context import Ctx

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
    ids = repo.past_keeping(ctx.session, cutoff(now, days), limit=limit)
    if not ids:
        return 0
    repo.erase_voter_data(ctx.session, ids, now)
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
