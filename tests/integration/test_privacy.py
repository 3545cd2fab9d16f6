"""Privacy: callers' phone numbers never reach the logs, keys are shown once, unit keys see
only their own business."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator

import pytest

from app.observability import JsonFormatter

PHONE = "13800000001"
OTHER_PHONE = "13912345678"
WHOLE_MOBILE = re.compile(r"(?<!\d)1\d{10}(?!\d)")


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The JSON lines the service would write (app/observability.py's formatter), all levels."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


def test_phone_numbers_never_in_logs(api, json_log, caplog):
    caplog.set_level(logging.DEBUG)
    api.city()
    body = api.ticket_body(caller={"name": "王五", "phone": OTHER_PHONE})
    assert api.post("/api/v1/tickets", "hotline", json=body).status_code == 201
    assert api.post("/api/v1/tickets", "hotline", json=body).status_code == 200
    changed = {**body, "content": "另一件事"}
    assert api.post("/api/v1/tickets", "hotline", json=changed).status_code == 409
    bad = {**body, "hotline_no": "YY-PRIV-2", "called_at": "2025-09-30T09:00:00"}
    assert api.post("/api/v1/tickets", "hotline", json=bad).status_code == 422
    bad = {**body, "hotline_no": "YY-PRIV-3", "category": "nope"}
    assert api.post("/api/v1/tickets", "hotline", json=bad).status_code == 422
    t = api.ticket(caller={"name": "张三", "phone": PHONE})
    assert api.get(f"/api/v1/tickets/{t['id']}").status_code == 200
    assert api.get("/api/v1/deputies", params={"phone": PHONE}).status_code == 200
    assert api.get(f"/api/v1/tickets/by-hotline-no/{PHONE}").status_code == 404
    r = api.post("/api/v1/deputies", json={"name": "张三", "phone": PHONE, "level": "city"})
    assert r.status_code == 409
    r = api.post(
        "/api/v1/deputies/import",
        headers={"Content-Type": "text/csv"},
        content=f"name,phone,level,district,delegation\n李四,{OTHER_PHONE},bogus,,\n".encode(),
    )
    assert r.status_code == 200, r.text
    written = json_log.getvalue()
    assert "hotline.access" in written, "the request log lines were not captured"
    for phone in (PHONE, OTHER_PHONE):
        assert phone not in written
    assert not WHOLE_MOBILE.search(written), WHOLE_MOBILE.search(written)
    for rec in caplog.records:  # no service record carries it in its message either
        if rec.name.startswith(("httpx", "httpcore")):
            continue  # the test client's own log of the URL it called
        assert PHONE not in rec.getMessage() and OTHER_PHONE not in rec.getMessage()


def test_json_formatter_masks_phones_in_structured_fields():
    """Any field of a log line, not only strings at the top level, is masked."""
    record = logging.LogRecord("hotline.test", logging.INFO, __file__, 1, "caller %s", (PHONE,), None)
    record.caller = {"name": "张三", "phone": PHONE}
    record.phones = [OTHER_PHONE]
    line = JsonFormatter().format(record)
    assert PHONE not in line.split('"msg"')[1].split(",")[0]  # the message is masked
    assert PHONE not in line and OTHER_PHONE not in line, line


def test_keys_are_shown_only_at_creation(api, json_log):
    r = api.post("/api/v1/keys", json={"role": "liaison", "label": "privacy"})
    assert r.status_code == 201
    key = r.json()["key"]
    assert key.startswith("dhk_")
    r = api.get("/api/v1/keys")
    assert r.status_code == 200
    for item in r.json():
        assert "key" not in item and "key_hash" not in item and "hash" not in item
    assert key not in r.text
    assert key[4:] not in r.text
    # the key works, and neither it nor its hash is ever logged
    assert api.client.get("/api/v1/units", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    from app.auth import hash_key

    assert key not in json_log.getvalue() and hash_key(key) not in json_log.getvalue()


def test_unit_keys_see_only_their_own(api):
    api.city()
    for code in ("water-bureau", "housing-bureau"):
        r = api.put(
            f"/api/v1/units/{code}",
            json={"name": code, "kind": "department", "webhook_url": f"http://127.0.0.1:9/{code}"},
        )
        assert r.status_code == 200, r.text
    water = api.ticket()
    housing = api.ticket(category="housing", units=["housing-bureau"])
    me = "water-bureau"
    assert api.get("/api/v1/tickets", me).status_code == 403
    assert api.get(f"/api/v1/tickets/by-hotline-no/{water['hotline_no']}", me).status_code == 403
    assert api.get(f"/api/v1/tickets/{housing['id']}", me).status_code == 404
    assert api.get(f"/api/v1/tickets/{housing['id']}/events", me).status_code == 404
    assert api.get(f"/api/v1/tickets/{water['id']}", me).status_code == 200
    for path, params in (
        ("/api/v1/reports/monthly", {"month": "2025-09"}),
        ("/api/v1/reports/annual", {"year": "2025"}),
        ("/api/v1/reports/deputies", {"year": "2025"}),
    ):
        r = api.get(path, me, params=params)
        assert r.status_code == 403, (path, r.status_code)
        assert r.headers["content-type"] == "application/problem+json"
    assert api.get("/api/v1/deputies", me).status_code == 403
    assert api.get("/api/v1/keys", me).status_code == 403
    assert api.get("/api/v1/units/housing-bureau/queue", me).status_code == 403
    r = api.get("/api/v1/webhooks/deliveries", me, params={"unit": "housing-bureau"})
    assert r.status_code == 403
    r = api.get("/api/v1/webhooks/deliveries", me)
    assert r.status_code == 200
    mine = r.json()["items"]
    assert mine and {d["unit"] for d in mine} == {me}
    theirs = api.get("/api/v1/webhooks/deliveries", params={"unit": "housing-bureau"}).json()
    assert theirs["items"]
    other_id = theirs["items"][0]["id"]
    assert api.get(f"/api/v1/webhooks/deliveries/{other_id}", me).status_code == 404
    assert api.post(f"/api/v1/webhooks/deliveries/{other_id}/redeliver", me).status_code == 403
    assert api.post(f"/api/v1/webhooks/deliveries/{mine[0]['id']}/redeliver", me).status_code == 403


def test_a_units_webhook_address_is_shown_to_the_admin_and_the_unit_itself_only(api):
    api.city()
    url = "https://hooks.water.example/hotline"
    r = api.put(
        "/api/v1/units/water-bureau",
        json={
            "name": "益阳市水务局",
            "kind": "department",
            "webhook_url": url,
            "webhook_secret": "s3cret-0123456789abcdef",
        },
    )
    assert r.status_code == 200 and r.json()["webhook_url"] == url
    for who, sees in (
        ("admin", True),
        ("water-bureau", True),
        ("housing-bureau", False),
        ("heshan-gov", False),
        ("hotline", False),
        ("liaison", False),
    ):
        one = api.get("/api/v1/units/water-bureau", who).json()
        listed = {u["code"]: u for u in api.get("/api/v1/units", who).json()}["water-bureau"]
        for seen in (one, listed):
            assert seen["webhook_url"] == (url if sees else None), who
            assert seen["webhook_secret_set"] is True
