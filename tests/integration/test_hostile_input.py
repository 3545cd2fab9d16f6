"""Bad bytes at the door (issue 13): each refused with a 422 naming the field, nothing
changed; none a 500. Instants are RFC 3339 text in range, flags are JSON booleans, and no
text carries a control character (stored, they broke every XLSX export)."""

from __future__ import annotations

from typing import Any

import pytest


def fields(r: Any) -> set[str]:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    return {e["field"] for e in r.json()["errors"]}


def tickets(api: Any) -> int:
    return len(api.get("/api/v1/tickets", "liaison").json()["items"])


# --- item 3: instants out of range -----------------------------------------------------------


@pytest.mark.parametrize(
    "instant",
    [
        "0001-01-01T00:00:00+08:00",  # before year 1 once in UTC: OverflowError before
        "9999-12-31T23:59:59-08:00",  # after year 9999 once in UTC
    ],
)
def test_a_body_instant_out_of_range_is_refused_naming_the_field(api, instant):
    api.city()
    before = tickets(api)
    r = api.post("/api/v1/tickets", "hotline", json=api.ticket_body(called_at=instant))
    assert fields(r) == {"called_at"}
    t = api.ticket()
    r = api.post(
        f"/api/v1/tickets/{t['id']}/contact",
        "water-bureau",
        json={"method": "phone", "deputy_invited": False, "at": instant},
    )
    assert fields(r) == {"at"}
    assert tickets(api) == before + 1


# --- item 5: strict types ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "called_at",
    [
        1700000000,
        "1700000000",
        "1700000000.5",
        1700000000.5,
        "2025-10-01",
        "2025-10-01T09:00+08:00",
        "20251001T090000+0800",
        "2025-10-01T09:00:00",
    ],
)
def test_a_body_instant_must_be_rfc3339_text_with_an_offset(api, called_at):
    api.city()
    r = api.post("/api/v1/tickets", "hotline", json=api.ticket_body(called_at=called_at))
    assert fields(r) == {"called_at"}
    assert tickets(api) == 0


def test_rfc3339_forms_are_all_accepted(api):
    api.city()
    for called_at in (
        "2025-09-30T09:00:00+08:00",
        "2025-09-30T01:00:00Z",
        "2025-09-30t01:00:00.123456z",
        "2025-09-30 09:00:00.5+08:00",
    ):
        r = api.post("/api/v1/tickets", "hotline", json=api.ticket_body(called_at=called_at))
        assert r.status_code == 201, (called_at, r.text)


@pytest.mark.parametrize(
    "path,param",
    [
        ("/api/v1/tickets", "called_from"),
        ("/api/v1/units/water-bureau/queue", "updated_since"),
    ],
)
@pytest.mark.parametrize("value", ["-1", "0.5", "1700000000", "2025-10-01"])
def test_a_query_instant_must_be_rfc3339(api, path, param, value):
    api.city()
    who = "water-bureau" if "queue" in path else "liaison"
    assert fields(api.get(path, who, params={param: value})) == {param}


@pytest.mark.parametrize("flag", ["true", 1, "1", "yes", 0])
def test_flags_are_json_booleans(api, flag):
    api.city()
    r = api.post("/api/v1/tickets", "hotline", json=api.ticket_body(deputy_call=flag))
    assert fields(r) == {"deputy_call"}
    r = api.post("/api/v1/tickets", "hotline", json=api.ticket_body(complex=flag))
    assert fields(r) == {"complex"}
    assert tickets(api) == 0
    t = api.ticket()
    r = api.post(
        f"/api/v1/tickets/{t['id']}/contact", "water-bureau", json={"method": "phone", "deputy_invited": flag}
    )
    assert fields(r) == {"deputy_invited"}


# --- control characters at the door ------------------------------------------------------------

BELL, RS, SOH = "\u0007", "\x1e", "\x01"


def test_control_characters_are_refused_in_every_text_of_a_ticket(api):
    api.city()
    body = api.ticket_body(caller={"name": f"张{BELL}三", "phone": "13800000001"})
    assert fields(api.post("/api/v1/tickets", "hotline", json=body)) == {"caller.name"}
    body = api.ticket_body(content=f"小区停水{RS}三天")
    assert fields(api.post("/api/v1/tickets", "hotline", json=body)) == {"content"}
    assert tickets(api) == 0
    # Tabs and line breaks are text, not control: a multi-line account is kept.
    t = api.ticket(content="第一行\r\n第二行\t完")
    assert api.get(f"/api/v1/tickets/{t['id']}", "liaison").json()["content"] == "第一行\r\n第二行\t完"
    for path, body, field in [
        ("contact", {"method": "phone", "deputy_invited": False, "note": f"已{BELL}联系"}, "note"),
        ("opinions", {"content": f"同意{SOH}"}, "content"),
        ("resolve", {"outcome": "solved", "reply": f"已{RS}解决"}, "reply"),
        ("extensions", {"working_days": 2, "reason": f"需要{BELL}协调"}, "reason"),
        ("return", {"reason": "\x7f不属于本单位"}, "reason"),
    ]:
        who = "heshan-gov" if path == "opinions" else "water-bureau"
        r = api.post(f"/api/v1/tickets/{t['id']}/{path}", who, json=body)
        assert fields(r) == {field}, (path, r.text)
    events = api.get(f"/api/v1/tickets/{t['id']}/events", "liaison").json()["items"]
    assert {e["type"] for e in events} <= {"ticket.received", "ticket.dispatched"}


@pytest.mark.parametrize(
    "method,path,body,field",
    [
        ("PUT", "/api/v1/units/water-bureau", {"name": f"益阳市{RS}水务局", "kind": "department"}, "name"),
        ("PUT", "/api/v1/categories/water", {"name": f"供{BELL}水"}, "name"),
        ("PUT", "/api/v1/districts/heshan", {"name": f"赫山{SOH}区"}, "name"),
        ("POST", "/api/v1/deputies", {"name": f"辰{SOH}巳", "phone": "13800000009", "level": "city"}, "name"),
        (
            "POST",
            "/api/v1/deputies",
            {"name": "辰巳", "phone": "13800000009", "level": "city", "delegation": f"赫山{BELL}代表团"},
            "delegation",
        ),
        ("POST", "/api/v1/keys", {"role": "hotline", "label": f"热线{BELL}系统"}, "label"),
        (
            "POST",
            "/api/v1/accounts",
            {"username": "wang.wu", "display_name": f"王{BELL}五", "role": "hotline"},
            "display_name",
        ),
    ],
)
def test_control_characters_are_refused_in_registry_and_account_bodies(api, method, path, body, field):
    api.city()
    before = api.get("/api/v1/units/water-bureau", "liaison").json()
    r = api.call(method, path, "admin", json=body)
    assert fields(r) == {field}
    assert api.get("/api/v1/units/water-bureau", "liaison").json() == before
    found = api.get("/api/v1/deputies", "liaison", params={"phone": "13800000009"}).json()
    assert found["items"] == []


def test_a_deputy_patch_with_a_control_character_changes_nothing(api):
    api.city()
    deputy = api.get("/api/v1/deputies", "liaison", params={"phone": "13800000001"}).json()
    d = deputy["items"][0]
    r = api.call("PATCH", f"/api/v1/deputies/{d['id']}", "liaison", json={"name": f"张{BELL}三"})
    assert fields(r) == {"name"}
    assert api.get(f"/api/v1/deputies/{d['id']}", "liaison").json()["name"] == "张三"


# --- item 6: the CSV import parses CSV ------------------------------------------------------

HEADER = "name,phone,level,district,delegation"


def import_chunks(api: Any, chunks: list[bytes]) -> Any:
    """POST the CSV as these chunks, each its own ASGI message (as a slow upload arrives)."""
    import asyncio

    import httpx

    async def body():
        for chunk in chunks:
            yield chunk

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            return await client.post(
                "/api/v1/deputies/import",
                content=body(),
                headers={**api.h("liaison"), "Content-Type": "text/csv"},
            )

    r = asyncio.run(post())
    assert r.status_code == 200, r.text
    return r.json()


def test_a_crlf_split_across_chunks_keeps_every_line_number(api):
    api.city()
    out = import_chunks(
        api,
        [
            f"{HEADER}\r".encode(),
            "\n王五,13800000011,city,,\r".encode(),
            "\n坏行,123,city,,\r\n李六,13800000012,mayor,,\r".encode(),
            b"\n",
        ],
    )
    assert out["created"] == 1
    assert [e["line"] for e in out["errors"]] == [3, 4]


def test_a_line_separator_inside_a_field_does_not_split_the_record(api):
    api.city()
    out = import_chunks(
        api, [f"{HEADER}\r\n王\u2028五,13800000013,city,,\r\n赵七,13800000014,city,,\r\n".encode()]
    )
    assert out["errors"] == [] and out["created"] == 2
    names = {d["name"] for d in api.get("/api/v1/deputies", "liaison").json()["items"]}
    assert {"王\u2028五", "赵七"} <= names
    assert "五" not in names  # no bogus deputy from half a record


def test_a_quoted_field_may_hold_a_line_break_and_lines_count_physical_lines(api):
    api.city()
    out = import_chunks(api, [f'{HEADER}\n"王\n五",13800000015,city,,\n坏行,1,city,,\n'.encode()])
    assert out["created"] == 1
    assert [e["line"] for e in out["errors"]] == [4]


def test_an_imported_control_character_is_refused_on_its_line(api):
    api.city()
    out = import_chunks(
        api,
        [
            f"{HEADER}\n辰{SOH}巳,13800000016,city,,\n"
            f"钱八,13800000017,city,赫山{BELL},\n"
            f"孙九,13800000018,city,,\n".encode()
        ],
    )
    assert out["created"] == 1
    assert [(e["line"], e["detail"].split(":")[0]) for e in out["errors"]] == [(2, "name"), (3, "district")]
    found = api.get("/api/v1/deputies", "liaison", params={"phone": "13800000016"}).json()
    assert found["items"] == []


def test_a_file_with_old_mac_line_ends_still_imports(api):
    api.city()
    out = import_chunks(api, [f"{HEADER}\r周十,13800000019,city,,\r".encode()])
    assert out == {"created": 1, "updated": 0, "errors": []}
