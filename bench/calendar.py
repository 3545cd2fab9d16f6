"""Benchmark: "the Nth working day after a date" on the Chinese working calendar.

Implementations, all fed the same list of (start, N) pairs (N uniform 1..30, start
uniform over 2004-01-01..2026-12-31):

- ours: ``WorkingCalendar.add_working_days(start, n)`` (bisection over working-day
  ordinals, built from the ``chinesecalendar`` data);
- baseline: ``holidays.China(years=range(2004, 2027)).get_nth_working_day(start, n)``.
  Same semantics as ours: it steps one day at a time n times, each time on to the next
  working day (weekend -> ``weekend_workdays``, weekday -> not a holiday), so for
  n >= 1 it is the nth working day strictly after ``start`` (and for n = 0 ``start``
  if working, else the next one);
- reference: ``chinese_calendar.find_workday(delta, date)``. NOT the same semantics:
  it first moves to the first working day on or after ``date`` and then counts
  ``delta`` working days from there, so ``find_workday(n, start)`` is one working day
  too late when ``start`` is a rest day. The adapted call used here is
  ``find_workday(n - 1, start + 1 day)``, which equals ours for every n >= 1.

Answers are compared wherever both sides have data: ours is "provisional" past 2026
(no 2027 in the package), ``chinese_calendar`` raises for 2027, ``holidays`` has its own
2027 data. ``--db`` is accepted for uniformity with the other benchmarks and unused.

Run: ``.venv/bin/python bench/calendar.py [--n 20000] [--seed 0] [--db sqlite]``.
"""

from __future__ import annotations

import os
import sys

# This file is named like the standard library's `calendar`, which other modules import
# (holidays, http.cookiejar, ...): keep its folder off sys.path, put the repo on it.
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import argparse  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from importlib.metadata import version  # noqa: E402

import chinese_calendar  # noqa: E402
import holidays  # noqa: E402

from app.services.working_days import WorkingCalendar, builtin_arrangements  # noqa: E402

FIRST = date(2004, 1, 1)
LAST = date(2026, 12, 31)
MAX_DAYS = 30
TARGET_RATIO = 50
ONE_DAY = timedelta(days=1)

Op = tuple[date, int]

# What the official notices say about each date where the two data sources differ.
KNOWN = {
    date(2005, 12, 31): (
        "working day (make-up Saturday) per the State Council's 2006 arrangement, "
        "国办发明电〔2005〕35号: '12月31日（星期六）上班'. holidays is right; chinesecalendar "
        "1.11 misses it (upstream issue liriansu-opus/chinese-calendar#125)"
    ),
}


def make_ops(n: int, seed: int) -> list[Op]:
    rng = random.Random(seed)
    lo, hi = FIRST.toordinal(), LAST.toordinal()
    return [(date.fromordinal(rng.randint(lo, hi)), rng.randint(1, MAX_DAYS)) for _ in range(n)]


def run(fn: Callable[[date, int], object], ops: list[Op]) -> tuple[list, float]:
    out: list = []
    append = out.append
    t0 = time.perf_counter()
    for start, n in ops:
        append(fn(start, n))
    return out, time.perf_counter() - t0


def best_rate(fn: Callable[[date, int], object], ops: list[Op], repeat: int):
    answers, _ = run(fn, ops)  # warm-up (holidays fills in 2027 lazily), and the answers
    best = min(run(fn, ops)[1] for _ in range(repeat))
    return answers, len(ops) / best


def compare(ops: list[Op], ours, other, covered) -> tuple[int, list[tuple[date, int, date, date]]]:
    compared, diffs = 0, []
    for (start, n), a, b, ok in zip(ops, ours, other, covered, strict=True):
        if not ok or b is None:
            continue
        compared += 1
        if a != b:
            diffs.append((start, n, a, b))
    return compared, diffs


def day_disagreements(cal: WorkingCalendar, hol: holidays.HolidayBase) -> list[dict]:
    rows = []
    d = FIRST
    while d <= LAST:
        ours, h, cc = cal.is_working_day(d), hol.is_working_day(d), chinese_calendar.is_workday(d)
        if not ours == h == cc:
            rows.append({"date": d.isoformat(), "ours": ours, "holidays": h, "chinese_calendar": cc})
        d += ONE_DAY
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=20000, help="operations (default 20000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    args = parser.parse_args(argv)

    ops = make_ops(args.n, args.seed)

    t0 = time.perf_counter()
    cal = WorkingCalendar(builtin_arrangements())
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    hol = holidays.China(years=range(FIRST.year, LAST.year + 1))
    hol_build_s = time.perf_counter() - t0

    add = cal.add_working_days
    find_workday = chinese_calendar.find_workday

    def reference(start: date, n: int) -> date | None:
        try:
            return find_workday(n - 1, start + ONE_DAY)
        except NotImplementedError:  # a year the package has no data for
            return None

    ours_pairs, ours_rate = best_rate(add, ops, args.repeat)  # the method itself, untouched
    ours_ans = [d for d, _ in ours_pairs]
    provisional = [p for _, p in ours_pairs]
    hol_ans, hol_rate = best_rate(hol.get_nth_working_day, ops, args.repeat)
    cc_ans, cc_time = run(reference, ops)  # slow: one timed run
    cc_rate = len(ops) / cc_time

    covered = [not p for p in provisional]
    hol_compared, hol_diffs = compare(ops, ours_ans, hol_ans, covered)
    cc_compared, cc_diffs = compare(ops, ours_ans, cc_ans, covered)

    # find_workday taken literally, on a subset: how often it differs, and why
    raw_ops = ops[: min(len(ops), 2000)]
    raw_diff = raw_rest = 0
    for (start, n), a in zip(raw_ops, ours_ans, strict=False):
        try:
            b = find_workday(n, start)
        except NotImplementedError:
            continue
        if a != b:
            raw_diff += 1
            raw_rest += not cal.is_working_day(start)

    days = day_disagreements(cal, hol)
    bad_days = [date.fromisoformat(row["date"]) for row in days]
    # an answer may differ only if the counted span (start, answer] holds a disputed day
    explained = sum(any(start < d <= max(a, b) for d in bad_days) for start, _, a, b in hol_diffs)
    ratio = ours_rate / hol_rate

    # ---- table ------------------------------------------------------------------------
    print(f"add N working days: {len(ops)} ops, N uniform 1..{MAX_DAYS}, starts uniform")
    print(f"over {FIRST}..{LAST}, seed {args.seed}; same list for every implementation")
    print(f"build: WorkingCalendar {build_s * 1e3:.1f} ms, holidays.China {hol_build_s * 1e3:.1f} ms")
    print()
    header = (
        f"{'implementation':<48} {'timed ops':>9} {'runs':>9} {'ops/s':>11} {'us/op':>8} {'vs holidays':>12}"
    )
    print(header)
    print("-" * len(header))
    rows = [
        ("ours WorkingCalendar.add_working_days", args.repeat, f"best of {args.repeat}", ours_rate),
        (
            f"holidays {version('holidays')} China.get_nth_working_day",
            args.repeat,
            f"best of {args.repeat}",
            hol_rate,
        ),
        (
            f"chinese_calendar {version('chinesecalendar')} find_workday (ref)",
            1,
            "1",
            cc_rate,
        ),
    ]
    for name, _, runs, rate in rows:
        print(
            f"{name:<48} {len(ops):>9} {runs:>9} {rate:>11,.0f} {1e6 / rate:>8.2f} {rate / hol_rate:>11.1f}x"
        )
    print()
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(f"ratio ours/holidays = {ratio:.1f} ({verdict} target >= {TARGET_RATIO})")
    print()
    print("answers (compared where our answer is not provisional, i.e. ends by 2026-12-31):")
    print(
        f"  vs holidays:         {hol_compared} compared, {len(hol_diffs)} disagree, "
        f"{len(ops) - hol_compared} skipped (end in 2027)"
    )
    print(
        f"  vs chinese_calendar: {cc_compared} compared, {len(cc_diffs)} disagree "
        "(find_workday(n - 1, start + 1 day))"
    )
    print(
        f"  find_workday(n, start) taken literally: {raw_diff} of {len(raw_ops)} differ, "
        f"{raw_rest} of them start on a rest day (it counts from the next working day)"
    )
    print(
        f"  {explained} of the {len(hol_diffs)} disagreements with holidays count across a "
        "day the sources disagree on (listed below)"
    )
    for start, n, a, b in hol_diffs[:10]:
        print(f"    {start} + {n:>2}: ours {a}, holidays {b}")
    if len(hol_diffs) > 10:
        print(f"    ... {len(hol_diffs) - 10} more")
    print()
    print(f"days {FIRST}..{LAST} on which the sources disagree about working or not:")
    for row in days:
        d = date.fromisoformat(row["date"])
        print(
            f"  {row['date']} ({d.strftime('%a')}): ours {row['ours']}, "
            f"holidays {row['holidays']}, chinese_calendar {row['chinese_calendar']}"
        )
        if d in KNOWN:
            print(f"    -> {KNOWN[d]}")
    print()

    result = {
        "bench": "calendar",
        "db": args.db,
        "params": {
            "n": len(ops),
            "seed": args.seed,
            "repeat": args.repeat,
            "days": [1, MAX_DAYS],
            "starts": [FIRST.isoformat(), LAST.isoformat()],
        },
        "metrics": {
            "ours_ops_per_s": round(ours_rate),
            "chinese_calendar_ops_per_s": round(cc_rate),
            "ours_build_ms": round(build_s * 1e3, 1),
            "compared_with_holidays": hol_compared,
            "disagreements_with_holidays": len(hol_diffs),
            "compared_with_chinese_calendar": cc_compared,
            "disagreements_with_chinese_calendar": len(cc_diffs),
            "disagreements_explained_by_disagreeing_days": explained,
            "disagreeing_days": [row["date"] for row in days],
            "target_ratio": TARGET_RATIO,
        },
        "baseline": {
            "impl": "holidays.China.get_nth_working_day",
            "version": version("holidays"),
            "ops_per_s": round(hol_rate),
        },
        "ratio": round(ratio, 1),
    }
    line = json.dumps(result, ensure_ascii=False)
    out_dir = os.path.join(_HERE, "out")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, f"calendar-{args.db}.json"), "w", encoding="utf-8") as f:
        f.write(line + "\n")
    print(line)
    return result


if __name__ == "__main__":
    main()
