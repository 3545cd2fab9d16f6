"""APScheduler setup, on processes with HOTLINE_SCHEDULER=on: the SLA sweep every minute,
the erasure of voters' data past its keeping time every hour."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from app.db import Transaction
from app.services.context import SYSTEM, Actor
from app.services.sweep import SweepResult, sweep
from app.state import AppState

log = logging.getLogger("hotline.sweep")
purge_log = logging.getLogger("hotline.retention")


def run_sweep_job(state: AppState) -> SweepResult:
    """One sweep in its own transaction; errors are logged, the next run tries again."""
    started = time.perf_counter()
    result = SweepResult()
    try:
        with Transaction(state.db.write_session) as session:
            result = sweep(state.ctx(session, SYSTEM))
    except Exception:
        log.exception("SLA sweep failed")
        return result
    elapsed = time.perf_counter() - started
    from app.observability import record_sweep

    record_sweep(result, elapsed)
    if result.breached or result.warned or result.supervisions_opened:
        log.info(
            "sweep recorded",
            extra={
                "breached": result.breached,
                "warned": result.warned,
                "supervisions_opened": result.supervisions_opened,
                "seconds": round(elapsed, 3),
            },
        )
    _calendar_reminder(state)
    _housekeeping(state)
    return result


def _housekeeping(state: AppState) -> None:
    """Forget spent sign-in throttles and long-ended sessions (see app.services.sessions)."""
    from app.services.sessions import housekeeping

    try:
        with Transaction(state.db.write_session) as session:
            housekeeping(session, state.clock.now())
    except Exception:
        log.exception("session housekeeping failed")


def _calendar_reminder(state: AppState) -> None:
    """From November, once a day, say that next year's arrangement is not loaded."""
    from app.services.calendar_in_force import missing_next_year

    today = state.clock.now().astimezone(state.settings.tz).date()
    from app.observability import CALENDAR_NEXT_YEAR_MISSING

    with state.db.read_session() as session:
        missing = missing_next_year(state.calendars.current(session), today)
    CALENDAR_NEXT_YEAR_MISSING.set(1 if missing else 0)
    if missing is not None and state.calendar_reminded_on != today:
        state.calendar_reminded_on = today
        log.warning(
            "working calendar for %s is not loaded: deadlines in it will be provisional; "
            "load it with PUT /api/v1/calendar/%s or `hotline calendar load`",
            missing,
            missing,
        )


def run_purge_job(state: AppState, actor: Actor = SYSTEM, days: int | None = None) -> int:
    """Erase voters' data past its keeping time (app.services.retention), batch by batch,
    each in its own transaction; one log line with the count, never a name or a number.
    Used by the scheduler (hourly) and by `hotline purge`."""
    from app.services.retention import cutoff, erase_batch

    keep = days or state.settings.voter_data_days
    total, now = 0, state.clock.now()
    try:
        while True:
            with Transaction(state.db.write_session) as session:
                n = erase_batch(state.ctx(session, actor), days=keep)
            total += n
            if n == 0:
                break
    except Exception:
        if actor is not SYSTEM:
            raise
        log.exception("voter data purge failed")
    if total:
        purge_log.info(
            "voter data erased",
            extra={"messages": total, "days": keep, "closed_before": cutoff(now, keep).isoformat()},
        )
    return total


def start_scheduler(state: AppState) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        run_sweep_job,
        "interval",
        args=[state],
        seconds=state.settings.sweep_interval_seconds,
        id="sla-sweep",
        max_instances=1,
        coalesce=True,
    )
    # Voters' data: hourly (its keeping time is counted in days), first a minute after start.
    scheduler.add_job(
        run_purge_job,
        "interval",
        args=[state],
        hours=1,
        id="voter-data-purge",
        max_instances=1,
        coalesce=True,
        next_run_time=datetime.now(UTC) + timedelta(minutes=1),
    )
    scheduler.start()
    return scheduler
