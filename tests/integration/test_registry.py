"""Registry endpoints (keys, units, categories, deputies) and authentication."""

from __future__ import annotations

import pytest

from tests.builders import fields, problem

# --- keys -------------------------------------------------------------------------------------


def test_keys_create_list_revoke(api):
    api.city()
    r = api.post("/api/v1/keys", json={"role": "hotline", "label": "12345 office"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["role"] == "hotline" and created["unit_code"] is None
    assert created["id"] and len(created["key"]) >= 20
    key = created["key"]
    auth = {"Authorization": f"Bearer {key}"}
    assert api.client.get("/api/v1/units", headers=auth).status_code == 200

    listed = api.get("/api/v1/keys").json()
    row = next(k for k in listed if k["id"] == created["id"])
    assert row["revoked_at"] is None and row["label"] == "12345 office"
    assert key not in str(listed)  # the key itself is shown only at creation

    r = api.call("DELETE", f"/api/v1/keys/{created['id']}")
    assert r.status_code == 204
    problem(api.client.get("/api/v1/units", headers=auth), 401)
    row = next(k for k in api.get("/api/v1/keys").json() if k["id"] == created["id"])
    assert row["revoked_at"] is not None
    problem(api.call("DELETE", "/api/v1/keys/no-such-key"), 404)


def test_unit_key_needs_known_unit_code(api):
    api.city()
    body = problem(api.post("/api/v1/keys", json={"role": "unit", "label": "x"}), 422)
    assert "unit_code" in fields(body)
    body = problem(api.post("/api/v1/keys", json={"role": "unit", "unit_code": "nope", "label": "x"}), 422)
    assert "unit_code" in fields(body)
    body = problem(
        api.post("/api/v1/keys", json={"role": "hotline", "unit_code": "water-bureau", "label": "x"}), 422
    )
    assert "unit_code" in fields(body)
    r = api.post("/api/v1/keys", json={"role": "unit", "unit_code": "water-bureau", "label": "water"})
    assert r.status_code == 201 and r.json()["unit_code"] == "water-bureau"
    body = problem(api.post("/api/v1/keys", json={"role": "boss", "label": "x"}), 422)
    assert "role" in fields(body)


# --- auth -------------------------------------------------------------------------------------


def test_auth_missing_unknown_and_wrong_role(api):
    api.city()
    problem(api.client.get("/api/v1/units"), 401)
    problem(api.client.get("/api/v1/units", headers={"Authorization": "Bearer nope"}), 401)
    problem(api.client.get("/api/v1/units", headers={"Authorization": "Basic abc"}), 401)
    problem(api.post("/api/v1/keys", "hotline", json={"role": "hotline", "label": "x"}), 403)
    problem(api.put("/api/v1/units/x", "liaison", json={"name": "x", "kind": "department"}), 403)
    problem(api.post("/api/v1/tickets", "liaison", json=api.ticket_body()), 403)
    problem(
        api.post(
            "/api/v1/deputies", "water-bureau", json={"name": "李四", "phone": "13900000000", "level": "city"}
        ),
        403,
    )
    problem(api.put("/api/v1/calendar/2027", "hotline", json={"holidays": [], "workdays": []}), 403)


# --- units and categories ---------------------------------------------------------------------


def test_units_put_create_then_replace_and_read(api):
    body = {"name": "益阳市水务局", "kind": "department"}
    r = api.put("/api/v1/units/water-bureau", json=body)
    assert r.status_code == 201, r.text
    r = api.put(
        "/api/v1/units/water-bureau",
        json={
            **body,
            "name": "水务局",
            "webhook_url": "http://10.0.0.5/hook",
            "webhook_secret": "whsec_" + "A" * 32,
        },
    )
    assert r.status_code == 200, r.text
    got = api.get("/api/v1/units/water-bureau").json()
    assert got["name"] == "水务局" and got["webhook_secret_set"] is True
    assert "webhook_secret" not in got
    assert [u["code"] for u in api.get("/api/v1/units").json()] == ["water-bureau"]
    problem(api.get("/api/v1/units/nope"), 404)
    bad = problem(api.put("/api/v1/units/x", json={"name": "x", "kind": "ministry"}), 422)
    assert "kind" in fields(bad)
    bad = problem(
        api.put("/api/v1/units/x", json={"name": "x", "kind": "department", "webhook_url": "ftp://x"}), 422
    )
    assert "webhook_url" in fields(bad)


def test_categories_put_and_unknown_unit(api):
    api.city()
    r = api.put("/api/v1/categories/roads", json={"name": "道路", "default_lead_unit": "housing-bureau"})
    assert r.status_code == 201, r.text
    r = api.put("/api/v1/categories/roads", json={"name": "道路交通"})
    assert r.status_code == 200 and r.json()["default_lead_unit"] is None
    for field, value in (
        ("default_lead_unit", "nope"),
        ("committee_unit", "nope"),
        ("coordinator_unit", "nope"),
        ("committee_unit", "water-bureau"),
        ("coordinator_unit", "heshan-gov"),
    ):
        body = problem(api.put("/api/v1/categories/roads", json={"name": "道路", field: value}), 422)
        assert field in fields(body), body
    codes = [c["code"] for c in api.get("/api/v1/categories").json()]
    assert codes == sorted(codes) and "roads" in codes
    assert api.get("/api/v1/categories/roads").json()["name"] == "道路交通"  # rejected = no change


# --- deputies ---------------------------------------------------------------------------------


def test_deputies_create_duplicate_and_lookup(api):
    r = api.post(
        "/api/v1/deputies",
        "liaison",
        json={
            "name": "李四",
            "phone": "139 0000 0002",
            "level": "provincial",
            "district": "ziyang",
            "delegation": "资阳代表团",
        },
    )
    assert r.status_code == 201, r.text
    d = r.json()
    assert d["id"] and d["phone"] == "13900000002" and d["level"] == "provincial"
    problem(
        api.post("/api/v1/deputies", json={"name": "王五", "phone": "+86 13900000002", "level": "city"}), 409
    )
    bad = problem(
        api.post("/api/v1/deputies", json={"name": "王五", "phone": "1390000003", "level": "mayor"}), 422
    )
    assert "level" in fields(bad)
    r = api.get("/api/v1/deputies?phone=13900000002", "hotline")
    assert r.status_code == 200
    assert [x["id"] for x in r.json()["items"]] == [d["id"]]
    assert api.get("/api/v1/deputies?phone=10000", "liaison").json()["items"] == []
    assert api.get(f"/api/v1/deputies/{d['id']}").json()["name"] == "李四"


def test_deputies_csv_import_keeps_good_lines_and_numbers_bad_ones(api):
    api.city()  # 张三 13800000001 already registered: updated by the import
    csv_text = (
        "name,phone,level,district,delegation\n"
        "张三,13800000001,provincial,heshan,赫山代表团\n"  # 2: update
        "李四,13900000002,city,ziyang,\n"  # 3: create
        "王五,notaphone,city,,\n"  # 4: bad phone
        "赵六,13900000004,mayor,,\n"  # 5: bad level
        "\n"  # 6: blank, skipped
        "钱七,13900000005,township\n"  # 7: too few fields
        "孙八,13900000006,county,heshan,\n"  # 8: create
    )
    r = api.post(
        "/api/v1/deputies/import", "liaison", content=csv_text.encode(), headers={"Content-Type": "text/csv"}
    )
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["created"] == 2 and out["updated"] == 1
    assert [e["line"] for e in out["errors"]] == [4, 5, 7]
    assert all(e["detail"] for e in out["errors"])
    items = api.get("/api/v1/deputies?phone=13800000001").json()["items"]
    assert items[0]["level"] == "provincial"
    assert api.get("/api/v1/deputies?phone=13900000006").json()["items"][0]["name"] == "孙八"
    assert api.get("/api/v1/deputies?phone=13900000004").json()["items"] == []


@pytest.mark.parametrize(
    "content, ctype",
    [
        (b"nom,tel\nx,1\n", "text/csv"),
        (b"name,phone,level,district,delegation\n\xff\xfe,1\n", "text/csv"),
    ],
)
def test_deputies_import_rejects_bad_files(api, content, ctype):
    r = api.post("/api/v1/deputies/import", content=content, headers={"Content-Type": ctype})
    body = problem(r, 422)
    assert body["errors"]


def test_deputies_pagination(api):
    for i in range(5):
        assert (
            api.post(
                "/api/v1/deputies", json={"name": f"d{i}", "phone": f"1380000100{i}", "level": "city"}
            ).status_code
            == 201
        )
    seen: list[str] = []
    cursor = None
    while True:
        q = "/api/v1/deputies?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(q).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 == len(set(seen))
    problem(api.get("/api/v1/deputies?cursor=!!!"), 422)
