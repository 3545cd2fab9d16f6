"""Voters' messages through the API: intake by stations, the deputy's three actions, the
response clock on the Part I engine, forwarding into a deputy-line ticket, closing unrated."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select

from app.models import WebhookDelivery
from tests.builders import fields, problem
from tests.part2 import deputy, key_for, message, zhang


@pytest.fixture
def city(api):
    api.city()
    z, li = zhang(api), deputy(api)
    api.station("heshan-01", [z])
    return api, z, li


def test_a_station_records_a_message_for_its_deputy_and_each_reader_sees_their_share(city):
    api, z, li = city
    station = key_for(api, "station", station_code="heshan-01")
    m = message(api, z, station, channel="station", received_at="2025-09-30T09:00:00+08:00")
    assert (m["status"], m["channel"], m["deputy_id"], m["station"]) == (
        "received",
        "station",
        z,
        "heshan-01",
    )
    assert len(m["tracking_code"]) >= 10
    assert m["voter"] == {"name": "王五", "phone": "137****0007"}  # masked for the station
    assert [h["type"] for h in m["history"]] == ["message.received"]
    mine = key_for(api, "deputy", deputy_id=z)
    got = api.client.get(f"/api/v1/messages/{m['id']}", headers=mine).json()
    assert got["voter"]["phone"] == "13700000007"
    assert api.get(f"/api/v1/messages/{m['id']}", "liaison").json()["voter"]["phone"] == "13700000007"
    other = key_for(api, "deputy", deputy_id=li)
    problem(api.client.get(f"/api/v1/messages/{m['id']}", headers=other), 404)
    assert api.client.get("/api/v1/messages", headers=other).json()["items"] == []
    assert [x["id"] for x in api.client.get("/api/v1/messages", headers=mine).json()["items"]] == [m["id"]]
    problem(api.get(f"/api/v1/messages/{m['id']}", "hotline"), 403)
    problem(api.get(f"/api/v1/messages/{m['id']}", "water-bureau"), 403)
    # Not this station's deputy; nor a message through the public channel by the API.
    body = problem(
        api.client.post(
            "/api/v1/messages",
            headers=station,
            json={"deputy_id": li, "channel": "paper", "content": "x", "voter": {"phone": "13700000007"}},
        ),
        422,
    )
    assert fields(body) == {"deputy_id"}
    body = problem(
        api.post(
            "/api/v1/messages",
            "liaison",
            json={"deputy_id": z, "channel": "code", "content": "x", "voter": {"phone": "13700000007"}},
        ),
        422,
    )
    assert "channel" in fields(body)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"content": ""}, "content"),
        ({"content": "长" * 2001}, "content"),
        ({"voter": {"name": "王五"}}, "voter.phone"),
        ({"voter": {"phone": "call me"}}, "voter.phone"),
        ({"deputy_id": "nobody"}, "deputy_id"),
        ({"received_at": "2025-09-30T09:00:00"}, "received_at"),  # no offset
        ({"received_at": "2025-10-30T09:00:00+08:00"}, "received_at"),  # ahead
        ({"reception_id": "no-such-reception"}, "reception_id"),
    ],
)
def test_a_bad_message_is_refused_naming_the_field_and_stores_nothing(city, change, field):
    api, z, _ = city
    body = {
        "deputy_id": z,
        "channel": "paper",
        "content": "路灯坏了",
        "voter": {"phone": "13700000007"},
        **change,
    }
    refused = problem(api.post("/api/v1/messages", "liaison", json=body), 422)
    assert fields(refused) == {field}, refused
    assert api.get("/api/v1/messages", "liaison").json()["items"] == []


def test_messages_taken_at_a_reception_are_recorded_with_it(city):
    api, z, _ = city
    station = key_for(api, "station", station_code="heshan-01")
    r = api.client.post(
        "/api/v1/stations/heshan-01/receptions",
        headers=station,
        json={"date": "2025-09-30", "deputies": [z], "voters_received": 8, "batches": 2},
    )
    reception = r.json()["id"]
    m = message(api, z, station, channel="station", reception_id=reception)
    assert (m["reception_id"], m["station"]) == (reception, "heshan-01")
    listed = api.get("/api/v1/messages?station=heshan-01", "liaison").json()["items"]
    assert [x["id"] for x in listed] == [m["id"]]


def test_the_response_clock_counts_working_days_over_national_day(city):
    """Received 2025-09-30 10:00: Oct 1-8 are the holiday, so the 2nd working day after is
    Oct 10; due end of Oct 10, warning from its start; each recorded once."""
    api, z, _ = city
    m = message(api, z)
    assert m["clock"]["due_at"] == "2025-10-11T00:00:00+08:00"
    assert m["clock"]["state"] == "running"

    def types():
        got = api.get(f"/api/v1/messages/{m['id']}", "liaison").json()
        return [h["type"] for h in got["history"]][1:]

    api.set_now("2025-10-09 23:59")
    api.sweep()
    assert types() == []
    api.set_now("2025-10-10 00:00")
    api.sweep()
    api.sweep()
    assert types() == ["message.clock_warning"]
    api.set_now("2025-10-11 00:00")
    api.sweep()
    api.sweep()
    assert types() == ["message.clock_warning", "message.clock_breached"]
    got = api.get(f"/api/v1/messages/{m['id']}", "liaison").json()
    assert got["clock"]["state"] == "breached"
    assert got["history"][-1]["at"] == "2025-10-11T00:00:00+08:00"
    # A reply back-recorded before the due time still meets the clock (the breach stays logged).
    r = api.post(
        f"/api/v1/messages/{m['id']}/reply",
        "liaison",
        json={"content": "已联系街道维修", "at": "2025-10-10T16:00:00+08:00"},
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["clock"]["state"]) == ("answered", "met")


def test_the_response_clock_over_the_2026_spring_festival(city):
    """Received Friday 2026-02-13: Saturday 14th is a make-up working day (1), the holiday
    runs Feb 15-23, so the 2nd working day is Tuesday Feb 24."""
    api, z, _ = city
    api.set_now("2026-02-13 15:00")
    m = message(api, z)
    assert m["clock"]["due_at"] == "2026-02-25T00:00:00+08:00"


def test_the_deputy_replies_once_and_every_other_action_is_409(city):
    api, z, li = city
    m = message(api, z)
    mine = key_for(api, "deputy", deputy_id=z)
    r = api.client.post(
        f"/api/v1/messages/{m['id']}/reply", headers=mine, json={"content": "已转告社区，本周修好"}
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["status"], got["reply"], got["clock"]["state"]) == ("answered", "已转告社区，本周修好", "met")
    assert got["history"][-1]["actor"].startswith("key:")
    for action, body in (
        ("reply", {"content": "again"}),
        ("decline", {"reason": "x"}),
        ("forward", {"level": "city", "category": "water"}),
    ):
        problem(api.client.post(f"/api/v1/messages/{m['id']}/{action}", headers=mine, json=body), 409)
    other = key_for(api, "deputy", deputy_id=li)
    m2 = message(api, z)
    problem(api.client.post(f"/api/v1/messages/{m2['id']}/reply", headers=other, json={"content": "x"}), 404)
    problem(api.post(f"/api/v1/messages/{m2['id']}/reply", "admin", json={"content": "x"}), 403)
    problem(
        api.post(
            f"/api/v1/messages/{m2['id']}/reply",
            "liaison",
            json={"content": "x", "at": "2025-09-29T10:00:00+08:00"},
        ),
        422,
    )  # before it was received
    r = api.post(
        f"/api/v1/messages/{m2['id']}/decline", "liaison", json={"reason": "属于诉讼事项，请通过法院解决"}
    )
    assert (r.json()["status"], r.json()["decline_reason"]) == ("declined", "属于诉讼事项，请通过法院解决")


def test_a_forwarded_message_becomes_a_ticket_and_turns_result_ready_when_it_is_fed_back(city):
    api, z, _ = city
    r = api.put(
        "/api/v1/units/water-bureau",
        json={
            "name": "益阳市水务局",
            "kind": "department",
            "webhook_url": "http://127.0.0.1:9/hook",
            "webhook_secret": "s" * 24,
        },
    )
    assert r.status_code == 200
    m = message(api, z, content="自来水发黄")
    mine = key_for(api, "deputy", deputy_id=z)
    r = api.client.post(
        f"/api/v1/messages/{m['id']}/forward",
        headers=mine,
        json={"level": "city", "category": "water", "note": "请尽快检测水质"},
    )
    assert r.status_code == 201, r.text
    msg, ticket = r.json()["message"], r.json()["ticket"]
    assert (msg["status"], msg["ticket_id"], msg["forward_level"]) == ("forwarded", ticket["id"], "city")
    assert msg["clock"]["state"] == "met"
    assert ticket["deputy_verified"] and ticket["deputy"]["id"] == z
    assert ticket["caller"] == {"name": "张三", "phone": "13800000001"}
    assert ticket["content"] == "自来水发黄\n\n代表意见：请尽快检测水质"
    assert (ticket["lead_unit"], ticket["district"], ticket["status"]) == (
        "water-bureau",
        "heshan",
        "dispatched",
    )
    assert m["tracking_code"] not in ticket["hotline_no"]
    # The ticket follows Part I: clocks, the unit's queue, its log says where it came from.
    assert {c["kind"] for c in ticket["clocks"]} == {"contact", "resolve"}
    queue = api.get("/api/v1/units/water-bureau/queue", "water-bureau").json()["items"]
    assert [q["ticket"]["id"] for q in queue] == [ticket["id"]]
    events = api.get(f"/api/v1/tickets/{ticket['id']}/events").json()["items"]
    linked = [e for e in events if e["type"] == "ticket.from_message"]
    assert linked and linked[0]["data"]["message_id"] == m["id"]
    # The deputy reads the ticket (his or her own call); another deputy does not.
    assert api.client.get(f"/api/v1/tickets/{ticket['id']}", headers=mine).status_code == 200
    stranger = key_for(api, "deputy", deputy_id=deputy(api, "赵六", "13900000009"))
    problem(api.client.get(f"/api/v1/tickets/{ticket['id']}", headers=stranger), 404)
    engine = create_engine(api.app.state.hotline.settings.database_url)
    with engine.connect() as conn:
        types = sorted(
            conn.scalars(select(WebhookDelivery.event_type).where(WebhookDelivery.ticket_id == ticket["id"]))
        )
    engine.dispose()
    assert types == ["message.forwarded", "ticket.assigned"]
    tid = ticket["id"]
    for path, body in (
        ("contact", {"method": "phone", "deputy_invited": False}),
        ("resolve", {"outcome": "solved", "reply": "已更换管道，水质达标"}),
    ):
        assert api.post(f"/api/v1/tickets/{tid}/{path}", "water-bureau", json=body).status_code == 200
    assert api.get(f"/api/v1/messages/{m['id']}", "liaison").json()["status"] == "forwarded"
    r = api.post(
        f"/api/v1/tickets/{tid}/feedback",
        "water-bureau",
        json={"method": "phone", "content": "已告知张三代表"},
    )
    assert r.status_code == 200, r.text
    got = api.get(f"/api/v1/messages/{m['id']}", "liaison").json()
    assert got["status"] == "result_ready"
    assert got["history"][-1]["type"] == "message.result_ready"
    # Not rated within 15 days of the result: closed unrated by the sweep, once.
    api.set_now("2025-10-15 09:59")
    api.sweep()
    assert api.get(f"/api/v1/messages/{m['id']}", "liaison").json()["status"] == "result_ready"
    api.set_now("2025-10-15 10:00")
    api.sweep()
    api.set_now("2025-10-15 10:01")
    api.sweep()
    got = api.get(f"/api/v1/messages/{m['id']}", "liaison").json()
    assert [h["type"] for h in got["history"]].count("message.closed") == 1
    assert (got["status"], got["rating"]) == ("closed", None)
    assert got["closed_at"] == "2025-10-15T10:00:00+08:00"


def test_a_township_matter_goes_to_a_township_government_of_the_messages_district(city):
    api, z, _ = city
    for code, district in (("longshan-gov", "heshan"), ("zhangjiasai-gov", "ziyang")):
        r = api.put(f"/api/v1/units/{code}", json={"name": code, "kind": "township", "district": district})
        assert r.status_code == 201
    m = message(api, z)
    body = problem(
        api.post(
            f"/api/v1/messages/{m['id']}/forward",
            "liaison",
            json={"level": "township", "category": "misc", "units": ["zhangjiasai-gov"]},
        ),
        422,
    )
    assert fields(body) == {"units[0]"}
    body = problem(
        api.post(
            f"/api/v1/messages/{m['id']}/forward", "liaison", json={"level": "township", "category": "nope"}
        ),
        422,
    )
    assert fields(body) == {"category"}
    assert api.get(f"/api/v1/messages/{m['id']}", "liaison").json()["status"] == "received"
    r = api.post(
        f"/api/v1/messages/{m['id']}/forward", "liaison", json={"level": "township", "category": "misc"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["ticket"]["lead_unit"] == "longshan-gov"
    no_district = message(api, z, district=None)
    body = problem(
        api.post(
            f"/api/v1/messages/{no_district['id']}/forward",
            "liaison",
            json={"level": "township", "category": "misc"},
        ),
        422,
    )
    assert fields(body) == {"level"}


def test_forwarding_at_once_from_many_clients_creates_one_ticket(city):
    api, z, _ = city
    m = message(api, z)
    codes = api.concurrently(
        "liaison", f"/api/v1/messages/{m['id']}/forward", [{"level": "city", "category": "water"}] * 40
    )
    assert codes.count(201) == 1, codes
    assert set(codes) <= {201, 409, 503}, codes
    assert api.get("/api/v1/tickets", "liaison").json()["items"].__len__() == 1


def test_sweeps_running_at_once_record_a_response_clock_breach_once(city):
    api, z, _ = city
    ids = [message(api, z)["id"] for _ in range(3)]
    api.set_now("2025-10-11 00:00")
    codes = api.concurrently("admin", "/api/v1/admin/sla-sweep", [{}] * 12)
    assert set(codes) <= {200, 503}, codes
    for mid in ids:
        history = api.get(f"/api/v1/messages/{mid}", "liaison").json()["history"]
        assert [h["type"] for h in history].count("message.clock_breached") == 1
