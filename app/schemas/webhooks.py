"""Webhook deliveries as the outbox API shows them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from app.schemas.common import one_of
from app.services.vocabulary import DeliveryState as State
from app.services.vocabulary import values

if TYPE_CHECKING:
    DeliveryState = str
else:
    DeliveryState = one_of(*values(State))


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
