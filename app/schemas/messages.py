"""Voters' messages and deputies' codes (SPEC Part II)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Code, Instant, ShortText, Strict, one_of
from app.schemas.tickets import ClockStateName, Phone, TicketOut, Urgency
from app.services.message_flow import MsgStatus
from app.services.vocabulary import values

RecordedChannel = Literal["station", "paper", "wechat", "other"]
Channel = Literal["code", "station", "paper", "wechat", "other"]
if TYPE_CHECKING:
    MessageStatus = str
else:
    MessageStatus = one_of(*values(MsgStatus))
Level = Literal["township", "county", "city"]


class Voter(Strict):
    name: str | None = Field(default=None, max_length=100)
    phone: Phone


class MessageIn(Strict):
    deputy_id: Code
    channel: RecordedChannel
    content: ShortText = Field(description="at most 2,000 characters")
    voter: Voter
    district: Code | None = None
    received_at: Instant | None = Field(default=None, description="default now")
    reception_id: Code | None = Field(default=None, description="the reception it was taken at")


class VoterOut(BaseModel):
    name: str | None
    phone: str | None = Field(description="masked (138****0001) for the station role")


class ResponseClock(BaseModel):
    due_at: datetime
    state: ClockStateName
    provisional: bool
    met_at: datetime | None


class HistoryItem(BaseModel):
    at: datetime
    type: str
    actor: str
    data: dict[str, Any]


class MessageOut(BaseModel):
    id: str
    tracking_code: str
    deputy_id: str
    channel: Channel
    content: str
    voter: VoterOut
    district: str | None
    station: str | None
    reception_id: str | None
    status: MessageStatus
    received_at: datetime
    clock: ResponseClock
    reply: str | None
    decline_reason: str | None
    forward_level: Level | None
    ticket_id: str | None
    rating: str | None
    rating_comment: str | None
    rated_at: datetime | None
    closed_at: datetime | None
    history: list[HistoryItem]


class ReplyIn(Strict):
    content: ShortText
    at: Instant | None = None


class DeclineIn(Strict):
    reason: ShortText
    at: Instant | None = None


class ForwardIn(Strict):
    level: Level
    category: Code
    units: list[Code] | None = Field(default=None, max_length=20)
    lead_unit: Code | None = None
    urgency: Urgency | None = None
    note: ShortText | None = Field(default=None, description="the deputy's note to the units")
    at: Instant | None = None


class ForwardOut(BaseModel):
    message: MessageOut
    ticket: TicketOut


class CodeOut(BaseModel):
    public_code: str
    url: str
