"""The monthly and annual reports (月报, 年报): every figure aggregated in SQL.

Each cohort is one GROUP BY query over (month, unit, category, district); its rows
are rolled up in Python into the per-unit, per-category and per-district tables, the
totals and the month-by-month rows, so all of them add up exactly. Cohorts follow
SPEC.md "Reports"; see `period.Period` for how the cut-off is applied.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Engine, func, select, tuple_
from sqlalchemy.orm import Session

from app.models import (
    Clock,
    Event,
    Extension,
    Rating,
    Resolution,
    Supervision,
    Ticket,
)
from app.repositories.clocks import judgement
from app.repositories.figures import count_if
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


def _grouped(
    session: Session,
    period: Period,
    entity: Any,
    time_col: Any,
    unit_col: Any,
    measures: Iterable[Any],
    *,
    where: Iterable[Any] = (),
    extra_group: Iterable[Any] = (),
) -> Iterator[tuple[Any, ...]]:
    """One GROUP BY (month, unit, category, district, *extra_group) over a cohort, as
    (dimension, key, month, *extra_group, *measures) rows, one per dimension.

    Every cohort's rows carry their ticket's category and district, so a month is read
    from the time column's index alone, whatever the size of the history. One scan
    serves all three dimensions (measured faster than a query per dimension)."""
    bucket = period.bucket(time_col)
    head = [bucket.label("bucket")] if bucket is not None else []
    dims = [unit_col, entity.category, entity.district]
    extra = list(extra_group)
    q = select(*head, *dims, *extra, *measures).select_from(entity).where(period.within(time_col), *where)
    conn = session.connection()
    grouping_sets = conn.dialect.name == "postgresql"
    if grouping_sets:
        # One scan, one small group per dimension: GROUPING() names the dimension of a row
        # (a bit set for each column not grouped on).
        q = q.add_columns(func.grouping(*dims)).group_by(
            func.grouping_sets(*(tuple_(*head, d, *extra) for d in dims))
        )
    else:
        # SQLite has no grouping sets: one row per (unit, category, district), rolled up here.
        q = q.group_by(*head, *dims, *extra)
    for row in conn.execute(q):
        month = row[0] if head else period.months[0][0]
        unit, cat, dist, *rest = row[len(head) :]
        keys = {"unit": unit, "category": cat, "district": dist}
        if grouping_sets:
            *rest, grouping = rest
            dim = _GROUPED_ON[grouping]
            yield (dim, keys[dim], month, *rest)
        else:
            for dim, key in keys.items():
                yield (dim, key, month, *rest)


_GROUPED_ON = {0b011: "unit", 0b101: "category", 0b110: "district"}


def collect(session: Session, period: Period) -> _Acc:
    acc = _Acc()
    # Calls and problems, by call time; attributed to the ticket's lead unit.
    for dim, key, bucket, calls, problems in _grouped(
        session,
        period,
        Ticket,
        Ticket.called_at,
        Ticket.lead_unit,
        [func.count(), count_if(Ticket.kind == "problem")],
    ):
        acc.add(dim, key, bucket, calls=calls, problems=problems)
    # Resolutions of problems, by the resolution's `at`; the unit that resolved.
    for dim, key, bucket, resolved, solved in _grouped(
        session,
        period,
        Resolution,
        Resolution.at,
        Resolution.unit_code,
        [func.count(), count_if(Resolution.outcome == "solved")],
        where=[Resolution.ticket_kind == "problem"],
    ):
        acc.add(dim, key, bucket, resolved=resolved, solved=solved)
    # Clocks started in the period, judged as of the cut-off.
    on_time, late = judgement(period)
    for dim, key, bucket, kind, n_on, n_late in _grouped(
        session,
        period,
        Clock,
        Clock.started_at,
        Clock.unit_code,
        [count_if(on_time), count_if(late)],
        where=[Clock.kind.in_(CLOCK_KINDS)],
        extra_group=[Clock.kind],
    ):
        acc.add(dim, key, bucket, **{f"{kind}_on_time": n_on, f"{kind}_late": n_late})
    # Ratings, by rating time; attributed to the unit that resolved the rated round.
    for dim, key, bucket, rated, satisfied in _grouped(
        session,
        period,
        Rating,
        Rating.at,
        Rating.unit_code,
        [func.count(), count_if(Rating.satisfied.is_(True))],
    ):
        acc.add(dim, key, bucket, rated=rated, satisfied=satisfied)
    return acc


def supervision_counts(session: Session, period: Period) -> dict[str, Any]:
    by_kind = {k: {"opened": 0, "closed": 0, "withdrawn": 0} for k in SUPERVISION_KINDS}
    for kind, n in session.execute(
        select(Supervision.kind, func.count())
        .where(period.within(Supervision.opened_at))
        .group_by(Supervision.kind)
    ):
        by_kind.setdefault(kind, {"opened": 0, "closed": 0, "withdrawn": 0})["opened"] += n
    for kind, state, n in session.execute(
        select(Supervision.kind, Supervision.state, func.count())
        .where(
            Supervision.closed_at.is_not(None),
            period.within(Supervision.closed_at),
            Supervision.state.in_(("closed", "withdrawn")),
        )
        .group_by(Supervision.kind, Supervision.state)
    ):
        by_kind.setdefault(kind, {"opened": 0, "closed": 0, "withdrawn": 0})[state] += n
    open_at_cutoff = session.scalar(
        select(func.count())
        .select_from(Supervision)
        .where(period.acted(Supervision.opened_at), period.not_acted(Supervision.closed_at))
    )
    return {
        "opened": sum(v["opened"] for v in by_kind.values()),
        "closed": sum(v["closed"] for v in by_kind.values()),
        "withdrawn": sum(v["withdrawn"] for v in by_kind.values()),
        "open_at_cutoff": int(open_at_cutoff or 0),
        "by_kind": by_kind,
    }


def extension_counts(session: Session, period: Period) -> dict[str, int]:
    requested = session.scalar(
        select(func.count()).select_from(Extension).where(period.within(Extension.requested_at))
    )
    decided = dict(
        session.execute(
            select(Extension.state, func.count())
            .where(
                Extension.decided_at.is_not(None),
                period.within(Extension.decided_at),
                Extension.state.in_(("approved", "refused")),
            )
            .group_by(Extension.state)
        ).all()
    )
    pending = session.scalar(
        select(func.count())
        .select_from(Extension)
        .where(period.acted(Extension.requested_at), period.not_acted(Extension.decided_at))
    )
    return {
        "requested": int(requested or 0),
        "approved": int(decided.get("approved", 0)),
        "refused": int(decided.get("refused", 0)),
        "pending_at_cutoff": int(pending or 0),
    }


def return_counts(session: Session, period: Period) -> dict[str, int]:
    n = session.scalar(
        select(func.count())
        .select_from(Event)
        .where(Event.type == "ticket.returned", period.within(Event.at))
    )
    return {"returned": int(n or 0)}


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
