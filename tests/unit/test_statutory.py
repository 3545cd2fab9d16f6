"""The statutory holidays by law (全国年节及纪念日放假办法), checked against the published years."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.services.statutory import (
    VERSIONS,
    dragon_boat,
    mid_autumn,
    qingming,
    spring_festival,
    statutory_holidays,
)
from app.services.working_days import WorkingCalendar, builtin_arrangements


def d(s: str) -> date:
    return date.fromisoformat(s)


def version_in_force(year: int) -> str:
    return [v.name for v in VERSIONS if v.in_force_from <= date(year, 12, 31)][-1]


@pytest.mark.parametrize("year", sorted(builtin_arrangements(through=2026)))
def test_every_statutory_day_is_a_holiday_in_the_state_councils_arrangement(year):
    """Each day the rule in force computes is a holiday in that year's published notice."""
    published = builtin_arrangements(through=2026)[year]
    missing = sorted(statutory_holidays(year) - published.holidays)
    assert missing == [], f"{year} (law of {version_in_force(year)})"


@pytest.mark.parametrize(
    "year, count",
    [
        (2004, 10),
        (2007, 10),  # 1999: New Year 1, Spring Festival 3, May 3, October 3
        (2008, 11),
        (2013, 11),  # 2007: May 1 only; Qingming, Dragon Boat, Mid-Autumn added
        (2014, 11),
        (2024, 11),  # 2013: the Spring Festival's first three days
        (2025, 13),
        (2027, 13),  # 2024: the eve added, and May 2
    ],
)
def test_each_version_of_the_law_fixes_its_number_of_days(year, count):
    assert len(statutory_holidays(year)) == count


def test_2027_by_the_2024_revision():
    assert sorted(statutory_holidays(2027)) == [
        d(x)
        for x in (
            "2027-01-01",
            "2027-02-05",
            "2027-02-06",
            "2027-02-07",
            "2027-02-08",  # eve, 正月初一 to 初三
            "2027-04-05",  # Qingming
            "2027-05-01",
            "2027-05-02",
            "2027-06-09",  # Dragon Boat
            "2027-09-15",  # Mid-Autumn
            "2027-10-01",
            "2027-10-02",
            "2027-10-03",
        )
    ]


def test_the_spring_festival_eve_is_a_holiday_under_the_2007_and_2024_versions_only():
    assert d("2008-02-06") in statutory_holidays(2008)  # eve of 2008-02-07
    assert d("2014-01-30") not in statutory_holidays(2014)  # eve of 2014-01-31: worked
    assert d("2014-02-02") in statutory_holidays(2014)  # 初三
    assert d("2025-01-28") in statutory_holidays(2025)  # eve of 2025-01-29


def test_1999_takes_each_day_from_the_version_then_in_force():
    days = statutory_holidays(1999)
    assert d("1999-05-01") in days and d("1999-05-02") not in days  # 1949: May 1 only
    assert d("1999-10-03") in days  # in force from 1999-09-18: October 1-3


@pytest.mark.parametrize(
    "year, expected",
    [
        (2008, "2008-04-04"),
        (2015, "2015-04-05"),
        (2017, "2017-04-04"),
        (2021, "2021-04-04"),
        (2025, "2025-04-04"),
        (2026, "2026-04-05"),
        (2027, "2027-04-05"),
        (2028, "2028-04-04"),
    ],
)
def test_qingming_is_the_solar_term_not_a_fixed_date(year, expected):
    assert qingming(year) == d(expected)


@pytest.mark.parametrize(
    "year, festival, boat, autumn",
    [
        (2020, "2020-01-25", "2020-06-25", "2020-10-01"),  # leap 4th month
        (2023, "2023-01-22", "2023-06-22", "2023-09-29"),  # leap 2nd month
        (2028, "2028-01-26", "2028-05-28", "2028-10-03"),  # leap 5th month: not its 5th day
    ],
)
def test_lunar_dates_across_leap_months(year, festival, boat, autumn):
    assert (spring_festival(year), dragon_boat(year), mid_autumn(year)) == (d(festival), d(boat), d(autumn))


def test_every_year_of_the_span_gives_dates_in_their_seasons():
    for year in range(1950, 2201):
        assert date(year, 1, 21) <= spring_festival(year) <= date(year, 2, 20)
        assert date(year, 4, 3) <= qingming(year) <= date(year, 4, 6)
        assert date(year, 5, 26) <= dragon_boat(year) <= date(year, 6, 26)
        assert date(year, 9, 6) <= mid_autumn(year) <= date(year, 10, 9)
        assert all(day.year == year for day in statutory_holidays(year))


def test_builtin_2012_includes_the_dragon_boat_saturday_the_data_package_omits():
    assert d("2012-06-23") in builtin_arrangements()[2012].holidays


@settings(max_examples=60, deadline=None)
@given(year=st.integers(min_value=1950, max_value=2200))
def test_a_year_without_arrangement_rests_on_each_statutory_day(year):
    """Whatever the year, the calendar reckons every day the law fixes as a rest day, and
    counts as many of them as the version in force fixes."""
    cal = WorkingCalendar({})
    days = statutory_holidays(year)
    assert all(not cal.is_working_day(day) for day in days)
    assert cal.holidays_of(year) == days
    version = version_in_force(year)
    expected = {"1949": 7, "1999": 10, "2007": 11, "2013": 11, "2024": 13}[version]
    if version >= "2007" and mid_autumn(year) <= date(year, 10, 3):
        expected -= mid_autumn(year) >= date(year, 10, 1)  # 中秋 on National Day (2020)
    assert len(days) == expected or year == 1999  # 1999 took days from two versions
