"""Working-day arithmetic on the Chinese working calendar (pure).

A day is a working day when it is a weekday that is not a statutory holiday,
or a weekend day named a make-up working day (调休上班). A year without an
arrangement is reckoned on weekends and the holidays the law fixes by date
(`app.services.statutory`), with no make-up days; any answer that relied on such
a year is `provisional`.

Every working day in the span gets an ordinal, so "the Nth working day after
D" is one bisection and one index, O(log n), with no day-by-day loop.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from app.services.statutory import statutory_holidays

FIRST_YEAR = 1950
LAST_YEAR = 2200


@dataclass(frozen=True)
class YearArrangement:
    """One year's statutory holidays and make-up working days."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        for d in self.holidays | self.workdays:
            if d.year != self.year:
                raise ValueError(f"{d.isoformat()} is not in {self.year}")
        both = self.holidays & self.workdays
        if both:
            raise ValueError(f"{min(both).isoformat()} is both a holiday and a working day")


def builtin_arrangements(through: int | None = None) -> dict[int, YearArrangement]:
    """The years the `chinesecalendar` package knows (up to `through`, when given), as
    arrangements."""
    from chinese_calendar import constants

    by_year: dict[int, tuple[set[date], set[date]]] = {}
    for d in constants.holidays:
        by_year.setdefault(d.year, (set(), set()))[0].add(d)
    for d in constants.workdays:
        by_year.setdefault(d.year, (set(), set()))[1].add(d)
    for d in CORRECTIONS_WORKDAYS:
        by_year.setdefault(d.year, (set(), set()))[1].add(d)
        by_year[d.year][0].discard(d)
    for d in CORRECTIONS_HOLIDAYS:
        by_year.setdefault(d.year, (set(), set()))[0].add(d)
    return {
        y: YearArrangement(y, frozenset(h), frozenset(w))
        for y, (h, w) in sorted(by_year.items())
        if through is None or y <= through
    }


# Make-up working days the data package misses. 2005-12-31 (a Saturday): the State Council's
# 2006 notice (国办发明电〔2005〕35号) says "12月31日（星期六）上班"; chinesecalendar 1.11 omits it.
CORRECTIONS_WORKDAYS = (date(2005, 12, 31),)
# Holidays it misses. 2012-06-23 (a Saturday, Dragon Boat day itself): the 2012 notice
# (国办发明电〔2011〕39号) says "端午节：6月22日至24日放假公休"; the package lists the 22nd and
# 24th only. A Saturday either way, so no working day changes; the holiday list does.
CORRECTIONS_HOLIDAYS = (date(2012, 6, 23),)


class OutOfRange(ValueError):
    """A date outside the span the calendar reckons."""


Fallback = Callable[[int], frozenset[date]]


@lru_cache(maxsize=8)
def _working_days(
    arrangements: frozenset[tuple[int, YearArrangement]], fallback: Fallback | None
) -> tuple[list[int], list[date], list[int]]:
    """The span's working days (as ordinals and as dates) and, for each day of the span, the
    index of the first working day on or after it: what a calendar of these arrangements
    looks up. The same arrangements give the same lists, which no calendar changes, so they
    are made once per process: walking the span's 91,000 days (and reckoning the statutory
    holidays of the years without an arrangement) costs tens of milliseconds of a core, paid
    by every app at its first due time and again by each replica after a change."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    known: set[int] = set()
    for year, arr in arrangements:
        holidays |= arr.holidays
        workdays |= arr.workdays
        known.add(year)
    if fallback is not None:
        for year in range(FIRST_YEAR, LAST_YEAR + 1):
            if year not in known:
                holidays |= fallback(year)
    ordinals: list[int] = []
    # nxt[k]: index in ordinals of the first working day on or after day k of the span, so
    # that every lookup is two list indexings.
    nxt: list[int] = []
    first = date(FIRST_YEAR, 1, 1).toordinal()
    for o in range(first, date(LAST_YEAR, 12, 31).toordinal() + 1):
        nxt.append(len(ordinals))
        d = date.fromordinal(o)
        if d in workdays or (d.weekday() < 5 and d not in holidays):
            ordinals.append(o)
    nxt.append(len(ordinals))
    return ordinals, [date.fromordinal(o) for o in ordinals], nxt


class WorkingCalendar:
    """Immutable: build a new one when an arrangement changes.

    `fallback`: the holidays of a year with no arrangement (default: the statutory ones;
    None: weekends alone)."""

    def __init__(
        self, years: Mapping[int, YearArrangement], fallback: Fallback | None = statutory_holidays
    ) -> None:
        self.years = dict(years)
        self.fallback = fallback
        self._start = date(FIRST_YEAR, 1, 1)
        self._end = date(LAST_YEAR, 12, 31)
        self._first = self._start.toordinal()
        self._working, self._dates, self._next = _working_days(frozenset(self.years.items()), fallback)
        self._known_years = frozenset(self.years)

    def _check(self, d: date) -> None:
        if not self._start <= d <= self._end:
            raise OutOfRange(f"{d.isoformat()} is outside {FIRST_YEAR}..{LAST_YEAR}")

    def has_year(self, year: int) -> bool:
        return year in self._known_years

    def holidays_of(self, year: int) -> frozenset[date]:
        """The holidays the calendar reckons in `year`: its arrangement's, else the fallback's."""
        arrangement = self.years.get(year)
        if arrangement is not None:
            return arrangement.holidays
        return self.fallback(year) if self.fallback is not None else frozenset()

    def provisional_between(self, a: date, b: date) -> bool:
        """Whether any year from a to b (inclusive) has no arrangement."""
        lo, hi = (a.year, b.year) if a <= b else (b.year, a.year)
        known = self._known_years
        if lo == hi:
            return lo not in known
        return any(y not in known for y in range(lo, hi + 1))

    def is_working_day(self, d: date) -> bool:
        self._check(d)
        o = d.toordinal()
        i = bisect_left(self._working, o)
        return i < len(self._working) and self._working[i] == o

    def add_working_days(self, start: date, n: int) -> tuple[date, bool]:
        """The nth working day after `start` (n=0: `start` if working, else the next one)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        k = start.toordinal() - self._first
        if k < 0 or k >= len(self._next) - 1:
            raise OutOfRange(f"{start.isoformat()} is outside {FIRST_YEAR}..{LAST_YEAR}")
        i = self._next[k] if n == 0 else self._next[k + 1] + n - 1
        if i >= len(self._dates):
            raise OutOfRange(f"{n} working days after {start.isoformat()} is past {LAST_YEAR}")
        result = self._dates[i]
        return result, self.provisional_between(start, result)

    def next_working_day(self, d: date) -> tuple[date, bool]:
        """`d` if it is a working day, else the first working day after it."""
        return self.add_working_days(d, 0)

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]: how many steps `add_working_days` takes from a to b."""
        self._check(a)
        self._check(b)
        if b <= a:
            return 0
        return bisect_right(self._working, b.toordinal()) - bisect_right(self._working, a.toordinal())

    def with_year(self, arrangement: YearArrangement | None, year: int) -> WorkingCalendar:
        """A copy with one year replaced (or removed, given None)."""
        if arrangement is not None and arrangement.year != year:
            raise ValueError(f"the arrangement is for {arrangement.year}, not {year}")
        years = dict(self.years)
        if arrangement is None:
            years.pop(year, None)
        else:
            years[year] = arrangement
        return WorkingCalendar(years, self.fallback)


def parse_dates(values: Iterable[str | date], year: int, field_name: str) -> frozenset[date]:
    """Dates of one year from ISO strings; errors name the field and index."""
    out: set[date] = set()
    for i, v in enumerate(values):
        d = v if isinstance(v, date) else date.fromisoformat(v)
        if d.year != year:
            raise ValueError(f"{field_name}[{i}]: {d.isoformat()} is not in {year}")
        out.add(d)
    return frozenset(out)
