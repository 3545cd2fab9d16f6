"""The liaison committee's dashboard: what needs attention now, and a year of trends.

Every figure follows the monthly report's definitions (app.services.reports.monthly):
the overdue list is its "should have been resolved" cohort as of now, the trends its
calls, on-time resolution and satisfaction month by month. The trends read a year of
history, so they are kept for a minute and refreshed in the background while the
committee keeps seeing the last figures (stale-while-revalidate); the rest is read on
every request from small partial indexes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, literal_column, select
from sqlalchemy.orm import Session

from app.models import Clock, Extension, Rating, Supervision, Ticket
from app.services.reports.lists import overdue_terms
from app.services.reports.monthly import clock_judgement, count_if
from app.services.reports.period import Period, month_start

log = logging.getLogger(__name__)
LISTED = 20
TREND_MONTHS = 12
TREND_TTL = timedelta(minutes=1)


def _now_period(now: datetime, tz: ZoneInfo) -> Period:
    """The current instant as a report's cut-off (for the cohort predicates)."""
    return Period(label="now", kind="month", start=now, end=now, cutoff=now, current=True,
                  tz=tz, months=(("now", now),))


def overview(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """What needs attention now: overdue unresolved, unsatisfied tickets and their cases,
    open cases, pending extension decisions, breaches today."""
    period = _now_period(now, tz)
    # The report's rule, with the two terms that let the database read only open clocks.
    overdue = [*overdue_terms(period), Clock.met_at.is_(None), Clock.cancelled_at.is_(None)]
    overdue_count = session.scalar(select(func.count()).select_from(Clock).where(*overdue))
    overdue_rows = session.execute(
        select(Ticket.id, Ticket.hotline_no, Ticket.category, Ticket.urgency, Clock.unit_code,
               Clock.round, Clock.due_at)
        .select_from(Clock).join(Ticket, Ticket.id == Clock.ticket_id)
        .where(*overdue).order_by(Clock.due_at, Clock.id).limit(LISTED)).all()
    unsatisfied_count = session.scalar(select(func.count()).select_from(Ticket)
                                       .where(Ticket.status == "supervising"))
    unsatisfied = session.execute(
        select(Ticket.id, Ticket.hotline_no, Ticket.category, Ticket.lead_unit, Ticket.round,
               Ticket.rated_at)
        .where(Ticket.status == "supervising").order_by(Ticket.id.desc()).limit(LISTED)).all()
    cases: dict[str, list[tuple[str, str | None]]] = {t.id: [] for t in unsatisfied}
    if cases:
        for ticket_id, kind, unit in session.execute(
                select(Supervision.ticket_id, Supervision.kind, Supervision.unit_code)
                .where(Supervision.ticket_id.in_(cases), Supervision.state == "open")
                .order_by(Supervision.opened_at)):
            cases[ticket_id].append((kind, unit))
    open_cases = dict(session.execute(
        select(Supervision.kind, func.count()).where(Supervision.state == "open")
        .group_by(Supervision.kind)).all())
    pending = session.scalar(select(func.count()).select_from(Extension)
                             .where(Extension.state == "pending"))
    midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(UTC)
    breached_today = session.scalar(select(func.count()).select_from(Clock).where(
        Clock.due_at >= midnight, Clock.due_at <= now,
        (Clock.met_at.is_(None)) | (Clock.met_at >= Clock.due_at),
        (Clock.cancelled_at.is_(None)) | (Clock.cancelled_at > Clock.due_at)))
    return {
        "overdue": int(overdue_count or 0), "overdue_items": overdue_rows,
        "unsatisfied": int(unsatisfied_count or 0), "unsatisfied_items": unsatisfied,
        "unsatisfied_cases": cases, "open_cases": int(sum(open_cases.values())),
        "open_cases_by_kind": open_cases, "pending_extensions": int(pending or 0),
        "breached_today": int(breached_today or 0),
    }


def trend_period(now: datetime, tz: ZoneInfo, months: int = TREND_MONTHS) -> Period:
    """The last `months` calendar months up to now (this month so far included)."""
    today = now.astimezone(tz).date()
    labels: list[tuple[str, datetime]] = []
    year, month = today.year, today.month
    for _ in range(months):
        labels.append((f"{year:04d}-{month:02d}", month_start(year, month, tz)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    labels.reverse()
    return Period(label="trend", kind="year", start=labels[0][1], end=now, cutoff=now,
                  current=True, tz=tz, months=tuple(labels))


def trends(session: Session, now: datetime, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Per month: calls, on-time resolution rate and satisfaction rate, as the report
    counts them (calls by call time, resolve clocks by start, ratings by rating time)."""
    period = trend_period(now, tz)
    rows: dict[str, dict[str, Any]] = {
        label: {"month": label, "calls": 0, "resolve_on_time": 0, "resolve_measured": 0,
                "rated": 0, "satisfied": 0} for label, _ in period.months}
    calls = period.bucket(Ticket.called_at)
    for bucket, n in session.execute(select(calls, func.count()).where(
            period.within(Ticket.called_at)).group_by(calls)):
        rows[bucket]["calls"] = int(n)
    on_time, late = clock_judgement(period)
    started = period.bucket(Clock.started_at)
    for bucket, n_on, n_late in session.execute(
            select(started, count_if(on_time), count_if(late))
            .where(Clock.kind == literal_column("'resolve'"), period.within(Clock.started_at))
            .group_by(started)):
        rows[bucket]["resolve_on_time"] = int(n_on)
        rows[bucket]["resolve_measured"] = int(n_on) + int(n_late)
    rated = period.bucket(Rating.at)
    for bucket, n, happy in session.execute(
            select(rated, func.count(), count_if(Rating.satisfied.is_(True)))
            .where(period.within(Rating.at)).group_by(rated)):
        rows[bucket]["rated"], rows[bucket]["satisfied"] = int(n), int(happy)
    out = []
    for row in rows.values():
        row["resolve_on_time_rate"] = (row["resolve_on_time"] / row["resolve_measured"]
                                       if row["resolve_measured"] else None)
        row["satisfaction_rate"] = row["satisfied"] / row["rated"] if row["rated"] else None
        out.append(row)
    return out


@dataclass
class TrendCache:
    """The last trends computed, refreshed in the background once older than TREND_TTL.

    Only the first request of a process waits for them; later ones get the figures at
    hand at once, at most a minute old (a month's figures hardly move in a minute)."""

    figures: list[dict[str, Any]] | None = None
    computed_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _refreshing: bool = False

    def get(self, now: datetime, compute: Callable[[], list[dict[str, Any]]]
            ) -> tuple[list[dict[str, Any]], datetime]:
        with self._lock:
            figures, at = self.figures, self.computed_at
            stale = at is None or not (at <= now < at + TREND_TTL)
            start_refresh = figures is not None and stale and not self._refreshing
            if start_refresh:
                self._refreshing = True
        if figures is None or at is None:
            figures = compute()
            with self._lock:
                self.figures, self.computed_at = figures, now
            return figures, now
        if start_refresh:
            threading.Thread(target=self._refresh, args=(now, compute), daemon=True,
                             name="dashboard-trends").start()
        return figures, at

    def _refresh(self, now: datetime, compute: Callable[[], list[dict[str, Any]]]) -> None:
        try:
            figures = compute()
            with self._lock:
                self.figures, self.computed_at = figures, now
        except Exception:  # the next request tries again; the old figures stay shown
            log.exception("refreshing the dashboard trends failed")
        finally:
            with self._lock:
                self._refreshing = False

