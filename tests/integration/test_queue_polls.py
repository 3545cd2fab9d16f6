"""Conditional queue polls: the lane that answers unchanged polls before routing must give
exactly the route's answer, and must really take the polls it can decide."""

from __future__ import annotations

from typing import Any

import pytest

from app.deps import encode_cursor
from app.routers import queue as queue_router
from tests.conftest import METRICS

QUEUE = "/api/v1/units/water-bureau/queue"


@pytest.fixture
def lane_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The units whose ETag the lane looked up."""
    calls: list[str] = []
    original = queue_router.UnchangedPolls.etag

    def spy(state: Any, actor: Any, code: str, params: str) -> str | None:
        calls.append(code)
        return original(state, actor, code, params)

    monkeypatch.setattr(queue_router.UnchangedPolls, "etag", staticmethod(spy))
    return calls


def test_an_unchanged_poll_is_answered_by_the_lane(api, lane_calls):
    api.city()
    api.ticket()
    first = api.get(QUEUE, "water-bureau")
    assert first.status_code == 200
    assert lane_calls == []  # no If-None-Match: the route answers
    again = api.get(QUEUE, "water-bureau", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["x-request-id"]
    assert again.content == b""
    assert lane_calls == ["water-bureau"]
    metrics = api.client.get("/metrics", headers=METRICS).text
    assert (
        'hotline_http_requests_total{method="GET",route="/api/v1/units/{code}/queue",status="304"}' in metrics
    )


def test_a_changed_queue_gets_the_page_with_its_new_tag(api, lane_calls):
    api.city()
    api.ticket()
    tag = api.get(QUEUE, "water-bureau").headers["etag"]
    api.ticket()
    r = api.get(QUEUE, "water-bureau", headers={"If-None-Match": tag})
    assert r.status_code == 200
    assert r.headers["etag"] != tag
    assert len(r.json()["items"]) == 2
    assert lane_calls == ["water-bureau"]  # the lane looked, and let the route answer


def test_liaison_and_admin_polls_share_the_unit_tag(api):
    api.city()
    api.ticket()
    tag = api.get(QUEUE, "water-bureau").headers["etag"]
    for who in ("liaison", "admin"):
        api.get(QUEUE, who)  # the key is now remembered
        r = api.get(QUEUE, who, headers={"If-None-Match": tag})
        assert r.status_code == 304, who


def test_keys_the_route_would_refuse_are_refused(api, lane_calls):
    api.city()
    api.ticket()
    tag = api.get(QUEUE, "water-bureau").headers["etag"]
    api.get("/api/v1/units/heshan-gov/queue", "heshan-gov")
    other = api.get(QUEUE, "heshan-gov", headers={"If-None-Match": tag})
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("application/problem+json")
    api.get("/api/v1/tickets", "hotline")
    assert api.get(QUEUE, "hotline", headers={"If-None-Match": tag}).status_code == 403
    unknown = api.client.get(QUEUE, headers={"If-None-Match": tag, "Authorization": "Bearer dhk_not_a_key"})
    assert unknown.status_code == 401
    wrong_scheme = api.client.get(
        QUEUE,
        headers={
            "If-None-Match": tag,
            "Authorization": api.h("water-bureau")["Authorization"].replace("Bearer", "Basic"),
        },
    )
    assert wrong_scheme.status_code == 401
    assert lane_calls == []


def test_no_such_unit_is_a_404_even_with_a_tag(api):
    api.city()
    api.get("/api/v1/tickets", "liaison")
    r = api.get("/api/v1/units/nowhere/queue", "liaison", headers={"If-None-Match": '"x"'})
    assert r.status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "",
        "limit=10",
        "limit=500",
        "limit=501",
        "limit=0",
        "limit=050",
        "limit=abc",
        "limit=",
        "limit=10&limit=20",
        "limit=%2B10",
        "cursor=",
        "cursor=notacursor",
        "cursor=" + "A" * 501,
        "updated_since=2025-09-30T08:00:00%2B08:00",
        "updated_since=2025-09-30T08:00:00+08:00",
        "updated_since=2025-09-30T08:00:00",
        "updated_since=yesterday",
        "updated_since=",
        "foo=bar",
        "limit=5&foo=bar",
    ],
)
def test_the_lane_gives_the_routes_answer_for_every_query(api, query):
    """Whatever the parameters, a conditional poll answers as the route would: 304 only
    when the route would serve this very page with this tag, else the route's status."""
    api.city()
    for _ in range(3):
        api.ticket()
    default_tag = api.get(QUEUE, "water-bureau").headers["etag"]
    plain = api.get(f"{QUEUE}?{query}", "water-bureau")
    tags = {default_tag, '"not-a-tag"'}
    if plain.status_code == 200:
        tags.add(plain.headers["etag"])
    for tag in tags:
        r = api.get(f"{QUEUE}?{query}", "water-bureau", headers={"If-None-Match": tag})
        if plain.status_code == 200 and plain.headers["etag"] == tag:
            assert r.status_code == 304, (query, r.text)
        else:
            assert r.status_code == plain.status_code, (query, tag, r.text)


def test_a_page_cursor_is_honoured_by_the_lane(api, lane_calls):
    api.city()
    for _ in range(3):
        api.ticket()
    first = api.get(f"{QUEUE}?limit=2", "water-bureau").json()
    cursor = first["next_cursor"]
    assert cursor
    page2 = api.get(f"{QUEUE}?limit=2&cursor={cursor}", "water-bureau")
    assert len(page2.json()["items"]) == 1
    r = api.get(
        f"{QUEUE}?limit=2&cursor={cursor}", "water-bureau", headers={"If-None-Match": page2.headers["etag"]}
    )
    assert r.status_code == 304
    assert lane_calls == ["water-bureau"]


def test_a_tag_list_over_several_header_lines_is_read_as_the_route_reads_it(api):
    api.city()
    api.ticket()
    tag = api.get(QUEUE, "water-bureau").headers["etag"]
    auth = api.h("water-bureau")["Authorization"]
    r = api.client.get(
        QUEUE, headers=[("Authorization", auth), ("If-None-Match", '"other"'), ("If-None-Match", tag)]
    )
    plain = api.client.get(QUEUE, headers=[("Authorization", auth), ("If-None-Match", '"other"')])
    assert r.status_code == plain.status_code == 200
    two_keys = api.client.get(
        QUEUE,
        headers=[("Authorization", "Bearer dhk_wrong"), ("Authorization", auth), ("If-None-Match", tag)],
    )
    assert two_keys.status_code == 401


@pytest.mark.parametrize(
    "query",
    [
        "cursor=" + encode_cursor(["2025-09-30T08:00:00", "x", "lead"]),  # no offset
        "cursor=" + encode_cursor(["0001-01-01T00:00:00+14:00", "x", "lead"]),  # before year 1 in UTC
        "cursor=" + encode_cursor(["2025-09-30T08:00:00+08:00", "x"]),  # short
        "updated_since=0001-01-01T00:00:00%2B14:00",
        "updated_since=9999-12-31T23:59:59-14:00",
    ],
)
def test_instants_the_database_cannot_hold_are_refused_by_name(api, query):
    api.city()
    for headers in ({}, {"If-None-Match": '"x"'}):
        r = api.get(f"{QUEUE}?{query}", "water-bureau", headers=headers)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] in ("cursor", "updated_since"), r.text


def test_intake_shows_the_times_it_stored(api):
    api.city()
    t = api.ticket()
    again = api.get(f"/api/v1/tickets/{t['id']}")
    assert again.json()["updated_at"] == t["updated_at"] == t["created_at"]


def test_a_changed_poll_looks_its_tag_up_once(api, monkeypatch):
    from app.services import queue as queue_service

    api.city()
    api.ticket()
    tag = api.get(QUEUE, "water-bureau").headers["etag"]
    api.ticket()
    lookups: list[str] = []
    original = queue_service.etag

    def counted(ctx: Any, unit: str, params: str) -> str | None:
        lookups.append(unit)
        return original(ctx, unit, params)

    monkeypatch.setattr(queue_service, "etag", counted)
    r = api.get(QUEUE, "water-bureau", headers={"If-None-Match": tag})
    assert r.status_code == 200
    assert lookups == ["water-bureau"]
    # A poll the lane leaves to the route (a repeated parameter): the route looks the tag
    # up itself, once.
    lookups.clear()
    r = api.get(f"{QUEUE}?limit=50&limit=50", "water-bureau", headers={"If-None-Match": tag})
    assert r.status_code == 200
    assert lookups == ["water-bureau"]
