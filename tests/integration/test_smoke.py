"""The first walk: registry, ingestion, read-back."""

from __future__ import annotations


def test_ingest_routes_and_starts_clocks_on_national_day(api):
    api.city()
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    assert t["status"] == "dispatched"
    assert t["lead_unit"] == "water-bureau"
    assert t["deputy_verified"] is True and t["deputy"]["name"] == "张三"
    assert api.clock_of(t, "contact")["due_at"] == "2025-10-01T10:00:00+08:00"
    assert api.clock_of(t, "resolve")["due_at"] == "2025-10-17T00:00:00+08:00"
    assert api.clock_of(t, "opinion", "heshan-gov")["due_at"] == "2025-10-15T00:00:00+08:00"
    r = api.get(f"/api/v1/tickets/{t['id']}", "heshan-gov")
    assert r.status_code == 200
    r = api.get(f"/api/v1/tickets/{t['id']}", "housing-bureau")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


def test_nul_characters_are_refused_before_they_reach_the_database(api):
    api.city()
    body = api.ticket_body(content="停水\u0000")
    r = api.post("/api/v1/tickets", "hotline", json=body)
    assert r.status_code == 422
    assert r.json()["errors"] == [{"field": "body", "detail": "NUL characters are not allowed in text"}]
    r = api.get("/api/v1/tickets?category=wa%00ter", "hotline")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query"
    assert api.get("/api/v1/tickets", "hotline").json()["items"] == []


def test_event_data_times_are_in_the_service_zone(api):
    api.city()
    t = api.ticket()
    events = api.get(f"/api/v1/tickets/{t['id']}/events").json()["items"]
    dispatched = next(e for e in events if e["type"] == "ticket.dispatched")
    assert {c["due_at"] for c in dispatched["data"]["clocks"]} == {
        "2025-10-01T10:00:00+08:00", "2025-10-17T00:00:00+08:00"}


def test_an_unencoded_plus_in_a_query_time_is_read_as_the_offset(api):
    api.city()
    api.ticket()
    r = api.get("/api/v1/tickets?called_from=2025-09-30T09:00:00+08:00", "hotline")
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    r = api.get("/api/v1/tickets?called_from=2025-09-30T11:00:00%2B08:00", "hotline")
    assert r.status_code == 200 and r.json()["items"] == []
