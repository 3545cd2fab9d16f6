"""Invitation bodies (约请, SPEC Part II)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Field, StrictBool, StringConstraints

from app.schemas.common import Code, Instant, LongText, ShortText, Strict, one_of
from app.schemas.tickets import ClockStateName, ExtensionState, Outcome
from app.services import vocabulary as v
from app.services.invitation_flow import Status

Subject = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Person = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]
Phone = Annotated[
    str, StringConstraints(min_length=3, max_length=32, strip_whitespace=True, pattern=r"^[0-9+\-() ]+$")
]
DeputyId = Annotated[str, StringConstraints(min_length=1, max_length=36)]
if TYPE_CHECKING:
    EvaluationRating = str
    InvitationStatus = str
else:
    # A code or its Chinese label.
    EvaluationRating = one_of(*v.THREE_POINT_LABELS, *v.THREE_POINT_LABELS.values())
    InvitationStatus = one_of(*v.values(Status))


class InvitationIn(Strict):
    station: Code
    unit: Code
    subject: Subject
    content: LongText
    deputies: list[DeputyId] = Field(default_factory=list, max_length=50)


class ReviewIn(Strict):
    approve: StrictBool
    note: ShortText | None = None


class AcknowledgeIn(Strict):
    meeting_at: Instant
    responsible_person: Person
    contact_phone: Phone
    note: ShortText | None = None
    at: Instant | None = None


class InvitationExtensionIn(Strict):
    working_days: int = Field(ge=1, le=30)
    reason: LongText


class ExtensionNoteIn(Strict):
    content: LongText


class ReportIn(Strict):
    summary: LongText
    measures: LongText
    outcome: Outcome
    responsible_person: Person
    at: Instant | None = None


class EvaluationIn(Strict):
    rating: EvaluationRating
    comment: ShortText | None = None
    at: Instant | None = None


class InvitationClockOut(BaseModel):
    id: int
    kind: Literal["acknowledge", "complete"]
    unit: str
    round: int
    started_at: datetime
    due_at: datetime
    state: ClockStateName
    met_at: datetime | None
    provisional: bool


class InvitationExtensionOut(BaseModel):
    id: str
    invitation_id: str
    state: ExtensionState
    working_days: int
    reason: str
    round: int
    requested_at: datetime
    station_view: str | None
    station_view_at: datetime | None
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


class InvitationOut(BaseModel):
    id: str
    number: str | None = Field(description="the letter's number, `<prefix>〔<year>〕<n>号`, once issued")
    station: str
    station_name: str | None
    unit: str
    unit_name: str | None
    subject: str
    content: str
    deputies: list[dict[str, Any]]
    status: InvitationStatus
    round: int
    submitted_at: datetime
    review: dict[str, Any] | None
    clocks: list[InvitationClockOut]
    acknowledgment: dict[str, Any] | None
    report: dict[str, Any] | None = Field(description="the current (latest) round's report")
    reports: list[dict[str, Any]]
    evaluation: dict[str, Any] | None = Field(description="the latest evaluation")
    evaluations: list[dict[str, Any]]
    extensions: list[InvitationExtensionOut]
    supervisions: list[dict[str, Any]]
    history: list[dict[str, Any]]
