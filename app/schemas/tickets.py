"""Ticket bodies and representations."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictBool, field_validator

from app.schemas.common import Code, Instant, LongText, Name, ShortText, Strict, one_of
from app.services import vocabulary as v
from app.services.registry import normalize_phone, valid_phone
from app.services.sla import ClockState
from app.services.workflow import Status as TicketStatus

Kind = Literal["problem", "consultation", "suggestion"]
Urgency = Literal["urgent", "normal"]
Outcome = Literal["solved", "stepwise", "referred", "explained"]
Method = Literal["phone", "visit", "meeting", "online"]
if TYPE_CHECKING:
    Status = str
    RatingCode = str
    ExtensionState = str
    ClockStateName = str
else:
    Status = one_of(*v.values(TicketStatus))
    # A code or its Chinese label.
    RatingCode = one_of(*v.RATING_LABELS, *v.RATING_LABELS.values())
    ExtensionState = one_of(*v.values(v.ExtensionState))
    ClockStateName = one_of(*v.values(ClockState))
ClockKindName = Literal["contact", "resolve", "feedback", "opinion"]

MAX_UNITS = 20


def _phone(value: str) -> str:
    if not valid_phone(normalize_phone(value)):
        raise ValueError("must be 5 to 20 digits (spaces, dashes and +86 are ignored)")
    return value


# A caller's or a voter's number, as given (normalized where it is stored).
Phone = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_phone)]


class Caller(Strict):
    name: Name = Field(max_length=100)
    phone: Phone


class TicketIn(Strict):
    hotline_no: Code
    deputy_call: StrictBool
    called_at: Instant
    dispatched_at: Instant | None = None
    caller: Caller
    kind: Kind | None = None
    category: Code
    content: LongText
    district: Code | None = None
    urgency: Urgency | None = None
    units: list[Code] | None = Field(default=None, max_length=MAX_UNITS)
    lead_unit: Code | None = None
    complex: StrictBool | None = None

    @field_validator("deputy_call")
    @classmethod
    def _deputy_line_only(cls, value: bool) -> bool:
        if value is not True:
            raise ValueError("only calls on the deputy line (deputy_call: true) are accepted")
        return value


class CallerOut(BaseModel):
    name: str
    phone: str


class DeputyRef(BaseModel):
    id: str
    name: str
    level: str


class AssignmentOut(BaseModel):
    unit: str
    role: Literal["lead", "co"]
    active: bool
    assigned_at: datetime
    ended_at: datetime | None
    opinion: str | None
    opinion_at: datetime | None


class ClockOut(BaseModel):
    id: int
    kind: ClockKindName
    unit: str
    round: int
    started_at: datetime
    due_at: datetime
    state: ClockStateName
    met_at: datetime | None
    provisional: bool


class ResolutionOut(BaseModel):
    outcome: Outcome
    reply: str
    at: datetime


class FeedbackOut(BaseModel):
    method: Method
    content: str
    at: datetime


class RatingOut(BaseModel):
    rating: str
    comment: str | None
    at: datetime


class TicketOut(BaseModel):
    id: str
    hotline_no: str
    status: Status
    kind: Kind
    category: str
    district: str | None
    urgency: Urgency
    complex: bool
    content: str
    called_at: datetime
    dispatched_at: datetime
    caller: CallerOut
    deputy: DeputyRef | None
    deputy_verified: bool
    lead_unit: str | None
    assignments: list[AssignmentOut]
    clocks: list[ClockOut]
    resolution: ResolutionOut | None
    feedback: FeedbackOut | None
    rating: RatingOut | None
    round: int
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime


class TicketSummary(BaseModel):
    id: str
    hotline_no: str
    status: Status
    kind: Kind
    category: str
    district: str | None
    urgency: Urgency
    round: int
    lead_unit: str | None
    called_at: datetime


class ActorOut(BaseModel):
    role: str | None = Field(description="the role the actor acted in")
    unit: str | None = Field(description="the unit a `unit` actor is bound to")
    deputy_id: str | None = Field(description="the deputy a `deputy` actor is bound to")
    station: str | None = Field(description="the station a `station` actor is bound to")


class EventOut(BaseModel):
    seq: int
    at: datetime
    recorded_at: datetime
    actor: str = Field(
        description="`user:<username>` for a person, `key:<key id>` for an API "
        "key (`key:bootstrap`: HOTLINE_ADMIN_KEY), `system` for the SLA sweep, "
        "`cli` for a command on the server; events recorded before accounts "
        "existed name the role (`hotline`, `unit:<code>`)"
    )
    by: ActorOut
    type: str
    data: dict[str, object]


class EventList(BaseModel):
    items: list[EventOut]


class ContactIn(Strict):
    at: Instant | None = None
    method: Method
    deputy_invited: StrictBool
    note: ShortText | None = None


class OpinionIn(Strict):
    content: LongText
    at: Instant | None = None


class ResolveIn(Strict):
    at: Instant | None = None
    outcome: Outcome
    reply: LongText


class FeedbackIn(Strict):
    at: Instant | None = None
    method: Method
    content: LongText


class ExtensionIn(Strict):
    working_days: int = Field(ge=1, le=7)
    reason: ShortText


class ExtensionOut(BaseModel):
    id: str
    ticket_id: str
    state: ExtensionState
    working_days: int
    reason: str
    round: int
    requested_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


class DecisionIn(Strict):
    approve: StrictBool
    note: ShortText | None = None


class ReturnIn(Strict):
    reason: ShortText
    at: Instant | None = None


class DispatchIn(Strict):
    units: list[Code] = Field(min_length=1, max_length=MAX_UNITS)
    lead_unit: Code | None = None
    at: Instant | None = None


class RatingIn(Strict):
    rating: RatingCode
    at: Instant | None = None
    comment: ShortText | None = None


class QueueInvitation(BaseModel):
    id: str
    number: str | None
    subject: str
    status: str
    round: int
    station: str


class QueueItemOut(BaseModel):
    kind: Literal["ticket", "invitation"] = "ticket"
    ticket: TicketSummary | None = Field(None, description="for `kind: ticket`")
    invitation: QueueInvitation | None = Field(
        None, description="for `kind: invitation` (SPEC Part II): the invited unit's entry"
    )
    role: Literal["lead", "co", "supervisor", "invited"]
    next_action: (
        Literal["contact", "resolve", "feedback", "opinion", "supervise", "acknowledge", "report"] | None
    )
    next_due_at: datetime | None
    breached: bool
    in_queue: bool = Field(
        description="false only for items that left the queue, listed when `updated_since` is given"
    )
    updated_at: datetime
