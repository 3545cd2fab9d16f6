"""The statutory holidays the law fixes by date (pure), for years with no arrangement.

《全国年节及纪念日放假办法》 names the days every citizen has off; the State
Council's yearly notice then moves days around them (调休), which no rule can
foresee. A year with no notice is reckoned on these days alone: no make-up
working days and no days in lieu (补假, which the notice places), and every
answer that relies on it stays provisional.

Each version of the law applies from the day it took effect, so a year that a
revision split (1999) takes each day from the version then in force. Lunar
dates and the Qingming solar term come from `lunar_python` (6tail's lunar, an
astronomical calendar after 寿星天文历; Qingming is the day the sun reaches
15° of ecliptic longitude, in Beijing time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

from lunar_python import Lunar


def _lunar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def spring_festival(year: int) -> date:
    """正月初一 of the lunar year that begins in `year`."""
    return _lunar(year, 1, 1)


def qingming(year: int) -> date:
    """The Qingming solar term (清明) in `year`, in Beijing time."""
    solar = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def dragon_boat(year: int) -> date:
    """端午: the fifth day of the fifth lunar month (never the leap month)."""
    return _lunar(year, 5, 5)


def mid_autumn(year: int) -> date:
    """中秋: the fifteenth day of the eighth lunar month."""
    return _lunar(year, 8, 15)


def _days(start: date, n: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def _v1949(y: int) -> list[date]:
    # 政务院, 1949-12-23: New Year 1 day, Spring Festival 3, Labour Day 1, National Day 2.
    return [date(y, 1, 1), *_days(spring_festival(y), 3), date(y, 5, 1), *_days(date(y, 10, 1), 2)]


def _v1999(y: int) -> list[date]:
    # 国务院令第270号, in force 1999-09-18: Labour Day and National Day 3 days each.
    return [date(y, 1, 1), *_days(spring_festival(y), 3), *_days(date(y, 5, 1), 3), *_days(date(y, 10, 1), 3)]


def _v2008(y: int) -> list[date]:
    # 国务院令第513号, in force 2008-01-01: Spring Festival from its eve; Qingming, Dragon
    # Boat and Mid-Autumn added; Labour Day 1 day.
    return [
        date(y, 1, 1),
        *_days(spring_festival(y) - timedelta(days=1), 3),
        qingming(y),
        date(y, 5, 1),
        dragon_boat(y),
        mid_autumn(y),
        *_days(date(y, 10, 1), 3),
    ]


def _v2014(y: int) -> list[date]:
    # 国务院令第644号, in force 2014-01-01: Spring Festival is its first three days again.
    return [
        date(y, 1, 1),
        *_days(spring_festival(y), 3),
        qingming(y),
        date(y, 5, 1),
        dragon_boat(y),
        mid_autumn(y),
        *_days(date(y, 10, 1), 3),
    ]


def _v2025(y: int) -> list[date]:
    # 国务院令第795号 (revised 2024-11-10), in force 2025-01-01: the eve and the first three
    # days of the Spring Festival; Labour Day 1-2 May.
    return [
        date(y, 1, 1),
        *_days(spring_festival(y) - timedelta(days=1), 4),
        qingming(y),
        *_days(date(y, 5, 1), 2),
        dragon_boat(y),
        mid_autumn(y),
        *_days(date(y, 10, 1), 3),
    ]


@dataclass(frozen=True)
class Version:
    """One version of the law: the day it took effect and the days it fixes in a year."""

    in_force_from: date
    name: str
    days: Callable[[int], list[date]]


VERSIONS = (
    Version(date(1949, 12, 23), "1949", _v1949),
    Version(date(1999, 9, 18), "1999", _v1999),
    Version(date(2008, 1, 1), "2007", _v2008),
    Version(date(2014, 1, 1), "2013", _v2014),
    Version(date(2025, 1, 1), "2024", _v2025),
)


@cache
def statutory_holidays(year: int) -> frozenset[date]:
    """The days the law in force fixes as holidays in `year` (each day by the version in
    force on it)."""
    out: set[date] = set()
    for i, version in enumerate(VERSIONS):
        until = VERSIONS[i + 1].in_force_from if i + 1 < len(VERSIONS) else date.max
        if version.in_force_from.year > year or until.year < year:
            continue
        out.update(d for d in version.days(year) if version.in_force_from <= d < until and d.year == year)
    return frozenset(out)
