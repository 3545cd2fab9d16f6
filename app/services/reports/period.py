"""The period a report covers, its cut-off, and the cohort predicates built on them.

Month and year boundaries are computed here, in Python, as UTC instants of local
midnights, so the SQL compares plain instants and gives the same answer on SQLite
and PostgreSQL whatever the database's own time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, or_

from app.errors import Invalid

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^\d{4}$")
MIN_YEAR, MAX_YEAR = 2000, 2999


def month_start(year: int, month: int, tz: ZoneInfo) -> datetime:
    """00:00 local time on the first of the month, as a UTC instant."""
    return datetime.combine(date(year, month, 1), time(0), tzinfo=tz).astimezone(UTC)


def _next(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC; `cutoff` is `end` for a past period and now for the current one.

    As of the cut-off, an action counts when its `at` is before `end` (past period) or
    not after now (current period); a deadline has passed when `due_at <= cutoff`
    (SPEC: a clock is breached once now >= due_at).
    """

    label: str
    kind: str  # "month" or "year"
    start: datetime
    end: datetime
    cutoff: datetime
    current: bool
    tz: ZoneInfo
    # (label, start) of each month of the period up to the cut-off (one for a month).
    months: tuple[tuple[str, datetime], ...]

    # --- cohort predicates (SQLAlchemy) ---------------------------------------------
    def acted(self, col: Any) -> Any:
        """The action at `col` had happened by the cut-off."""
        return col <= self.cutoff if self.current else col < self.cutoff

    def not_acted(self, col: Any) -> Any:
        """No action at `col` by the cut-off (NULL included)."""
        later = col > self.cutoff if self.current else col >= self.cutoff
        return or_(col.is_(None), later)

    def within(self, col: Any) -> Any:
        """`col` lies in the period and by the cut-off."""
        return and_(col >= self.start, self.acted(col))

    def bucket(self, col: Any) -> Any:
        """The month label of `col` (a portable CASE over precomputed UTC boundaries)."""
        if len(self.months) == 1:
            return None
        whens = [
            (col < start, prev) for (prev, _), (_, start) in zip(self.months, self.months[1:], strict=False)
        ]
        return case(*whens, else_=self.months[-1][0])

    # --- the same predicates in Python (exports, lists) -------------------------------
    def acted_py(self, at: datetime | None) -> bool:
        if at is None:
            return False
        return at <= self.cutoff if self.current else at < self.cutoff

    def local(self, dt: datetime | None) -> datetime | None:
        return None if dt is None else dt.astimezone(self.tz)


def _months(year: int, first: int, last: int, tz: ZoneInfo) -> tuple[tuple[str, datetime], ...]:
    return tuple((f"{year:04d}-{m:02d}", month_start(year, m, tz)) for m in range(first, last + 1))


def month_period(value: str, now: datetime, tz: ZoneInfo, field: str = "month") -> Period:
    m = _MONTH.match(value or "")
    if not m:
        raise Invalid(field, "must be a month as YYYY-MM")
    year, month = int(m.group(1)), int(m.group(2))
    if not 1 <= month <= 12 or not MIN_YEAR <= year <= MAX_YEAR:
        raise Invalid(field, f"{value!r} is not a month this service reports on")
    today = now.astimezone(tz).date()
    if (year, month) > (today.year, today.month):
        raise Invalid(field, f"{value} lies in the future")
    start = month_start(year, month, tz)
    end = month_start(*_next(year, month), tz)
    current = (year, month) == (today.year, today.month)
    return Period(
        label=f"{year:04d}-{month:02d}",
        kind="month",
        start=start,
        end=end,
        cutoff=now.astimezone(UTC) if current else end,
        current=current,
        tz=tz,
        months=_months(year, month, month, tz),
    )


def year_period(value: str | int, now: datetime, tz: ZoneInfo, field: str = "year") -> Period:
    text = str(value or "")
    if not _YEAR.match(text) or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise Invalid(field, "must be a year as YYYY")
    year = int(text)
    today = now.astimezone(tz).date()
    if year > today.year:
        raise Invalid(field, f"{year} lies in the future")
    current = year == today.year
    start = month_start(year, 1, tz)
    end = month_start(year + 1, 1, tz)
    return Period(
        label=f"{year:04d}",
        kind="year",
        start=start,
        end=end,
        cutoff=now.astimezone(UTC) if current else end,
        current=current,
        tz=tz,
        months=_months(year, 1, today.month if current else 12, tz),
    )
