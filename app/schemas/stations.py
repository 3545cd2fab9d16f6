"""Station and reception bodies (SPEC Part II)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import Code, LongText, Name, Strict

StationKind = Literal["physical", "online", "professional"]
DeputyId = Code


class StationIn(Strict):
    name: Name
    district: Code
    township: Name | None = Field(default=None, description="乡镇/街道")
    kind: StationKind
    deputies: list[DeputyId] = Field(
        default_factory=list, max_length=500, description="ids of the deputies who belong to it"
    )


class StationOut(BaseModel):
    code: str
    name: str
    district: str
    township: str | None
    kind: StationKind
    deputies: list[str]


class ReceptionIn(Strict):
    date: date
    deputies: list[DeputyId] = Field(default_factory=list, max_length=500, description="deputies present")
    voters_received: int = Field(ge=0, le=1_000_000, description="人次")
    batches: int = Field(ge=0, le=1_000_000, description="批次")
    note: LongText | None = None


class ReceptionOut(BaseModel):
    id: str
    station: str
    date: date
    deputies: list[str]
    voters_received: int
    batches: int
    note: str | None
    recorded_by: str
    recorded_at: datetime
