"""POST /tickets: validation, idempotency under concurrency, intake variants, lists, events."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.builders import problem
from tests.conftest import ADMIN_KEY


def all_tickets(api) -> list[dict]:
    return api.get("/api/v1/tickets?limit=500").json()["items"]


# --- every bad input named in API.md ------------------------------------------------------------

BAD = [
    ("unknown unit", {"units": ["water-bureau", "nope"]}, "units[1]"),
    ("unknown category", {"category": "nope"}, "category"),
    ("lead not among units", {"units": ["water-bureau"], "lead_unit": "heshan-gov"}, "lead_unit"),
    (
        "dispatched before called",
        {"called_at": "2025-09-30T09:00:00+08:00", "dispatched_at": "2025-09-30T08:59:00+08:00"},
        "dispatched_at",
    ),
    ("deputy_call false", {"deputy_call": False}, "deputy_call"),
    ("time without offset", {"called_at": "2025-09-30T09:00:00"}, "called_at"),
    ("dispatched without offset", {"dispatched_at": "2025-09-30T09:00:00"}, "dispatched_at"),
    ("called in the future", {"called_at": "2025-10-30T09:00:00+08:00"}, "called_at"),
    ("no units, no default lead", {"category": "misc", "units": None}, "units"),
    ("bad kind", {"kind": "complaint"}, "kind"),
    ("bad urgency", {"urgency": "asap"}, "urgency"),
    ("bad caller phone", {"caller": {"name": "x", "phone": "abc"}}, "caller.phone"),
    ("missing content", {"content": None}, "content"),
    ("unknown field", {"colour": "red"}, "colour"),
]


@pytest.mark.parametrize("case, overrides, field", BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_422_naming_the_field_and_changes_nothing(api, case, overrides, field):
    api.city()
    body = api.ticket_body(**overrides)
    body = {k: v for k, v in body.items() if v is not None or k == "units"}
    if body.get("units") is None:
        body.pop("units", None)
    r = api.post("/api/v1/tickets", "hotline", json=body)
    err = problem(r, 422)
    assert field in {e["field"] for e in err["errors"]}, err
    assert all_tickets(api) == []
    problem(api.get(f"/api/v1/tickets/by-hotline-no/{body['hotline_no']}"), 404)


def test_malformed_json_unknown_route_wrong_method_and_too_large(api):
    api.city()
    r = api.post(
        "/api/v1/tickets", "hotline", content=b'{"hotline_no": ', headers={"Content-Type": "application/json"}
    )
    assert problem(r, 400)["errors"][0]["field"] == "body"  # not JSON at all: 400, not 422
    problem(api.get("/api/v1/no-such-thing"), 404)
    problem(api.client.get("/nothing-here"), 404)
    problem(api.call("DELETE", "/api/v1/tickets"), 405)
    problem(api.call("PATCH", "/api/v1/units"), 405)
    huge = api.ticket_body(content="x" * (1024 * 1024 + 10))
    problem(api.post("/api/v1/tickets", "hotline", json=huge), 413)

    # streamed without a Content-Length
    def chunks():
        for _ in range(300):
            yield b"x" * 4096

    r = api.post("/api/v1/tickets", "hotline", content=chunks(), headers={"Content-Type": "application/json"})
    problem(r, 413)
    assert all_tickets(api) == []


# --- idempotency ------------------------------------------------------------------------------


def test_same_body_again_is_200_with_same_ticket(api):
    api.city()
    body = api.ticket_body()
    r1 = api.post("/api/v1/tickets", "hotline", json=body)
    assert r1.status_code == 201, r1.text
    assert r1.headers["location"] == f"/api/v1/tickets/{r1.json()['id']}"
    r2 = api.post("/api/v1/tickets", "hotline", json=body)
    assert r2.status_code == 200 and r2.json()["id"] == r1.json()["id"]
    assert len(all_tickets(api)) == 1


def test_different_body_same_hotline_no_is_409(api):
    api.city()
    body = api.ticket_body()
    assert api.post("/api/v1/tickets", "hotline", json=body).status_code == 201
    problem(api.post("/api/v1/tickets", "hotline", json={**body, "content": "另一件事"}), 409)
    problem(api.post("/api/v1/tickets", "hotline", json={**body, "urgency": "urgent"}), 409)
    assert len(all_tickets(api)) == 1


def test_same_instant_other_offset_and_null_vs_absent_are_the_same(api):
    api.city()
    body = api.ticket_body(called_at="2025-09-30T09:12:00+08:00", dispatched_at="2025-09-30T09:30:00+08:00")
    first = api.post("/api/v1/tickets", "hotline", json=body)
    assert first.status_code == 201
    utc = {**body, "called_at": "2025-09-30T01:12:00Z", "dispatched_at": "2025-09-30T01:30:00+00:00"}
    r = api.post("/api/v1/tickets", "hotline", json=utc)
    assert r.status_code == 200, r.text
    assert r.json()["id"] == first.json()["id"]
    explicit = {
        **body,
        "kind": None,
        "urgency": None,
        "lead_unit": None,
        "complex": None,
        "district": body["district"],
    }
    r = api.post("/api/v1/tickets", "hotline", json=explicit)
    assert r.status_code == 200, r.text
    # and the other way round: first explicit nulls, then absent
    body2 = api.ticket_body(lead_unit=None, kind=None)
    assert api.post("/api/v1/tickets", "hotline", json=body2).status_code == 201
    absent = {k: v for k, v in body2.items() if v is not None}
    assert api.post("/api/v1/tickets", "hotline", json=absent).status_code == 200


def test_concurrent_identical_posts_make_one_ticket(api):
    api.city()
    hotline_headers = api.h("hotline")
    body = api.ticket_body(units=["water-bureau", "heshan-gov"])
    n = 40

    async def storm() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.post("/api/v1/tickets", json=body, headers=hotline_headers) for _ in range(n))
            )

    responses = asyncio.run(storm())
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, codes
    assert codes.count(200) == n - 1, codes
    assert len({r.json()["id"] for r in responses}) == 1
    tickets = all_tickets(api)
    assert len(tickets) == 1
    t = tickets[0]
    assert len(t["clocks"]) == 3 and len(t["assignments"]) == 2
    events = api.get(f"/api/v1/tickets/{t['id']}/events").json()["items"]
    assert [e["type"] for e in events].count("ticket.received") == 1


def test_concurrent_posts_with_conflicting_bodies(api):
    api.city()
    headers = api.h("hotline")
    base = api.ticket_body()
    bodies = [base if i % 2 == 0 else {**base, "content": "不同的内容"} for i in range(32)]

    async def storm() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(client.post("/api/v1/tickets", json=b, headers=headers) for b in bodies)
            )

    responses = asyncio.run(storm())
    codes = [r.status_code for r in responses]
    assert all(c < 500 for c in codes), codes
    assert codes.count(201) == 1 and codes.count(409) == 16, codes
    assert len(all_tickets(api)) == 1


# --- intake variants --------------------------------------------------------------------------


def test_consultation_closed_at_intake_without_clocks(api):
    api.city()
    t = api.ticket(kind="consultation")
    assert t["status"] == "closed" and t["clocks"] == []
    types = [e["type"] for e in api.get(f"/api/v1/tickets/{t['id']}/events").json()["items"]]
    assert types[0] == "ticket.received" and "ticket.closed" in types
    assert "ticket.dispatched" not in types
    r = api.post(
        f"/api/v1/tickets/{t['id']}/contact",
        "water-bureau",
        json={"method": "phone", "deputy_invited": False},
    )
    assert r.status_code == 409, r.text  # nothing is done on a closed ticket
    assert api.get(f"/api/v1/tickets/{t['id']}").json()["status"] == "closed"
    assert api.sweep()["breached"] == 0


def test_unverified_caller_kept_and_listed(api):
    api.city()
    t = api.ticket(caller={"name": "路人甲", "phone": "13700000000"})
    assert t["deputy"] is None and t["deputy_verified"] is False
    known = api.ticket()
    assert known["deputy_verified"] is True
    items = api.get("/api/v1/tickets?deputy_verified=false", "liaison").json()["items"]
    assert [x["id"] for x in items] == [t["id"]]
    items = api.get("/api/v1/tickets?deputy_verified=true", "liaison").json()["items"]
    assert [x["id"] for x in items] == [known["id"]]


def test_caller_phone_matched_after_normalizing(api):
    api.city()
    t = api.ticket(caller={"name": "张三", "phone": "+86 138-0000-0001"})
    assert t["deputy_verified"] is True and t["deputy"]["level"] == "city"


def test_routing_lead_rules(api):
    api.city()
    named = api.ticket(units=["heshan-gov", "water-bureau"], lead_unit="heshan-gov")
    assert named["lead_unit"] == "heshan-gov"
    default = api.ticket(units=["heshan-gov", "water-bureau"])
    assert default["lead_unit"] == "water-bureau"
    first = api.ticket(category="misc", units=["heshan-gov", "ziyang-gov"])
    assert first["lead_unit"] == "heshan-gov"
    implicit = api.ticket(units=None)
    assert implicit["lead_unit"] == "water-bureau" and len(implicit["assignments"]) == 1
    ev = api.get(f"/api/v1/tickets/{default['id']}/events").json()["items"]
    dispatched = next(e for e in ev if e["type"] == "ticket.dispatched")
    assert dispatched["data"]["lead_unit"] == "water-bureau" and dispatched["data"]["rule"]


# --- lists ------------------------------------------------------------------------------------


def test_list_filters(api):
    api.city()
    a = api.ticket(units=["water-bureau"], district="heshan")
    b = api.ticket(category="housing", units=["housing-bureau", "ziyang-gov"], district="ziyang")
    c = api.ticket(kind="consultation")

    def ids(q: str) -> list[str]:
        r = api.get("/api/v1/tickets?" + q, "liaison")
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["items"]]

    assert ids("") == [c["id"], b["id"], a["id"]]  # newest first
    assert ids("status=closed") == [c["id"]]
    assert ids("status=dispatched") == [b["id"], a["id"]]
    assert ids("category=housing") == [b["id"]]
    assert ids("district=ziyang") == [b["id"]]
    assert ids("unit=ziyang-gov") == [b["id"]]
    assert ids("breached=true") == []
    api.set_now("2025-10-01 10:00")  # contact clocks (24 h) due
    assert set(ids("breached=true")) == {a["id"], b["id"]}
    assert ids("breached=false") == [c["id"]]
    assert ids("called_from=2025-09-30T00:00:00%2B08:00&called_to=2025-10-01T00:00:00%2B08:00") == [
        c["id"],
        b["id"],
        a["id"],
    ]
    assert ids("called_from=2025-10-01T00:00:00%2B08:00") == []
    problem(api.get("/api/v1/tickets?status=lost"), 422)
    problem(api.get("/api/v1/tickets?called_from=2025-10-01T00:00:00"), 422)
    problem(api.get("/api/v1/tickets?limit=501"), 422)
    problem(api.get("/api/v1/tickets", "water-bureau"), 403)


def test_keyset_pagination_is_stable_under_inserts(api):
    api.city()
    made = [api.ticket()["id"] for _ in range(7)]
    page1 = api.get("/api/v1/tickets?limit=3").json()
    assert [x["id"] for x in page1["items"]] == made[::-1][:3]
    for _ in range(4):  # new tickets between pages must not shift what comes next
        api.ticket()
    page2 = api.get(f"/api/v1/tickets?limit=3&cursor={page1['next_cursor']}").json()
    assert [x["id"] for x in page2["items"]] == made[::-1][3:6]
    page3 = api.get(f"/api/v1/tickets?limit=3&cursor={page2['next_cursor']}").json()
    assert [x["id"] for x in page3["items"]] == made[::-1][6:]
    assert page3["next_cursor"] is None


def test_by_hotline_no_and_events_in_order(api):
    api.city()
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    r = api.get(f"/api/v1/tickets/by-hotline-no/{t['hotline_no']}", "hotline")
    assert r.status_code == 200 and r.json()["id"] == t["id"]
    api.set_now("2025-09-30 11:00")
    assert (
        api.post(
            f"/api/v1/tickets/{t['id']}/contact",
            "water-bureau",
            json={"method": "phone", "deputy_invited": True},
        ).status_code
        == 200
    )
    ev = api.get(f"/api/v1/tickets/{t['id']}/events", "water-bureau").json()["items"]
    seqs = [e["seq"] for e in ev]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    types = [e["type"] for e in ev]
    assert types[:2] == ["ticket.received", "ticket.dispatched"]
    assert types.index("clock.met") > types.index("ticket.dispatched")
    for e in ev:
        assert e["at"].endswith("+08:00") and e["recorded_at"].endswith("+08:00")
        assert e["actor"]
    problem(api.get(f"/api/v1/tickets/{t['id']}/events", "housing-bureau"), 404)


def test_admin_key_reaches_every_ticket_route(api):
    api.city()
    t = api.ticket()
    headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
    assert api.client.get(f"/api/v1/tickets/{t['id']}", headers=headers).status_code == 200
