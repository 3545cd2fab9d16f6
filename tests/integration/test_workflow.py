"""The handling round through HTTP: actions, their order, rounds, returns and the unit queue."""

from __future__ import annotations

from typing import Any

from tests.builders import act, ok, rate

CO_UNITS = ["water-bureau", "heshan-gov", "ziyang-gov"]


def contact(api: Any, t: dict[str, Any], at: str | None = None, who: str = "water-bureau") -> Any:
    body: dict[str, Any] = {"method": "phone", "deputy_invited": False}
    if at:
        body["at"] = api.at(at)
    return act(api, t, "contact", who, **body)


def resolve(api: Any, t: dict[str, Any], at: str | None = None, who: str = "water-bureau") -> Any:
    body: dict[str, Any] = {"outcome": "solved", "reply": "已修复供水管道"}
    if at:
        body["at"] = api.at(at)
    return act(api, t, "resolve", who, **body)


def feedback(api: Any, t: dict[str, Any], at: str | None = None, who: str = "water-bureau") -> Any:
    body: dict[str, Any] = {"method": "phone", "content": "已电话告知代表"}
    if at:
        body["at"] = api.at(at)
    return act(api, t, "feedback", who, **body)


def events(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/tickets/{t['id']}/events")
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def cases(api: Any, t: dict[str, Any]) -> list[dict[str, Any]]:
    r = api.get(f"/api/v1/supervisions?ticket_id={t['id']}", "liaison")
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


def queue(api: Any, unit: str, who: str | None = None, **params: Any) -> Any:
    return api.get(f"/api/v1/units/{unit}/queue", who or unit, params=params)


def fed_back(api: Any) -> dict[str, Any]:
    """A one-unit ticket dispatched 2025-09-30 10:00, contacted, resolved and fed back."""
    api.city()
    t = api.ticket()
    api.set_now("2025-10-10 12:00")
    ok(contact(api, t, "2025-09-30 15:00"))
    ok(resolve(api, t, "2025-10-09 10:00"))
    return ok(feedback(api, t, "2025-10-10 09:00"))


# --- full rounds ------------------------------------------------------------------------------


def test_one_unit_round_from_dispatch_to_closing_meets_every_clock(api):
    api.city()
    t = api.ticket()
    assert t["status"] == "dispatched" and t["round"] == 1
    api.set_now("2025-09-30 16:00")
    t = ok(contact(api, t, "2025-09-30 15:00"))
    assert t["status"] == "in_progress"
    assert api.clock_of(t, "contact")["state"] == "met"
    assert api.clock_of(t, "contact")["met_at"] == "2025-09-30T15:00:00+08:00"
    api.set_now("2025-10-09 11:00")
    t = ok(resolve(api, t, "2025-10-09 10:00"))
    assert t["status"] == "resolved"
    assert t["resolution"]["outcome"] == "solved"
    assert api.clock_of(t, "resolve")["state"] == "met"
    fb = api.clock_of(t, "feedback")
    # resolved Oct 9: day 2 is Oct 11, a make-up working Saturday
    assert (fb["due_at"], fb["state"], fb["round"]) == ("2025-10-12T00:00:00+08:00", "running", 1)
    api.set_now("2025-10-10 12:00")
    t = ok(feedback(api, t, "2025-10-10 09:00"))
    assert t["status"] == "fed_back"
    assert api.clock_of(t, "feedback")["state"] == "met"
    t = ok(rate(api, t, "satisfied"))
    assert t["status"] == "closed" and t["round"] == 1
    assert t["rating"]["rating"] == "satisfied"
    assert {c["state"] for c in t["clocks"]} == {"met"}
    types = [e["type"] for e in events(api, t)]
    for expected in (
        "ticket.contacted",
        "ticket.resolved",
        "ticket.fed_back",
        "rating.recorded",
        "ticket.closed",
    ):
        assert expected in types
    assert cases(api, t) == []


def test_lead_and_two_co_handlers_send_opinions_that_meet_their_clocks(api):
    api.city()
    t = api.ticket(units=CO_UNITS)
    assert t["lead_unit"] == "water-bureau"
    assert {(a["unit"], a["role"]) for a in t["assignments"]} == {
        ("water-bureau", "lead"),
        ("heshan-gov", "co"),
        ("ziyang-gov", "co"),
    }
    api.set_now("2025-10-09 10:00")
    t = ok(act(api, t, "opinions", "heshan-gov", content="同意牵头单位方案", at=api.at("2025-10-08 09:00")))
    assert api.clock_of(t, "opinion", "heshan-gov")["state"] == "met"
    assert api.clock_of(t, "opinion", "ziyang-gov")["state"] == "running"
    assert t["status"] == "dispatched"  # opinions never move the status
    api.set_now("2025-10-16 10:00")
    t = ok(act(api, t, "opinions", "ziyang-gov", content="已配合排查"))
    late = api.clock_of(t, "opinion", "ziyang-gov")
    assert (late["state"], late["met_at"]) == ("met_late", "2025-10-16T10:00:00+08:00")
    assert t["status"] == "dispatched"


def test_lead_sending_an_opinion_or_co_handler_doing_the_leads_work_is_forbidden(api):
    api.city()
    t = api.ticket(units=CO_UNITS)
    r = act(api, t, "opinions", "water-bureau", content="牵头单位意见")
    assert r.status_code == 403, r.text
    assert r.headers["content-type"] == "application/problem+json"
    for action, body in (
        ("resolve", {"outcome": "solved", "reply": "x"}),
        ("contact", {"method": "phone", "deputy_invited": False}),
        ("feedback", {"method": "phone", "content": "x"}),
        ("return", {"reason": "不归我管"}),
        ("extensions", {"working_days": 2, "reason": "x"}),
    ):
        r = act(api, t, action, "heshan-gov", **body)
        assert r.status_code == 403, (action, r.text)
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert after["status"] == "dispatched" and after["resolution"] is None


def test_returned_ticket_redispatched_starts_new_clocks_at_the_redispatch(api):
    api.city()
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    api.set_now("2025-09-30 12:00")
    t = ok(act(api, t, "return", "water-bureau", reason="应由住建局办理", at=api.at("2025-09-30 11:00")))
    assert t["status"] == "returned"
    assert {c["state"] for c in t["clocks"]} == {"cancelled"}
    assert all(a["active"] is False for a in t["assignments"])
    assert queue(api, "water-bureau").json()["items"] == []
    assert queue(api, "heshan-gov").json()["items"] == []

    api.set_now("2025-10-09 09:00")
    r = api.post(
        f"/api/v1/tickets/{t['id']}/dispatch",
        "hotline",
        json={"units": ["housing-bureau"], "at": api.at("2025-10-09 08:30")},
    )
    t = ok(r)
    assert (t["status"], t["lead_unit"], t["round"]) == ("dispatched", "housing-bureau", 1)
    new_contact = api.clock_of(t, "contact", "housing-bureau")
    assert new_contact["due_at"] == "2025-10-10T08:30:00+08:00"
    assert new_contact["started_at"] == "2025-10-09T08:30:00+08:00"
    # 7 working days after Oct 9: 10, 11 (make-up), 13, 14, 15, 16, 17
    assert api.clock_of(t, "resolve", "housing-bureau")["due_at"] == "2025-10-18T00:00:00+08:00"
    old = [c for c in t["clocks"] if c["unit"] in ("water-bureau", "heshan-gov")]
    assert len(old) == 3 and {c["state"] for c in old} == {"cancelled"}

    # the old unit still reads the ticket but gets no work for it
    assert api.get(f"/api/v1/tickets/{t['id']}", "water-bureau").status_code == 200
    assert queue(api, "water-bureau").json()["items"] == []
    assert contact(api, t, who="water-bureau").status_code == 403
    items = queue(api, "housing-bureau").json()["items"]
    assert [(i["ticket"]["id"], i["next_action"]) for i in items] == [(t["id"], "contact")]
    assert ok(contact(api, t, who="housing-bureau"))["status"] == "in_progress"


def test_redispatch_before_the_return_or_of_an_unreturned_ticket_is_refused(api):
    api.city()
    t = api.ticket()
    r = api.post(f"/api/v1/tickets/{t['id']}/dispatch", "hotline", json={"units": ["housing-bureau"]})
    assert r.status_code == 409, r.text
    api.set_now("2025-09-30 12:00")
    ok(act(api, t, "return", "water-bureau", reason="误派"))
    r = api.post(
        f"/api/v1/tickets/{t['id']}/dispatch",
        "hotline",
        json={"units": ["housing-bureau"], "at": api.at("2025-09-30 11:00")},
    )
    assert r.status_code == 422, r.text
    r = api.post(f"/api/v1/tickets/{t['id']}/dispatch", "water-bureau", json={"units": ["housing-bureau"]})
    assert r.status_code == 403, r.text


# --- out of order -----------------------------------------------------------------------------


def test_feedback_before_resolve_and_rating_before_feedback_are_conflicts(api):
    api.city()
    t = api.ticket()
    ok(contact(api, t))
    r = feedback(api, t)
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert rate(api, t, "satisfied").status_code == 409
    ok(resolve(api, t))
    r = rate(api, t, "satisfied")
    assert r.status_code == 409, r.text
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert (after["status"], after["feedback"], after["rating"]) == ("resolved", None, None)


def test_resolve_before_contact_is_allowed_and_contact_after_still_meets_its_clock(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-09-30 12:00")
    t = ok(resolve(api, t))
    assert t["status"] == "resolved"
    t = ok(contact(api, t, "2025-09-30 11:00"))
    assert t["status"] == "resolved"
    assert api.clock_of(t, "contact")["state"] == "met"


def test_nothing_is_done_on_a_closed_ticket(api):
    api.city()
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    api.set_now("2025-10-10 12:00")
    ok(resolve(api, t, "2025-10-09 10:00"))
    ok(feedback(api, t, "2025-10-10 09:00"))
    ok(rate(api, t, "very_satisfied"))
    before = len(events(api, t))
    for action, who, body in (
        ("contact", "water-bureau", {"method": "phone", "deputy_invited": True}),
        ("resolve", "water-bureau", {"outcome": "solved", "reply": "x"}),
        ("feedback", "water-bureau", {"method": "phone", "content": "x"}),
        ("return", "water-bureau", {"reason": "x"}),
        ("rating", "hotline", {"rating": "unsatisfied"}),
        ("rating", "hotline", {"rating": "satisfied"}),
        ("opinions", "heshan-gov", {"content": "x"}),
        ("extensions", "water-bureau", {"working_days": 2, "reason": "x"}),
        ("dispatch", "hotline", {"units": ["housing-bureau"]}),
    ):
        r = act(api, t, action, who, **body)
        assert r.status_code == 409, (action, r.text)
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert after["status"] == "closed" and after["round"] == 1
    assert len(events(api, t)) == before


def test_consultation_is_closed_at_intake_and_takes_no_action(api):
    api.city()
    t = api.ticket(kind="consultation")
    assert t["status"] == "closed" and t["clocks"] == []
    assert contact(api, t).status_code == 409


def test_return_after_resolving_is_a_conflict(api):
    api.city()
    t = api.ticket()
    ok(resolve(api, t))
    for status_before in ("resolved", "fed_back"):
        r = act(api, t, "return", "water-bureau", reason="误派")
        assert r.status_code == 409, r.text
        assert ok(api.get(f"/api/v1/tickets/{t['id']}"))["status"] == status_before
        if status_before == "resolved":
            ok(feedback(api, t))


def test_an_at_in_the_future_is_invalid(api):
    api.city()
    t = api.ticket()
    for action, body in (
        ("contact", {"method": "phone", "deputy_invited": False}),
        ("resolve", {"outcome": "solved", "reply": "x"}),
        ("return", {"reason": "x"}),
    ):
        r = act(api, t, action, "water-bureau", at=api.at("2025-09-30 10:01"), **body)
        assert r.status_code == 422, (action, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in r.json()["errors"]] == ["at"]
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert after["status"] == "dispatched" and after["resolution"] is None


def test_an_at_before_the_step_it_follows_is_invalid(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-10 12:00")
    r = contact(api, t, "2025-09-30 09:59")  # before the dispatch
    assert r.status_code == 422, r.text
    r = resolve(api, t, "2025-09-30 09:00")
    assert r.status_code == 422, r.text
    ok(resolve(api, t, "2025-10-09 10:00"))
    r = feedback(api, t, "2025-10-09 09:59")  # before the resolution
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "at"
    ok(feedback(api, t, "2025-10-10 09:00"))
    r = rate(api, t, "satisfied", "2025-10-10 08:00")  # before the feedback
    assert r.status_code == 422, r.text
    t = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert t["status"] == "fed_back" and t["rating"] is None


def test_a_unit_not_assigned_gets_not_found_for_every_action(api):
    api.city()
    t = api.ticket()
    assert contact(api, t, who="housing-bureau").status_code == 404
    assert resolve(api, t, who="housing-bureau").status_code == 404
    r = act(api, t, "opinions", "housing-bureau", content="x")
    assert r.status_code == 404
    r = act(api, t, "extensions", "housing-bureau", working_days=1, reason="x")
    assert r.status_code == 404
    missing = {**t, "id": "0190a0a0-0000-7000-8000-000000000000"}
    assert contact(api, missing).status_code == 404


def test_a_non_unit_key_calling_contact_or_a_unit_rating_is_forbidden(api):
    t = fed_back(api)
    for who in ("hotline", "liaison", "admin"):
        r = contact(api, t, who=who)
        assert r.status_code == 403, (who, r.text)
    for who in ("water-bureau", "liaison", "admin"):
        r = act(api, t, "rating", who, rating="satisfied")
        assert r.status_code == 403, (who, r.text)
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert (after["status"], after["rating"]) == ("fed_back", None)


# --- ratings ----------------------------------------------------------------------------------


def fed_back_again(api: Any) -> dict[str, Any]:
    """Another one-unit ticket, resolved and fed back, in the city fed_back() built."""
    api.set_now("2025-09-30 10:00")
    t = api.ticket()
    api.set_now("2025-10-10 12:00")
    ok(resolve(api, t, "2025-10-09 10:00"))
    return ok(feedback(api, t, "2025-10-10 09:00"))


def test_each_satisfied_rating_in_english_or_chinese_closes_the_ticket(api):
    first = fed_back(api)
    r = rate(api, first, "一般")  # not a rating
    assert r.status_code == 422, r.text
    assert ok(api.get(f"/api/v1/tickets/{first['id']}"))["status"] == "fed_back"
    for rating, code in (
        ("very_satisfied", "very_satisfied"),
        ("satisfied", "satisfied"),
        ("basically_satisfied", "basically_satisfied"),
        ("非常满意", "very_satisfied"),
        ("满意", "satisfied"),
        ("基本满意", "basically_satisfied"),
    ):
        t = first if rating == "very_satisfied" else fed_back_again(api)
        t = ok(rate(api, t, rating, "2025-10-10 11:00"))
        assert (t["status"], t["round"], t["rating"]["rating"]) == ("closed", 1, code), rating
        assert t["rating"]["at"] == "2025-10-10T11:00:00+08:00"
        assert cases(api, t) == []
        assert [c for c in t["clocks"] if c["round"] == 2] == []


def test_each_unsatisfied_rating_in_english_or_chinese_starts_round_two_under_supervision(api):
    first = fed_back(api)
    for rating, code in (
        ("unsatisfied", "unsatisfied"),
        ("very_unsatisfied", "very_unsatisfied"),
        ("不满意", "unsatisfied"),
        ("非常不满意", "very_unsatisfied"),
    ):
        t = first if rating == "unsatisfied" else fed_back_again(api)
        api.set_now("2025-10-13 15:00")
        t = ok(rate(api, t, rating, "2025-10-13 10:00"))
        assert (t["status"], t["round"], t["rating"]["rating"]) == ("supervising", 2, code)
        again = api.clock_of(t, "resolve", round_=2)
        # 7 working days after Oct 13: 14, 15, 16, 17, 20, 21, 22
        assert again["due_at"] == "2025-10-23T00:00:00+08:00"
        assert again["started_at"] == "2025-10-13T10:00:00+08:00"
        assert again["state"] == "running" and again["unit"] == "water-bureau"
        assert [c["kind"] for c in t["clocks"] if c["round"] == 2] == ["resolve"]
        found = {(c["kind"], c["unit"], c["round"], c["state"]) for c in cases(api, t)}
        assert found == {
            ("committee", "urban-env-committee", 2, "open"),
            ("local", "heshan-congress", 2, "open"),
        }
        assert t["resolution"] is None and t["feedback"] is None


def test_second_round_resolves_from_the_rating_and_a_second_unsatisfied_opens_a_joint_case(api):
    t = fed_back(api)
    api.set_now("2025-10-13 15:00")
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))
    r = resolve(api, t, "2025-10-13 09:00")  # before round 2 started
    assert r.status_code == 422, r.text
    api.set_now("2025-10-20 12:00")
    t = ok(resolve(api, t, "2025-10-17 10:00"))
    assert t["status"] == "resolved" and t["round"] == 2
    assert api.clock_of(t, "resolve", round_=2)["state"] == "met"
    fb = api.clock_of(t, "feedback", round_=2)
    # resolved Fri Oct 17: day 2 is Sun Oct 19, rolled to Mon Oct 20
    assert fb["due_at"] == "2025-10-21T00:00:00+08:00"
    ok(feedback(api, t, "2025-10-18 10:00"))
    t = ok(rate(api, t, "非常不满意", "2025-10-20 10:00"))
    assert (t["status"], t["round"]) == ("supervising", 3)
    kinds = sorted((c["kind"], c["round"], c["unit"] or "") for c in cases(api, t))
    assert kinds == [
        ("committee", 2, "urban-env-committee"),
        ("committee", 3, "urban-env-committee"),
        ("joint", 3, ""),
        ("local", 2, "heshan-congress"),
        ("local", 3, "heshan-congress"),
    ]
    assert api.clock_of(t, "resolve", round_=3)["started_at"] == "2025-10-20T10:00:00+08:00"


# --- back-recording ---------------------------------------------------------------------------


def test_back_recorded_contact_before_due_is_met_after_the_sweep_recorded_a_breach(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 11:00")
    assert api.sweep()["breached"] == 1
    t = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert api.clock_of(t, "contact")["state"] == "breached"
    assert queue(api, "water-bureau").json()["items"][0]["breached"] is True
    t = ok(contact(api, t, "2025-10-01 09:30"))
    c = api.clock_of(t, "contact")
    assert (c["state"], c["met_at"]) == ("met", "2025-10-01T09:30:00+08:00")
    log = events(api, t)
    breaches = [e for e in log if e["type"] == "clock.breached"]
    assert len(breaches) == 1 and breaches[0]["data"]["kind"] == "contact"
    assert [e["seq"] for e in log] == sorted(e["seq"] for e in log)
    assert api.sweep()["breached"] == 0


def test_contact_recorded_late_is_met_late(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-01 11:00")
    t = ok(contact(api, t, "2025-10-01 10:00"))  # due is exclusive
    assert api.clock_of(t, "contact")["state"] == "met_late"


# --- the unit queue ---------------------------------------------------------------------------


def test_queue_orders_by_next_due_and_walks_contact_resolve_feedback_then_leaves(api):
    api.city()
    api.set_now("2025-09-30 08:00")
    urgent = api.ticket(urgency="urgent", called_at=api.at("2025-09-30 08:00"))
    api.set_now("2025-09-30 09:00")
    normal = api.ticket(called_at=api.at("2025-09-30 09:00"))
    api.set_now("2025-09-30 10:00")
    items = queue(api, "water-bureau").json()["items"]
    assert [i["ticket"]["id"] for i in items] == [urgent["id"], normal["id"]]
    assert [i["next_due_at"] for i in items] == ["2025-10-01T08:00:00+08:00", "2025-10-01T09:00:00+08:00"]
    first = items[0]
    assert first["role"] == "lead" and first["next_action"] == "contact"
    assert first["breached"] is False
    assert {"id", "hotline_no", "status", "category", "urgency", "round"} <= set(first["ticket"])

    def item_of(t):
        found = [i for i in queue(api, "water-bureau").json()["items"] if i["ticket"]["id"] == t["id"]]
        return found[0] if found else None

    ok(contact(api, normal))
    it = item_of(normal)
    assert (it["next_action"], it["next_due_at"]) == ("resolve", "2025-10-17T00:00:00+08:00")
    assert it["ticket"]["status"] == "in_progress"
    ok(resolve(api, normal))
    it = item_of(normal)
    # resolved Sep 30: day 2 is Oct 2, a holiday: end of Oct 9
    assert (it["next_action"], it["next_due_at"]) == ("feedback", "2025-10-10T00:00:00+08:00")
    items = queue(api, "water-bureau").json()["items"]
    assert [i["ticket"]["id"] for i in items] == [urgent["id"], normal["id"]]
    ok(feedback(api, normal))
    assert item_of(normal) is None
    api.set_now("2025-10-09 10:00")
    ok(rate(api, normal, "unsatisfied"))
    it = item_of(normal)
    assert (it["next_action"], it["ticket"]["round"]) == ("resolve", 2)
    assert it["next_due_at"] == "2025-10-18T00:00:00+08:00"  # Oct 9 + 7 working days


def test_queue_shows_co_handler_opinion_and_supervisor_work(api):
    t = fed_back(api)
    api.set_now("2025-10-13 10:00")
    t2 = api.ticket(units=["water-bureau", "heshan-gov"])
    items = queue(api, "heshan-gov").json()["items"]
    assert [(i["ticket"]["id"], i["role"], i["next_action"]) for i in items] == [(t2["id"], "co", "opinion")]
    assert items[0]["next_due_at"] == "2025-10-21T00:00:00+08:00"
    ok(act(api, t2, "opinions", "heshan-gov", content="同意"))
    assert queue(api, "heshan-gov").json()["items"] == []

    ok(rate(api, t, "unsatisfied"))
    for unit in ("urban-env-committee", "heshan-congress"):
        items = queue(api, unit).json()["items"]
        assert [
            (i["ticket"]["id"], i["role"], i["next_action"], i["next_due_at"], i["breached"]) for i in items
        ] == [(t["id"], "supervisor", "supervise", None, False)]
    case = next(c for c in cases(api, t) if c["kind"] == "local")
    r = api.post(
        f"/api/v1/supervisions/{case['id']}/close", "heshan-congress", json={"conclusion": "已督促重办"}
    )
    assert r.status_code == 200, r.text
    assert queue(api, "heshan-congress").json()["items"] == []
    assert len(queue(api, "urban-env-committee").json()["items"]) == 1


def test_queue_etag_answers_not_modified_until_something_changes_or_falls_due(api):
    api.city()
    t = api.ticket()
    r = queue(api, "water-bureau")
    tag = r.headers["etag"]
    assert tag
    r2 = api.get("/api/v1/units/water-bureau/queue", "water-bureau", headers={"If-None-Match": tag})
    assert r2.status_code == 304
    assert r2.headers["etag"] == tag
    api.set_now("2025-09-30 11:00")
    ok(contact(api, t))
    r3 = api.get("/api/v1/units/water-bureau/queue", "water-bureau", headers={"If-None-Match": tag})
    assert r3.status_code == 200
    assert r3.headers["etag"] != tag
    assert r3.json()["items"][0]["next_action"] == "resolve"
    # nothing written, but the next due time passes: the tag changes too
    tag = r3.headers["etag"]
    assert (
        api.get(
            "/api/v1/units/water-bureau/queue", "water-bureau", headers={"If-None-Match": tag}
        ).status_code
        == 304
    )
    api.set_now("2025-10-17 00:00")
    r4 = api.get("/api/v1/units/water-bureau/queue", "water-bureau", headers={"If-None-Match": tag})
    assert r4.status_code == 200
    assert r4.json()["items"][0]["breached"] is True


def test_queue_updated_since_returns_only_changed_items(api):
    api.city()
    a = api.ticket()
    b = api.ticket()
    api.set_now("2025-09-30 12:00")
    ok(contact(api, a))
    items = queue(api, "water-bureau", updated_since=api.at("2025-09-30 11:00")).json()["items"]
    assert [i["ticket"]["id"] for i in items] == [a["id"]]
    assert items[0]["next_action"] == "resolve"
    api.set_now("2025-09-30 13:00")
    ok(resolve(api, b))
    ok(feedback(api, b))
    items = queue(api, "water-bureau", updated_since=api.at("2025-09-30 12:30")).json()["items"]
    assert [i["ticket"]["id"] for i in items] == [b["id"]]
    assert queue(api, "water-bureau", updated_since=api.at("2025-09-30 13:00")).json()["items"] == []
    r = queue(api, "water-bureau", updated_since="2025-09-30T12:30:00")
    assert r.status_code == 422


def test_queue_pages_with_a_cursor_in_due_order(api):
    api.city()
    made = []
    for hour in range(10, 15):
        api.set_now(f"2025-09-30 {hour}:00")
        made.append(api.ticket()["id"])
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = queue(api, "water-bureau", **params)
        assert r.status_code == 200, r.text
        page = r.json()
        assert len(page["items"]) <= 2
        seen += [i["ticket"]["id"] for i in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made and pages == 3
    assert queue(api, "water-bureau", cursor="not-a-cursor!").status_code == 422


def test_queue_of_another_unit_is_forbidden_to_a_unit_key(api):
    api.city()
    api.ticket()
    r = queue(api, "water-bureau", who="housing-bureau")
    assert r.status_code == 403, r.text
    assert queue(api, "water-bureau", who="hotline").status_code == 403
    assert len(queue(api, "water-bureau", who="liaison").json()["items"]) == 1
    assert len(queue(api, "water-bureau", who="admin").json()["items"]) == 1
    assert queue(api, "no-such-unit", who="admin").status_code == 404
