"""Liaison stations and reception days (SPEC Part II "Stations and receptions")."""

from __future__ import annotations

from tests.builders import fields, problem
from tests.part2 import deputy, key_for


def test_a_station_is_created_replaced_and_read_with_its_deputies(api):
    api.city()
    zhang = api.get("/api/v1/deputies?phone=13800000001").json()["items"][0]["id"]
    li = deputy(api)
    r = api.put(
        "/api/v1/stations/heshan-01",
        "liaison",
        json={
            "name": "会龙山街道代表联络站",
            "district": "heshan",
            "township": "会龙山街道",
            "kind": "physical",
            "deputies": [zhang, li, zhang],
        },
    )
    assert r.status_code == 201, r.text
    assert r.json() == {
        "code": "heshan-01",
        "name": "会龙山街道代表联络站",
        "district": "heshan",
        "township": "会龙山街道",
        "kind": "physical",
        "deputies": sorted([zhang, li]),
    }
    r = api.put(
        "/api/v1/stations/heshan-01",
        json={"name": "会龙山街道代表联络站（新）", "district": "heshan", "kind": "online", "deputies": [li]},
    )
    assert r.status_code == 200, r.text
    got = api.get("/api/v1/stations/heshan-01", "hotline").json()
    assert (got["name"], got["kind"], got["township"], got["deputies"]) == (
        "会龙山街道代表联络站（新）",
        "online",
        None,
        [li],
    )
    api.station("ziyang-01", [zhang, li], district="ziyang", kind="professional")
    assert [s["code"] for s in api.get("/api/v1/stations", "liaison").json()] == ["heshan-01", "ziyang-01"]
    assert [s["code"] for s in api.get("/api/v1/stations?district=ziyang").json()] == ["ziyang-01"]
    assert [s["code"] for s in api.get(f"/api/v1/stations?deputy_id={zhang}").json()] == ["ziyang-01"]
    problem(api.get("/api/v1/stations/nowhere"), 404)


def test_a_bad_station_is_refused_naming_the_field_and_changes_nothing(api):
    api.city()
    for body, field in (
        ({"district": "heshan", "kind": "physical"}, "name"),
        ({"name": "x", "district": "heshan", "kind": "castle"}, "kind"),
        ({"name": "x", "district": "heshan", "kind": "physical", "deputies": ["no-such-deputy"]}, "deputies"),
        ({"name": "x", "kind": "physical"}, "district"),
    ):
        body = problem(api.put("/api/v1/stations/s-1", json=body), 422)
        assert field in fields(body), body
    problem(api.get("/api/v1/stations/s-1"), 404)
    problem(
        api.put(
            "/api/v1/stations/s-1", "hotline", json={"name": "x", "district": "heshan", "kind": "physical"}
        ),
        403,
    )
    problem(api.get("/api/v1/stations", "water-bureau"), 403)


def test_concurrent_puts_of_one_station_all_succeed_and_leave_one_member_list(api):
    api.city()
    ids = [deputy(api, f"代表{i}", f"1390000{i:04d}") for i in range(4)]
    bodies = [
        {"name": f"站{i}", "district": "heshan", "kind": "physical", "deputies": [ids[i % 4]]}
        for i in range(40)
    ]
    codes = api.concurrently("liaison", "/api/v1/stations/busy", bodies, method="PUT")
    assert all(c in (200, 201, 503) for c in codes), codes
    assert codes.count(201) == 1
    got = api.get("/api/v1/stations/busy").json()
    assert len(got["deputies"]) == 1 and got["deputies"][0] in ids


def test_a_station_records_its_receptions_and_reads_them_back(api):
    api.city()  # now: 2025-09-30 10:00 Shanghai
    zhang = api.get("/api/v1/deputies?phone=13800000001").json()["items"][0]["id"]
    li = deputy(api)
    api.station("heshan-01", [zhang, li])
    api.station("ziyang-01", [li], district="ziyang")
    mine = key_for(api, "station", station_code="heshan-01")
    r = api.client.post(
        "/api/v1/stations/heshan-01/receptions",
        headers=mine,
        json={
            "date": "2025-09-30",
            "deputies": [zhang, li],
            "voters_received": 12,
            "batches": 3,
            "note": "集中接待：停水、路灯",
        },
    )
    assert r.status_code == 201, r.text
    first = r.json()
    assert (
        first["station"],
        first["date"],
        first["deputies"],
        first["voters_received"],
        first["batches"],
    ) == ("heshan-01", "2025-09-30", sorted([zhang, li]), 12, 3)
    assert first["recorded_by"].startswith("key:")
    r = api.post(
        "/api/v1/stations/heshan-01/receptions",
        "liaison",
        json={"date": "2025-08-15", "deputies": [li], "voters_received": 0, "batches": 0},
    )
    assert r.status_code == 201, r.text
    listed = api.client.get("/api/v1/stations/heshan-01/receptions", headers=mine).json()
    assert [x["date"] for x in listed["items"]] == ["2025-09-30", "2025-08-15"]
    got = api.get("/api/v1/stations/heshan-01/receptions?from=2025-09-01&to=2025-09-30").json()
    assert [x["id"] for x in got["items"]] == [first["id"]]
    page = api.get("/api/v1/stations/heshan-01/receptions?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    rest = api.get(
        "/api/v1/stations/heshan-01/receptions", params={"limit": 1, "cursor": page["next_cursor"]}
    ).json()
    assert [x["date"] for x in rest["items"]] == ["2025-08-15"] and rest["next_cursor"] is None
    # Another station's staff neither record nor read here; admin reads but does not record.
    theirs = key_for(api, "station", station_code="ziyang-01")
    body = {"date": "2025-09-30", "deputies": [li], "voters_received": 1, "batches": 1}
    problem(api.client.post("/api/v1/stations/heshan-01/receptions", headers=theirs, json=body), 403)
    problem(api.client.get("/api/v1/stations/heshan-01/receptions", headers=theirs), 403)
    problem(api.post("/api/v1/stations/heshan-01/receptions", json=body), 403)
    problem(api.get("/api/v1/stations/heshan-01/receptions", "hotline"), 403)
    assert len(api.get("/api/v1/stations/heshan-01/receptions").json()["items"]) == 2


def test_a_bad_reception_is_refused_naming_the_field_and_stores_nothing(api):
    api.city()
    zhang = api.get("/api/v1/deputies?phone=13800000001").json()["items"][0]["id"]
    li = deputy(api)
    api.station("heshan-01", [zhang])
    good = {"date": "2025-09-30", "deputies": [zhang], "voters_received": 3, "batches": 1}
    for change, field in (
        ({"voters_received": -1}, "voters_received"),
        ({"batches": 1.5}, "batches"),
        ({"date": "2025-10-01"}, "date"),  # tomorrow in Shanghai
        ({"date": "30/09/2025"}, "date"),
        ({"deputies": ["nobody"]}, "deputies"),
        ({"deputies": [li]}, "deputies"),
    ):  # not of this station
        body = problem(
            api.post("/api/v1/stations/heshan-01/receptions", "liaison", json={**good, **change}), 422
        )
        assert field in fields(body), body
    problem(api.post("/api/v1/stations/nowhere/receptions", "liaison", json=good), 404)
    problem(api.get("/api/v1/stations/heshan-01/receptions?from=2025-09-30&to=2025-09-01"), 422)
    assert api.get("/api/v1/stations/heshan-01/receptions").json()["items"] == []
