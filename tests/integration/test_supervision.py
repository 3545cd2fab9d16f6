"""Supervision (督办) through HTTP: what opens a case, who owns it, who may work it."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.builders import act, ok, rate


def cases(api: Any, who: str = "liaison", **params: Any) -> list[dict[str, Any]]:
    return ok(api.get("/api/v1/supervisions", who, params=params))["items"]  # type: ignore[no-any-return]


def to_rating(api: Any, lead: str = "water-bureau", **ticket: Any) -> dict[str, Any]:
    """A ticket dispatched 2025-09-30 10:00, resolved Oct 9 and fed back Oct 10; now Oct 13."""
    t = api.ticket(**ticket)
    api.set_now("2025-10-13 15:00")
    ok(act(api, t, "resolve", lead, outcome="stepwise", reply="正在协调", at=api.at("2025-10-09 10:00")))
    ok(act(api, t, "feedback", lead, method="visit", content="上门说明", at=api.at("2025-10-10 09:00")))
    return t


def open_rating_cases(api: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    api.city()
    t = to_rating(api)
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))
    return t, {c["kind"]: c for c in cases(api, ticket_id=t["id"])}


# --- what opens a case ------------------------------------------------------------------------


def test_unsatisfied_rating_opens_committee_and_local_cases_for_the_new_round(api):
    t, found = open_rating_cases(api)
    assert set(found) == {"committee", "local"}
    committee, local = found["committee"], found["local"]
    assert (committee["unit"], committee["state"], committee["round"]) == ("urban-env-committee", "open", 2)
    assert (local["unit"], local["state"], local["round"]) == ("heshan-congress", "open", 2)
    for case in found.values():
        assert case["ticket_id"] == t["id"] and case["hotline_no"] == t["hotline_no"]
        assert case["opened_at"] == "2025-10-13T10:00:00+08:00"
        assert case["closed_at"] is None and case["conclusion"] is None and case["notes"] == []
        assert "unsatisfied" in case["reason"]
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    assert sorted(e["data"]["kind"] for e in log if e["type"] == "supervision.opened") == [
        "committee",
        "local",
    ]


def test_second_unsatisfied_rating_opens_a_joint_case_owned_by_the_liaison_committee(api):
    api.city()
    t = to_rating(api)
    ok(rate(api, t, "very_unsatisfied", "2025-10-13 10:00"))
    assert cases(api, ticket_id=t["id"], kind="joint") == []
    api.set_now("2025-10-20 15:00")
    ok(act(api, t, "resolve", "water-bureau", outcome="solved", reply="已解决"))
    ok(act(api, t, "feedback", "water-bureau", method="phone", content="已告知"))
    t = ok(rate(api, t, "不满意", "2025-10-20 15:00"))
    assert (t["status"], t["round"]) == ("supervising", 3)
    joint = cases(api, ticket_id=t["id"], kind="joint")
    assert [(c["unit"], c["round"], c["state"]) for c in joint] == [(None, 3, "open")]
    assert "again" in joint[0]["reason"]
    assert len(cases(api, ticket_id=t["id"])) == 5


def test_long_overdue_resolve_opens_one_joint_case_at_the_end_of_the_fifth_working_day(api):
    api.city()
    t = api.ticket()
    # resolve due end of Oct 16; five working days after: 17, 20, 21, 22, 23
    api.set_now("2025-10-17 08:00")
    assert api.sweep()["supervisions_opened"] == 0
    api.set_now("2025-10-23 23:59")
    assert api.sweep()["supervisions_opened"] == 0
    assert cases(api, ticket_id=t["id"]) == []
    api.set_now("2025-10-24 00:00")
    assert api.sweep()["supervisions_opened"] == 1
    api.set_now("2025-10-24 00:01")
    assert api.sweep()["supervisions_opened"] == 0
    api.set_now("2025-10-30 09:00")
    assert api.sweep()["supervisions_opened"] == 0
    joint = cases(api, ticket_id=t["id"])
    assert [(c["kind"], c["unit"], c["round"], c["state"]) for c in joint] == [("joint", None, 1, "open")]
    assert joint[0]["opened_at"] == "2025-10-24T00:00:00+08:00"
    assert "久拖不决" in joint[0]["reason"]


def test_long_overdue_urgent_resolve_counts_from_the_local_date_of_its_due_time(api):
    api.city()
    t = api.ticket(urgency="urgent")
    # urgent: due 2025-10-01 10:00, a holiday; its due day Oct 1 + 5 working days:
    # Oct 9, 10, 11 (make-up), 13, 14 -> the threshold is the end of Oct 14
    api.set_now("2025-10-14 23:59")
    assert api.sweep() == {"breached": 2, "warned": 0, "supervisions_opened": 0}
    api.set_now("2025-10-15 00:00")
    assert api.sweep()["supervisions_opened"] == 1
    assert api.sweep()["supervisions_opened"] == 0
    assert [(c["kind"], c["round"]) for c in cases(api, ticket_id=t["id"])] == [("joint", 1)]


def test_back_recorded_resolve_in_time_withdraws_the_long_overdue_case(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-24 09:00")
    # the first sweep ever: it records the breaches and opens the case at once
    assert api.sweep() == {"breached": 2, "warned": 0, "supervisions_opened": 1}
    t = ok(
        act(
            api, t, "resolve", "water-bureau", outcome="solved", reply="已解决", at=api.at("2025-10-23 18:00")
        )
    )
    assert api.clock_of(t, "resolve")["state"] == "met_late"
    (case,) = cases(api, ticket_id=t["id"])
    assert case["state"] == "withdrawn"
    assert case["closed_at"] == "2025-10-24T09:00:00+08:00"
    assert "withdrawn" in case["conclusion"] and "2025-10-23T18:00:00+08:00" in case["conclusion"]
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    assert [e["data"]["kind"] for e in log if e["type"] == "supervision.withdrawn"] == ["joint"]
    assert cases(api, state="withdrawn") == [case]
    assert cases(api, state="open") == []


def test_resolve_recorded_after_the_threshold_leaves_the_long_overdue_case_open(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-24 09:00")
    api.sweep()
    ok(
        act(
            api, t, "resolve", "water-bureau", outcome="solved", reply="已解决", at=api.at("2025-10-24 00:00")
        )
    )
    assert [c["state"] for c in cases(api, ticket_id=t["id"])] == ["open"]


def test_complex_ticket_opens_coordination_for_the_categorys_coordinator(api):
    api.city()
    api.put("/api/v1/units/coordinator-2", json={"name": "另一位副秘书长", "kind": "coordinator"})
    r = api.put(
        "/api/v1/categories/water",
        json={
            "name": "water",
            "default_lead_unit": "water-bureau",
            "committee_unit": "urban-env-committee",
            "coordinator_unit": "coordinator-2",
        },
    )
    assert r.status_code == 200, r.text  # the city's category, replaced
    t = api.ticket(complex=True)
    assert t["status"] == "dispatched"
    (case,) = cases(api, ticket_id=t["id"])
    assert (case["kind"], case["unit"], case["round"], case["state"]) == (
        "coordination",
        "coordinator-2",
        1,
        "open",
    )
    assert "category" in case["reason"]
    assert api.get(f"/api/v1/tickets/{t['id']}", "coordinator-2").status_code == 200
    assert api.get(f"/api/v1/tickets/{t['id']}", "coordinator").status_code == 404


def test_complex_ticket_goes_to_the_only_coordinator_unit(api):
    api.city()
    t = api.ticket(complex=True)
    (case,) = cases(api, ticket_id=t["id"])
    assert (case["kind"], case["unit"], case["round"]) == ("coordination", "coordinator", 1)
    assert "only coordinator" in case["reason"]
    items = ok(api.get("/api/v1/units/coordinator/queue", "coordinator"))["items"]
    assert [(i["ticket"]["id"], i["next_action"]) for i in items] == [(t["id"], "supervise")]
    assert cases(api, ticket_id=api.ticket()["id"]) == []  # not complex: no case


def test_complex_ticket_with_several_coordinators_and_none_named_is_owned_by_liaison(api):
    api.city()
    api.put("/api/v1/units/coordinator-2", json={"name": "另一位副秘书长", "kind": "coordinator"})
    t = api.ticket(complex=True)
    (case,) = cases(api, ticket_id=t["id"])
    assert (case["kind"], case["unit"]) == ("coordination", None)
    assert "several coordinator units" in case["reason"]
    assert "liaison" in case["reason"]


def test_complex_ticket_without_any_coordinator_is_owned_by_liaison(api):
    for code, kind in (("water-bureau", "department"),):
        ok(api.put(f"/api/v1/units/{code}", json={"name": code, "kind": kind}), 201)
    ok(api.put("/api/v1/categories/water", json={"name": "水务"}), 201)
    t = api.ticket(complex=True, caller={"name": "未登记", "phone": "13900000009"})
    (case,) = cases(api, ticket_id=t["id"])
    assert (case["kind"], case["unit"]) == ("coordination", None)
    assert "no coordinator unit" in case["reason"]


def test_category_without_committee_unit_leaves_the_committee_case_to_liaison(api):
    api.city()
    t = to_rating(api, category="misc")
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))
    found = {c["kind"]: c for c in cases(api, ticket_id=t["id"])}
    assert found["committee"]["unit"] is None
    assert "misc" in found["committee"]["reason"]
    assert "no committee unit" in found["committee"]["reason"]
    assert found["local"]["unit"] == "heshan-congress"


def test_district_without_congress_unit_leaves_the_local_case_to_liaison(api):
    api.city()
    t = to_rating(api, district="datonghu")
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))
    found = {c["kind"]: c for c in cases(api, ticket_id=t["id"])}
    assert found["local"]["unit"] is None and found["local"]["state"] == "open"
    assert "datonghu" in found["local"]["reason"]
    assert "no district congress" in found["local"]["reason"]
    assert found["committee"]["unit"] == "urban-env-committee"


def test_the_local_case_goes_to_the_congress_of_the_tickets_district(api):
    api.city()
    t = to_rating(api, district="ziyang", units=["ziyang-gov"], lead="ziyang-gov")
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))
    found = {c["kind"]: c["unit"] for c in cases(api, ticket_id=t["id"])}
    assert found == {"committee": "urban-env-committee", "local": "ziyang-congress"}


# --- who reads and works a case ---------------------------------------------------------------


def test_liaison_admin_and_the_cases_unit_read_it(api):
    _, found = open_rating_cases(api)
    case = found["local"]
    for who in ("liaison", "admin", "heshan-congress"):
        assert ok(api.get(f"/api/v1/supervisions/{case['id']}", who)) == case, who
        assert case["id"] in [c["id"] for c in cases(api, who)], who


def test_a_supervising_unit_lists_only_its_own_cases_and_reads_the_ticket(api):
    t, found = open_rating_cases(api)
    assert [c["id"] for c in cases(api, "heshan-congress")] == [found["local"]["id"]]
    assert [c["id"] for c in cases(api, "urban-env-committee")] == [found["committee"]["id"]]
    assert cases(api, "ziyang-congress") == []
    assert api.get(f"/api/v1/tickets/{t['id']}", "heshan-congress").status_code == 200
    assert api.get(f"/api/v1/tickets/{t['id']}", "ziyang-congress").status_code == 404


def test_another_unit_gets_not_found_for_a_case(api):
    _, found = open_rating_cases(api)
    case = found["local"]
    for who in ("ziyang-congress", "urban-env-committee", "water-bureau"):
        assert api.get(f"/api/v1/supervisions/{case['id']}", who).status_code == 404
        r = api.post(f"/api/v1/supervisions/{case['id']}/notes", who, json={"content": "x"})
        assert r.status_code == 404
        r = api.post(f"/api/v1/supervisions/{case['id']}/close", who, json={"conclusion": "x"})
        assert r.status_code == 404
    assert ok(api.get(f"/api/v1/supervisions/{case['id']}"))["state"] == "open"


def test_hotline_may_not_read_or_work_cases_and_admin_may_only_read(api):
    _, found = open_rating_cases(api)
    case = found["local"]
    assert api.get("/api/v1/supervisions", "hotline").status_code == 403
    assert api.get(f"/api/v1/supervisions/{case['id']}", "hotline").status_code == 403
    for who in ("hotline", "admin"):
        r = api.post(f"/api/v1/supervisions/{case['id']}/notes", who, json={"content": "x"})
        assert r.status_code == 403, who
        r = api.post(f"/api/v1/supervisions/{case['id']}/close", who, json={"conclusion": "x"})
        assert r.status_code == 403, who
    after = ok(api.get(f"/api/v1/supervisions/{case['id']}"))
    assert (after["state"], after["notes"]) == ("open", [])


def test_its_unit_adds_notes_and_closes_the_case_with_a_conclusion(api):
    t, found = open_rating_cases(api)
    case = found["local"]
    api.set_now("2025-10-14 09:00")
    out = ok(
        api.post(
            f"/api/v1/supervisions/{case['id']}/notes", "heshan-congress", json={"content": "已约谈承办单位"}
        )
    )
    api.set_now("2025-10-14 10:00")
    out = ok(api.post(f"/api/v1/supervisions/{case['id']}/notes", "liaison", json={"content": "联工委跟踪"}))
    assert [(n["author"], n["content"], n["at"]) for n in out["notes"]] == [
        (api.actor("heshan-congress"), "已约谈承办单位", "2025-10-14T09:00:00+08:00"),
        (api.actor("liaison"), "联工委跟踪", "2025-10-14T10:00:00+08:00"),
    ]
    api.set_now("2025-10-20 09:00")
    out = ok(
        api.post(
            f"/api/v1/supervisions/{case['id']}/close", "heshan-congress", json={"conclusion": "督办到位"}
        )
    )
    assert (out["state"], out["conclusion"], out["closed_at"]) == (
        "closed",
        "督办到位",
        "2025-10-20T09:00:00+08:00",
    )
    assert len(out["notes"]) == 2
    r = api.post(f"/api/v1/supervisions/{case['id']}/close", "heshan-congress", json={"conclusion": "again"})
    assert r.status_code == 409
    r = api.post(f"/api/v1/supervisions/{case['id']}/notes", "heshan-congress", json={"content": "late"})
    assert r.status_code == 409
    assert cases(api, state="closed") == [ok(api.get(f"/api/v1/supervisions/{case['id']}"))]
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    assert [e["type"] for e in log].count("supervision.note") == 2
    assert "supervision.closed" in [e["type"] for e in log]


def test_liaison_closes_a_case_it_owns(api):
    api.city()
    t = to_rating(api, district="datonghu")
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))
    (local,) = cases(api, ticket_id=t["id"], kind="local")
    out = ok(
        api.post(
            f"/api/v1/supervisions/{local['id']}/close", "liaison", json={"conclusion": "已转区人大跟进"}
        )
    )
    assert out["state"] == "closed" and out["unit"] is None
    r = api.post(f"/api/v1/supervisions/{local['id']}/close", "heshan-congress", json={"conclusion": "x"})
    assert r.status_code == 404


def test_case_list_filters_and_pages(api):
    t, found = open_rating_cases(api)
    assert [c["id"] for c in cases(api, kind="committee")] == [found["committee"]["id"]]
    assert [c["id"] for c in cases(api, unit="heshan-congress")] == [found["local"]["id"]]
    assert cases(api, ticket_id="nope") == []
    assert api.get("/api/v1/supervisions?kind=bogus", "liaison").status_code == 422
    page = ok(api.get("/api/v1/supervisions?limit=1", "liaison"))
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = ok(api.get(f"/api/v1/supervisions?limit=1&cursor={page['next_cursor']}", "liaison"))
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    assert {page["items"][0]["id"], rest["items"][0]["id"]} == {c["id"] for c in found.values()}
    assert api.get("/api/v1/supervisions/no-such-case", "liaison").status_code == 404


# --- at most once -----------------------------------------------------------------------------


def test_concurrent_unsatisfied_ratings_record_one_rating_and_one_set_of_cases(api):
    api.city()
    t = to_rating(api)
    headers = api.h("hotline")
    bodies = [
        {"rating": r, "at": api.at("2025-10-13 10:00")}
        for r in ("unsatisfied", "very_unsatisfied", "不满意", "非常不满意") * 2
    ]

    async def rate_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.post(f"/api/v1/tickets/{t['id']}/rating", json=b, headers=headers) for b in bodies)
            )

    responses = asyncio.run(rate_all())
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] + [409] * (len(bodies) - 1), [r.text for r in responses]
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert (after["status"], after["round"]) == ("supervising", 2)
    assert len([c for c in after["clocks"] if c["kind"] == "resolve" and c["round"] == 2]) == 1
    assert sorted(c["kind"] for c in cases(api, ticket_id=t["id"])) == ["committee", "local"]
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    assert [e["type"] for e in log].count("rating.recorded") == 1


def test_concurrent_mixed_ratings_leave_one_outcome(api):
    api.city()
    t = to_rating(api)
    headers = api.h("hotline")
    bodies = [{"rating": r} for r in ("satisfied", "unsatisfied") * 4]

    async def rate_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.post(f"/api/v1/tickets/{t['id']}/rating", json=b, headers=headers) for b in bodies)
            )

    responses = asyncio.run(rate_all())
    assert sorted(r.status_code for r in responses) == [200] + [409] * 7
    winner = next(r.json() for r in responses if r.status_code == 200)
    after = ok(api.get(f"/api/v1/tickets/{t['id']}"))
    assert after["status"] == winner["status"] and after["round"] == winner["round"]
    found = cases(api, ticket_id=t["id"])
    if after["status"] == "closed":
        assert found == [] and after["round"] == 1
    else:
        assert sorted(c["kind"] for c in found) == ["committee", "local"]
