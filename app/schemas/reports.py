"""Report documents (JSON shape of GET /api/v1/reports/...)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


Rate = float | None


class Figures(_Open):
    calls: int
    problems: int
    resolved: int = Field(description="resolutions of problems dated in the period")
    solved: int = Field(description="of those, outcome `solved`")
    solve_rate: Rate
    contact_on_time_rate: Rate = Field(
        description="over contact clocks started in the period; "
        "running and not yet due at the cut-off left out"
    )
    resolve_on_time_rate: Rate
    feedback_on_time_rate: Rate
    rated: int
    satisfaction_rate: Rate
    unsatisfied: int
    contact_measured: int = 0
    resolve_measured: int = 0
    feedback_measured: int = 0


class Totals(Figures):
    overdue_unresolved: int = Field(
        0, description="tickets that should have been resolved by the cut-off and were not"
    )


class UnitRow(Figures):
    unit: str | None
    name: str | None
    overdue_unresolved: int = 0
    score: float | None = Field(
        None,
        description="0-100: the weighted mean of the rates "
        "measured for the unit (weights in `score_weights`); null when "
        "none was measured",
    )
    rank: int | None = Field(
        None, description="1 = best; equal scores share a rank; null scores are not ranked"
    )


class CategoryRow(Figures):
    category: str | None
    name: str | None
    overdue_unresolved: int = 0


class DistrictRow(Figures):
    district: str | None
    name: str | None = Field(
        description="the district's Chinese name (the registry's), or its code when the registry has none"
    )
    overdue_unresolved: int = 0


class MonthRow(Figures):
    month: str


class OverdueTicket(_Open):
    hotline_no: str
    ticket_id: str
    unit: str | None
    unit_name: str | None
    category: str
    category_name: str
    district: str | None
    district_name: str | None
    round: int
    due_at: datetime
    overdue_days: int
    resolved_at: datetime | None = Field(description="when resolved after the cut-off, if so")
    caller_name: str
    caller_phone: str
    deputy_name: str | None
    status: str


class CaseState(_Open):
    id: str
    kind: str
    unit: str | None
    unit_name: str | None
    round: int
    state: str = Field(description="open, closed or withdrawn, as at the cut-off")
    opened_at: datetime
    closed_at: datetime | None


class UnsatisfiedTicket(_Open):
    hotline_no: str
    ticket_id: str
    unit: str | None
    unit_name: str | None
    category: str
    category_name: str
    district: str | None
    district_name: str | None
    round: int = Field(description="the round rated")
    rating: str
    rated_at: datetime
    caller_name: str
    caller_phone: str
    deputy_name: str | None
    status: str
    supervisions: list[CaseState]


class KindCounts(BaseModel):
    opened: int
    closed: int
    withdrawn: int


class SupervisionCounts(_Open):
    opened: int
    closed: int
    withdrawn: int
    open_at_cutoff: int
    by_kind: dict[str, KindCounts]


class ExtensionCounts(_Open):
    requested: int
    approved: int
    refused: int
    pending_at_cutoff: int


class ReturnCounts(_Open):
    returned: int


class _Report(_Open):
    cutoff_at: datetime = Field(description="end of the period, or now for the current one")
    score_weights: dict[str, float] = Field(
        description="the weight of each rate in a unit's score (settings)"
    )
    totals: Totals
    overdue_unresolved: list[OverdueTicket]
    unsatisfied: list[UnsatisfiedTicket]
    supervisions: SupervisionCounts
    by_unit: list[UnitRow]
    by_category: list[CategoryRow]
    by_district: list[DistrictRow]
    extensions: ExtensionCounts
    returns: ReturnCounts


class MonthlyReport(_Report):
    month: str


class AnnualReport(_Report):
    year: int
    months: list[MonthRow]


class DeputyRow(_Open):
    deputy_id: str
    name: str
    phone: str
    level: str
    messages: int = Field(default=0, description="voters' messages received in the year")
    messages_answered: int = 0
    messages_forwarded: int = 0
    voter_satisfaction_rate: float | None = Field(
        default=None,
        description="(satisfied + basically satisfied) / rated, of the year's voter ratings; null when none",
    )


class DeputyItem(DeputyRow):
    calls: int
    problems: int
    points: int = Field(description="one per problem raised, at most 5 a year")


class UnverifiedCaller(BaseModel):
    name: str
    phone: str
    calls: int
    problems: int


class InvitationUnitRow(_Open):
    received: int = Field(description="letters issued to the unit in the year")
    acknowledged_on_time_rate: Rate
    completed_on_time_rate: Rate
    evaluated: int
    satisfaction_rate: Rate
    reopened: int = Field(description="unsatisfied evaluations: rounds reopened")


class InvitationItem(InvitationUnitRow):
    unit: str
    name: str


class InvitationsReport(_Open):
    year: int
    cutoff_at: datetime
    items: list[InvitationItem]
    totals: InvitationUnitRow


class DeputiesReport(_Open):
    year: int
    cutoff_at: datetime
    items: list[DeputyItem]
    silent_deputies: list[DeputyRow] = Field(description="deputies with no call in the year")
    unverified_callers: list[UnverifiedCaller]


class StationRow(BaseModel):
    station: str
    name: str
    district: str
    kind: str
    receptions: int
    voters_received: int
    batches: int
    messages: int
    answered: int
    forwarded: int
    declined: int
    resolved: int
    response_on_time_rate: float | None
    rated: int
    voter_satisfaction_rate: float | None


class InactiveStation(BaseModel):
    station: str
    name: str
    district: str


class StationsReport(_Open):
    month: str
    cutoff_at: datetime
    items: list[StationRow]
    inactive_stations: list[InactiveStation] = Field(
        description="stations that held no reception in the month"
    )
