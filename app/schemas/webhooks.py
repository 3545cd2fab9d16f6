"""Webhook deliveries as the outbox API shows them."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

DeliveryState = Literal["pending", "delivered", "failed"]


class AttemptOut(BaseModel):
    at: dt.datetime
    status_code: int | None
    error: str | None
    duration_ms: float


class DeliveryOut(BaseModel):
    id: str = Field(description="also the `webhook-id` header of every attempt")
    unit: str
    event_type: str
    ticket_id: str | None
    state: DeliveryState
    attempts: int
    next_attempt_at: dt.datetime | None = Field(
        description="when a pending delivery is tried next (null once delivered or failed)"
    )
    created_at: dt.datetime
    delivered_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    payload: dict[str, Any] = Field(description="the body sent, parsed")


class DeliveryDetail(DeliveryOut):
    attempt_log: list[AttemptOut] = Field(description="every attempt, oldest first")
