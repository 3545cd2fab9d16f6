"""Outbox queries shared by the worker, the API and the metrics."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import WebhookDelivery
from app.observability import OUTBOX_BACKLOG
from app.state import AppState


def refresh_backlog_gauge(state: AppState) -> None:
    with state.db.read_session() as session:
        n = session.scalar(select(func.count()).where(WebhookDelivery.state == "pending"))
    OUTBOX_BACKLOG.set(n or 0)
