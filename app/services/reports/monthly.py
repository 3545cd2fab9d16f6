"""The monthly and annual reports (月报, 年报): every figure aggregated in SQL.

Each cohort is one GROUP BY query over (month, unit, category, district), in
app.repositories.reports; its rows are rolled up in Python into the per-unit,
per-category and per-district tables, the totals and the month-by-month rows, so all of
them add up exactly. Cohorts follow SPEC.md "Reports"; see `period.Period` for how the
cut-off is applied.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.repositories import reports as repo
from app.services.reports.lists import Names, overdue_list, unsatisfied_list
from app.services.reports.period import Period
from app.services.reports.scoring import ScoreWeights, assess
from app.services.reports.snapshot import shared_snapshot
from app.services.vocabulary import TICKET_CASE_KINDS

CLOCK_KINDS = ("contact", "resolve", "feedback")
SUPERVISION_KINDS = tuple(k.value for k in TICKET_CASE_KINDS)
COUNTS = (
    "calls",
    "problems",
    "resolved",
    "solved",
    "rated",
    "satisfied",
    *(f"{k}_{x}" for k in CLOCK_KINDS for x in ("on_time", "late")),
)


def _figures(c: dict[str, int]) -> dict[str, Any]:
    """The figures of `totals` from raw counts; a rate is None when nothing was measured."""

    def rate(num: int, den: int) -> float | None:
        return num / den if den else None

    out: dict[str, Any] = {
        "calls": c["calls"],
        "problems": c["problems"],
        "resolved": c["resolved"],
        "solved": c["solved"],
        "solve_rate": rate(c["solved"], c["resolved"]),
    }
    for k in CLOCK_KINDS:
        on_time, late = c[f"{k}_on_time"], c[f"{k}_late"]
        out[f"{k}_on_time_rate"] = rate(on_time, on_time + late)
    out["rated"] = c["rated"]
    out["satisfaction_rate"] = rate(c["satisfied"], c["rated"])
    out["unsatisfied"] = c["rated"] - c["satisfied"]
    for k in CLOCK_KINDS:
        out[f"{k}_measured"] = c[f"{k}_on_time"] + c[f"{k}_late"]
        out[f"{k}_on_time"] = c[f"{k}_on_time"]
    out["satisfied"] = c["satisfied"]
    return out


class _Acc:
    """Counts per (dimension, key): "unit", "category", "district", "month", "total".

    Every cohort row is counted once in its per-unit group, so the per-unit groups also
    give the totals and the month-by-month rows."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, Any], dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))

    def add(self, dim: str, key: Any, bucket: str, **counts: Any) -> None:
        targets = [self.rows[(dim, key)]]
        if dim == "unit":
            targets += [self.rows[("month", bucket)], self.rows[("total", None)]]
        for row in targets:
            for name, value in counts.items():
                row[name] += int(value or 0)

    def get(self, dim: str) -> dict[Any, dict[str, int]]:
        return {key: row for (d, key), row in self.rows.items() if d == dim}

    def total(self) -> dict[str, int]:
        return self.rows[("total", None)]


def collect(session: Session, period: Period) -> _Acc:
    acc = _Acc()
    for dim, key, bucket, calls, problems in repo.calls(session, period):
        acc.add(dim, key, bucket, calls=calls, problems=problems)
    for dim, key, bucket, resolved, solved in repo.resolutions(session, period):
        acc.add(dim, key, bucket, resolved=resolved, solved=solved)
    for dim, key, bucket, kind, n_on, n_late in repo.clocks_judged(session, period, CLOCK_KINDS):
        acc.add(dim, key, bucket, **{f"{kind}_on_time": n_on, f"{kind}_late": n_late})
    for dim, key, bucket, rated, satisfied in repo.ratings(session, period):
        acc.add(dim, key, bucket, rated=rated, satisfied=satisfied)
    return acc


def supervision_counts(session: Session, period: Period) -> dict[str, Any]:
    by_kind = {k: {"opened": 0, "closed": 0, "withdrawn": 0} for k in SUPERVISION_KINDS}
    for kind, n in repo.cases_opened(session, period):
        by_kind.setdefault(kind, {"opened": 0, "closed": 0, "withdrawn": 0})["opened"] += n
    for kind, state, n in repo.cases_ended(session, period):
        by_kind.setdefault(kind, {"opened": 0, "closed": 0, "withdrawn": 0})[state] += n
    return {
        "opened": sum(v["opened"] for v in by_kind.values()),
        "closed": sum(v["closed"] for v in by_kind.values()),
        "withdrawn": sum(v["withdrawn"] for v in by_kind.values()),
        "open_at_cutoff": repo.cases_open_at_cutoff(session, period),
        "by_kind": by_kind,
    }


def extension_counts(session: Session, period: Period) -> dict[str, int]:
    requested = repo.extensions_requested(session, period)
    decided = repo.extensions_decided(session, period)
    return {
        "requested": requested,
        "approved": int(decided.get("approved", 0)),
        "refused": int(decided.get("refused", 0)),
        "pending_at_cutoff": repo.extensions_pending_at_cutoff(session, period),
    }


def return_counts(session: Session, period: Period) -> dict[str, int]:
    return {"returned": repo.returns(session, period)}


def _table(acc: _Acc, overdue: list[dict[str, Any]], dim: str, names: dict[str, str]) -> list[dict[str, Any]]:
    rolled = acc.get(dim)
    late: dict[Any, int] = defaultdict(int)
    for item in overdue:
        late[item[dim]] += 1
    empty = dict.fromkeys(COUNTS, 0)
    out = []
    for code in sorted(set(rolled) | set(late), key=lambda c: (c is None, c or "")):
        row: dict[str, Any] = {dim: code, "name": names.get(code, code) if code else None}
        row.update(_figures(rolled.get(code, empty)))
        row["overdue_unresolved"] = late.get(code, 0)
        out.append(row)
    return out


# Parallel reports at once, per process: each holds three pooled connections, so more
# could starve the pool (and requests waiting on it); the rest are read on one connection.
_PARALLEL = threading.BoundedSemaphore(2)


def build(session: Session, period: Period, weights: ScoreWeights | None = None) -> dict[str, Any]:
    """The report for a period (a month, or a year for the annual report), as plain data.

    On PostgreSQL its sections are read on three connections sharing one snapshot: the
    database works on the grouped figures while Python shapes the two lists (at 1 M
    tickets, each list is a few hundred ms of Python), and every section still describes
    the same instant. SQLite, in-process, reads them one after another on `session`, as
    does a report that finds two others already reading in parallel."""
    engine = session.get_bind()
    if not (
        isinstance(engine, Engine)
        and engine.dialect.name == "postgresql"
        and _PARALLEL.acquire(blocking=False)
    ):
        return _build(session, session, session, period, None, weights or ScoreWeights())
    try:
        with (
            shared_snapshot(engine, 3) as (main, second, third),
            ThreadPoolExecutor(2, thread_name_prefix="report") as pool,
        ):
            return _build(main, second, third, period, pool, weights or ScoreWeights())
    finally:
        _PARALLEL.release()


def _build(
    main: Session,
    second: Session,
    third: Session,
    period: Period,
    pool: ThreadPoolExecutor | None,
    weights: ScoreWeights,
) -> dict[str, Any]:
    names = Names(main)
    if pool is None:
        overdue = overdue_list(second, period, names)
        unsatisfied = unsatisfied_list(third, period, names)
        acc = collect(main, period)
    else:
        overdue_f = pool.submit(overdue_list, second, period, names)
        unsatisfied_f = pool.submit(unsatisfied_list, third, period, names)
        acc = collect(main, period)
        overdue, unsatisfied = overdue_f.result(), unsatisfied_f.result()
    return _assemble(main, period, names, acc, overdue, unsatisfied, weights)


def _assemble(
    session: Session,
    period: Period,
    names: Names,
    acc: _Acc,
    overdue_items: list[dict[str, Any]],
    unsatisfied: list[dict[str, Any]],
    weights: ScoreWeights,
) -> dict[str, Any]:
    totals = _figures(acc.total())
    totals["overdue_unresolved"] = len(overdue_items)
    report: dict[str, Any] = {
        period.kind: int(period.label) if period.kind == "year" else period.label,
        "cutoff_at": period.local(period.cutoff),
        "period": {
            "start": period.local(period.start),
            "end": period.local(period.end),
            "current": period.current,
        },
        "totals": totals,
        "overdue_unresolved": overdue_items,
        "unsatisfied": unsatisfied,
        "supervisions": supervision_counts(session, period),
        # Per unit / category / district; overdue counts are of the list above.
        "by_unit": _table(acc, overdue_items, "unit", names.units),
        "by_category": _table(acc, overdue_items, "category", names.cats),
        "by_district": _table(acc, overdue_items, "district", names.districts),
        "extensions": extension_counts(session, period),
        "returns": return_counts(session, period),
    }
    assess(report["by_unit"], weights)
    report["score_weights"] = dict(weights.items())
    if period.kind == "year":
        by_month = acc.get("month")
        report["months"] = [
            {"month": label, **_figures(by_month.get(label, dict.fromkeys(COUNTS, 0)))}
            for label, _ in period.months
        ]
    return report
