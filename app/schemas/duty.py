"""Terms, duty reports (述职), point rules and activities (履职积分): bodies and answers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from app.schemas.common import Name, ShortText, Strict
from app.schemas.registry import Level


class TermIn(Strict):
    level: Level
    name: Name = Field(max_length=100, description="e.g. 第十八届")
    starts_on: date
    ends_on: date


class TermOut(BaseModel):
    code: str
    level: Level
    name: str
    starts_on: date
    ends_on: date
    years: int = Field(description="calendar years the term touches (term years 1..n)")


Method = Literal["oral", "meeting", "written"]
Audience = Literal["electoral_unit", "voters"]
Kind = Literal["reelected", "official", "others"]


class DutyReportIn(Strict):
    held_on: date
    method: Method = Field(
        description="oral: at a meeting of the standing committee; "
        "meeting: at a meeting before voters; written"
    )
    audience: Audience = Field(description="electoral_unit 原选举单位 or voters 原选区选民")
    note: ShortText | None = None


class DutyReportOut(BaseModel):
    id: str
    deputy_id: str
    term: str
    held_on: date
    method: Method
    audience: Audience
    note: str | None
    recorded_by: str
    recorded_at: datetime


class ReportLine(BaseModel):
    id: str
    term: str
    held_on: date
    method: Method
    audience: Audience
    note: str | None
    recorded_by: str


class CoverageDeputy(BaseModel):
    deputy_id: str
    name: str
    phone: str
    level: Level
    district: str | None
    district_name: str | None
    reelected: bool
    official: bool
    kind: Kind = Field(description="the schedule's rule that decides for the deputy")
    due_years: list[int] = Field(description="the term years the deputy is due in")
    reports: list[ReportLine] = Field(default_factory=list)


class ScheduleRule(BaseModel):
    kind: Kind
    name: str
    term_years: list[int]


class CoverageReport(BaseModel):
    term: str
    term_name: str
    level: Level
    starts_on: date
    ends_on: date
    year: int
    term_year: int
    term_years: int
    cutoff_on: date
    cutoff_at: datetime
    deputies: int
    reported: int = Field(description="deputies of the term who have reported by the cut-off")
    coverage: float | None = Field(description="reported / deputies; null without deputies")
    reports: int
    meeting_reports: int
    meeting_share: float | None = Field(
        description="reports made at a meeting (oral or meeting) / reports; null without reports"
    )
    meeting_share_required: float | None
    meeting_share_on_course: bool | None = Field(
        description="county and township terms: the "
        "meeting share so far meets the required "
        "share; null where the rule does not apply "
        "or no report was made"
    )
    schedule: list[ScheduleRule]
    due: list[CoverageDeputy] = Field(description="due this year, not yet reported")
    overdue: list[CoverageDeputy] = Field(description="their years have passed, no report")
    done: list[CoverageDeputy] = Field(description="reported in the term, with the reports")
    upcoming: list[CoverageDeputy] = Field(description="due in a later year of the term")


PointType = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z][a-z0-9_]*$")]


class PointRuleIn(Strict):
    name: Name = Field(max_length=100, description="e.g. 参加人代会, 参加培训, 视察调研")
    points: int = Field(ge=0, le=1000, description="points per item")
    yearly_cap: int | None = Field(
        default=None, ge=0, le=100000, description="at most this many points a year; null: none"
    )


class PointRuleOut(BaseModel):
    type: str
    name: str
    points: int
    yearly_cap: int | None
    builtin: bool = Field(description="counted by the service from its own records")


class ActivityIn(Strict):
    type: PointType
    on: date
    note: ShortText | None = None


class ActivityOut(BaseModel):
    id: str
    deputy_id: str
    type: str
    on: date
    note: str | None
    recorded_by: str
    recorded_at: datetime


class PointsRow(BaseModel):
    deputy_id: str
    name: str
    phone: str
    level: Level
    district: str | None
    district_name: str | None
    total: int
    by_type: dict[str, int] = Field(description="points per type, caps applied")
    items: dict[str, int] = Field(description="items per type behind each figure")
    calls: int = Field(description="calls on the deputy line in the year")
    silent: bool = Field(
        description="no call on the line in the year: not recommended as "
        "an outstanding deputy or for re-election"
    )


class PointsReport(BaseModel):
    year: int
    cutoff_at: datetime
    types: list[PointRuleOut]
    items: list[PointsRow]


class PointsLine(BaseModel):
    on: date | None
    ref: str = Field(
        description="hotline_no, or the id of the message, reception, duty report or recorded item"
    )
    detail: str


class PointsTypeDetail(BaseModel):
    type: str
    name: str
    points_per_item: int
    yearly_cap: int | None
    builtin: bool
    count: int
    raw_points: int
    points: int
    capped: bool
    lines: list[PointsLine]


class PointsDeputy(BaseModel):
    deputy_id: str
    name: str
    phone: str
    level: Level
    district: str | None
    district_name: str | None
    term: str | None


class DeputyPointsReport(BaseModel):
    year: int
    cutoff_at: datetime
    deputy: PointsDeputy
    total: int
    by_type: dict[str, int]
    calls: int
    silent: bool
    types: list[PointsTypeDetail]
