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
        "2025-10-01T10:00:00+08:00",
        "2025-10-17T00:00:00+08:00",
    }


def test_an_unencoded_plus_in_a_query_time_is_read_as_the_offset(api):
    api.city()
    api.ticket()
    r = api.get("/api/v1/tickets?called_from=2025-09-30T09:00:00+08:00", "hotline")
    assert r.status_code == 200 and len(r.json()["items"]) == 1
    r = api.get("/api/v1/tickets?called_from=2025-09-30T11:00:00%2B08:00", "hotline")
    assert r.status_code == 200 and r.json()["items"] == []


def test_directly_serialized_answers_write_times_as_the_models_do(db_url, clock):
    """Intake, queue pages and reports skip their response models for speed: in a zone at
    offset 0 they still write `Z`, exactly like the endpoints that use the models."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings

    app = create_app(make_settings(db_url, HOTLINE_TIMEZONE="UTC"), clock=clock, background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, clock, app).city()
        posted = api.ticket()
        read = api.get(f"/api/v1/tickets/{posted['id']}", "hotline").json()
        assert posted["created_at"].endswith("Z") and posted["created_at"] == read["created_at"]
        page = api.get("/api/v1/units/water-bureau/queue", "water-bureau").json()
        assert page["items"][0]["next_due_at"].endswith("Z")
        report = api.get("/api/v1/reports/monthly?month=2025-09", "liaison").json()
        assert report["cutoff_at"].endswith("Z")
