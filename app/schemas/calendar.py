"""Working-calendar bodies: a year's arrangement, its replacement, working-day sums."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import Strict


class CalendarOut(BaseModel):
    year: int
    source: Literal["builtin", "custom", "none"]
    holidays: list[dt.date] = Field(
        description="for a year with no arrangement (`none`): the "
        "statutory holidays the law fixes, which deadlines are "
        "reckoned on meanwhile"
    )
    workdays: list[dt.date]
    provisional: bool = Field(
        description="true when the year has no arrangement: its deadlines are provisional until it is loaded"
    )


class CalendarIn(Strict):
    holidays: list[dt.date] = Field(max_length=366)
    workdays: list[dt.date] = Field(max_length=366)


class CalendarChanged(BaseModel):
    year: int
    source: Literal["builtin", "custom", "none"]
    recomputed_clocks: int


class WorkingDaysOut(BaseModel):
    start: dt.date
    days: int
    date: dt.date
    provisional: bool
