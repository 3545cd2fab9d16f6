"""Voters' personal information expires (PIPL; SPEC "A deputy's code and voters'
messages"): a closed message's voter name and phone are erased HOTLINE_VOTER_DATA_DAYS
(default 365) after it closed, by the scheduler's job and by `hotline purge`; each erasure
is logged with counts and no personal data; the reports count exactly what they did.

Worked example on the real calendar: a message received on 30 September 2025, the eve of
National Day, answered the same day, closes unrated at the sweep of 15 October 2025 (its 15
days to rate have run); its voter data goes at 10:00 on 15 October 2026, not a second
before. A message still open keeps its data however old.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from app.jobs.scheduler import run_purge_job
from app.models import MessageEvent
from tests.part2 import message, zhang

NAME, PHONE = "王五", "13700000007"
ERASED = "message.voter_data_erased"


def state_of(api: Any) -> Any:
    return api.app.state.hotline


def read(api: Any, m: dict[str, Any]) -> dict[str, Any]:
    r = api.get(f"/api/v1/messages/{m['id']}", "liaison")
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


@pytest.fixture
def closed(api: Any) -> Any:
    """Three messages of 张三's: `early` closed 2025-10-15 10:00, `late` closed 2025-10-30
    10:00, `open` never answered."""
    api.city()
    z = zhang(api)
    api.set_now("2025-09-30 10:00")
    early = message(api, z)
    assert (
        api.post(
            f"/api/v1/messages/{early['id']}/reply", "liaison", json={"content": "已联系社区修复路灯"}
        ).status_code
        == 200
    )
    api.set_now("2025-10-15 10:00")
    assert api.sweep()  # early: 15 days unrated, closed now
    late = message(api, z, voter={"name": "赵六", "phone": "13700000008"})
    still = message(api, z, voter={"name": "钱七", "phone": "13700000009"})
    assert (
        api.post(
            f"/api/v1/messages/{late['id']}/decline",
            "liaison",
            json={"reason": "属于诉讼事项，请通过法院途径解决"},
        ).status_code
        == 200
    )
    api.set_now("2025-10-30 10:00")
    api.sweep()
    assert read(api, early)["status"] == read(api, late)["status"] == "closed"
    assert read(api, still)["status"] == "received"
    return api, early, late, still


def test_voter_data_goes_365_days_after_the_message_closed_not_a_second_before(closed):
    api, early, late, still = closed
    api.set_now("2026-10-15 09:59")
    api.clock.advance(seconds=59)
    assert run_purge_job(state_of(api)) == 0
    assert read(api, early)["voter"] == {"name": NAME, "phone": PHONE}
    api.clock.advance(seconds=1)  # 2026-10-15 10:00:00, 365 days after it closed
    assert run_purge_job(state_of(api)) == 1
    got = read(api, early)
    assert got["voter"] == {"name": None, "phone": None}
    # The message itself stays whole: what was asked, what was answered, when.
    assert (got["status"], got["content"], got["reply"], got["closed_at"][:16]) == (
        "closed",
        "小区路灯坏了一个月",
        "已联系社区修复路灯",
        "2025-10-15T10:00",
    )
    erased = [h for h in got["history"] if h["type"] == ERASED]
    assert erased == [
        {
            "at": "2026-10-15T10:00:00+08:00",
            "type": ERASED,
            "actor": "system",
            "data": {"fields": ["voter.name", "voter.phone", "client_address"], "after_days": 365},
        }
    ]
    assert read(api, late)["voter"]["phone"] == "13700000008"  # closed later: kept for now
    assert run_purge_job(state_of(api)) == 0  # nothing twice
    api.set_now("2026-10-30 10:00")
    assert run_purge_job(state_of(api)) == 1
    assert read(api, late)["voter"] == {"name": None, "phone": None}
    api.set_now("2030-01-01 10:00")
    assert run_purge_job(state_of(api)) == 0
    assert read(api, still)["voter"] == {"name": "钱七", "phone": "13700000009"}  # still open


def test_the_keeping_time_is_a_setting(closed, db_url, clock):
    from app.main import create_app
    from app.state import build_state
    from tests.conftest import make_settings, pinned_calendars

    api, early, late, _ = closed
    settings = make_settings(db_url, HOTLINE_VOTER_DATA_DAYS=30)
    state = build_state(settings, clock, calendars=pinned_calendars())
    create_app(settings, clock=clock, state=state, background=False)
    api.set_now("2025-11-14 10:00")  # 30 days after the first closed
    assert run_purge_job(state) == 1
    assert read(api, early)["voter"]["phone"] is None
    assert read(api, late)["voter"]["phone"] == "13700000008"
    state.db.dispose()


def test_reports_count_the_same_after_the_erasure(closed):
    api, *_ = closed
    api.set_now("2026-11-20 10:00")
    paths = [
        "/api/v1/reports/points?year=2025",
        "/api/v1/reports/deputies?year=2025",
        "/api/v1/reports/monthly?month=2025-10",
        "/api/v1/reports/stations?month=2025-10",
        "/api/v1/messages",
    ]
    before = {p: api.get(p, "liaison").json() for p in paths}
    assert run_purge_job(state_of(api)) == 2
    after = {p: api.get(p, "liaison").json() for p in paths}
    for p in paths[:4]:
        assert after[p] == before[p], p
    listed = {m["id"]: m for m in after[paths[4]]["items"]}
    assert len(listed) == len(before[paths[4]]["items"]) == 3
    assert sum(1 for m in listed.values() if m["voter"]["phone"] is None) == 2
    zhang_row = after[paths[1]]["silent_deputies"][0]  # no hotline call of his own
    assert (zhang_row["messages"], zhang_row["messages_answered"]) == (3, 1)  # still counted


def test_the_erasure_is_logged_with_counts_and_no_personal_data(closed, caplog):
    api, early, *_ = closed
    api.set_now("2026-12-01 10:00")
    with caplog.at_level(logging.INFO):
        assert run_purge_job(state_of(api)) == 2
    lines = [r for r in caplog.records if r.name == "hotline.retention"]
    assert [(r.getMessage(), r.messages, r.days) for r in lines] == [  # type: ignore[attr-defined]
        ("voter data erased", 2, 365)
    ]
    for r in caplog.records:
        text = r.getMessage() + repr(r.__dict__)
        for secret in (NAME, PHONE, "赵六", "13700000008"):
            assert secret not in text


def test_the_tracking_page_and_the_staff_page_say_it_was_erased(closed):
    api, early, *_ = closed
    api.set_now("2026-12-01 10:00")
    run_purge_job(state_of(api))
    page = api.client.get(f"/t/{early['tracking_code']}")
    assert page.status_code == 200 and "已按规定删除" in page.text and "0007" not in page.text
    from tests.builders import person

    staff = person(api, "li.lianluo", "liaison")
    page = staff.get(f"/ui/messages/{early['id']}")
    assert page.status_code == 200, page.text[:300]
    assert "已按规定删除" in page.text and NAME not in page.text and "0007" not in page.text


def test_two_purges_at_once_erase_each_message_once(api):
    api.city()
    z = zhang(api)
    api.set_now("2025-09-30 10:00")
    ids = []
    for i in range(12):
        m = message(api, z, voter={"name": f"群众{i}", "phone": f"137000001{i:02d}"})
        assert (
            api.post(
                f"/api/v1/messages/{m['id']}/decline", "liaison", json={"reason": "另有渠道"}
            ).status_code
            == 200
        )
        ids.append(m["id"])
    api.set_now("2025-10-15 10:00")
    api.sweep()
    api.set_now("2026-10-16 10:00")
    counts: list[int] = []
    barrier = threading.Barrier(2)

    def one() -> None:
        barrier.wait()
        counts.append(run_purge_job(state_of(api)))

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(counts) == 12
    with state_of(api).db.read_session() as s:
        assert (
            s.scalar(select(func.count()).select_from(MessageEvent).where(MessageEvent.type == ERASED)) == 12
        )


def test_hotline_purge_erases_and_says_how_many(closed, db_url, monkeypatch):
    """The command runs on the real clock: today is long past 15 October 2026."""
    api, early, late, still = closed
    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["purge"])
        assert result.exit_code == 0, result.output
        assert "erased voters' names and phones on 2 messages closed before" in result.output
        assert "(365 days)" in result.output
        again = CliRunner().invoke(cli, ["purge", "--days", "30"])
        assert again.exit_code == 0 and " on 0 messages" in again.output
        bad = CliRunner().invoke(cli, ["purge", "--days", "0"])
        assert bad.exit_code != 0
    finally:
        get_settings.cache_clear()
    assert read(api, early)["voter"] == read(api, late)["voter"] == {"name": None, "phone": None}
    history = [h for h in read(api, early)["history"] if h["type"] == ERASED]
    assert [h["actor"] for h in history] == ["cli"]
    assert read(api, still)["voter"]["name"] == "钱七"
