"""APScheduler setup: the SLA sweep every minute on processes with HOTLINE_SCHEDULER=on."""

from __future__ import annotations

import logging
import time
from datetime import date, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from app.db import session_scope
from app.services.context import SYSTEM
from app.services.sweep import SweepResult, sweep
from app.state import AppState

log = logging.getLogger("hotline.sweep")


def run_sweep_job(state: AppState) -> SweepResult:
    """One sweep in its own transaction; errors are logged, the next run tries again."""
    started = time.perf_counter()
    result = SweepResult()
    try:
        for session in session_scope(state.db.write_session):
            result = sweep(state.ctx(session, SYSTEM))
    except Exception:
        log.exception("SLA sweep failed")
        return result
    elapsed = time.perf_counter() - started
    from app.observability import record_sweep

    record_sweep(result, elapsed)
    if result.breached or result.warned or result.supervisions_opened:
        log.info("sweep recorded", extra={"breached": result.breached, "warned": result.warned,
                                          "supervisions_opened": result.supervisions_opened,
                                          "seconds": round(elapsed, 3)})
    _calendar_reminder(state)
    _housekeeping(state)
    return result


def _housekeeping(state: AppState) -> None:
    """Forget spent sign-in throttles and long-ended sessions (see app.services.sessions)."""
    from app.services.sessions import housekeeping

    try:
        for session in session_scope(state.db.write_session):
            housekeeping(session, state.clock.now())
    except Exception:
        log.exception("session housekeeping failed")


_reminded: set[date] = set()


def _calendar_reminder(state: AppState) -> None:
    """From November, once a day, say that next year's arrangement is not loaded."""
    from app.services.calendars import missing_next_year

    today = state.clock.now().astimezone(state.settings.tz).date()
    from app.observability import CALENDAR_NEXT_YEAR_MISSING

    with state.db.read_session() as session:
        missing = missing_next_year(state.calendars.current(session), today)
    CALENDAR_NEXT_YEAR_MISSING.set(1 if missing else 0)
    if missing is not None and today not in _reminded:
        _reminded.add(today)
        _reminded.discard(today - timedelta(days=1))
        log.warning("working calendar for %s is not loaded: deadlines in it will be provisional; "
                    "load it with PUT /api/v1/calendar/%s or `hotline calendar load`",
                    missing, missing)


def start_scheduler(state: AppState) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(run_sweep_job, "interval", args=[state],
                      seconds=state.settings.sweep_interval_seconds, id="sla-sweep",
                      max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
