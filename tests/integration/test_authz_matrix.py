"""Authorization matrix: every /api/v1 route of the app × every kind of caller.

EXPECTED is the explicit table (API.md "Conventions" and the per-route "who" columns,
SPEC.md "Who may read a ticket"). A route that the app serves but the table does not
name fails `test_every_route_is_in_the_table`: add new routes here when you add them.

Callers: no key, an unknown key, admin, hotline, liaison, `own` (the lead unit of the
fixture ticket), `co` (its co-handler), `other` (a unit with no business on it) and
`sup` (the special committee holding a supervision case on it).

Expectations: 401, 403, 404 exactly; OK means "allowed": anything but 401/403 and < 500
(bodies may be minimal, so 409/422 are fine for an allowed caller).
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import create_engine, select

OK = "ok"
CALLERS = ("none", "bad", "admin", "hotline", "liaison", "own", "co", "other", "sup")
UNITS = {"own": "water-bureau", "co": "heshan-gov", "other": "housing-bureau", "sup": "urban-env-committee"}


def allow(*who: str, default: int = 403, **special: int) -> dict[str, Any]:
    """OK for `who`, `default` for every other caller with a key, 401 without one."""
    row: dict[str, Any] = {"none": 401, "bad": 401}
    for c in CALLERS[2:]:
        row[c] = OK if c in who else default
    row.update(special)
    return row


ANY = ("admin", "hotline", "liaison", "own", "co", "other", "sup")
PRIV = ("admin", "hotline", "liaison")
UNITS_ALL = ("own", "co", "other", "sup")
# A ticket route every reader may call; units that may not read the ticket get 404.
TICKET_READ = allow(*PRIV, "own", "co", "sup", other=404)
# Reserved to the lead unit: other roles 403, assigned/supervising units 403, strangers 404.
LEAD_ACTION = allow("own", other=404)
CO_ACTION = allow("co", other=404)

EXPECTED: dict[tuple[str, str], dict[str, Any]] = {
    # registry
    ("POST", "/api/v1/keys"): allow("admin"),
    ("GET", "/api/v1/keys"): allow("admin"),
    ("DELETE", "/api/v1/keys/{key_id}"): allow("admin"),
    ("PUT", "/api/v1/units/{code}"): allow("admin"),
    ("GET", "/api/v1/units"): allow(*ANY),
    ("GET", "/api/v1/units/{code}"): allow(*ANY),
    ("PUT", "/api/v1/categories/{code}"): allow("admin"),
    ("GET", "/api/v1/categories"): allow(*ANY),
    ("GET", "/api/v1/categories/{code}"): allow(*ANY),
    ("POST", "/api/v1/deputies"): allow("admin", "liaison"),
    ("GET", "/api/v1/deputies"): allow(*PRIV),
    ("GET", "/api/v1/deputies/{deputy_id}"): allow(*PRIV),
    ("POST", "/api/v1/deputies/import"): allow("admin", "liaison"),
    ("PATCH", "/api/v1/deputies/{deputy_id}"): allow("admin", "liaison"),
    ("PUT", "/api/v1/districts/{code}"): allow("admin"),
    ("GET", "/api/v1/districts"): allow(*ANY),
    ("GET", "/api/v1/districts/{code}"): allow(*ANY),
    # people's accounts (admin; liaison for deputies and stations: other accounts → 404)
    ("POST", "/api/v1/accounts"): allow("admin", "liaison"),
    ("GET", "/api/v1/accounts"): allow("admin", "liaison"),
    ("GET", "/api/v1/accounts/{account_id}"): allow("admin", "liaison"),
    ("POST", "/api/v1/accounts/{account_id}/invite"): allow("admin", "liaison"),
    ("POST", "/api/v1/accounts/{account_id}/disable"): allow("admin", "liaison"),
    ("POST", "/api/v1/accounts/{account_id}/enable"): allow("admin", "liaison"),
    # tickets
    ("POST", "/api/v1/tickets"): allow("hotline"),
    ("GET", "/api/v1/tickets"): allow(*PRIV),
    ("GET", "/api/v1/tickets/by-hotline-no/{hotline_no}"): allow(*PRIV),
    ("GET", "/api/v1/tickets/{ticket_id}"): TICKET_READ,
    ("GET", "/api/v1/tickets/{ticket_id}/events"): TICKET_READ,
    ("POST", "/api/v1/tickets/{ticket_id}/contact"): LEAD_ACTION,
    ("POST", "/api/v1/tickets/{ticket_id}/opinions"): CO_ACTION,
    ("POST", "/api/v1/tickets/{ticket_id}/resolve"): LEAD_ACTION,
    ("POST", "/api/v1/tickets/{ticket_id}/feedback"): LEAD_ACTION,
    ("POST", "/api/v1/tickets/{ticket_id}/return"): LEAD_ACTION,
    ("POST", "/api/v1/tickets/{ticket_id}/extensions"): LEAD_ACTION,
    ("POST", "/api/v1/tickets/{ticket_id}/dispatch"): allow("hotline"),
    ("POST", "/api/v1/tickets/{ticket_id}/rating"): allow("hotline"),
    ("POST", "/api/v1/extensions/{extension_id}/decision"): allow("hotline", "liaison"),
    ("GET", "/api/v1/extensions/{extension_id}"): TICKET_READ,
    # queue: that unit's key (the path names `own`), liaison, admin
    ("GET", "/api/v1/units/{code}/queue"): allow("admin", "liaison", "own"),
    # supervision: liaison, admin, the supervising unit (its own; others do not see it → 404)
    ("GET", "/api/v1/supervisions"): allow("admin", "liaison", *UNITS_ALL),
    ("GET", "/api/v1/supervisions/{case_id}"): allow("admin", "liaison", "sup", own=404, co=404, other=404),
    ("POST", "/api/v1/supervisions"): allow("liaison"),
    ("POST", "/api/v1/supervisions/{case_id}/meetings"): allow("liaison"),
    ("POST", "/api/v1/supervisions/{case_id}/notes"): allow("liaison", "sup", own=404, co=404, other=404),
    ("POST", "/api/v1/supervisions/{case_id}/close"): allow("liaison", "sup", own=404, co=404, other=404),
    # calendar and SLA
    ("GET", "/api/v1/calendar/working-days/add"): allow(*ANY),
    ("GET", "/api/v1/calendar/{year}"): allow(*ANY),
    ("PUT", "/api/v1/calendar/{year}"): allow("admin"),
    ("DELETE", "/api/v1/calendar/{year}"): allow("admin"),
    ("POST", "/api/v1/admin/sla-sweep"): allow("admin"),
    # reports (liaison, admin) — being added concurrently
    ("GET", "/api/v1/reports/monthly"): allow("admin", "liaison"),
    ("GET", "/api/v1/reports/annual"): allow("admin", "liaison"),
    ("GET", "/api/v1/reports/deputies"): allow("admin", "liaison"),
    ("GET", "/api/v1/reports/stations"): allow("admin", "liaison"),
    ("GET", "/api/v1/reports/invitations"): allow("admin", "liaison"),
    # stations and receptions (Part II): written by admin and liaison, read by every key but
    # a unit's; receptions by their station (not in this matrix) and the liaison committee
    ("PUT", "/api/v1/stations/{code}"): allow("admin", "liaison"),
    ("GET", "/api/v1/stations"): allow(*PRIV),
    ("GET", "/api/v1/stations/{code}"): allow(*PRIV),
    ("POST", "/api/v1/stations/{code}/receptions"): allow("liaison"),
    ("GET", "/api/v1/stations/{code}/receptions"): allow("admin", "liaison"),
    # voters' messages (Part II): deputies and stations are not callers of this matrix
    ("POST", "/api/v1/messages"): allow("liaison"),
    ("GET", "/api/v1/messages"): allow("admin", "liaison"),
    ("GET", "/api/v1/messages/{message_id}"): allow("admin", "liaison"),
    ("POST", "/api/v1/messages/{message_id}/reply"): allow("liaison"),
    ("POST", "/api/v1/messages/{message_id}/decline"): allow("liaison"),
    ("POST", "/api/v1/messages/{message_id}/forward"): allow("liaison"),
    ("GET", "/api/v1/deputies/{deputy_id}/qr"): allow("admin", "liaison"),
    ("POST", "/api/v1/deputies/{deputy_id}/code/rotate"): allow("admin", "liaison"),
    ("POST", "/api/v1/deputies/{deputy_id}/code/disable"): allow("admin", "liaison"),
    # terms, duty reports and points (SPEC Part II)
    ("PUT", "/api/v1/terms/{code}"): allow("admin", "liaison"),
    ("GET", "/api/v1/terms"): allow("admin", "liaison"),
    ("GET", "/api/v1/terms/{code}"): allow("admin", "liaison"),
    ("POST", "/api/v1/deputies/{deputy_id}/duty-reports"): allow("liaison"),
    ("GET", "/api/v1/deputies/{deputy_id}/duty-reports"): allow("admin", "liaison"),
    ("GET", "/api/v1/reports/duty-reports"): allow("admin", "liaison"),
    ("PUT", "/api/v1/point-rules/{type}"): allow("admin", "liaison"),
    ("GET", "/api/v1/point-rules"): allow("admin", "liaison"),
    ("POST", "/api/v1/deputies/{deputy_id}/activities"): allow("liaison"),
    ("GET", "/api/v1/reports/points"): allow("admin", "liaison"),
    ("GET", "/api/v1/reports/points/{deputy_id}"): allow("admin", "liaison"),
    # invitations (Part II): submitted by a station or the liaison committee, read by the
    # committee, admin, the invited unit (`own`) and the submitting station (not in this
    # matrix); anyone else 404. Each action is its party's alone (API.md).
    ("POST", "/api/v1/invitations"): allow("liaison"),
    ("GET", "/api/v1/invitations"): allow("admin", "liaison", *UNITS_ALL),
    ("GET", "/api/v1/invitations/{invitation_id}"): allow(
        "admin", "liaison", "own", co=404, other=404, sup=404
    ),
    ("GET", "/api/v1/invitations/{invitation_id}/letter"): allow(
        "admin", "liaison", "own", co=404, other=404, sup=404
    ),
    ("GET", "/api/v1/invitations/{invitation_id}/form"): allow(
        "admin", "liaison", "own", co=404, other=404, sup=404
    ),
    ("POST", "/api/v1/invitations/{invitation_id}/review"): allow("liaison"),
    ("POST", "/api/v1/invitations/{invitation_id}/acknowledge"): allow("own", co=404, other=404, sup=404),
    ("POST", "/api/v1/invitations/{invitation_id}/extensions"): allow("own", co=404, other=404, sup=404),
    ("POST", "/api/v1/invitations/{invitation_id}/report"): allow("own", co=404, other=404, sup=404),
    ("POST", "/api/v1/invitations/{invitation_id}/evaluation"): allow("liaison"),
    ("POST", "/api/v1/extensions/{extension_id}/notes"): allow(),
    # webhook deliveries (admin, liaison, a unit its own); redeliver (admin, liaison)
    ("GET", "/api/v1/webhooks/deliveries"): allow("admin", "liaison", *UNITS_ALL),
    ("GET", "/api/v1/webhooks/deliveries/{delivery_id}"): allow(
        "admin", "liaison", "own", co=404, other=404, sup=404
    ),
    ("POST", "/api/v1/webhooks/deliveries/{delivery_id}/redeliver"): allow("admin", "liaison"),
}


def _flat(routes: Any, prefix: str = "") -> Any:
    """Every route, through included routers (FastAPI >= 0.16x keeps them nested)."""
    for r in routes:
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes, prefix + r.include_context.prefix)
        elif isinstance(r, APIRoute):
            yield prefix + r.path, r


def api_routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for path, r in _flat(app.routes):
        if path.startswith("/api/v1"):
            out |= {(m, path) for m in r.methods if m not in ("HEAD", "OPTIONS")}
    assert out, "no /api/v1 route found: the walk above no longer matches FastAPI's routes"
    return out


def test_every_route_is_in_the_table(api):
    missing = sorted(api_routes(api.app) - set(EXPECTED))
    assert not missing, (
        "routes served but missing from EXPECTED in tests/integration/test_authz_matrix.py "
        f"(add who may call them): {missing}"
    )


def test_openapi_documents_every_route(api):
    paths = api.client.get("/openapi.json").json()["paths"]
    documented = {(m.upper(), p) for p, ops in paths.items() for m in ops}
    assert api_routes(api.app) <= documented


# --- the world the matrix runs against ------------------------------------------------


def _world(api) -> dict[str, str]:
    api.city()
    r = api.put(
        "/api/v1/units/water-bureau",
        json={
            "name": "益阳市水务局",
            "kind": "department",
            "webhook_url": "http://127.0.0.1:9/hook",
            "webhook_secret": "s" * 24,
        },
    )
    assert r.status_code == 200, r.text  # replaces the unit city() created
    t = api.ticket(units=["water-bureau", "heshan-gov"])
    tid = t["id"]
    r = api.post(
        f"/api/v1/tickets/{tid}/extensions",
        "water-bureau",
        json={"working_days": 2, "reason": "need more time"},
    )
    assert r.status_code == 201, r.text
    ext = r.json()["id"]
    for path, body in (
        ("contact", {"method": "phone", "deputy_invited": False}),
        ("resolve", {"outcome": "solved", "reply": "fixed"}),
        ("feedback", {"method": "phone", "content": "told"}),
    ):
        r = api.post(f"/api/v1/tickets/{tid}/{path}", "water-bureau", json=body)
        assert r.status_code == 200, r.text
    r = api.post(f"/api/v1/tickets/{tid}/rating", "hotline", json={"rating": "unsatisfied"})
    assert r.status_code == 200, r.text
    r = api.get("/api/v1/supervisions", params={"ticket_id": tid, "kind": "committee"})
    cases = r.json()["items"]
    assert cases and cases[0]["unit"] == "urban-env-committee", cases
    r = api.post("/api/v1/deputies", json={"name": "李四", "phone": "13900000002", "level": "city"})
    assert r.status_code == 201, r.text
    from app.models import WebhookDelivery

    engine = create_engine(api.app.state.hotline.settings.database_url)
    with engine.connect() as conn:
        delivery = conn.scalar(
            select(WebhookDelivery.id).where(WebhookDelivery.unit_code == "water-bureau").limit(1)
        )
    assert delivery, "the lead unit has a webhook_url, so ticket.assigned must be in the outbox"
    engine.dispose()
    deputy_id = r.json()["id"]
    r = api.put(
        "/api/v1/stations/dongcheng",
        json={"name": "东城街道代表联络站", "district": "heshan", "kind": "physical"},
    )
    assert r.status_code == 201, r.text  # a new station
    r = api.post(
        "/api/v1/invitations",
        "liaison",
        json={"station": "dongcheng", "unit": "water-bureau", "subject": "约请", "content": "面商"},
    )
    assert r.status_code == 201, r.text
    invitation = r.json()["id"]
    r = api.post(f"/api/v1/invitations/{invitation}/review", "liaison", json={"approve": True})
    assert r.status_code == 200, r.text
    for who in ("hotline", "liaison", *UNITS.values()):
        api.h(who)  # issue the keys before the matrix runs
    return {
        "ticket_id": tid,
        "hotline_no": t["hotline_no"],
        "extension_id": ext,
        "case_id": cases[0]["id"],
        "code": "water-bureau",
        "deputy_id": deputy_id,
        "invitation_id": invitation,
        "year": "2025",
        "delivery_id": delivery,
    }


BODIES: dict[str, Any] = {
    "contact": {"method": "phone", "deputy_invited": False},
    "opinions": {"content": "agree"},
    "resolve": {"outcome": "solved", "reply": "done"},
    "feedback": {"method": "phone", "content": "told"},
    "return": {"reason": "not ours"},
    "extensions": {"working_days": 1, "reason": "more"},
    "notes": {"content": "note"},
    "close": {"conclusion": "done"},
    "review": {"approve": True},
    "acknowledge": {
        "meeting_at": "2025-10-09T09:00:00+08:00",
        "responsible_person": "李四",
        "contact_phone": "0737-4200000",
    },
    "report": {"summary": "s", "measures": "m", "outcome": "solved", "responsible_person": "李四"},
    "evaluation": {"rating": "satisfied"},
}


def _request(api, world: dict[str, str], method: str, path: str, caller: str) -> Any:
    params = dict(world)
    if path.endswith("/keys/{key_id}"):
        r = api.post("/api/v1/keys", json={"role": "liaison", "label": "to revoke"})
        params["key_id"] = r.json()["id"]
    if method in ("PUT", "DELETE") and "/calendar/" in path:
        params["year"] = "2031"
    url = path.format_map(_Default(params))
    if caller == "none":
        headers: dict[str, str] = {}
    elif caller == "bad":
        headers = {"Authorization": "Bearer dhk_not-a-key-that-exists"}
    else:
        headers = api.h(UNITS.get(caller, caller))
    kw: dict[str, Any] = {}
    query: dict[str, str] = {}
    if path.endswith("/deputies/import"):
        kw["content"] = b"name,phone,level,district,delegation\n"
        headers = {**headers, "Content-Type": "text/csv"}
    elif method in ("POST", "PUT"):
        kw["json"] = BODIES.get(path.rsplit("/", 1)[-1], {})
    if path.endswith("/working-days/add"):
        query = {"start": "2025-09-30", "days": "3"}
    elif path.endswith(("/reports/monthly", "/reports/stations")):
        query = {"month": "2025-09"}
    elif path.endswith(("/reports/annual", "/reports/deputies", "/reports/invitations")):
        query = {"year": "2025"}
    return api.client.request(method, url, headers=headers, params=query, **kw)


class _Default(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "x"


def _order(route: tuple[str, str]) -> tuple[int, str, str]:
    # State-changing closers go last so that earlier rows see the ticket and case as set up.
    last = route[1].endswith(("/close", "/rating", "/resolve", "/return"))
    return (1 if last else 0, route[1], route[0])


def test_authorization_matrix(api):
    world = _world(api)
    served = api_routes(api.app)
    failures = []
    for method, path in sorted(served & set(EXPECTED), key=_order):
        row = EXPECTED[(method, path)]
        # denied callers first: an allowed caller may change state the others rely on
        for caller in sorted(CALLERS, key=lambda c: row[c] == OK):
            expected = row[caller]
            r = _request(api, world, method, path, caller)
            got = r.status_code
            good = (got not in (401, 403) and got < 500) if expected == OK else got == expected
            if good and got >= 400 and r.headers.get("content-type") != "application/problem+json":
                good = False
            if not good:
                failures.append(f"{method} {path} as {caller}: expected {expected}, got {got} {r.text[:160]}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("header", ["Bearer", "Basic dGVzdDp0ZXN0", "Bearer  ", "dhk_x", "Token x"])
def test_malformed_authorization_is_401(api, header):
    r = api.client.get("/api/v1/units", headers={"Authorization": header})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"


def test_revoked_key_is_401(api):
    r = api.post("/api/v1/keys", json={"role": "liaison", "label": "soon gone"})
    key, kid = r.json()["key"], r.json()["id"]
    assert api.client.get("/api/v1/units", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert api.call("DELETE", f"/api/v1/keys/{kid}").status_code == 204
    r = api.client.get("/api/v1/units", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401


@pytest.mark.parametrize("auth", [{}, {"Authorization": "Bearer dhk_unknown"}], ids=["none", "bad"])
def test_malformed_json_without_a_valid_key_is_401(api, auth):
    r = api.client.post("/api/v1/tickets", content=b"{", headers={"Content-Type": "application/json", **auth})
    assert r.status_code == 401, r.text
