"""Operations: /metrics, request ids, what the logs may not carry, offline interactive docs."""

from __future__ import annotations

import io
import logging
import os
import re
import time
from html.parser import HTMLParser

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, text

from app.observability import JsonFormatter
from tests.conftest import ADMIN_KEY, METRICS


def metrics(api) -> dict[str, list]:
    r = api.client.get("/metrics", headers=METRICS)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    return {f.name: f.samples for f in text_string_to_metric_families(r.text)}


def value(samples, name: str, **labels: str) -> float:
    return sum(
        s.value for s in samples if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    )


def test_metrics_parse_and_count_requests_tickets_and_the_outbox(api):
    api.city()
    r = api.put(
        "/api/v1/units/water-bureau",
        json={"name": "水务局", "kind": "department", "webhook_url": "http://water.example/h"},
    )
    assert r.status_code == 200, r.text
    before = metrics(api)
    ingested = value(before["hotline_tickets_ingested"], "hotline_tickets_ingested_total")
    body = api.ticket_body()
    assert api.post("/api/v1/tickets", "hotline", json=body).status_code == 201
    assert api.post("/api/v1/tickets", "hotline", json=body).status_code == 200  # a repeat
    t = api.ticket()
    assert api.get(f"/api/v1/tickets/{t['id']}", "housing-bureau").status_code == 404

    after = metrics(api)
    assert value(after["hotline_tickets_ingested"], "hotline_tickets_ingested_total") - ingested == 2
    requests = after["hotline_http_requests"]
    route = "/api/v1/tickets/{ticket_id}"  # the route template, never the raw path
    assert value(requests, "hotline_http_requests_total", method="GET", route=route, status="404") >= 1
    assert (
        value(requests, "hotline_http_requests_total", method="POST", route="/api/v1/tickets", status="201")
        >= 2
    )
    assert not any(t["id"] in s.labels.get("route", "") for s in requests)
    latency = after["hotline_http_request_duration_seconds"]
    assert (
        value(latency, "hotline_http_request_duration_seconds_count", method="POST", route="/api/v1/tickets")
        >= 3
    )
    assert value(after["hotline_webhook_outbox_backlog"], "hotline_webhook_outbox_backlog") == 2
    for family in (
        "hotline_clocks_breached",
        "hotline_supervisions_opened",
        "hotline_webhook_delivery_failures",
        "hotline_sweep_duration_seconds",
    ):
        assert family in after, family


@pytest.mark.parametrize(
    ("given", "echoed"),
    [
        ("req-123.abc_DEF", "req-123.abc_DEF"),
        (None, None),
        ("bad id with spaces", None),
        ("x" * 101, None),
    ],
)
def test_request_id_is_echoed_or_made_up(api, given, echoed):
    headers = {"X-Request-ID": given} if given else {}
    r = api.client.get("/healthz", headers=headers)
    assert r.status_code == 200
    got = r.headers["x-request-id"]
    if echoed:
        assert got == echoed
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", got)
    problem = api.client.get("/api/v1/tickets", headers={"X-Request-ID": "on-errors-too"})
    assert problem.status_code == 401 and problem.headers["x-request-id"] == "on-errors-too"


def test_logs_are_json_and_carry_no_phone_numbers_or_keys(api):
    import json

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        api.city()
        key = api.keys.get("liaison") or api.h("liaison")["Authorization"].split()[1]
        api.ticket(caller={"name": "张三", "phone": "13800000001"})
        api.client.get(
            "/api/v1/deputies?phone=13800000001",
            headers={"Authorization": f"Bearer {ADMIN_KEY}", "X-Request-ID": "rid-1"},
        )
        api.client.get("/api/v1/tickets", headers={"Authorization": "Bearer wrong-key-13912345678"})
        logging.getLogger("hotline.test").info("caller 13900001111 rang")
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    text = stream.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    access = [x for x in lines if x["logger"] == "hotline.access"]
    assert access and all({"request_id", "route", "status", "ms"} <= x.keys() for x in access)
    assert any(x["request_id"] == "rid-1" for x in access)
    for secret in ("13800000001", "13912345678", "13900001111", ADMIN_KEY, key, "wrong-key"):
        assert secret not in text, secret
    assert "139****1111" in text


class Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.refs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, val in attrs:
            if name in ("src", "href", "spec-url") and val:
                self.refs.append(val)


@pytest.mark.parametrize(("page", "marker"), [("/docs", "SwaggerUIBundle"), ("/redoc", "<redoc")])
def test_interactive_docs_load_every_asset_from_the_service(api, page, marker):
    r = api.client.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert marker in r.text
    parser = Assets()
    parser.feed(r.text)
    refs = parser.refs + re.findall(r"url: '([^']+)'", r.text)
    assert refs
    assert not [u for u in refs if "//" in u], "the docs must not reach for a CDN"
    for ref in refs:
        asset = api.client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.content) > 100, ref
    assert "/openapi.json" in refs
    assert api.client.get("/docs/assets/../../etc/passwd").status_code == 404
    assert api.client.get("/docs/assets/core.py").status_code == 404


def test_openapi_describes_the_webhook_endpoints_and_hides_the_docs(api):
    spec = api.client.get("/openapi.json").json()
    assert "/api/v1/webhooks/deliveries" in spec["paths"]
    assert "/api/v1/webhooks/deliveries/{delivery_id}/redeliver" in spec["paths"]
    assert not any(p.startswith("/docs") or p == "/redoc" for p in spec["paths"])


@pytest.mark.skipif(
    not os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="PostgreSQL: the server ends pooled connections",
)
def test_connections_the_server_ended_are_replaced_before_a_request_uses_them(api, db_url):
    """A database restart (here: every backend of the pool terminated) costs no request."""
    api.city()
    ticket = api.ticket()
    assert api.get(f"/api/v1/tickets/{ticket['id']}", "hotline").status_code == 200
    engine = create_engine(db_url)
    with engine.connect() as conn:
        pids = (
            conn.execute(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()"
                )
            )
            .scalars()
            .all()
        )
        assert pids and all(
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": p}).scalar_one() for p in pids
        )
        for _ in range(100):  # terminate only signals: wait until the backends are gone
            conn.commit()  # a transaction sees one snapshot of pg_stat_activity
            if not conn.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:pids)"), {"pids": pids}
            ).scalar_one():
                break
            time.sleep(0.05)
    engine.dispose()
    # A read and a write, each on a pooled connection the server has closed.
    assert api.get(f"/api/v1/tickets/{ticket['id']}", "hotline").status_code == 200
    assert (
        api.post("/api/v1/tickets", "hotline", json=api.ticket_body(hotline_no="after-restart")).status_code
        == 201
    )


@pytest.mark.skipif(
    os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="SQLite's connection settings",
)
def test_sqlite_connections_are_set_up_for_one_writer_and_many_readers(api):
    db = api.app.state.hotline.db
    pragmas = ("journal_mode", "foreign_keys", "busy_timeout", "synchronous", "wal_autocheckpoint")
    with db.writer.connect() as conn:
        writer = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]
    with db.reader.connect() as conn:
        reader = [conn.exec_driver_sql(f"PRAGMA {p}").scalar() for p in pragmas]
    # WAL, foreign keys, waiting (a bounded 3 s, then 503) instead of failing, no fsync per
    # commit (WAL keeps it safe against a crash of the process); the writer checkpoints in
    # 40 MB steps.
    assert writer == ["wal", 1, 3000, 1, 10000]
    assert reader == ["wal", 1, 3000, 1, 1000]
