"""Deputies registered after calling (or whose phone changes) are linked to their calls;
the district registry and township units."""

from __future__ import annotations

from typing import Any

from tests.builders import ok, problem

CSV = {"Content-Type": "text/csv"}


def caller(name: str, phone: str) -> dict[str, str]:
    return {"name": name, "phone": phone}


def linked(api: Any, ticket: dict[str, Any]) -> tuple[str | None, bool, list[dict[str, Any]]]:
    t = ok(api.get(f"/api/v1/tickets/{ticket['id']}"))
    log = ok(api.get(f"/api/v1/tickets/{ticket['id']}/events"))["items"]
    return (
        (t["deputy"] or {}).get("id"),
        t["deputy_verified"],
        [e for e in log if e["type"] == "ticket.deputy_linked"],
    )


def silent_names(api: Any, year: int) -> list[str]:
    report = ok(api.get(f"/api/v1/reports/deputies?year={year}", "liaison"))
    return [d["name"] for d in report["silent_deputies"]]


def test_registering_a_deputy_links_this_and_last_years_unverified_calls(api):
    api.city()
    api.set_now("2024-12-30 10:00")
    old = api.ticket(caller=caller("李四", "13900000009"))  # previous year: linked
    api.set_now("2023-12-30 10:00")
    older = api.ticket(caller=caller("李四", "13900000009"))  # two years back: not linked
    api.set_now("2025-09-30 10:00")
    recent = api.ticket(caller=caller("李四", "139-0000-0009"))
    other = api.ticket(caller=caller("王五", "13900000010"))
    assert recent["deputy_verified"] is False and recent["deputy"] is None

    api.set_now("2025-10-09 09:00")
    deputy = ok(
        api.post(
            "/api/v1/deputies",
            "liaison",
            json={"name": "李四", "phone": "+86 139 0000 0009", "level": "county"},
        ),
        201,
    )
    for t in (old, recent):
        deputy_id, verified, events = linked(api, t)
        assert (deputy_id, verified) == (deputy["id"], True)
        assert [(e["actor"], e["at"], e["data"]["deputy_id"]) for e in events] == [
            (api.actor("liaison"), "2025-10-09T09:00:00+08:00", deputy["id"])
        ]
    assert linked(api, older)[:2] == (None, False)
    assert linked(api, other)[:2] == (None, False)
    # He is no longer listed as silent for the year he called in.
    assert "李四" not in silent_names(api, 2025)
    report = ok(api.get("/api/v1/reports/deputies?year=2025", "liaison"))
    item = next(i for i in report["items"] if i["name"] == "李四")
    assert (item["calls"], item["problems"], item["points"]) == (1, 1, 1)
    unverified = [u["phone"] for u in report["unverified_callers"]]
    assert "13900000009" not in unverified and "13900000010" in unverified


def test_a_linked_ticket_stays_linked_and_is_logged_once(api):
    api.city()
    t = api.ticket(caller=caller("李四", "13900000009"))
    d = ok(api.post("/api/v1/deputies", json={"name": "李四", "phone": "13900000009", "level": "city"}), 201)
    # Registering the same phone again is refused and changes nothing.
    problem(api.post("/api/v1/deputies", json={"name": "李四", "phone": "13900000009", "level": "city"}), 409)
    ok(api.call("PATCH", f"/api/v1/deputies/{d['id']}", json={"name": "李 四"}))
    assert len(linked(api, t)[2]) == 1


def test_changing_a_deputys_phone_links_the_new_phones_calls(api):
    api.city()  # registers 张三 at 13800000001
    zhang = ok(api.get("/api/v1/deputies?phone=13800000001"))["items"][0]
    mine = api.ticket()  # 张三 calling from his registered phone
    new_phone = api.ticket(caller=caller("张三", "13700000007"))
    assert new_phone["deputy_verified"] is False

    out = ok(
        api.call(
            "PATCH",
            f"/api/v1/deputies/{zhang['id']}",
            "liaison",
            json={"phone": "137 0000 0007", "delegation": "赫山代表团"},
        )
    )
    assert (out["phone"], out["delegation"], out["name"]) == ("13700000007", "赫山代表团", "张三")
    assert linked(api, new_phone)[:2] == (zhang["id"], True)
    assert linked(api, mine)[0] == zhang["id"]  # what was linked before stays linked
    # New calls from the new phone are matched at intake.
    assert api.ticket(caller=caller("张三", "13700000007"))["deputy"]["id"] == zhang["id"]
    assert ok(api.get("/api/v1/deputies?phone=13800000001"))["items"] == []


def test_patch_refuses_a_registered_phone_nulls_and_unknowns(api):
    api.city()
    zhang = ok(api.get("/api/v1/deputies?phone=13800000001"))["items"][0]
    li = ok(api.post("/api/v1/deputies", json={"name": "李四", "phone": "13900000009", "level": "city"}), 201)
    path = f"/api/v1/deputies/{li['id']}"
    problem(api.call("PATCH", path, json={"phone": "13800000001"}), 409)
    for body, field in (
        ({"name": None}, "name"),
        ({"phone": "12"}, "phone"),
        ({"level": "mayor"}, "level"),
        ({"color": "red"}, "color"),
        ({"district": "赫山"}, "district"),
    ):
        err = problem(api.call("PATCH", path, json=body), 422)
        assert field in {e["field"] for e in err["errors"]}, err
    problem(api.call("PATCH", "/api/v1/deputies/nobody", json={"name": "x"}), 404)
    problem(api.call("PATCH", path, "hotline", json={"name": "x"}), 403)
    problem(api.call("PATCH", path, "water-bureau", json={"name": "x"}), 403)
    assert ok(api.get(path)) == li
    # Clearing an optional field is a change too.
    ok(api.call("PATCH", f"/api/v1/deputies/{zhang['id']}", json={"district": None}))
    assert ok(api.get(f"/api/v1/deputies/{zhang['id']}"))["district"] is None


def test_importing_the_registry_links_earlier_calls(api):
    api.city()
    t1 = api.ticket(caller=caller("赵六", "13600000006"))
    t2 = api.ticket(caller=caller("钱七", "13600000007"))
    csv_text = (
        "name,phone,level,district,delegation\n赵六,13600000006,city,heshan,\n钱七,bad-phone,city,heshan,\n"
    )
    out = ok(api.post("/api/v1/deputies/import", "liaison", content=csv_text.encode(), headers=CSV))
    assert (out["created"], out["updated"], len(out["errors"])) == (1, 0, 1)
    assert linked(api, t1)[1] is True
    assert linked(api, t2)[1] is False


def test_concurrent_registrations_link_each_call_once(api):
    api.city()
    tickets = [api.ticket(caller=caller(f"代表{i}", f"1350000{i:04d}")) for i in range(40)]
    statuses = api.concurrently(
        "liaison",
        "/api/v1/deputies",
        [{"name": f"代表{i}", "phone": f"1350000{i:04d}", "level": "township"} for i in range(40)],
    )
    assert set(statuses) <= {201, 503}, statuses
    for t, status in zip(tickets, statuses, strict=True):
        _, verified, events = linked(api, t)
        assert (verified, len(events)) == ((True, 1) if status == 201 else (False, 0))


# --- districts and township units ---------------------------------------------------------------


def test_districts_registry_put_and_list(api):
    api.city()
    r = api.put("/api/v1/districts/heshan", json={"name": "赫山区"})
    assert r.status_code == 201, r.text
    assert r.json() == {"code": "heshan", "name": "赫山区"}
    assert ok(api.put("/api/v1/districts/heshan", json={"name": " 赫山区 "})) == {
        "code": "heshan",
        "name": "赫山区",
    }
    ok(api.put("/api/v1/districts/ziyang", json={"name": "资阳区"}), 201)
    assert ok(api.get("/api/v1/districts", "water-bureau")) == [
        {"code": "heshan", "name": "赫山区"},
        {"code": "ziyang", "name": "资阳区"},
    ]
    assert ok(api.get("/api/v1/districts/ziyang", "liaison"))["name"] == "资阳区"
    problem(api.get("/api/v1/districts/nowhere"), 404)
    problem(api.put("/api/v1/districts/anhua", "liaison", json={"name": "安化县"}), 403)
    for body in ({}, {"name": ""}, {"name": "x", "extra": 1}):
        err = problem(api.put("/api/v1/districts/anhua", json=body), 422)
        assert err["errors"]
    problem(api.put("/api/v1/districts/bad code", json={"name": "x"}), 422)
    assert [d["code"] for d in ok(api.get("/api/v1/districts"))] == ["heshan", "ziyang"]


def test_township_units_are_registered_and_take_tickets(api):
    api.city()
    r = api.put(
        "/api/v1/units/heshan-longguangqiao-gov",
        json={"name": "赫山区龙光桥街道办事处", "kind": "township", "district": "heshan"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "township"
    t = api.ticket(units=["heshan-longguangqiao-gov"])
    assert t["lead_unit"] == "heshan-longguangqiao-gov"
    err = problem(api.put("/api/v1/units/x", json={"name": "x", "kind": "village"}), 422)
    assert "kind" in {e["field"] for e in err["errors"]}
