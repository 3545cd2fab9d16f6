"""WorkingCalendar: worked examples, builtin data, provisional years, properties."""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.working_days import (
    FIRST_YEAR,
    LAST_YEAR,
    OutOfRange,
    WorkingCalendar,
    YearArrangement,
    builtin_arrangements,
    parse_dates,
)

FAST = settings(max_examples=200, deadline=None)


# The arrangement these tests rely on: the published years 2004-2026, 2027 not yet loaded.
PUBLISHED_THROUGH = 2026


@cache
def builtin() -> WorkingCalendar:
    return WorkingCalendar(builtin_arrangements(through=PUBLISHED_THROUGH))


def d(s: str) -> date:
    return date.fromisoformat(s)


# --- builtin data --------------------------------------------------------------------------


def test_builtin_years_run_unbroken_from_2004_through_at_least_2026():
    years = builtin_arrangements()
    assert min(years) == 2004
    assert max(years) >= 2026
    assert sorted(years) == list(range(2004, max(years) + 1))
    assert sorted(builtin_arrangements(through=2026)) == list(range(2004, 2027))


# Days where chinesecalendar's data is known to be wrong (see the test below).
KNOWN_ERRATA = {date(2005, 12, 31)}


def test_builtin_agrees_with_chinese_calendar_every_day_2004_2026():
    cal = builtin()
    day, end = date(2004, 1, 1), date(2026, 12, 31)
    mismatches = []
    while day <= end:
        if day not in KNOWN_ERRATA and cal.is_working_day(day) != chinese_calendar.is_workday(day):
            mismatches.append(day)
        day += timedelta(days=1)
    assert mismatches == []


def test_2005_12_31_is_a_make_up_working_day():
    cal = builtin()
    assert cal.is_working_day(date(2005, 12, 31))
    assert cal.add_working_days(date(2005, 12, 30), 1) == (date(2005, 12, 31), False)


# --- 2025 National Day: Oct 1-8 off, Sun Sep 28 and Sat Oct 11 worked ----------------------


@pytest.mark.parametrize(
    "day, working",
    [
        ("2025-09-27", False),  # Saturday
        ("2025-09-28", True),  # make-up Sunday
        ("2025-09-29", True),
        ("2025-09-30", True),
        *[(f"2025-10-0{i}", False) for i in range(1, 9)],  # Oct 1-8 holiday
        ("2025-10-09", True),
        ("2025-10-10", True),
        ("2025-10-11", True),  # make-up Saturday
        ("2025-10-12", False),  # Sunday
        ("2025-10-13", True),
    ],
)
def test_national_day_2025_is_working_day(day, working):
    assert builtin().is_working_day(d(day)) is working
    assert chinese_calendar.is_workday(d(day)) is working


@pytest.mark.parametrize(
    "start, n, expected",
    [
        ("2025-09-30", 0, "2025-09-30"),
        ("2025-09-30", 1, "2025-10-09"),
        ("2025-09-30", 2, "2025-10-10"),
        ("2025-09-30", 3, "2025-10-11"),
        ("2025-09-30", 4, "2025-10-13"),
        ("2025-09-30", 7, "2025-10-16"),  # SPEC: resolve due end of Oct 16
        ("2025-09-26", 1, "2025-09-28"),  # Fri -> make-up Sunday
        ("2025-09-27", 0, "2025-09-28"),  # Sat -> next working day is Sunday
        ("2025-10-01", 0, "2025-10-09"),
        ("2025-10-05", 1, "2025-10-09"),
        ("2025-10-08", 5, "2025-10-14"),
    ],
)
def test_national_day_2025_add_working_days(start, n, expected):
    result, provisional = builtin().add_working_days(d(start), n)
    assert result.isoformat() == expected
    assert provisional is False


def test_national_day_2025_counts():
    cal = builtin()
    assert cal.working_days_between(d("2025-09-30"), d("2025-10-16")) == 7
    assert cal.working_days_between(d("2025-09-30"), d("2025-10-08")) == 0
    assert cal.working_days_between(d("2025-09-27"), d("2025-09-28")) == 1


# --- 2026 Spring Festival: Feb 15-23 off, Sat Feb 14 and Sat Feb 28 worked ------------------


@pytest.mark.parametrize(
    "day, working",
    [
        ("2026-02-13", True),  # Friday
        ("2026-02-14", True),  # make-up Saturday
        *[(f"2026-02-{i}", False) for i in range(15, 24)],  # Feb 15-23 holiday
        ("2026-02-24", True),
        ("2026-02-27", True),
        ("2026-02-28", True),  # make-up Saturday
        ("2026-03-01", False),  # Sunday
        ("2026-02-07", False),  # ordinary Saturday
    ],
)
def test_spring_festival_2026_is_working_day(day, working):
    assert builtin().is_working_day(d(day)) is working
    assert chinese_calendar.is_workday(d(day)) is working


@pytest.mark.parametrize(
    "start, n, expected",
    [
        ("2026-02-13", 0, "2026-02-13"),
        ("2026-02-13", 1, "2026-02-14"),
        ("2026-02-13", 2, "2026-02-24"),
        ("2026-02-12", 3, "2026-02-24"),
        ("2026-02-13", 5, "2026-02-27"),
        ("2026-02-13", 6, "2026-02-28"),
        ("2026-02-13", 7, "2026-03-02"),
        ("2026-02-14", 0, "2026-02-14"),
        ("2026-02-14", 1, "2026-02-24"),
        ("2026-02-15", 0, "2026-02-24"),
        ("2026-02-20", 1, "2026-02-24"),
        ("2026-02-23", 1, "2026-02-24"),
        ("2026-02-27", 1, "2026-02-28"),
        ("2026-02-28", 1, "2026-03-02"),
        ("2026-02-09", 7, "2026-02-25"),  # 10,11,12,13,14,24,25
    ],
)
def test_spring_festival_2026_add_working_days(start, n, expected):
    result, provisional = builtin().add_working_days(d(start), n)
    assert result.isoformat() == expected
    assert provisional is False
    # chinese_calendar.find_workday(k, day) counts from the first working day on or after
    # `day`, so "n working days strictly after start" is find_workday(n - 1, start + 1).
    if n >= 1:
        assert chinese_calendar.find_workday(n - 1, d(start) + timedelta(days=1)) == result


def test_spring_festival_2026_next_working_day_and_between():
    cal = builtin()
    assert cal.next_working_day(d("2026-02-15")) == (d("2026-02-24"), False)
    assert cal.next_working_day(d("2026-02-14")) == (d("2026-02-14"), False)
    assert cal.working_days_between(d("2026-02-13"), d("2026-02-28")) == 6
    assert cal.working_days_between(d("2026-02-14"), d("2026-02-23")) == 0


# --- years without data -------------------------------------------------------------------

# Hypothetical 2027 arrangement (test data, not the State Council's): Jan 1 off, a Spring
# Festival Feb 5-11, with Saturday Feb 13 worked.
ARR_2027 = YearArrangement(
    2027,
    frozenset({date(2027, 1, 1)} | {date(2027, 2, 5) + timedelta(days=i) for i in range(7)}),
    frozenset({date(2027, 2, 13)}),
)


def test_crossing_into_2027_is_reckoned_on_statutory_holidays_and_provisional_until_loaded():
    cal = builtin()
    assert not cal.has_year(2027)
    # Fri 2027-01-01 is New Year's Day by law: Thu Dec 31 + 1 is Mon Jan 4.
    assert cal.add_working_days(d("2026-12-31"), 1) == (d("2027-01-04"), True)
    assert cal.add_working_days(d("2026-12-30"), 1) == (d("2026-12-31"), False)
    # Spring Festival 2027 by law: its eve Feb 5 and Feb 6-8; no make-up working days.
    assert cal.add_working_days(d("2027-02-04"), 1) == (d("2027-02-09"), True)
    assert not cal.is_working_day(d("2027-02-13"))  # a Saturday, nobody has named it worked

    loaded = cal.with_year(ARR_2027, 2027)
    assert loaded.has_year(2027)
    assert loaded.add_working_days(d("2026-12-31"), 1) == (d("2027-01-04"), False)
    assert loaded.add_working_days(d("2027-02-04"), 1) == (d("2027-02-12"), False)
    assert loaded.add_working_days(d("2027-02-12"), 1) == (d("2027-02-13"), False)
    # the original is immutable
    assert cal.add_working_days(d("2027-02-04"), 1) == (d("2027-02-09"), True)


def test_removing_a_year_falls_back_to_its_statutory_holidays_and_is_provisional():
    cal = builtin().with_year(None, 2025)
    assert not cal.has_year(2025)
    assert cal.is_working_day(d("2025-10-01")) is False  # National Day, by law
    assert cal.is_working_day(d("2025-10-06")) is False  # Mid-Autumn 2025, by law
    assert cal.is_working_day(d("2025-10-08")) is True  # the arrangement's bridge days are gone
    assert cal.is_working_day(d("2025-09-28")) is False  # Sunday: no make-up days by law
    assert cal.add_working_days(d("2025-09-30"), 1) == (d("2025-10-07"), True)
    assert cal.with_year(builtin_arrangements()[2025], 2025).add_working_days(d("2025-09-30"), 1) == (
        d("2025-10-09"),
        False,
    )


def test_provisional_between():
    cal = builtin()
    assert cal.provisional_between(d("2004-01-01"), d("2026-12-31")) is False
    assert cal.provisional_between(d("2026-12-31"), d("2027-01-01")) is True
    assert cal.provisional_between(d("2027-01-01"), d("2026-12-31")) is True
    assert cal.provisional_between(d("2003-12-31"), d("2004-01-01")) is True


def test_calendar_without_fallback_is_weekends_only():
    cal = WorkingCalendar({}, fallback=None)
    assert cal.add_working_days(d("2025-10-03"), 1) == (d("2025-10-06"), True)
    assert cal.add_working_days(d("2025-10-04"), 0) == (d("2025-10-06"), True)
    assert cal.holidays_of(2025) == frozenset()


def test_empty_calendar_reckons_every_year_on_its_statutory_holidays():
    cal = WorkingCalendar({})
    assert cal.add_working_days(d("2025-10-03"), 1) == (d("2025-10-07"), True)  # Oct 6: 中秋
    assert d("2025-01-28") in cal.holidays_of(2025)  # Spring Festival's eve, from 2025


# --- validation ---------------------------------------------------------------------------


def test_year_arrangement_rejects_date_of_another_year():
    with pytest.raises(ValueError, match="2025-12-31 is not in 2026"):
        YearArrangement(2026, frozenset({date(2025, 12, 31)}))
    with pytest.raises(ValueError, match="is not in 2026"):
        YearArrangement(2026, frozenset(), frozenset({date(2027, 1, 2)}))


def test_year_arrangement_rejects_date_both_holiday_and_workday():
    with pytest.raises(ValueError, match="2026-02-14 is both a holiday and a working day"):
        YearArrangement(2026, frozenset({date(2026, 2, 14)}), frozenset({date(2026, 2, 14)}))


def test_parse_dates():
    assert parse_dates(["2026-02-14", date(2026, 2, 28)], 2026, "workdays") == frozenset(
        {date(2026, 2, 14), date(2026, 2, 28)}
    )
    with pytest.raises(ValueError, match=r"workdays\[1\]: 2025-12-31 is not in 2026"):
        parse_dates(["2026-02-14", "2025-12-31"], 2026, "workdays")


def test_negative_n_and_out_of_range():
    cal = builtin()
    with pytest.raises(ValueError):
        cal.add_working_days(d("2025-01-02"), -1)
    with pytest.raises(OutOfRange):
        cal.add_working_days(date(FIRST_YEAR - 1, 12, 31), 1)
    with pytest.raises(OutOfRange):
        cal.is_working_day(date(LAST_YEAR + 1, 1, 1))
    with pytest.raises(OutOfRange):
        cal.add_working_days(date(LAST_YEAR, 12, 1), 3650)


# --- properties ---------------------------------------------------------------------------

starts = st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 12, 31))
counts = st.integers(min_value=0, max_value=400)


@FAST
@given(start=starts, n=counts)
def test_result_is_a_working_day(start, n):
    result, _ = builtin().add_working_days(start, n)
    assert builtin().is_working_day(result)
    assert result >= start
    if n >= 1:
        assert result > start


@FAST
@given(start=starts, n=counts)
def test_between_inverts_add(start, n):
    cal = builtin()
    result, _ = cal.add_working_days(start, n)
    if n >= 1:
        assert cal.working_days_between(start, result) == n
    else:
        # n=0 is the next working day on or after start: no working day is skipped
        assert cal.working_days_between(start, result) == (0 if result == start else 1)


@FAST
@given(start=starts, n=counts)
def test_add_is_the_first_day_with_n_working_days(start, n):
    cal = builtin()
    result, _ = cal.add_working_days(start, max(n, 1))
    assert cal.working_days_between(start, result - timedelta(days=1)) == max(n, 1) - 1


@FAST
@given(start=starts, n=counts)
def test_monotone_in_n(start, n):
    cal = builtin()
    now, after = cal.add_working_days(start, n)[0], cal.add_working_days(start, n + 1)[0]
    assert after >= now
    if n >= 1 or cal.is_working_day(start):
        assert after > now


@FAST
@given(a=starts, b=starts, n=counts)
def test_monotone_in_start(a, b, n):
    cal = builtin()
    lo, hi = sorted((a, b))
    assert cal.add_working_days(lo, n)[0] <= cal.add_working_days(hi, n)[0]


@FAST
@given(start=starts)
def test_zero_of_a_working_day_is_itself(start):
    cal = builtin()
    result, _ = cal.next_working_day(start)
    if cal.is_working_day(start):
        assert result == start
    else:
        assert result > start
        assert cal.working_days_between(start, result) == 1
        assert cal.add_working_days(start, 1)[0] == result


@FAST
@given(start=starts, n=counts)
def test_provisional_iff_a_year_in_the_span_is_unknown(start, n):
    cal = builtin()
    result, provisional = cal.add_working_days(start, n)
    years = range(start.year, result.year + 1)
    assert provisional is any(y > PUBLISHED_THROUGH or y < 2004 for y in years)


@FAST
@given(start=st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 11, 30)), n=counts)
def test_matches_chinese_calendar_find_workday(start, n):
    result, provisional = builtin().add_working_days(start, n)
    if provisional or start <= date(2005, 12, 31) <= result:
        return  # chinesecalendar misses the make-up day 2005-12-31, which we correct
    if n == 0:
        expected = chinese_calendar.find_workday(0, start)
    else:
        expected = chinese_calendar.find_workday(n - 1, start + timedelta(days=1))
    assert result == expected
