"""The working calendar in force: built-in years plus the operator's years from the database."""

from __future__ import annotations

import threading
from datetime import date, datetime

from sqlalchemy.orm import Session

from app.errors import Invalid, NotFound
from app.models import CalendarYear
from app.repositories import calendars as repo
from app.services.working_days import (
    FIRST_YEAR,
    LAST_YEAR,
    WorkingCalendar,
    YearArrangement,
    builtin_arrangements,
    parse_dates,
)


class CalendarProvider:
    """Caches the calendar per process; rebuilt when the operator's years change (any replica).

    `builtin`: the built-in years (default: every year the data package knows); tests pin
    them so that a newer package does not change the arrangement they rely on."""

    def __init__(self, builtin: dict[int, YearArrangement] | None = None) -> None:
        self.builtin = builtin_arrangements() if builtin is None else dict(builtin)
        self._lock = threading.Lock()
        self._signature: tuple[int, datetime | None] | None = None
        # Built on first use: the first build reckons the statutory holidays of every year
        # without an arrangement (about a second), which a CLI report never needs.
        self._calendar: WorkingCalendar | None = None

    def current(
        self, session: Session, signature: tuple[int, datetime | None] | None = None
    ) -> WorkingCalendar:
        """The calendar in force, checked against the database in one small query (or with
        a signature the caller read in a query of its own: repositories.calendars.signature_columns)."""
        if signature is None:
            signature = repo.signature(session)
        calendar = self._calendar
        if signature == self._signature and calendar is not None:
            return calendar
        with self._lock:
            if signature != self._signature or self._calendar is None:
                years = dict(self.builtin)
                for row in repo.years(session):
                    years[row.year] = _arrangement(row)
                self._calendar = WorkingCalendar(years)
                self._signature = signature
            return self._calendar

    def known(self) -> tuple[tuple[int, datetime | None], WorkingCalendar] | None:
        """The calendar last built and the signature it was built for, without a query (a
        writer that uses it checks the signature in its own statement), or None before the
        first build."""
        with self._lock:
            if self._signature is None or self._calendar is None:
                return None
            return self._signature, self._calendar

    def source(self, session: Session, year: int) -> str:
        if repo.get(session, year) is not None:
            return "custom"
        return "builtin" if year in self.builtin else "none"

    def invalidate(self) -> None:
        with self._lock:
            self._signature = None


def _arrangement(row: CalendarYear) -> YearArrangement:
    return YearArrangement(
        row.year,
        frozenset(date.fromisoformat(d) for d in row.holidays),
        frozenset(date.fromisoformat(d) for d in row.workdays),
    )


def check_year(year: int) -> None:
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise NotFound(f"the calendar covers {FIRST_YEAR}..{LAST_YEAR}")


def validated_arrangement(year: int, holidays: list[date], workdays: list[date]) -> YearArrangement:
    """An arrangement from request data; each bad date is a 422 naming its field."""
    try:
        hol = parse_dates(holidays, year, "holidays")
        work = parse_dates(workdays, year, "workdays")
    except ValueError as exc:
        field, _, detail = str(exc).partition(": ")
        raise Invalid(field, detail) from None
    for i, d in enumerate(workdays):  # the index as submitted, so the field names the entry
        if d.weekday() < 5:
            raise Invalid(
                f"workdays[{i}]", f"{d.isoformat()} is a weekday; list only weekend days worked in lieu"
            )
    both = hol & work
    if both:
        raise Invalid("workdays", f"{min(both).isoformat()} is also listed as a holiday")
    return YearArrangement(year, hol, work)


def store_year(session: Session, arrangement: YearArrangement, now: datetime) -> None:
    row = repo.get(session, arrangement.year)
    if row is None:
        row = CalendarYear(year=arrangement.year)
        session.add(row)
    row.holidays = sorted(d.isoformat() for d in arrangement.holidays)
    row.workdays = sorted(d.isoformat() for d in arrangement.workdays)
    row.updated_at = now
    session.flush()


def drop_year(session: Session, year: int) -> bool:
    row = repo.get(session, year)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def missing_next_year(calendar: WorkingCalendar, today: date) -> int | None:
    """From November on, next year if its arrangement is not loaded (operators should act)."""
    if today.month >= 11 and not calendar.has_year(today.year + 1):
        return today.year + 1
    return None
