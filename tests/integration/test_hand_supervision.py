"""Supervision by hand: joint cases the liaison committee opens, consultation meetings (会商),
and a district congress's spot checks (抽查) of its district's tickets."""

from __future__ import annotations

from typing import Any

from tests.builders import act, ok, problem, rate
from tests.integration.test_supervision import cases, to_rating


def open_joint(
    api: Any, ticket_id: str, reason: str = "难点：涉及多部门，久未解决", who: str = "liaison"
) -> Any:
    return api.post(
        "/api/v1/supervisions", who, json={"ticket_id": ticket_id, "kind": "joint", "reason": reason}
    )


def test_liaison_opens_a_joint_case_by_hand_once_per_round(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-09 11:00")
    case = ok(open_joint(api, t["id"], "办理不力：承办单位三次未联系代表"), 201)
    assert (case["kind"], case["unit"], case["state"], case["round"]) == ("joint", None, "open", 1)
    assert case["reason"] == "办理不力：承办单位三次未联系代表"
    assert case["opened_at"] == "2025-10-09T11:00:00+08:00"
    assert case["meetings"] == [] and case["hotline_no"] == t["hotline_no"]
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    opened = [e for e in log if e["type"] == "supervision.opened"]
    assert [(e["actor"], e["data"]["kind"]) for e in opened] == [(api.actor("liaison"), "joint")]
    # Once per round, whoever or whatever opened it.
    body = problem(open_joint(api, t["id"]), 409)
    assert "round 1" in body["detail"]
    assert len(cases(api, ticket_id=t["id"], kind="joint")) == 1


def test_a_new_round_may_get_its_own_joint_case(api):
    api.city()
    t = to_rating(api)
    ok(open_joint(api, t["id"]), 201)
    ok(rate(api, t, "unsatisfied", "2025-10-13 10:00"))  # round 2 begins
    case = ok(open_joint(api, t["id"], "难点：需协调资金"), 201)
    assert case["round"] == 2
    assert [c["round"] for c in cases(api, ticket_id=t["id"], kind="joint")] == [2, 1]


def test_a_joint_case_cannot_be_opened_on_a_closed_or_unknown_ticket(api):
    api.city()
    t = to_rating(api)
    ok(rate(api, t, "satisfied", "2025-10-13 10:00"))
    problem(open_joint(api, t["id"]), 409)
    consultation = api.ticket(kind="consultation")
    problem(open_joint(api, consultation["id"]), 409)
    body = problem(open_joint(api, "no-such-ticket"), 422)
    assert [e["field"] for e in body["errors"]] == ["ticket_id"]
    assert cases(api) == []


def test_only_the_liaison_committee_opens_a_case_by_hand(api):
    api.city()
    t = api.ticket()
    for who in ("hotline", "admin", "water-bureau", "heshan-congress"):
        problem(open_joint(api, t["id"], who=who), 403)
    for bad in (
        {"ticket_id": t["id"], "kind": "committee", "reason": "x"},
        {"ticket_id": t["id"], "kind": "joint"},
        {"ticket_id": t["id"], "kind": "joint", "reason": "  "},
    ):
        body = problem(api.post("/api/v1/supervisions", "liaison", json=bad), 422)
        assert body["errors"]
    assert cases(api) == []


def test_concurrent_hand_openings_open_one_case(api):
    api.city()
    t = api.ticket()
    statuses = sorted(
        api.concurrently(
            "liaison",
            "/api/v1/supervisions",
            [{"ticket_id": t["id"], "kind": "joint", "reason": f"难点 {i}"} for i in range(40)],
        )
    )
    assert statuses.count(201) == 1 and set(statuses) <= {201, 409, 503}, statuses
    assert len(cases(api, ticket_id=t["id"], kind="joint")) == 1


def test_meetings_are_recorded_on_a_case_with_who_took_part(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-09 11:00")
    case = ok(open_joint(api, t["id"]), 201)
    api.set_now("2025-10-15 17:00")
    out = ok(
        api.post(
            f"/api/v1/supervisions/{case['id']}/meetings",
            "liaison",
            json={
                "held_at": api.at("2025-10-14 09:30"),
                "participants": ["water-bureau", "urban-env-committee", "12345热线办", "water-bureau"],
                "conclusion": "水务局十日内完成管网改造，赫山区配合",
            },
        ),
        201,
    )
    [meeting] = out["meetings"]
    assert meeting["held_at"] == "2025-10-14T09:30:00+08:00"
    assert meeting["participants"] == ["water-bureau", "urban-env-committee", "12345热线办"]
    assert meeting["participant_names"] == ["益阳市水务局", "城乡建设环境保护委员会", "12345热线办"]
    assert (meeting["recorded_by"], meeting["conclusion"]) == (
        api.actor("liaison"),
        "水务局十日内完成管网改造，赫山区配合",
    )
    assert ok(api.get(f"/api/v1/supervisions/{case['id']}"))["meetings"] == [meeting]
    log = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    held = [e for e in log if e["type"] == "supervision.meeting"]
    assert [e["at"] for e in held] == ["2025-10-14T09:30:00+08:00"]


def test_a_meeting_is_held_while_the_case_is_open(api):
    api.city()
    t = api.ticket()
    api.set_now("2025-10-09 11:00")
    case = ok(open_joint(api, t["id"]), 201)
    path = f"/api/v1/supervisions/{case['id']}/meetings"

    def meeting(held_at: str, who: str = "liaison") -> Any:
        return api.post(
            path, who, json={"held_at": held_at, "participants": ["water-bureau"], "conclusion": "限期办结"}
        )

    for held_at in (
        api.at("2025-10-09 11:01"),  # in the future
        api.at("2025-10-09 10:59"),  # before the case opened
        "2025-10-09T10:00:00",
    ):  # no offset
        body = problem(meeting(held_at), 422)
        assert [e["field"] for e in body["errors"]] == ["held_at"], body
    for who in ("hotline", "water-bureau", "admin"):
        problem(meeting(api.at("2025-10-09 11:00"), who), 403)
    api.set_now("2025-10-20 10:00")
    ok(api.post(f"/api/v1/supervisions/{case['id']}/close", "liaison", json={"conclusion": "已解决"}))
    api.set_now("2025-10-21 10:00")
    ok(meeting(api.at("2025-10-16 10:00")), 201)  # minutes written up after the close
    late = problem(meeting(api.at("2025-10-20 10:30")), 422)  # after it closed
    assert [e["field"] for e in late["errors"]] == ["held_at"]
    assert "closed" in late["errors"][0]["detail"]
    problem(
        api.post(
            "/api/v1/supervisions/nope/meetings",
            "liaison",
            json={"held_at": api.at("2025-10-16 10:00"), "participants": ["x"], "conclusion": "y"},
        ),
        404,
    )


# --- a district congress's spot checks (抽查) ---------------------------------------------------


def test_a_district_congress_reads_every_ticket_of_its_district_but_acts_on_none(api):
    api.city()
    mine = api.ticket(district="heshan")
    other = api.ticket(district="ziyang")
    nowhere = api.ticket(district=None)
    ok(api.get(f"/api/v1/tickets/{mine['id']}", "heshan-congress"))
    ok(api.get(f"/api/v1/tickets/{mine['id']}/events", "heshan-congress"))
    problem(api.get(f"/api/v1/tickets/{other['id']}", "heshan-congress"), 404)
    problem(api.get(f"/api/v1/tickets/{nowhere['id']}", "heshan-congress"), 404)
    ok(api.get(f"/api/v1/tickets/{other['id']}", "ziyang-congress"))
    # A district government of the same district is not a congress: no spot checks.
    problem(api.get(f"/api/v1/tickets/{mine['id']}", "heshan-gov"), 404)
    # Reading is all: every action is refused, and nothing changes.
    for action, body in (
        ("contact", {"method": "phone", "deputy_invited": False}),
        ("resolve", {"outcome": "solved", "reply": "x"}),
        ("opinions", {"content": "x"}),
        ("return", {"reason": "x"}),
        ("extensions", {"working_days": 2, "reason": "x"}),
    ):
        problem(act(api, mine, action, "heshan-congress", **body), 403)
    after = ok(api.get(f"/api/v1/tickets/{mine['id']}"))
    assert after["status"] == "dispatched"
    # Not its work: nothing in its queue.
    assert ok(api.get("/api/v1/units/heshan-congress/queue", "heshan-congress"))["items"] == []
