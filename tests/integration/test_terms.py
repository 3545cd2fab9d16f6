"""Terms (届) and the deputies' term, re-elected (连任) and leading-post (职务代表) marks."""

from __future__ import annotations

from typing import Any

from tests.builders import ok, problem

TERM = {"level": "county", "name": "第十八届", "starts_on": "2021-10-01", "ends_on": "2026-09-30"}


def fields(body: dict[str, Any]) -> list[str]:
    return [e["field"] for e in body["errors"]]


def deputy(api: Any, name: str, phone: str, level: str = "county") -> dict[str, Any]:
    return ok(
        api.post(
            "/api/v1/deputies",
            "liaison",
            json={"name": name, "phone": phone, "level": level, "district": "heshan"},
        ),
        201,
    )


def test_a_term_is_created_then_changed_and_listed(api):
    created = ok(api.put("/api/v1/terms/heshan-18", "liaison", json=TERM), 201)
    assert created == {"code": "heshan-18", **TERM, "years": 6}
    changed = ok(api.put("/api/v1/terms/heshan-18", "admin", json={**TERM, "name": "赫山区第十八届"}))
    assert changed["name"] == "赫山区第十八届"
    ok(
        api.put(
            "/api/v1/terms/city-9",
            "admin",
            json={"level": "city", "name": "第九届", "starts_on": "2022-01-01", "ends_on": "2026-12-31"},
        ),
        201,
    )
    listed = ok(api.get("/api/v1/terms", "liaison"))
    assert [t["code"] for t in listed] == ["city-9", "heshan-18"]
    assert ok(api.get("/api/v1/terms/heshan-18", "liaison"))["name"] == "赫山区第十八届"
    problem(api.get("/api/v1/terms/nope", "liaison"), 404)


def test_bad_terms_are_refused_naming_the_field(api):
    assert fields(problem(api.put("/api/v1/terms/t1", json={**TERM, "ends_on": "2021-10-01"}), 422)) == [
        "ends_on"
    ]
    assert fields(problem(api.put("/api/v1/terms/t1", json={**TERM, "level": "village"}), 422)) == ["level"]
    assert fields(problem(api.put("/api/v1/terms/t1", json={**TERM, "starts_on": "2021-13-01"}), 422)) == [
        "starts_on"
    ]
    assert fields(problem(api.put("/api/v1/terms/t1", json={**TERM, "extra": 1}), 422)) == ["extra"]
    problem(api.put("/api/v1/terms/t1", "hotline", json=TERM), 403)
    assert ok(api.get("/api/v1/terms")) == []


def test_patch_sets_a_deputys_term_and_marks(api):
    ok(api.put("/api/v1/terms/heshan-18", json=TERM), 201)
    d = deputy(api, "王芳", "13900000021")
    assert (d["term"], d["reelected"], d["official"]) == (None, False, False)
    got = ok(
        api.call(
            "PATCH", f"/api/v1/deputies/{d['id']}", "liaison", json={"term": "heshan-18", "reelected": True}
        )
    )
    assert (got["term"], got["reelected"], got["official"]) == ("heshan-18", True, False)
    got = ok(api.call("PATCH", f"/api/v1/deputies/{d['id']}", "admin", json={"official": True}))
    assert (got["term"], got["reelected"], got["official"]) == ("heshan-18", True, True)
    assert ok(api.get(f"/api/v1/deputies/{d['id']}"))["official"] is True
    got = ok(api.call("PATCH", f"/api/v1/deputies/{d['id']}", json={"term": None}))
    assert got["term"] is None and got["reelected"] is True


def test_patch_refuses_an_unknown_term_a_term_of_another_level_and_null_marks(api):
    ok(api.put("/api/v1/terms/heshan-18", json=TERM), 201)
    d = deputy(api, "王芳", "13900000021", level="city")
    path = f"/api/v1/deputies/{d['id']}"
    assert fields(problem(api.call("PATCH", path, json={"term": "nope"}), 422)) == ["term"]
    assert fields(problem(api.call("PATCH", path, json={"term": "heshan-18"}), 422)) == ["term"]
    assert fields(problem(api.call("PATCH", path, json={"reelected": None}), 422)) == ["reelected"]
    assert fields(problem(api.call("PATCH", path, json={"official": "maybe"}), 422)) == ["official"]
    # Nothing changed; the level and the term may change together.
    assert ok(api.get(path))["term"] is None
    got = ok(api.call("PATCH", path, json={"term": "heshan-18", "level": "county"}))
    assert (got["term"], got["level"]) == ("heshan-18", "county")
    # The deputy's level cannot leave the term's level behind.
    assert fields(problem(api.call("PATCH", path, json={"level": "city"}), 422)) == ["term"]


def test_a_terms_level_cannot_move_from_under_its_deputies(api):
    ok(api.put("/api/v1/terms/heshan-18", json=TERM), 201)
    d = deputy(api, "王芳", "13900000021")
    ok(api.call("PATCH", f"/api/v1/deputies/{d['id']}", json={"term": "heshan-18"}))
    problem(api.put("/api/v1/terms/heshan-18", json={**TERM, "level": "township"}), 409)
    assert ok(api.get("/api/v1/terms/heshan-18"))["level"] == "county"


def test_concurrent_term_writes_all_answer_and_one_term_remains(api):
    bodies = [{**TERM, "name": f"第{i}届"} for i in range(40)]
    import asyncio

    import httpx

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            rs = await asyncio.gather(
                *(client.put("/api/v1/terms/t-race", json=b, headers=api.h("liaison")) for b in bodies)
            )
            return [r.status_code for r in rs]

    got = asyncio.run(burst())
    assert sorted(set(got)) <= [200, 201, 503], got
    assert got.count(201) <= 1
    assert [t["code"] for t in ok(api.get("/api/v1/terms"))] == ["t-race"]
