"""The webhook outbox's use-cases: claiming due deliveries, recording attempts, redelivery
(its queries: app.repositories.webhooks).

A delivery is `pending` until an attempt gets a 2xx (`delivered`) or MAX_ATTEMPTS
attempts have failed (`failed`). A worker claims due rows in a short write
transaction (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single write lock
serialises claims) and leases them by moving `next_attempt_at` to the lease's end,
so no other worker picks them while the HTTP call runs outside any transaction.
That lease instant is also the claim's token: an outcome is written only while the
row still carries it, so a redelivery or a re-claim after an expired lease wins.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app.db import Transaction
from app.errors import NotFound
from app.models import Unit, WebhookAttempt, WebhookDelivery
from app.observability import OUTBOX_BACKLOG
from app.repositories import webhooks as repo
from app.services.context import Ctx
from app.services.vocabulary import DeliveryState
from app.state import AppState

MAX_ATTEMPTS = 12
# Longer than a whole batch of attempts can take (PER_UNIT_BATCH x the request timeouts),
# so a lease ends early only when its worker died.
LEASE = timedelta(minutes=5)
BACKOFF_BASE_SECONDS = 15.0
BACKOFF_CAP_SECONDS = 4 * 3600.0


def backoff(failed_attempts: int, rng: random.Random | None = None) -> timedelta:
    """Wait after the n-th failed attempt: 15 s doubling up to 4 h, times a jitter in [0.5, 1].

    Twelve attempts span roughly 4 to 9 hours, enough to ride out a night's outage of
    a unit's server; after that an operator redelivers.
    """
    raw = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, failed_attempts - 1))
    return timedelta(seconds=raw * (rng or random).uniform(0.5, 1.0))


@dataclass(frozen=True)
class Claimed:
    id: str
    body: str
    attempts: int  # attempts made before this one
    lease_until: datetime


@dataclass(frozen=True)
class Batch:
    """Due rows of one unit, attempted in order by one worker thread."""

    unit_code: str
    url: str | None
    secret: str | None
    rows: list[Claimed]


def claim_due(
    state: AppState,
    *,
    now: datetime,
    max_units: int,
    per_unit: int,
    skip_units: frozenset[str] = frozenset(),
) -> list[Batch]:
    """Lease up to `per_unit` due rows for each of up to `max_units` units not skipped."""
    if max_units <= 0:
        return []
    with Transaction(state.db.write_session) as session:
        units = repo.due_units(session, now, skip_units)
        random.shuffle(units)  # no unit starves behind others when more are due than fit
        batches: list[Batch] = []
        for code in units:
            if len(batches) >= max_units:
                break
            rows = repo.lock_due(session, code, now, per_unit)
            if not rows:
                continue  # another worker holds them
            unit = session.get(Unit, code)
            # A microsecond of noise keeps lease tokens distinct even under a frozen test clock.
            lease_until = now + LEASE + timedelta(microseconds=random.randrange(1, 1_000_000))
            claimed = []
            for row in rows:
                row.next_attempt_at = lease_until
                claimed.append(Claimed(row.id, row.body, row.attempts, lease_until))
            batches.append(
                Batch(
                    code, unit.webhook_url if unit else None, unit.webhook_secret if unit else None, claimed
                )
            )
    return batches


@dataclass(frozen=True)
class Outcome:
    at: datetime
    status: int | None
    error: str | None
    duration_ms: float
    final: bool = False  # no later attempt can succeed (a target refused as not public)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def record(state: AppState, row: Claimed, outcome: Outcome) -> datetime | None:
    """Store an attempt and its effect on the row; returns the retry time, if any."""
    attempts = row.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": outcome.error,
    }
    retry_at: datetime | None = None
    if outcome.ok:
        values.update(
            state=DeliveryState.DELIVERED.value, delivered_at=outcome.at, next_attempt_at=outcome.at
        )
    elif outcome.final or attempts >= MAX_ATTEMPTS:
        values.update(state=DeliveryState.FAILED.value, next_attempt_at=outcome.at)
    else:
        retry_at = outcome.at + backoff(attempts)
        values.update(next_attempt_at=retry_at)
    with Transaction(state.db.write_session) as session:
        session.add(
            WebhookAttempt(
                delivery_id=row.id,
                at=outcome.at,
                status_code=outcome.status,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        session.execute(repo.still_leased(row.id, row.lease_until).values(**values))
    return retry_at


def release(state: AppState, rows: list[Claimed], *, at: datetime) -> None:
    """Give back leased rows that were not attempted, due again at `at`."""
    if not rows:
        return
    with Transaction(state.db.write_session) as session:
        for row in rows:
            session.execute(repo.still_leased(row.id, row.lease_until).values(next_attempt_at=at))


def list_deliveries(
    session: Session, *, unit: str | None, state: str | None, after: str | None, limit: int
) -> list[WebhookDelivery]:
    """Deliveries newest first."""
    return repo.list_deliveries(session, unit=unit, state=state, after=after, limit=limit)


def visible_delivery(ctx: Ctx, delivery_id: str) -> WebhookDelivery:
    """A delivery the caller may see (a unit key: its own unit's only), or NotFound."""
    d = repo.get_delivery(ctx.session, delivery_id)
    if d is None or (ctx.actor.role == "unit" and d.unit_code != ctx.actor.unit_code):
        raise NotFound(f"no webhook delivery {delivery_id}")
    return d


def attempts_of(session: Session, delivery_id: str) -> list[WebhookAttempt]:
    """A delivery's attempts, in order."""
    return repo.attempts_of(session, delivery_id)


def redeliver(session: Session, delivery: WebhookDelivery, *, now: datetime) -> None:
    """Back to pending with a fresh set of attempts, due now."""
    delivery.state = DeliveryState.PENDING.value
    delivery.attempts = 0
    delivery.next_attempt_at = now
    delivery.delivered_at = None


def refresh_backlog_gauge(state: AppState) -> None:
    with state.db.read_session() as session:
        OUTBOX_BACKLOG.set(repo.pending_count(session))
