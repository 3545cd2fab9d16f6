"""The periodic job: one sweep per run, and the reminder to load next year's calendar."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from app.jobs import scheduler
from app.observability import REGISTRY


def test_sweep_job_records_breaches_and_reminds_once_a_day_from_november(api, caplog):
    api.city()
    t = api.ticket()
    state = api.app.state.hotline
    api.clock.set(datetime(2026, 11, 21, 1, 0, tzinfo=UTC))
    caplog.set_level(logging.WARNING, logger="hotline.sweep")
    result = scheduler.run_sweep_job(state)
    assert result.breached == 2  # contact and resolve, long past due
    assert scheduler.run_sweep_job(state).breached == 0
    reminders = [r for r in caplog.records if "2027 is not loaded" in r.getMessage()]
    assert len(reminders) == 1
    assert REGISTRY.get_sample_value("hotline_calendar_next_year_missing") == 1
    events = api.get(f"/api/v1/tickets/{t['id']}/events").json()["items"]
    assert [e["type"] for e in events].count("clock.breached") == 2


def test_no_reminder_before_november(api, caplog):
    state = api.app.state.hotline
    api.clock.set(datetime(2026, 10, 31, 1, 0, tzinfo=UTC))
    caplog.set_level(logging.WARNING, logger="hotline.sweep")
    scheduler.run_sweep_job(state)
    assert not [r for r in caplog.records if "not loaded" in r.getMessage()]
    assert REGISTRY.get_sample_value("hotline_calendar_next_year_missing") == 0
