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

from sqlalchemy import func, literal_column
from sqlalchemy.orm import Session

from app.models import Clock, Rating, Ticket
from app.repositories import clocks, invitations, supervision, tickets
from app.repositories.figures import by_month, count_if
from app.services.reports.period import Period, month_start

log = logging.getLogger(__name__)
LISTED = 20
TREND_MONTHS = 12
TREND_TTL = timedelta(minutes=1)
PAST_TTL = timedelta(hours=1)


def _now_period(now: datetime, tz: ZoneInfo) -> Period:
    """The current instant as a report's cut-off (for the cohort predicates)."""
    return Period(
        label="now", kind="month", start=now, end=now, cutoff=now, current=True, tz=tz, months=(("now", now),)
    )


def overview(session: Session, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """What needs attention now: overdue unresolved, unsatisfied tickets and their cases,
    open cases, pending extension decisions, breaches today."""
    period = _now_period(now, tz)
    overdue_count, overdue_rows = clocks.overdue_now(session, period, limit=LISTED)
    unsatisfied_count, unsatisfied = tickets.supervising(session, limit=LISTED)
    cases = supervision.open_cases_of(session, [t.id for t in unsatisfied])
    open_cases = supervision.open_by_kind(session)
    pending = tickets.pending_extensions_count(session)
    # Invitations (约请) waiting for the committee to vet them.
    invitations_ = invitations.submitted_count(session)
    midnight = datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz).astimezone(UTC)
    breached_today = clocks.breached_between(session, midnight, now)
    return {
        "overdue": overdue_count,
        "overdue_items": overdue_rows,
        "unsatisfied": unsatisfied_count,
        "unsatisfied_items": unsatisfied,
        "unsatisfied_cases": cases,
        "open_cases": int(sum(open_cases.values())),
        "open_cases_by_kind": open_cases,
        "pending_extensions": pending,
        "breached_today": breached_today,
        "pending_invitations": invitations_,
    }


def trend_periods(now: datetime, tz: ZoneInfo, months: int = TREND_MONTHS) -> tuple[Period, Period]:
    """The months before this one, as they stood at its start (as the report sees a past
    period: they move only by back-dated actions), and this month so far; together the
    last `months` calendar months."""
    today = now.astimezone(tz).date()
    labels: list[tuple[str, datetime]] = []
    year, month = today.year, today.month
    for _ in range(months):
        labels.append((f"{year:04d}-{month:02d}", month_start(year, month, tz)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    labels.reverse()
    this = labels[-1]
    past = Period(
        label="past",
        kind="year",
        start=labels[0][1],
        end=this[1],
        cutoff=this[1],
        current=False,
        tz=tz,
        months=tuple(labels[:-1]),
    )
    current = Period(
        label="current", kind="month", start=this[1], end=now, cutoff=now, current=True, tz=tz, months=(this,)
    )
    return past, current


def trends(session: Session, period: Period) -> list[dict[str, Any]]:
    """Per month of `period`: calls, on-time resolution and satisfaction, as the report
    counts them (calls by call time, resolve clocks by start, ratings by rating time), as
    of the period's cut-off."""
    rows: dict[str, dict[str, Any]] = {
        label: {
            "month": label,
            "calls": 0,
            "resolve_on_time": 0,
            "resolve_measured": 0,
            "rated": 0,
            "satisfied": 0,
        }
        for label, _ in period.months
    }

    def grouped(col: Any, *measures: Any, where: tuple[Any, ...] = ()) -> Any:
        return by_month(session, period, col, *measures, where=where)

    for month, n in grouped(Ticket.called_at, func.count()):
        rows[month]["calls"] = int(n)
    on_time, late = clocks.judgement(period)
    for month, n_on, n_late in grouped(
        Clock.started_at,
        count_if(on_time),
        count_if(late),
        where=(Clock.kind == literal_column("'resolve'"),),
    ):
        rows[month]["resolve_on_time"] = int(n_on)
        rows[month]["resolve_measured"] = int(n_on) + int(n_late)
    for month, n, happy in grouped(Rating.at, func.count(), count_if(Rating.satisfied.is_(True))):
        rows[month]["rated"], rows[month]["satisfied"] = int(n), int(happy)
    out = []
    for row in rows.values():
        row["resolve_on_time_rate"] = (
            row["resolve_on_time"] / row["resolve_measured"] if row["resolve_measured"] else None
        )
        row["satisfaction_rate"] = row["satisfied"] / row["rated"] if row["rated"] else None
        out.append(row)
    return out


@dataclass
class _Part:
    figures: list[dict[str, Any]] | None = None
    computed_at: datetime | None = None
    key: str = ""  # the months it covers: a new month makes it stale at once
    refreshing: bool = False


@dataclass
class TrendCache:
    """The trends, kept per part and refreshed in the background once stale: the closed
    months after an hour (only a back-dated action moves them), this month after a minute.

    Only the first request of a process waits for them; later ones get the figures at
    hand at once. A refresh of this month reads a month of rows, not a year's."""

    ttl: dict[str, timedelta] = field(default_factory=lambda: {"past": PAST_TTL, "current": TREND_TTL})
    _parts: dict[str, _Part] = field(default_factory=lambda: {"past": _Part(), "current": _Part()})
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(
        self, now: datetime, tz: ZoneInfo, compute: Callable[[Period], list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], datetime]:
        """The last 12 months' figures and when the oldest part of them was computed."""
        out: list[dict[str, Any]] = []
        oldest = now
        for name, period in zip(("past", "current"), trend_periods(now, tz), strict=True):
            figures, at = self._part(name, period, now, compute)
            out += figures
            oldest = min(oldest, at)
        return out, oldest

    def _part(
        self, name: str, period: Period, now: datetime, compute: Callable[[Period], list[dict[str, Any]]]
    ) -> tuple[list[dict[str, Any]], datetime]:
        key = ",".join(label for label, _ in period.months)
        with self._lock:
            part = self._parts[name]
            usable = part.figures is not None and part.key == key and part.computed_at is not None
            fresh = (
                usable
                and part.computed_at is not None
                and part.computed_at <= now < part.computed_at + self.ttl[name]
            )
            refresh = usable and not fresh and not part.refreshing
            if refresh:
                part.refreshing = True
            figures, at = part.figures, part.computed_at
        if not usable or figures is None or at is None:
            figures = compute(period)
            with self._lock:
                part.figures, part.computed_at, part.key = figures, now, key
            return figures, now
        if refresh:
            threading.Thread(
                target=self._refresh,
                args=(part, period, now, key, compute),
                daemon=True,
                name=f"dashboard-{name}",
            ).start()
        return figures, at

    def _refresh(
        self,
        part: _Part,
        period: Period,
        now: datetime,
        key: str,
        compute: Callable[[Period], list[dict[str, Any]]],
    ) -> None:
        try:
            figures = compute(period)
            with self._lock:
                part.figures, part.computed_at, part.key = figures, now, key
        except Exception:  # the next request tries again; the old figures stay shown
            log.exception("refreshing the dashboard trends failed")
        finally:
            with self._lock:
                part.refreshing = False
