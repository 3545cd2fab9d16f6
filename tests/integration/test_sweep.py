"""The SLA sweep: warnings and breaches recorded once, back-recording, concurrent sweeps."""

from __future__ import annotations

import threading

import pytest

from app.db import Transaction
from app.services.context import SYSTEM
from app.services.sweep import sweep


def events_of(api, ticket_id: str, kind: str | None = None) -> list[dict]:
    items = api.get(f"/api/v1/tickets/{ticket_id}/events").json()["items"]
    return [e for e in items if kind is None or e["type"] == kind]


def test_breach_recorded_once_over_repeated_sweeps(api):
    api.city()
    t = api.ticket()  # dispatched 2025-09-30 10:00: contact due 2025-10-01 10:00
    assert api.sweep() == {"breached": 0, "warned": 0, "supervisions_opened": 0}
    api.set_now("2025-10-01 10:00")
    first = api.sweep()
    assert first["breached"] == 1
    for _ in range(3):
        assert api.sweep()["breached"] == 0
    breaches = events_of(api, t["id"], "clock.breached")
    assert len(breaches) == 1
    assert breaches[0]["data"]["kind"] == "contact"
    assert breaches[0]["at"] == "2025-10-01T10:00:00+08:00"  # when it happened: at the due time
    contact = api.clock_of(api.get(f"/api/v1/tickets/{t['id']}").json(), "contact")
    assert contact["state"] == "breached"
    api.set_now("2025-10-17 00:00")  # resolve due end of 2025-10-16
    assert api.sweep()["breached"] == 1
    assert api.sweep()["breached"] == 0
    assert len(events_of(api, t["id"], "clock.breached")) == 2


def test_hour_clock_warns_four_hours_before(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 05:59")
    assert api.sweep()["warned"] == 0
    api.set_now("2025-10-01 06:00")
    assert api.sweep()["warned"] == 1
    assert api.sweep()["warned"] == 0
    warnings = events_of(api, t["id"], "clock.warning")
    assert [w["data"]["kind"] for w in warnings] == ["contact"]


def test_day_clock_warns_at_start_of_last_day(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 12:00")
    api.sweep()  # the contact clock: warned and breached
    api.set_now("2025-10-15 23:59")
    assert api.sweep()["warned"] == 0
    api.set_now("2025-10-16 00:00")  # resolve due end of 2025-10-16
    r = api.sweep()
    assert r["warned"] == 1 and r["breached"] == 0
    assert api.sweep()["warned"] == 0
    kinds = [w["data"]["kind"] for w in events_of(api, t["id"], "clock.warning")]
    assert kinds == ["resolve"]


def test_clock_already_past_due_is_breached_not_warned(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 11:00")  # never swept during the warning window
    r = api.sweep()
    assert r == {"breached": 1, "warned": 0, "supervisions_opened": 0}
    assert events_of(api, t["id"], "clock.warning") == []


def test_back_recorded_contact_after_breach_is_met(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 11:00")
    assert api.sweep()["breached"] == 1
    r = api.post(
        f"/api/v1/tickets/{t['id']}/contact",
        "water-bureau",
        json={"at": "2025-10-01T09:30:00+08:00", "method": "phone", "deputy_invited": False},
    )
    assert r.status_code == 200, r.text
    contact = api.clock_of(r.json(), "contact")
    assert contact["state"] == "met" and contact["met_at"] == "2025-10-01T09:30:00+08:00"
    assert len(events_of(api, t["id"], "clock.breached")) == 1  # the breach event stays
    assert api.sweep()["breached"] == 0


def test_late_contact_is_met_late(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 12:00")
    r = api.post(
        f"/api/v1/tickets/{t['id']}/contact", "water-bureau", json={"method": "visit", "deputy_invited": True}
    )
    assert api.clock_of(r.json(), "contact")["state"] == "met_late"
    assert api.sweep()["breached"] == 0  # met, even late: nothing left to breach


def test_long_overdue_opens_joint_case_once(api):
    api.city()
    t = api.ticket()
    # resolve due end of 2025-10-16; 5 working days after: Oct 17, 20, 21, 22, 23.
    api.set_now("2025-10-23 23:59")
    assert api.sweep()["supervisions_opened"] == 0
    api.set_now("2025-10-24 00:00")
    assert api.sweep()["supervisions_opened"] == 1
    assert api.sweep()["supervisions_opened"] == 0
    opened = events_of(api, t["id"], "supervision.opened")
    assert [(e["data"]["kind"], e["data"]["unit"], e["data"]["round"]) for e in opened] == [
        ("joint", None, 1)
    ]


def test_sweep_needs_admin(api):
    api.city()
    r = api.post("/api/v1/admin/sla-sweep", "hotline")
    assert r.status_code == 403


def test_concurrent_sweeps_record_every_breach_once(api):
    state = api.app.state.hotline
    if not state.db.is_postgres:
        pytest.skip("concurrent sweeps need PostgreSQL (SQLite serializes writers)")
    api.city()
    tickets = [api.ticket(units=["water-bureau", "heshan-gov"]) for _ in range(40)]
    api.set_now("2025-10-20 12:00")  # contact, opinion and resolve clocks all past due
    expected = sum(len(t["clocks"]) for t in tickets)
    results: list[object] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def worker() -> None:
        try:
            barrier.wait()
            for _ in range(3):
                with Transaction(state.db.write_session) as session:
                    results.append(sweep(state.ctx(session, SYSTEM)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    assert sum(r.breached for r in results) == expected  # type: ignore[attr-defined]
    assert api.sweep()["breached"] == 0
    total = sum(len(events_of(api, t["id"], "clock.breached")) for t in tickets)
    assert total == expected
    for t in tickets:
        per_clock = [e["data"]["clock_id"] for e in events_of(api, t["id"], "clock.breached")]
        assert len(per_clock) == len(set(per_clock)) == 3
