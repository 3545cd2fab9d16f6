"""Supervision case bodies."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, Field

from app.schemas.common import Instant, LongText, Name, Strict, one_of
from app.services import vocabulary as v

if TYPE_CHECKING:
    CaseKind = str
    CaseState = str
else:
    CaseKind = one_of(*v.values(v.CaseKind))
    CaseState = one_of(*v.values(v.CaseState))


class NoteOut(BaseModel):
    id: str
    author: str
    content: str
    at: dt.datetime


class MeetingOut(BaseModel):
    id: str
    held_at: dt.datetime
    participants: list[str] = Field(description="as recorded: unit codes or names")
    participant_names: list[str] = Field(description="the same, unit codes shown by their Chinese names")
    conclusion: str
    recorded_by: str
    recorded_at: dt.datetime


class SupervisionOut(BaseModel):
    id: str
    ticket_id: str | None = Field(description="null for an invitation's case")
    hotline_no: str | None
    invitation_id: str | None = Field(
        None, description="the invitation of an `invitation` case (SPEC Part II)"
    )
    invitation_number: str | None = None
    kind: CaseKind
    unit: str | None
    state: CaseState
    reason: str
    round: int
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    conclusion: str | None
    notes: list[NoteOut]
    meetings: list[MeetingOut]


class SupervisionIn(Strict):
    ticket_id: str = Field(min_length=1, max_length=64)
    kind: Literal["joint"] = Field(description="a case opened by hand is a joint case (联合督办)")
    reason: LongText = Field(description="why: a hard case (难点) or poor handling (办理不力)")


class MeetingIn(Strict):
    held_at: Instant
    participants: list[Name] = Field(
        min_length=1,
        max_length=50,
        description="unit codes, or names of those who are not units (the hotline office)",
    )
    conclusion: LongText = Field(description="what was agreed")


class NoteIn(Strict):
    content: LongText


class CloseIn(Strict):
    conclusion: LongText
