"""Webhooks: outbox rows, Standard Webhooks signing, retries, isolation, several workers.

Outbound HTTP goes to a real local server (http.server on 127.0.0.1) or httpx.MockTransport;
signatures are checked by the independent implementation below, not by the app's code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from app.webhooks import outbox
from app.webhooks.worker import Worker, deliver_due, start_worker

SECRET_RAW = b"\x01\x02water-bureau-secret-bytes\xff"
WATER_SECRET = "whsec_" + base64.b64encode(SECRET_RAW).decode()
HESHAN_SECRET = "heshan-plain-secret-0123456789"


# --- an independent Standard Webhooks verifier ---------------------------------------------------


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks: HMAC-SHA256 over "id.timestamp.body", key from whsec_ base64."""
    key = base64.b64decode(secret.removeprefix("whsec_")) if secret.startswith("whsec_") else secret.encode()
    signed = headers["webhook-id"].encode() + b"." + headers["webhook-timestamp"].encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ") if s.startswith("v1,")]
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and any(hmac.compare_digest(expected, g) for g in given)


# --- a real receiver ----------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP server; `mode` is 'ok', 'error' (503) or 'hang' (until released)."""

    port: int = 0
    mode: str = "ok"
    got: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if receiver.mode == "hang" and self.path.startswith("/hang"):
                    receiver.release.wait(30)
                    return  # closes without an answer
                receiver.got.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
                self.send_response(503 if receiver.mode == "error" else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(5.0, connect=2.0)) as c:
        yield c


def hook(api, unit: str, url: str | None, secret: str | None = None) -> None:
    from tests.builders import UNITS

    name, kind, district = UNITS[unit]
    r = api.put(
        f"/api/v1/units/{unit}",
        json={"name": name, "kind": kind, "district": district, "webhook_url": url, "webhook_secret": secret},
    )
    assert r.status_code == 200, r.text  # the unit api.city() made, replaced


def state_of(api):
    return api.app.state.hotline


def deliveries(api, who: str = "admin", **params: Any) -> list[dict]:
    r = api.get("/api/v1/webhooks/deliveries", who, params={"limit": 500, **params})
    assert r.status_code == 200, r.text
    return r.json()["items"]


# --- signing and routing ------------------------------------------------------------------------


def test_each_unit_gets_its_event_signed_with_its_own_secret(api, receiver, client):
    api.city()
    hook(api, "water-bureau", receiver.url("/water"), WATER_SECRET)
    hook(api, "heshan-gov", receiver.url("/heshan"), HESHAN_SECRET)
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    pending = deliveries(api, state="pending")
    assert {d["unit"] for d in pending} == {"water-bureau", "heshan-gov"}
    assert all(d["event_type"] == "ticket.assigned" for d in pending)

    assert deliver_due(state_of(api), client=client) == 2
    assert sorted(g.path for g in receiver.got) == ["/heshan", "/water"]
    for got in receiver.got:
        secret = WATER_SECRET if got.path == "/water" else HESHAN_SECRET
        other = HESHAN_SECRET if got.path == "/water" else WATER_SECRET
        assert verify(secret, got.headers, got.body)
        assert not verify(other, got.headers, got.body)
        assert got.headers["content-type"] == "application/json"
        body = json.loads(got.body)
        assert body["type"] == "ticket.assigned"
        assert body["data"]["ticket_id"] == t["id"]
        assert body["data"]["hotline_no"] == t["hotline_no"]
        assert body["data"]["unit"] == ("water-bureau" if got.path == "/water" else "heshan-gov")
        row = next(d for d in pending if d["id"] == got.headers["webhook-id"])
        assert row["payload"] == body  # the stored body, byte for byte the one signed

    done = deliveries(api, state="delivered")
    assert len(done) == 2 and all(d["attempts"] == 1 and d["last_status"] == 204 for d in done)
    detail = api.get(f"/api/v1/webhooks/deliveries/{done[0]['id']}").json()
    assert len(detail["attempt_log"]) == 1
    assert detail["attempt_log"][0]["status_code"] == 204
    assert detail["attempt_log"][0]["duration_ms"] >= 0
    assert deliver_due(state_of(api), client=client) == 0  # nothing left


def test_a_unit_without_a_secret_gets_unsigned_deliveries(api):
    api.city()
    hook(api, "water-bureau", "http://water.example/hook")
    api.ticket()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    with httpx.Client(transport=httpx.MockTransport(handler)) as c:
        assert deliver_due(state_of(api), client=c) == 1
    (req,) = seen
    assert req.headers["webhook-id"] and req.headers["webhook-timestamp"].isdigit()
    assert "webhook-signature" not in req.headers
    assert str(req.url) == "http://water.example/hook"


def test_units_without_an_endpoint_get_no_outbox_rows(api):
    api.city()
    hook(api, "heshan-gov", "http://heshan.example/hook", HESHAN_SECRET)
    api.ticket(units=["water-bureau"])
    assert deliveries(api) == []
    api.ticket(units=["water-bureau", "heshan-gov"])
    assert [d["unit"] for d in deliveries(api)] == ["heshan-gov"]


# --- failures, retries, redelivery --------------------------------------------------------------


def test_receiver_down_then_up_delivers_every_event_to_its_own_unit(api, client):
    api.city()
    down = Receiver().start()
    port = down.port
    down.stop()  # nothing listens on the port now: connection refused
    units = {"water-bureau": "/water", "heshan-gov": "/heshan", "housing-bureau": "/housing"}
    for unit, path in units.items():
        hook(api, unit, f"http://127.0.0.1:{port}{path}", HESHAN_SECRET)
    for i in range(6):
        api.ticket(units=[["water-bureau", "heshan-gov"], ["housing-bureau"]][i % 2])
    rows = deliveries(api)
    assert len(rows) == 9
    state = state_of(api)
    now = api.clock.now()

    attempted = deliver_due(state, client=client, now=now)
    assert 1 <= attempted <= 3  # one failed attempt per unit; the rest of each batch waits
    rows = deliveries(api)
    assert all(d["state"] == "pending" for d in rows)
    failed = [d for d in rows if d["attempts"] == 1]
    assert all("ConnectError" in d["last_error"] for d in failed)
    assert deliver_due(state, client=client, now=now) == 0  # backing off

    up = Receiver(port=port).start()
    try:
        for _ in range(5):
            now += timedelta(hours=5)
            deliver_due(state, client=client, now=now)
    finally:
        up.stop()
    rows = deliveries(api)
    assert {d["state"] for d in rows} == {"delivered"}
    got = Counter(g.headers["webhook-id"] for g in up.got)
    assert set(got) == {d["id"] for d in rows}  # none lost
    assert set(got.values()) == {1}
    by_id = {d["id"]: d for d in rows}
    for g in up.got:
        unit = by_id[g.headers["webhook-id"]]["unit"]
        assert g.path == units[unit] and json.loads(g.body)["data"]["unit"] == unit
        assert verify(HESHAN_SECRET, g.headers, g.body)


def test_failing_endpoint_backs_off_with_jitter_then_fails_and_can_be_redelivered(api):
    from app.observability import REGISTRY

    def failures() -> float:
        return REGISTRY.get_sample_value("hotline_webhook_delivery_failures_total") or 0.0

    api.city()
    hook(api, "water-bureau", "http://water.example/hook", WATER_SECRET)
    api.ticket()
    state = state_of(api)
    status = {"code": 500}
    ids: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        ids.append(request.headers["webhook-id"])
        return httpx.Response(status["code"], text="nope")

    failures_before = failures()
    now = api.clock.now()
    with httpx.Client(transport=httpx.MockTransport(handler)) as c:
        for n in range(1, outbox.MAX_ATTEMPTS + 1):
            assert deliver_due(state, client=c, now=now) == 1
            (d,) = deliveries(api)
            assert d["attempts"] == n and d["last_status"] == 500 and d["last_error"] == "HTTP 500"
            if n < outbox.MAX_ATTEMPTS:
                assert d["state"] == "pending"
                wait = (_parse(d["next_attempt_at"]) - now).total_seconds()
                nominal = min(outbox.BACKOFF_CAP_SECONDS, outbox.BACKOFF_BASE_SECONDS * 2 ** (n - 1))
                assert nominal * 0.5 <= wait <= nominal
                assert deliver_due(state, client=c, now=now) == 0  # not due yet
                now += timedelta(seconds=wait)
        (d,) = deliveries(api)
        assert d["state"] == "failed" and d["next_attempt_at"] is None
        assert failures() - failures_before == outbox.MAX_ATTEMPTS
        log = api.get(f"/api/v1/webhooks/deliveries/{d['id']}").json()["attempt_log"]
        assert [a["status_code"] for a in log] == [500] * outbox.MAX_ATTEMPTS
        now += timedelta(days=1)
        assert deliver_due(state, client=c, now=now) == 0  # failed stays failed

        assert api.post(f"/api/v1/webhooks/deliveries/{d['id']}/redeliver", "water-bureau").status_code == 403
        assert api.post("/api/v1/webhooks/deliveries/nope/redeliver").status_code == 404
        r = api.post(f"/api/v1/webhooks/deliveries/{d['id']}/redeliver", "liaison")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "pending" and r.json()["attempts"] == 0
        status["code"] = 200
        assert deliver_due(state, client=c) == 1
    (d,) = deliveries(api)
    assert d["state"] == "delivered" and d["attempts"] == 1
    assert set(ids) == {d["id"]}  # every retry carries the same webhook-id


def _parse(value: str):
    from datetime import datetime

    return datetime.fromisoformat(value)


NOT_PUBLIC = [
    "http://100.100.100.200/latest/meta-data",
    "http://100.64.0.1/hook",
    "http://10.0.0.1/hook",
    "http://127.0.0.1:9/hook",
    "http://[::1]/hook",
    "http://169.254.169.254/latest",
    "http://192.168.1.10/hook",
    "http://0.0.0.0/",
]


def test_deny_private_refuses_non_public_targets_at_registration(settings, clock):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings

    strict = make_settings(settings.database_url, HOTLINE_WEBHOOK_DENY_PRIVATE=True)
    app = create_app(strict, clock=clock, background=False)
    with TestClient(app) as tc:
        api = Api(tc, clock, app)
        api.city()
        for url in NOT_PUBLIC:  # carrier-grade NAT and a cloud's metadata address among them
            r = api.put(
                "/api/v1/units/ziyang-gov",
                json={
                    "name": "资阳区人民政府",
                    "kind": "district_government",
                    "district": "ziyang",
                    "webhook_url": url,
                    "webhook_secret": WATER_SECRET,
                },
            )
            assert r.status_code == 422, (url, r.text)
            assert [e["field"] for e in r.json()["errors"]] == ["webhook_url"]
        assert api.get("/api/v1/units/ziyang-gov").json()["webhook_url"] is None


def test_deny_private_fails_a_delivery_to_a_non_public_target_at_once(settings, clock, receiver, client):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings

    lenient = create_app(settings, clock=clock, background=False)
    with TestClient(lenient) as tc:  # targets registered while the setting was off
        api = Api(tc, clock, lenient)
        api.city()
        hook(api, "water-bureau", receiver.url("/water"), WATER_SECRET)
        hook(api, "heshan-gov", "http://100.100.100.200/hook", WATER_SECRET)
        api.ticket(units=["water-bureau", "heshan-gov"])
    strict = make_settings(settings.database_url, HOTLINE_WEBHOOK_DENY_PRIVATE=True)
    app = create_app(strict, clock=clock, background=False)
    with TestClient(app) as tc:
        api = Api(tc, clock, app)
        assert deliver_due(app.state.hotline, client=client) == 2
        rows = deliveries(api)
        assert receiver.got == []
        # Failed after one attempt, not retried twelve times over hours.
        assert [(d["state"], d["attempts"]) for d in rows] == [("failed", 1), ("failed", 1)]
        assert all(d["last_error"].startswith("refused:") for d in rows)
        assert deliver_due(app.state.hotline, client=client) == 0


def test_the_deliveries_list_is_scoped_filtered_and_paged(api):
    api.city()
    hook(api, "water-bureau", "http://water.example/hook", WATER_SECRET)
    hook(api, "heshan-gov", "http://heshan.example/hook", WATER_SECRET)
    for _ in range(3):
        api.ticket(units=["water-bureau", "heshan-gov"])
    assert len(deliveries(api)) == 6
    assert len(deliveries(api, "liaison", unit="heshan-gov")) == 3
    own = deliveries(api, "water-bureau")
    assert len(own) == 3 and {d["unit"] for d in own} == {"water-bureau"}
    assert len(deliveries(api, "water-bureau", unit="water-bureau")) == 3
    r = api.get("/api/v1/webhooks/deliveries", "water-bureau", params={"unit": "heshan-gov"})
    assert r.status_code == 403 and r.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/webhooks/deliveries", "hotline").status_code == 403
    assert api.client.get("/api/v1/webhooks/deliveries").status_code == 401
    assert deliveries(api, state="delivered") == []
    assert api.get("/api/v1/webhooks/deliveries?state=bogus").status_code == 422
    other = deliveries(api, "heshan-gov")[0]["id"]
    assert api.get(f"/api/v1/webhooks/deliveries/{other}", "water-bureau").status_code == 404

    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 4, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/webhooks/deliveries", params=params).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 6


# --- the background worker ----------------------------------------------------------------------


def _ingest_latencies(api, n: int, units: list[str]) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        api.ticket(units=units)
        out.append(time.perf_counter() - started)
    return out


@pytest.mark.serial
def test_hanging_receiver_neither_slows_ingestion_nor_holds_up_other_units(api, receiver):
    api.city()
    hook(api, "water-bureau", receiver.url("/hang"), WATER_SECRET)
    hook(api, "heshan-gov", receiver.url("/heshan"), HESHAN_SECRET)
    api.h("hotline")
    both = ["water-bureau", "heshan-gov"]

    def arrived(path: str) -> int:
        return sum(1 for g in list(receiver.got) if g.path == path)

    def wait_for(path: str, n: int, seconds: float) -> float:
        started = time.monotonic()
        while time.monotonic() < started + seconds and arrived(path) < n:
            time.sleep(0.02)
        return time.monotonic() - started

    _ingest_latencies(api, 3, both)  # warm up
    without_worker = _ingest_latencies(api, 15, both)
    stop = start_worker(state_of(api))
    try:
        healthy = _ingest_latencies(api, 15, both)
        wait_for("/hang", 33, 10)
        wait_for("/heshan", 33, 10)
        assert arrived("/hang") == arrived("/heshan") == 33

        receiver.mode = "hang"  # water's endpoint now accepts and never answers
        api.ticket(units=both)
        heshan_latency = wait_for("/heshan", 34, 5)
        assert arrived("/heshan") == 34 and arrived("/hang") == 33
        hanging = _ingest_latencies(api, 15, both)
        wait_for("/heshan", 49, 5)
        assert arrived("/heshan") == 49
    finally:
        receiver.release.set()
        stop()
    base, ok, hang = (statistics.median(x) * 1000 for x in (without_worker, healthy, hanging))
    print(
        f"\ningest median: no worker {base:.1f} ms, worker + healthy receivers {ok:.1f} ms, "
        f"worker + one hanging receiver {hang:.1f} ms; the other unit's delivery "
        f"{heshan_latency:.2f} s after the commit"
    )
    assert hang < ok * 2 + 20


@pytest.mark.serial
def test_worker_thread_delivers_within_five_seconds_of_the_commit(api, receiver):
    api.city()
    hook(api, "water-bureau", receiver.url("/water"), WATER_SECRET)
    api.h("hotline")
    stop = start_worker(state_of(api))
    try:
        time.sleep(0.3)  # the loop is idle, polling
        api.ticket()
        committed = time.monotonic()
        while time.monotonic() < committed + 5 and not receiver.got:
            time.sleep(0.02)
        latency = time.monotonic() - committed
    finally:
        stop()
    assert len(receiver.got) == 1 and verify(WATER_SECRET, receiver.got[0].headers, receiver.got[0].body)
    print(f"\nfirst attempt {latency * 1000:.0f} ms after the commit")
    assert latency < 5


# --- several workers (PostgreSQL) ---------------------------------------------------------------


@pytest.fixture
def postgres_only(settings):
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("several delivery processes need PostgreSQL (SQLite runs one)")


@pytest.mark.serial
def test_two_workers_deliver_each_row_exactly_once(api, receiver, settings, postgres_only):
    from app.state import build_state
    from app.webhooks import worker as worker_mod

    api.city()
    codes = ["water-bureau", "housing-bureau", "heshan-gov", "ziyang-gov"]
    for code in codes:
        hook(api, code, receiver.url(f"/{code}"), HESHAN_SECRET)
    for i in range(40):
        api.ticket(units=[codes[i % 4], codes[(i + 1) % 4], codes[(i + 2) % 4]])
    expected = {d["id"]: d["unit"] for d in deliveries(api)}
    assert len(expected) == 120

    states = [build_state(settings, api.clock) for _ in range(2)]
    clients = [worker_mod.make_client() for _ in range(2)]
    workers = [Worker(s, c, threads=4) for s, c in zip(states, clients, strict=True)]
    claimed = Counter[int]()
    start = threading.Barrier(2)

    def run(i: int) -> None:
        start.wait()
        idle_since = time.monotonic()
        while time.monotonic() - idle_since < 1.0:
            n = deliver_due(states[i], client=clients[i], worker=workers[i])
            claimed[i] += n
            if n:
                idle_since = time.monotonic()
            time.sleep(0.01)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for w, c, s in zip(workers, clients, states, strict=True):
        w.pool.shutdown(wait=True)
        c.close()
        s.db.dispose()
    got = Counter(g.headers["webhook-id"] for g in receiver.got)
    assert set(got) == set(expected)
    assert set(got.values()) == {1}, [k for k, v in got.items() if v > 1]
    for g in receiver.got:
        assert g.path == "/" + expected[g.headers["webhook-id"]]
    assert {d["state"] for d in deliveries(api)} == {"delivered"}
    print(f"\nrows claimed per worker: {dict(claimed)}")
    assert claimed[0] + claimed[1] == 120


@pytest.mark.serial
def test_concurrent_claims_never_overlap(api, settings, postgres_only):
    from app.state import build_state

    api.city()
    hook(api, "water-bureau", "http://water.example/hook", WATER_SECRET)
    for _ in range(30):
        api.ticket()
    states = [build_state(settings, api.clock) for _ in range(4)]
    results: list[list[str]] = [[] for _ in states]
    start = threading.Barrier(len(states))

    def claim(i: int) -> None:
        start.wait()
        for _ in range(10):
            for b in outbox.claim_due(states[i], now=api.clock.now(), max_units=5, per_unit=3):
                results[i] += [r.id for r in b.rows]

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(len(states))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for s in states:
        s.db.dispose()
    every = [x for r in results for x in r]
    assert len(every) == len(set(every)) == 30
