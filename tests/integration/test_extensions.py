"""Extension requests (延期) through HTTP: who asks, who decides, how the resolve due moves."""

from __future__ import annotations

from typing import Any

from tests.builders import ok


def ask(api: Any, t: dict[str, Any], days: int = 3, who: str = "water-bureau") -> Any:
    return api.post(
        f"/api/v1/tickets/{t['id']}/extensions",
        who,
        json={"working_days": days, "reason": "需协调多部门施工"},
    )


def decide(api: Any, ext: dict[str, Any], approve: bool, who: str = "hotline") -> Any:
    return api.post(
        f"/api/v1/extensions/{ext['id']}/decision",
        who,
        json={"approve": approve, "note": "同意" if approve else "不同意"},
    )


def read(api: Any, t: dict[str, Any]) -> dict[str, Any]:
    return ok(api.get(f"/api/v1/tickets/{t['id']}"))


def resolve_clock(api: Any, t: dict[str, Any], round_: int = 1) -> dict[str, Any]:
    return api.clock_of(read(api, t), "resolve", round_=round_)  # type: ignore[no-any-return]


def before_national_day(api: Any) -> dict[str, Any]:
    """Dispatched Fri 2025-09-19 10:00: resolve due end of Mon Sep 29 (22..26, 28 make-up, 29)."""
    api.city()
    api.set_now("2025-09-19 10:00")
    t = api.ticket()
    assert api.clock_of(t, "resolve")["due_at"] == "2025-09-30T00:00:00+08:00"
    return t  # type: ignore[no-any-return]


def test_lead_request_is_pending_and_changes_nothing_yet(api):
    api.city()
    t = api.ticket()
    ext = ok(ask(api, t, 3), 201)
    assert (ext["state"], ext["working_days"], ext["round"]) == ("pending", 3, 1)
    assert ext["ticket_id"] == t["id"] and ext["id"]
    assert ext["requested_at"] == "2025-09-30T10:00:00+08:00"
    after = read(api, t)
    assert after["status"] == "dispatched"
    assert api.clock_of(after, "resolve")["due_at"] == "2025-10-17T00:00:00+08:00"
    assert ok(api.get(f"/api/v1/extensions/{ext['id']}", "water-bureau"))["state"] == "pending"
    assert api.get(f"/api/v1/extensions/{ext['id']}", "housing-bureau").status_code == 404


def test_approval_moves_the_resolve_due_on_by_working_days_from_the_current_due(api):
    api.city()
    t = api.ticket()
    ext = ok(ask(api, t, 3), 201)
    api.set_now("2025-09-30 11:00")
    out = ok(decide(api, ext, True))
    assert (out["state"], out["decided_at"]) == ("approved", "2025-09-30T11:00:00+08:00")
    # end of Oct 16 + 3 working days: 17, 20, 21
    assert resolve_clock(api, t)["due_at"] == "2025-10-22T00:00:00+08:00"
    assert resolve_clock(api, t)["state"] == "running"
    contact_due = api.clock_of(read(api, t), "contact")["due_at"]
    assert contact_due == "2025-10-01T10:00:00+08:00"  # only the resolve clock moves
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    types = [e["type"] for e in log]
    assert "extension.requested" in types and "extension.decided" in types


def test_approval_across_national_day_skips_the_holiday(api):
    t = before_national_day(api)
    ext = ok(ask(api, t, 2), 201)
    ok(decide(api, ext, True, who="liaison"))
    # end of Sep 29 + 2 working days: Sep 30, then Oct 1-8 off, Oct 9
    assert resolve_clock(api, t)["due_at"] == "2025-10-10T00:00:00+08:00"
    ext2 = ok(ask(api, t, 2), 201)
    ok(decide(api, ext2, True))
    # end of Oct 9 + 2: Oct 10, Sat Oct 11 (make-up working day)
    assert resolve_clock(api, t)["due_at"] == "2025-10-12T00:00:00+08:00"


def test_approved_extension_returns_a_breached_clock_to_running(api):
    t = before_national_day(api)
    api.set_now("2025-09-30 10:00")
    assert api.sweep()["breached"] == 2  # contact and resolve
    assert resolve_clock(api, t)["state"] == "breached"
    ext = ok(ask(api, t, 2), 201)  # a late request is allowed
    ok(decide(api, ext, True))
    clock = resolve_clock(api, t)
    assert (clock["due_at"], clock["state"]) == ("2025-10-10T00:00:00+08:00", "running")
    items = ok(api.get("/api/v1/units/water-bureau/queue", "water-bureau"))["items"]
    it = next(i for i in items if i["ticket"]["id"] == t["id"])
    assert it["next_action"] == "contact" and it["breached"] is True  # the contact is still late
    # the moved deadline may breach again, and that breach is recorded anew
    api.set_now("2025-10-10 00:00")
    assert api.sweep()["breached"] == 1
    assert resolve_clock(api, t)["state"] == "breached"
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    resolve_breaches = [e for e in log if e["type"] == "clock.breached" and e["data"]["kind"] == "resolve"]
    assert [e["data"]["due_at"] for e in resolve_breaches] == [
        "2025-09-30T00:00:00+08:00",
        "2025-10-10T00:00:00+08:00",
    ]


def test_approval_that_still_lies_in_the_past_leaves_the_clock_breached(api):
    t = before_national_day(api)
    api.set_now("2025-10-13 10:00")
    ext = ok(ask(api, t, 1), 201)
    ok(decide(api, ext, True))
    clock = resolve_clock(api, t)
    assert (clock["due_at"], clock["state"]) == ("2025-10-01T00:00:00+08:00", "breached")


def test_refusal_leaves_the_breached_clock_as_it_was(api):
    t = before_national_day(api)
    api.set_now("2025-09-30 10:00")
    api.sweep()
    ext = ok(ask(api, t, 5), 201)
    out = ok(decide(api, ext, False))
    assert (out["state"], out["note"]) == ("refused", "不同意")
    clock = resolve_clock(api, t)
    assert (clock["due_at"], clock["state"]) == ("2025-09-30T00:00:00+08:00", "breached")
    assert decide(api, ext, True).status_code == 409  # decided once
    assert resolve_clock(api, t)["due_at"] == "2025-09-30T00:00:00+08:00"
    assert api.sweep()["breached"] == 0


def test_a_second_request_while_one_is_pending_is_a_conflict(api):
    api.city()
    t = api.ticket()
    first = ok(ask(api, t, 3), 201)
    r = ask(api, t, 1)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    ok(decide(api, first, False))
    assert ok(ask(api, t, 1), 201)["state"] == "pending"


def test_urgent_or_resolved_ticket_gets_no_extension(api):
    api.city()
    urgent = api.ticket(urgency="urgent")
    r = ask(api, urgent, 1)
    assert r.status_code == 409, r.text
    assert resolve_clock(api, urgent)["due_at"] == "2025-10-01T10:00:00+08:00"
    t = api.ticket()
    ok(
        api.post(
            f"/api/v1/tickets/{t['id']}/resolve",
            "water-bureau",
            json={"outcome": "solved", "reply": "已解决"},
        )
    )
    assert ask(api, t, 2).status_code == 409


def test_extension_in_a_rehandling_round_moves_that_rounds_clock(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-13 15:00")
    for action, body in (
        ("resolve", {"outcome": "solved", "reply": "x", "at": api.at("2025-10-09 10:00")}),
        ("feedback", {"method": "phone", "content": "x", "at": api.at("2025-10-10 09:00")}),
    ):
        ok(api.post(f"/api/v1/tickets/{t['id']}/{action}", "water-bureau", json=body))
    ok(
        api.post(
            f"/api/v1/tickets/{t['id']}/rating",
            "hotline",
            json={"rating": "unsatisfied", "at": api.at("2025-10-13 10:00")},
        )
    )
    assert resolve_clock(api, t, 2)["due_at"] == "2025-10-23T00:00:00+08:00"
    ext = ok(ask(api, t, 1), 201)
    assert ext["round"] == 2
    ok(decide(api, ext, True))
    assert resolve_clock(api, t, 2)["due_at"] == "2025-10-24T00:00:00+08:00"
    assert resolve_clock(api, t, 1)["due_at"] == "2025-10-17T00:00:00+08:00"


def test_a_decision_by_anyone_but_hotline_or_liaison_is_forbidden(api):
    api.city()
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    ext = ok(ask(api, t, 3), 201)
    for who in ("water-bureau", "heshan-gov", "housing-bureau", "admin"):
        r = decide(api, ext, True, who=who)
        assert r.status_code == 403, (who, r.text)
    assert ok(api.get(f"/api/v1/extensions/{ext['id']}"))["state"] == "pending"
    assert resolve_clock(api, t)["due_at"] == "2025-10-17T00:00:00+08:00"
    assert decide(api, {"id": "no-such-extension"}, True).status_code == 404


def test_a_co_handler_asking_for_an_extension_is_forbidden(api):
    api.city()
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    r = ask(api, t, 2, who="heshan-gov")
    assert r.status_code == 403, r.text
    assert ask(api, t, 2, who="hotline").status_code == 403
    assert ok(ask(api, t, 2), 201)["state"] == "pending"  # nothing was left pending


def test_working_days_outside_one_to_seven_are_invalid(api):
    api.city()
    t = api.ticket()
    for days in (0, 8, -1):
        r = ask(api, t, days)
        assert r.status_code == 422, (days, r.text)
        assert r.json()["errors"][0]["field"].endswith("working_days")
    assert ok(ask(api, t, 7), 201)["working_days"] == 7


def test_a_request_pending_when_the_round_is_resolved_lapses_and_cannot_be_decided(api):
    """Resolved late while a request was pending: approving it afterwards would turn the
    late resolution into an on-time one (SPEC: the request lapses; deciding it → 409)."""
    api.city()
    t = api.ticket()
    ext = ok(ask(api, t, 3), 201)
    api.set_now("2025-10-20 10:00")  # after the due (end of 2025-10-16)
    ok(
        api.post(
            f"/api/v1/tickets/{t['id']}/resolve",
            "water-bureau",
            json={"outcome": "solved", "reply": "已解决"},
        )
    )
    assert ok(api.get(f"/api/v1/extensions/{ext['id']}", "water-bureau"))["state"] == "lapsed"
    r = decide(api, ext, True)
    assert r.status_code == 409, r.text
    clock = resolve_clock(api, t)
    assert clock["due_at"] == "2025-10-17T00:00:00+08:00"
    assert clock["state"] == "met_late"
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))
    events = log["items"] if isinstance(log, dict) else log
    assert [e for e in events if e["type"] == "extension.lapsed"]


def test_a_round_two_request_left_pending_does_not_block_round_three(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-13 15:00")

    def handle_and_rate_unsatisfied(day: str) -> None:
        for action, body in (
            ("resolve", {"outcome": "solved", "reply": "x", "at": api.at(f"{day} 09:00")}),
            ("feedback", {"method": "phone", "content": "x", "at": api.at(f"{day} 10:00")}),
        ):
            ok(api.post(f"/api/v1/tickets/{t['id']}/{action}", "water-bureau", json=body))
        ok(
            api.post(
                f"/api/v1/tickets/{t['id']}/rating",
                "hotline",
                json={"rating": "unsatisfied", "at": api.at(f"{day} 11:00")},
            )
        )

    handle_and_rate_unsatisfied("2025-10-09")
    ext2 = ok(ask(api, t, 1), 201)
    assert ext2["round"] == 2
    api.set_now("2025-10-14 15:00")
    handle_and_rate_unsatisfied("2025-10-14")
    assert ok(api.get(f"/api/v1/extensions/{ext2['id']}", "water-bureau"))["state"] == "lapsed"
    ext3 = ok(ask(api, t, 2), 201)
    assert ext3["round"] == 3
    ok(decide(api, ext3, True))
    assert decide(api, ext2, True).status_code == 409
