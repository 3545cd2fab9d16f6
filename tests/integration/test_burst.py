"""A burst of concurrent writes answers every request in seconds (issue 13).

Before the fix, eleven concurrent writers stalled the service: each request's commit
waited for a worker thread from a limiter sized to the pool while it held its connection
(on PostgreSQL the ticket's row lock too), and the threads it waited for were waiting for
that connection. Here 200 mixed writes go in at once, against the app with its real
lifespan (thread limiter, pools, gates): every answer is a contract status or a 503 with
Retry-After within seconds, what was acknowledged is in the log and what was refused is
not, and /healthz answers in under a second throughout.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from typing import Any

import httpx
import pytest

from app.admission import Gate, Saturated
from app.errors import status_of

CONTRACT = {200, 201, 204, 403, 404, 409, 422}
# "Within a few seconds": bounded by the queue (10 s) and pool (3 s) timeouts; measured
# about 2 s on an idle two-core machine (bench/burst.py), up to 7 s on a busy one.
WORST_SECONDS = 14.0
# Load tests: run alone, after the parallel run (.ci/run: `-m serial`), never beside other workers.
pytestmark = pytest.mark.serial


def _hot_actions(api: Any, tid: str) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(who, kind, path, body): every kind of action on one ticket, several times over."""
    base = f"/api/v1/tickets/{tid}"
    at = api.local(api.clock.now()).isoformat()
    kinds = [
        ("water-bureau", "contact", f"{base}/contact", {"method": "phone", "deputy_invited": False}),
        ("heshan-gov", "opinion", f"{base}/opinions", {"content": "同意"}),
        ("water-bureau", "resolve", f"{base}/resolve", {"outcome": "solved", "reply": "已解决"}),
        ("water-bureau", "feedback", f"{base}/feedback", {"method": "phone", "content": "已反馈"}),
        ("water-bureau", "return", f"{base}/return", {"reason": "不属于本单位"}),
        ("water-bureau", "extension", f"{base}/extensions", {"working_days": 2, "reason": "需要协调"}),
        ("hotline", "rating", f"{base}/rating", {"rating": "satisfied"}),
        ("hotline", "dispatch", f"{base}/dispatch", {"units": ["housing-bureau"], "at": at}),
    ]
    return [kinds[i % len(kinds)] for i in range(56)]


LOGGED = {
    "contact": "ticket.contacted",
    "opinion": "ticket.opinion",
    "resolve": "ticket.resolved",
    "feedback": "ticket.fed_back",
    "return": "ticket.returned",
    "rating": "rating.recorded",
}


def test_200_concurrent_mixed_writes_are_answered_in_seconds(api):
    api.city()
    hot = api.ticket(units=["water-bureau", "heshan-gov"], lead_unit="water-bureau")
    others = [api.ticket() for _ in range(40)]
    taken = api.ticket_body()
    assert api.post("/api/v1/tickets", "hotline", json=taken).status_code == 201
    for who in ("hotline", "liaison", "water-bureau", "heshan-gov"):
        api.h(who)  # keys made (and remembered) before the burst

    calls: list[tuple[str, str, str, dict[str, Any]]] = []
    calls += [(w, k, p, b) for w, k, p, b in _hot_actions(api, hot["id"])]
    calls += [
        (
            "water-bureau",
            "other-contact",
            f"/api/v1/tickets/{t['id']}/contact",
            {"method": "phone", "deputy_invited": False},
        )
        for t in others
    ]
    calls += [
        ("hotline", "conflicting-intake", "/api/v1/tickets", {**taken, "content": f"另一个内容 {i}"})
        for i in range(25)
    ]
    calls += [
        ("hotline", "unknown-unit", "/api/v1/tickets", api.ticket_body(units=["no-such-unit"]))
        for _ in range(10)
    ]
    calls += [
        (
            "liaison",
            "deputy",
            "/api/v1/deputies",
            {"name": f"代表{i}", "phone": f"1390000{i:04d}", "level": "city"},
        )
        for i in range(40)
    ]
    calls += [
        (
            "admin",
            "deputy-taken",
            "/api/v1/deputies",
            {"name": "张三", "phone": "13800000001", "level": "city"},
        )
        for _ in range(9)
    ]
    calls += [
        ("admin", "unit", f"/api/v1/units/burst-{i}", {"name": f"单位{i}", "kind": "department"})
        for i in range(20)
    ]
    assert len(calls) == 200
    random.Random(13).shuffle(calls)
    headers = {who: api.h(who) for who in {c[0] for c in calls}}

    async def burst() -> tuple[list[tuple[str, int, float, httpx.Response]], list[float]]:
        app = api.app
        # The real lifespan on this loop: the thread limiter the server runs with.
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                health: list[float] = []
                done = asyncio.Event()

                async def probe() -> None:
                    while not done.is_set():
                        t0 = time.monotonic()
                        r = await asyncio.wait_for(client.get("/healthz"), 5)
                        assert r.status_code == 200
                        health.append(time.monotonic() - t0)
                        await asyncio.sleep(0.05)

                async def one(who: str, kind: str, path: str, body: dict[str, Any]) -> Any:
                    t0 = time.monotonic()
                    method = "PUT" if kind == "unit" else "POST"
                    r = await asyncio.wait_for(
                        client.request(method, path, json=body, headers=headers[who]), 30
                    )
                    return kind, r.status_code, time.monotonic() - t0, r

                prober = asyncio.create_task(probe())
                await asyncio.sleep(0.1)
                results = await asyncio.gather(*(one(*c) for c in calls))
                done.set()
                await prober
                return results, health

    results, health = asyncio.run(burst())

    mix = Counter((kind, status) for kind, status, _, _ in results)
    worst = max(seconds for _, _, seconds, _ in results)
    print(f"worst {worst:.2f} s, /healthz worst {max(health):.3f} s, {sorted(mix.items())}")
    assert worst < WORST_SECONDS, (worst, mix)
    for kind, status, _, r in results:
        assert status in CONTRACT or status == 503, (kind, status, r.text)
        if status == 503:
            assert r.headers["retry-after"].isdigit(), r.headers
            assert r.headers["content-type"] == "application/problem+json"
    assert health and max(health) < 1.0, max(health)
    # The burst is not all refused: the service kept working through it.
    assert sum(1 for _, s, _, _ in results if s in (200, 201)) >= 60, mix
    for kind, wanted in (
        ("conflicting-intake", 409),
        ("unknown-unit", 422),
        ("deputy-taken", 409),
        ("deputy", 201),
        ("other-contact", 200),
    ):
        assert {s for k, s, _, _ in results if k == kind} <= {wanted, 503}, (kind, mix)

    # The hot ticket: readable, its log contiguous, every acknowledged action logged once
    # and no refused one logged.
    t = api.get(f"/api/v1/tickets/{hot['id']}", "liaison")
    assert t.status_code == 200
    events = api.get(f"/api/v1/tickets/{hot['id']}/events", "liaison").json()["items"]
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs)) and events[0]["type"] == "ticket.received"
    logged = Counter(e["type"] for e in events)
    for kind, type_ in LOGGED.items():
        ok = sum(1 for k, s, _, _ in results if k == kind and s in (200, 201))
        assert logged[type_] == ok, (kind, ok, logged)
    # Deputies answered 201 exist; those refused with 503 were not registered.
    for kind, status, _, r in results:
        if kind == "deputy":
            phone = r.request.read().decode().split('"phone":"')[1][:11]
            found = api.get("/api/v1/deputies", "liaison", params={"phone": phone}).json()
            assert len(found["items"]) == (1 if status == 201 else 0), (phone, status)


def test_a_saturated_gate_refuses_at_once_and_counts_its_places():
    gate = Gate("writes", capacity=2, retry_after=3)
    gate.enter()
    gate.enter()
    with pytest.raises(Saturated) as refused:
        gate.enter()
    assert refused.value.retry_after == 3 and status_of(refused.value) == 503
    assert gate.taken == 2 and gate.refused == 1
    gate.leave()
    gate.enter()  # a place given back is taken again
    gate.leave()
    gate.leave()
    with pytest.raises(RuntimeError):
        gate.leave()


def test_writers_past_the_gate_get_503_with_retry_after_and_change_nothing(api):
    api.city()
    api.h("liaison")  # its key is made (a write) before every place is taken
    state = api.app.state.hotline
    state.write_gate.capacity = 0  # every place taken
    r = api.post(
        "/api/v1/deputies", "liaison", json={"name": "李四", "phone": "13900000001", "level": "city"}
    )
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    assert r.headers["content-type"] == "application/problem+json"
    assert api.get("/healthz").status_code == 200
    state.write_gate.capacity = 64
    found = api.get("/api/v1/deputies", "liaison", params={"phone": "13900000001"}).json()
    assert found["items"] == []


@pytest.fixture
def impatient(db_url, clock):
    """The app with short bounded waits: a 1 s pool/busy wait, a 500 ms lock wait."""
    from tests.conftest import make_settings, serve

    settings = make_settings(db_url, HOTLINE_DB_POOL_TIMEOUT=1.0, HOTLINE_DB_LOCK_TIMEOUT_MS=500)
    with serve(settings, clock) as api:
        yield api


def test_a_write_blocked_by_a_held_lock_answers_503_in_bounded_time(impatient):
    from sqlalchemy import create_engine, text

    api = impatient
    api.city()
    t = api.ticket()
    api.h("water-bureau")
    db = api.app.state.hotline.db
    other = create_engine(db.url)  # another process's connection, holding the lock
    with other.connect() as conn:
        if db.is_postgres:
            conn.execute(text("BEGIN"))
            conn.execute(text("SELECT id FROM tickets WHERE id = :id FOR UPDATE"), {"id": t["id"]})
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        t0 = time.monotonic()
        r = api.post(
            f"/api/v1/tickets/{t['id']}/contact",
            "water-bureau",
            json={"method": "phone", "deputy_invited": False},
        )
        waited = time.monotonic() - t0
        assert api.get("/healthz").status_code == 200
        conn.rollback()
    other.dispose()
    assert r.status_code == 503, r.text
    assert r.headers["retry-after"].isdigit()
    assert r.headers["content-type"] == "application/problem+json"
    assert waited < 4.0, waited
    # Nothing was recorded; once the lock is gone the same request goes through.
    events = api.get(f"/api/v1/tickets/{t['id']}/events", "liaison").json()["items"]
    assert "ticket.contacted" not in {e["type"] for e in events}
    r = api.post(
        f"/api/v1/tickets/{t['id']}/contact",
        "water-bureau",
        json={"method": "phone", "deputy_invited": False},
    )
    assert r.status_code == 200, r.text


@pytest.mark.skipif(
    not os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL's session settings",
)
def test_every_postgres_connection_bounds_its_waits(api):
    from sqlalchemy import text

    db = api.app.state.hotline.db
    with db.writer.connect() as conn:
        got = [
            conn.execute(text(f"SHOW {name}")).scalar()
            for name in ("lock_timeout", "statement_timeout", "idle_in_transaction_session_timeout")
        ]
    assert got == ["5s", "1min", "30s"]


def test_every_route_ends_its_transaction_in_its_own_thread(api):
    """A router made without OneTripRoute would commit in a second trip to the thread pool
    (safe, since that trip waits for no shared limiter, but slower): none is."""
    from fastapi.routing import APIRoute

    from app.deps import OneTripRoute

    def flat(routes: list[Any]) -> list[Any]:
        out = []
        for r in routes:
            inner = getattr(r, "original_router", None)  # a router included in the app
            out += flat(inner.routes) if inner is not None else [r]
        return out

    routes = [r for r in flat(api.app.routes) if isinstance(r, APIRoute)]
    api_routes = [r for r in routes if r.path.startswith(("/api/", "/ui"))]
    assert len(api_routes) > 50
    assert [r.path for r in api_routes if not isinstance(r, OneTripRoute)] == []


def test_a_request_that_waited_past_its_turn_is_refused_before_it_takes_a_connection(api):
    api.city()
    api.h("liaison")  # its key is made (a write) before the requests wait
    state = api.app.state.hotline
    state.settings.queue_timeout = -1.0  # every admitted request is already late
    try:
        r = api.post(
            "/api/v1/deputies", "liaison", json={"name": "李四", "phone": "13900000002", "level": "city"}
        )
        late_read = api.get("/api/v1/units", "liaison")
    finally:
        state.settings.queue_timeout = 10.0
    assert r.status_code == 503 and r.headers["retry-after"].isdigit()
    assert late_read.status_code == 503
    found = api.get("/api/v1/deputies", "liaison", params={"phone": "13900000002"}).json()
    assert found["items"] == []
