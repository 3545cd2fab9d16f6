"""The invited unit's clocks on the Part I engine: worked examples across holidays, warnings
and breaches recorded once, extensions, recomputation when a year is loaded; its queue
entries and webhooks."""

from __future__ import annotations

from typing import Any

import pytest

from tests.builders import Api
from tests.integration.test_invitations import ACK, REPORT, STATION, UNIT, act, city, submit


def clock(inv: dict[str, Any], kind: str, round_: int = 1) -> dict[str, Any]:
    (found,) = [c for c in inv["clocks"] if c["kind"] == kind and c["round"] == round_]
    return found


def issue(api: Api) -> dict[str, Any]:
    inv = submit(api)
    r = act(api, inv["id"], "review", "liaison", approve=True)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def get(api: Api, inv: dict[str, Any], who: str = "liaison") -> dict[str, Any]:
    return api.get(f"/api/v1/invitations/{inv['id']}", who).json()  # type: ignore[no-any-return]


# Issued, acknowledged → (acknowledge due, complete due), Asia/Shanghai.
WORKED = [
    # National Day 2025: Oct 1-8 off, Oct 11 (Saturday) worked in lieu. Acknowledge: Oct 9,
    # 10, 11 are the 3 working days after Sep 30. Complete: 15 working days after Oct 9.
    ("2025-09-30 10:00", "2025-10-09 15:00", "2025-10-12T00:00:00+08:00", "2025-10-30T00:00:00+08:00"),
    # Spring Festival 2026: Feb 15-23 off, Feb 14 and Feb 28 (Saturdays) worked. Acknowledge:
    # Feb 14, 24, 25 after Fri Feb 13. Complete: Feb 25 .. Mar 16 (Feb 28 counts).
    ("2026-02-13 16:00", "2026-02-24 09:00", "2026-02-26T00:00:00+08:00", "2026-03-17T00:00:00+08:00"),
    # The day of acknowledgment is not counted, whatever its hour (Civil Code art. 201).
    ("2025-10-09 23:59", "2025-10-10 00:00", "2025-10-14T00:00:00+08:00", "2025-10-31T00:00:00+08:00"),
]


@pytest.mark.parametrize(("issued_at", "acked_at", "ack_due", "complete_due"), WORKED)
def test_due_times_on_worked_examples_across_holidays(api, issued_at, acked_at, ack_due, complete_due):
    city(api)
    api.set_now(issued_at)
    inv = issue(api)
    assert clock(inv, "acknowledge")["due_at"] == ack_due
    assert clock(inv, "acknowledge")["provisional"] is False
    api.set_now(acked_at)
    inv = act(api, inv["id"], "acknowledge", UNIT, **ACK).json()
    assert clock(inv, "acknowledge")["state"] == "met"
    assert clock(inv, "complete")["due_at"] == complete_due


def test_a_new_round_counts_from_the_day_of_the_unsatisfied_evaluation(api):
    city(api)
    inv = issue(api)
    api.set_now("2025-10-09 09:00")
    act(api, inv["id"], "acknowledge", UNIT, **ACK)
    act(api, inv["id"], "report", UNIT, **REPORT)
    api.set_now("2025-10-10 16:00")
    inv = act(api, inv["id"], "evaluation", STATION, rating="unsatisfied").json()
    # 15 working days after Fri Oct 10: Oct 11 (worked Saturday) .. Oct 30.
    assert clock(inv, "complete", 2)["due_at"] == "2025-10-31T00:00:00+08:00"
    assert [c["kind"] for c in inv["clocks"]] == ["acknowledge", "complete", "complete"]


def test_warning_and_breach_are_recorded_once_and_sent_to_the_unit(api):
    city(api)
    r = api.put(
        f"/api/v1/units/{UNIT}",
        json={"name": "益阳市水务局", "kind": "department", "webhook_url": "http://127.0.0.1:9/hook"},
    )
    assert r.status_code == 200, r.text
    inv = issue(api)  # acknowledge due end of Oct 11, warns at its start
    api.set_now("2025-10-10 23:59")
    assert api.sweep()["warned"] == 0
    api.set_now("2025-10-11 00:00")
    assert api.sweep()["warned"] == 1
    assert api.sweep()["warned"] == 0
    api.set_now("2025-10-12 00:00")
    assert api.sweep()["breached"] == 1
    assert api.sweep() == {"breached": 0, "warned": 0, "supervisions_opened": 0}
    inv = get(api, inv)
    assert clock(inv, "acknowledge")["state"] == "breached"
    types = [e["type"] for e in inv["history"]]
    assert types.count("clock.warning") == 1 and types.count("clock.breached") == 1
    breach = next(e for e in inv["history"] if e["type"] == "clock.breached")
    assert breach["at"] == "2025-10-12T00:00:00+08:00"
    # A late acknowledgment meets the clock late; the complete clock still starts.
    inv = act(api, inv["id"], "acknowledge", UNIT, **ACK).json()
    assert clock(inv, "acknowledge")["state"] == "met_late"
    sent = api.get("/api/v1/webhooks/deliveries", params={"limit": 500}).json()["items"]
    kinds = [d["event_type"] for d in sent if d["payload"]["data"].get("invitation_id")]
    assert sorted(kinds) == ["clock.breached", "clock.warning", "invitation.issued"]
    issued = next(d for d in sent if d["event_type"] == "invitation.issued")
    data = issued["payload"]["data"]
    assert (data["number"], data["unit"], data["acknowledge_due_at"]) == (
        "人大约〔2025〕1号",
        UNIT,
        "2025-10-12T00:00:00+08:00",
    )


def test_breaches_are_recorded_once_when_sweeps_race(api):
    city(api)
    for _ in range(5):
        issue(api)
    api.set_now("2025-10-13 09:00")
    results = api.concurrently("admin", "/api/v1/admin/sla-sweep", [{}] * 6)
    assert set(results) == {200}
    inv = api.get("/api/v1/invitations", "liaison").json()["items"]
    assert [sum(e["type"] == "clock.breached" for e in i["history"]) for i in inv] == [1] * 5


def test_an_evaluation_webhook_carries_the_rating_and_the_new_round(api):
    city(api)
    api.put(
        f"/api/v1/units/{UNIT}",
        json={"name": "益阳市水务局", "kind": "department", "webhook_url": "http://127.0.0.1:9/hook"},
    )
    inv = issue(api)
    act(api, inv["id"], "acknowledge", UNIT, **ACK)
    act(api, inv["id"], "report", UNIT, **REPORT)
    act(api, inv["id"], "evaluation", STATION, rating="unsatisfied", comment="未解决")
    sent = api.get("/api/v1/webhooks/deliveries", params={"limit": 500}).json()["items"]
    (evaluated,) = [d["payload"] for d in sent if d["event_type"] == "invitation.evaluated"]
    assert evaluated["type"] == "invitation.evaluated"
    data = evaluated["data"]
    assert (data["rating"], data["round"], data["new_round"], data["status"]) == (
        "unsatisfied",
        2,
        2,
        "acknowledged",
    )


# --- extensions -------------------------------------------------------------------------------


def test_an_extension_moves_the_complete_due_by_working_days_from_the_current_due(api):
    city(api)
    api.post("/api/v1/keys", json={"role": "station", "station_code": "xicheng", "label": "x"})
    inv = issue(api)
    r = api.post(
        f"/api/v1/invitations/{inv['id']}/extensions", UNIT, json={"working_days": 5, "reason": "需协调"}
    )
    assert r.status_code == 409  # not yet acknowledged
    api.set_now("2025-10-09 15:00")
    act(api, inv["id"], "acknowledge", UNIT, **ACK)
    for days in (0, 31):
        r = api.post(
            f"/api/v1/invitations/{inv['id']}/extensions",
            UNIT,
            json={"working_days": days, "reason": "需协调"},
        )
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "working_days"
    r = api.post(
        f"/api/v1/invitations/{inv['id']}/extensions",
        UNIT,
        json={"working_days": 5, "reason": "涉及管网改造，需市财政立项"},
    )
    assert r.status_code == 201, r.text
    ext = r.json()
    assert (ext["state"], ext["working_days"]) == ("pending", 5)
    r = api.post(
        f"/api/v1/invitations/{inv['id']}/extensions", UNIT, json={"working_days": 3, "reason": "再议"}
    )
    assert r.status_code == 409  # one pending at a time
    # The station's view: its own station only; the unit may not add one.
    note = {"content": "同意延期，请按期答复选民"}
    assert api.post(f"/api/v1/extensions/{ext['id']}/notes", "station:xicheng", json=note).status_code == 404
    assert api.post(f"/api/v1/extensions/{ext['id']}/notes", UNIT, json=note).status_code == 403
    r = api.post(f"/api/v1/extensions/{ext['id']}/notes", STATION, json=note)
    assert r.status_code == 200 and r.json()["station_view"] == note["content"]
    # The committee decides; the hotline office does not read invitations.
    decision = {"approve": True, "note": "同意"}
    assert api.post(f"/api/v1/extensions/{ext['id']}/decision", "hotline", json=decision).status_code == 404
    api.set_now("2025-10-20 10:00")
    r = api.post(f"/api/v1/extensions/{ext['id']}/decision", "liaison", json=decision)
    assert r.status_code == 200 and r.json()["state"] == "approved"
    inv = get(api, inv)
    # Due end of Oct 29, plus Oct 30, 31, Nov 3, 4, 5.
    assert clock(inv, "complete")["due_at"] == "2025-11-06T00:00:00+08:00"
    assert api.post(f"/api/v1/extensions/{ext['id']}/decision", "liaison", json=decision).status_code == 409
    assert api.get(f"/api/v1/extensions/{ext['id']}", UNIT).json()["state"] == "approved"
    assert api.get(f"/api/v1/extensions/{ext['id']}", "housing-bureau").status_code == 404


def test_an_approved_extension_turns_a_breach_back_to_running(api):
    city(api)
    inv = issue(api)
    act(api, inv["id"], "acknowledge", UNIT, **ACK)  # Sep 30: complete due end of Oct 28
    api.set_now("2025-10-29 09:00")
    api.sweep()
    assert clock(get(api, inv), "complete")["state"] == "breached"
    ext = api.post(
        f"/api/v1/invitations/{inv['id']}/extensions",
        UNIT,
        json={"working_days": 10, "reason": "需要更多时间"},
    ).json()
    api.post(f"/api/v1/extensions/{ext['id']}/decision", "liaison", json={"approve": True})
    assert clock(get(api, inv), "complete")["state"] == "running"


def test_a_request_pending_at_the_report_lapses_and_cannot_be_decided(api):
    city(api)
    inv = issue(api)
    act(api, inv["id"], "acknowledge", UNIT, **ACK)
    ext = api.post(
        f"/api/v1/invitations/{inv['id']}/extensions", UNIT, json={"working_days": 5, "reason": "需协调"}
    ).json()
    act(api, inv["id"], "report", UNIT, **REPORT)
    r = api.post(f"/api/v1/extensions/{ext['id']}/decision", "liaison", json={"approve": True})
    assert r.status_code == 409
    inv = get(api, inv)
    assert inv["extensions"][0]["state"] == "lapsed"
    assert clock(inv, "complete")["due_at"] == "2025-10-29T00:00:00+08:00"


# --- the calendar ----------------------------------------------------------------------------


def test_loading_next_years_calendar_recomputes_open_invitation_clocks(api):
    city(api)
    api.set_now("2026-12-29 10:00")
    inv = issue(api)
    ack = clock(inv, "acknowledge")
    # 2027 has no arrangement yet: Jan 1 is a statutory holiday by law, Jan 2-3 a weekend.
    assert (ack["due_at"], ack["provisional"]) == ("2027-01-05T00:00:00+08:00", True)
    r = api.put("/api/v1/calendar/2027", json={"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]})
    assert r.status_code == 200, r.text
    assert r.json()["recomputed_clocks"] == 1
    inv = get(api, inv)
    ack = clock(inv, "acknowledge")
    assert (ack["due_at"], ack["provisional"]) == ("2027-01-03T00:00:00+08:00", False)
    (change,) = [e for e in inv["history"] if e["type"] == "clock.recomputed"]
    assert change["data"]["old_due_at"] == "2027-01-05T00:00:00+08:00"
    queue = api.get(f"/api/v1/units/{UNIT}/queue", UNIT).json()["items"]
    assert [i["next_due_at"] for i in queue] == ["2027-01-03T00:00:00+08:00"]


# --- the invited unit's queue ----------------------------------------------------------------


def test_the_queue_carries_the_invitation_acknowledge_then_report(api):
    city(api)
    submitted = submit(api)
    assert api.get(f"/api/v1/units/{UNIT}/queue", UNIT).json()["items"] == []
    t = api.ticket()  # resolve due end of Oct 16: after the invitation's Oct 11
    inv = act(api, submitted["id"], "review", "liaison", approve=True).json()
    r = api.get(f"/api/v1/units/{UNIT}/queue", UNIT)
    items = r.json()["items"]
    assert [(i["kind"], i["next_action"]) for i in items] == [
        ("ticket", "contact"),
        ("invitation", "acknowledge"),
    ]
    assert items[1]["invitation"] == {
        "id": inv["id"],
        "number": "人大约〔2025〕1号",
        "subject": inv["subject"],
        "status": "issued",
        "round": 1,
        "station": "dongcheng",
    }
    assert (items[1]["role"], items[1]["next_due_at"], items[1]["breached"]) == (
        "invited",
        "2025-10-12T00:00:00+08:00",
        False,
    )
    assert items[0]["ticket"]["id"] == t["id"]
    tag = r.headers["etag"]
    assert api.get(f"/api/v1/units/{UNIT}/queue", UNIT, headers={"If-None-Match": tag}).status_code == 304
    assert api.get("/api/v1/units/housing-bureau/queue", "housing-bureau").json()["items"] == []
    # Paging walks both kinds in one order.
    page = api.get(f"/api/v1/units/{UNIT}/queue", UNIT, params={"limit": 1}).json()
    assert page["items"][0]["kind"] == "ticket"
    page = api.get(
        f"/api/v1/units/{UNIT}/queue", UNIT, params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert [i["kind"] for i in page["items"]] == ["invitation"] and page["next_cursor"] is None

    api.set_now("2025-10-09 15:00")
    since = "2025-10-09T14:59:00+08:00"
    act(api, inv["id"], "acknowledge", UNIT, **ACK)
    r = api.get(f"/api/v1/units/{UNIT}/queue", UNIT, headers={"If-None-Match": tag})
    assert r.status_code == 200 and r.headers["etag"] != tag
    changed = api.get(f"/api/v1/units/{UNIT}/queue", UNIT, params={"updated_since": since}).json()["items"]
    assert [(i["kind"], i["next_action"], i["next_due_at"]) for i in changed] == [
        ("invitation", "report", "2025-10-30T00:00:00+08:00")
    ]
    api.set_now("2025-10-10 10:00")
    act(api, inv["id"], "report", UNIT, **REPORT)
    items = api.get(f"/api/v1/units/{UNIT}/queue", UNIT).json()["items"]
    assert [i["kind"] for i in items] == ["ticket"]
    gone = api.get(
        f"/api/v1/units/{UNIT}/queue", UNIT, params={"updated_since": "2025-10-10T09:59:00+08:00"}
    ).json()["items"]
    assert [(i["kind"], i["in_queue"], i["next_action"]) for i in gone] == [("invitation", False, None)]
    # An unsatisfied evaluation brings it back, to report again in round 2.
    act(api, inv["id"], "evaluation", STATION, rating="unsatisfied")
    items = api.get(f"/api/v1/units/{UNIT}/queue", UNIT).json()["items"]
    assert [(i["kind"], i["next_action"]) for i in items if i["kind"] == "invitation"] == [
        ("invitation", "report")
    ]
