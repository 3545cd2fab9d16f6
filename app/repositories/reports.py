"""The monthly and annual reports' queries (app.services.reports.monthly): each cohort's
counts grouped by month, unit, category and district in one scan, and the counts of cases,
extension requests and returns. Cohorts follow SPEC.md "Reports"; `Period` applies the
cut-off."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from app.models import Clock, Event, Extension, Rating, Resolution, Supervision, Ticket
from app.repositories.clocks import judgement
from app.repositories.figures import count_if, count_rows
from app.services.vocabulary import ExtensionState

if TYPE_CHECKING:
    from app.services.reports.period import Period

Grouped = Iterator[tuple[Any, ...]]
"""(dimension, key, month, *extra group, *measures) rows: see `_grouped`."""


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
) -> Grouped:
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
        # SQLite has no grouping sets: one row per (unit, category, district), rolled up by
        # the caller.
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


# --- cohorts, each grouped by month, unit, category and district ---------------------------


def calls(session: Session, period: Period) -> Grouped:
    """Calls and problems, by call time; the ticket's lead unit: (..., calls, problems)."""
    return _grouped(
        session,
        period,
        Ticket,
        Ticket.called_at,
        Ticket.lead_unit,
        [func.count(), count_if(Ticket.kind == "problem")],
    )


def resolutions(session: Session, period: Period) -> Grouped:
    """Resolutions of problems, by the resolution's `at`; the unit that resolved:
    (..., resolved, solved)."""
    return _grouped(
        session,
        period,
        Resolution,
        Resolution.at,
        Resolution.unit_code,
        [func.count(), count_if(Resolution.outcome == "solved")],
        where=[Resolution.ticket_kind == "problem"],
    )


def clocks_judged(session: Session, period: Period, kinds: Collection[str]) -> Grouped:
    """Clocks of these kinds started in the period, judged as of the cut-off:
    (..., kind, on time, late)."""
    on_time, late = judgement(period)
    return _grouped(
        session,
        period,
        Clock,
        Clock.started_at,
        Clock.unit_code,
        [count_if(on_time), count_if(late)],
        where=[Clock.kind.in_(kinds)],
        extra_group=[Clock.kind],
    )


def ratings(session: Session, period: Period) -> Grouped:
    """Ratings, by rating time; the unit that resolved the rated round: (..., rated,
    satisfied)."""
    return _grouped(
        session,
        period,
        Rating,
        Rating.at,
        Rating.unit_code,
        [func.count(), count_if(Rating.satisfied.is_(True))],
    )


# --- supervision cases, extension requests, returns ----------------------------------------


def cases_opened(session: Session, period: Period) -> list[tuple[str, int]]:
    """(kind, count) of the supervision cases opened in the period."""
    q = select(Supervision.kind, func.count()).where(period.within(Supervision.opened_at))
    return [(kind, n) for kind, n in session.execute(q.group_by(Supervision.kind))]


def cases_ended(session: Session, period: Period) -> list[tuple[str, str, int]]:
    """(kind, state, count) of the supervision cases closed or withdrawn in the period."""
    q = (
        select(Supervision.kind, Supervision.state, func.count())
        .where(
            Supervision.closed_at.is_not(None),
            period.within(Supervision.closed_at),
            Supervision.state.in_(("closed", "withdrawn")),
        )
        .group_by(Supervision.kind, Supervision.state)
    )
    return [(kind, state, n) for kind, state, n in session.execute(q)]


def cases_open_at_cutoff(session: Session, period: Period) -> int:
    """How many supervision cases were open at the cut-off."""
    return count_rows(
        session, Supervision, period.acted(Supervision.opened_at), period.not_acted(Supervision.closed_at)
    )


def extensions_requested(session: Session, period: Period) -> int:
    """How many extensions were requested in the period."""
    return count_rows(session, Extension, period.within(Extension.requested_at))


def extensions_decided(session: Session, period: Period) -> dict[str, int]:
    """How many extension requests were approved and refused in the period, by state."""
    return dict(
        session.execute(
            select(Extension.state, func.count())
            .where(
                Extension.decided_at.is_not(None),
                period.within(Extension.decided_at),
                Extension.state.in_((ExtensionState.APPROVED.value, ExtensionState.REFUSED.value)),
            )
            .group_by(Extension.state)
        ).all()
    )


def extensions_pending_at_cutoff(session: Session, period: Period) -> int:
    """How many extension requests waited for a decision at the cut-off."""
    return count_rows(
        session, Extension, period.acted(Extension.requested_at), period.not_acted(Extension.decided_at)
    )


def returns(session: Session, period: Period) -> int:
    """How many times a ticket was returned in the period."""
    return count_rows(session, Event, Event.type == "ticket.returned", period.within(Event.at))
