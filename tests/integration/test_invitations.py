"""Invitations (约请, SPEC Part II): every row of the status machine, every refused action,
the letter numbers under concurrent approvals, the supervision case of a new round."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.builders import Api

STATION = "station:dongcheng"
OTHER_STATION = "station:xicheng"
UNIT = "water-bureau"
OTHER_UNIT = "housing-bureau"


def city(api: Api) -> Api:
    api.city()
    deputy = api.get("/api/v1/deputies", params={"phone": "13800000001"}).json()
    deputy_id = deputy["items"][0]["id"]
    for code, name in (("dongcheng", "东城街道代表联络站"), ("xicheng", "西城街道代表联络站")):
        r = api.put(
            f"/api/v1/stations/{code}",
            json={"name": name, "district": "heshan", "kind": "physical", "deputies": [deputy_id]},
        )
        assert r.status_code == 201, r.text
    api.deputy_id = deputy_id  # type: ignore[attr-defined]
    return api


def submit(api: Api, who: str = STATION, **overrides: Any) -> dict[str, Any]:
    body = {
        "station": "dongcheng",
        "unit": UNIT,
        "subject": "老旧小区二次供水改造",
        "content": "东城街道三个小区水压不足，选民多次反映，请水务局到站面商。",
        "deputies": [api.deputy_id],
    }  # type: ignore[attr-defined]
    body.update(overrides)
    r = api.post("/api/v1/invitations", who, json=body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def act(api: Api, inv_id: str, step: str, who: str, **body: Any) -> httpx.Response:
    return api.post(f"/api/v1/invitations/{inv_id}/{step}", who, json=body)  # type: ignore[no-any-return]


ACK = {
    "meeting_at": "2025-10-10T09:30:00+08:00",
    "responsible_person": "李四",
    "contact_phone": "0737-4200000",
}
REPORT = {
    "summary": "到站面商，现场查看三个小区",
    "measures": "更换加压泵，排期改造管网",
    "outcome": "stepwise",
    "responsible_person": "李四",
}


def issued(api: Api) -> dict[str, Any]:
    inv = submit(api)
    r = act(api, inv["id"], "review", "liaison", approve=True)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def in_status(api: Api, status: str) -> dict[str, Any]:
    """A new invitation brought to `status` through the API."""
    inv = submit(api)
    if status == "submitted":
        return inv
    if status == "rejected":
        return act(api, inv["id"], "review", "liaison", approve=False, note="不属于约请范围").json()
    steps = [
        ("review", "liaison", {"approve": True}),
        ("acknowledge", UNIT, ACK),
        ("report", UNIT, REPORT),
        ("evaluation", STATION, {"rating": "satisfied"}),
    ]
    target = {"issued": 1, "acknowledged": 2, "reported": 3, "closed": 4}[status]
    for step, who, body in steps[:target]:
        r = act(api, inv["id"], step, who, **body)
        assert r.status_code == 200, r.text
        inv = r.json()
    assert inv["status"] == status
    return inv


def test_an_invitation_walks_every_row_with_a_second_round(api):
    city(api)
    inv = submit(api)
    assert (inv["status"], inv["round"], inv["number"]) == ("submitted", 1, None)
    assert inv["station_name"] == "东城街道代表联络站" and inv["unit_name"] == "益阳市水务局"
    inv = act(api, inv["id"], "review", "liaison", approve=True, note="同意约请").json()
    assert (inv["status"], inv["number"]) == ("issued", "人大约〔2025〕1号")
    assert [c["kind"] for c in inv["clocks"]] == ["acknowledge"]
    inv = act(api, inv["id"], "acknowledge", UNIT, **ACK).json()
    assert inv["status"] == "acknowledged"
    assert inv["acknowledgment"]["responsible_person"] == "李四"
    assert [(c["kind"], c["state"]) for c in inv["clocks"]] == [
        ("acknowledge", "met"),
        ("complete", "running"),
    ]
    inv = act(api, inv["id"], "report", UNIT, **REPORT).json()
    assert inv["status"] == "reported" and inv["report"]["outcome"] == "stepwise"
    inv = act(api, inv["id"], "evaluation", STATION, rating="不满意", comment="仍未解决").json()
    assert (inv["status"], inv["round"]) == ("acknowledged", 2)
    assert inv["evaluation"]["rating"] == "unsatisfied"
    complete = [c for c in inv["clocks"] if c["kind"] == "complete"]
    assert [(c["round"], c["state"]) for c in complete] == [(1, "met"), (2, "running")]
    (case,) = inv["supervisions"]
    assert (case["kind"], case["round"], case["state"]) == ("invitation", 2, "open")
    listed = api.get("/api/v1/supervisions", "liaison", params={"kind": "invitation"}).json()
    assert [
        (c["id"], c["invitation_id"], c["invitation_number"], c["unit"], c["ticket_id"])
        for c in listed["items"]
    ] == [(case["id"], inv["id"], "人大约〔2025〕1号", None, None)]
    r = api.post(f"/api/v1/supervisions/{case['id']}/notes", "liaison", json={"content": "督促"})
    assert r.status_code == 200, r.text
    inv = act(api, inv["id"], "report", UNIT, **{**REPORT, "outcome": "solved"}).json()
    assert (inv["status"], inv["round"]) == ("reported", 2)
    assert [r["round"] for r in inv["reports"]] == [1, 2]
    inv = act(api, inv["id"], "evaluation", "liaison", rating="basically_satisfied").json()
    assert inv["status"] == "closed"
    types = [e["type"] for e in inv["history"]]
    assert types == [
        "invitation.submitted",
        "invitation.issued",
        "clock.met",
        "invitation.acknowledged",
        "clock.met",
        "invitation.reported",
        "supervision.opened",
        "invitation.evaluated",
        "supervision.note",
        "clock.met",
        "invitation.reported",
        "invitation.evaluated",
    ]
    assert inv["history"][1]["actor"] == api.actor("liaison")


def test_a_rejection_needs_a_reason_and_ends_the_request(api):
    city(api)
    inv = submit(api)
    r = act(api, inv["id"], "review", "liaison", approve=False)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "note"
    assert api.get(f"/api/v1/invitations/{inv['id']}", "liaison").json()["status"] == "submitted"
    inv = act(api, inv["id"], "review", "liaison", approve=False, note="请先向街道反映").json()
    assert (inv["status"], inv["number"], inv["review"]["note"]) == ("rejected", None, "请先向街道反映")
    assert act(api, inv["id"], "review", "liaison", approve=True).status_code == 409


# Who may do what (SPEC's table and API.md's conventions): a role the route does not admit
# → 403; a key that may not read the invitation → 404; a reader not named by the row → 403;
# the named party out of order → 409.
ACTIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "approve": ("review", {"approve": True}),
    "reject": ("review", {"approve": False, "note": "理由"}),
    "acknowledge": ("acknowledge", ACK),
    "extension": ("extensions", {"working_days": 5, "reason": "需协调多个部门"}),
    "report": ("report", REPORT),
    "satisfied": ("evaluation", {"rating": "satisfied"}),
    "unsatisfied": ("evaluation", {"rating": "unsatisfied"}),
}
ROUTE_ROLES = {
    "review": {"liaison"},
    "acknowledge": {"unit"},
    "extensions": {"unit"},
    "report": {"unit"},
    "evaluation": {"station", "liaison"},
}
PARTY = {
    "approve": "liaison",
    "reject": "liaison",
    "acknowledge": "unit",
    "extension": "unit",
    "report": "unit",
    "satisfied": "station|liaison",
    "unsatisfied": "station|liaison",
}
ALLOWED_FROM = {
    "approve": "submitted",
    "reject": "submitted",
    "acknowledge": "issued",
    "extension": "acknowledged",
    "report": "acknowledged",
    "satisfied": "reported",
    "unsatisfied": "reported",
}
ACTORS = {  # who: (role, party or None when it may not read)
    "liaison": ("liaison", "liaison"),
    "admin": ("admin", "other"),
    "hotline": ("hotline", None),
    STATION: ("station", "station"),
    OTHER_STATION: ("station", None),
    UNIT: ("unit", "unit"),
    OTHER_UNIT: ("unit", None),
}
STATUSES = ["submitted", "issued", "rejected", "acknowledged", "reported", "closed"]


def expected(action: str, status: str, who: str) -> int:
    role, party = ACTORS[who]
    step = ACTIONS[action][0]
    if role not in ROUTE_ROLES[step]:
        return 403
    if party is None:
        return 404
    if party not in PARTY[action].split("|"):
        return 403
    if ALLOWED_FROM[action] != status:
        return 409
    return 201 if step == "extensions" else 200


@pytest.mark.parametrize("status", STATUSES)
def test_every_action_in_every_status_by_every_party(api, status):
    city(api)
    api.post("/api/v1/keys", json={"role": "station", "station_code": "xicheng", "label": "x"})
    inv = in_status(api, status)
    before = api.get(f"/api/v1/invitations/{inv['id']}", "liaison").json()
    for action in ACTIONS:
        for who in ACTORS:
            want = expected(action, status, who)
            if want in (200, 201):
                continue  # the rows that succeed are walked on fresh invitations below
            step, body = ACTIONS[action]
            r = act(api, inv["id"], step, who, **body)
            assert r.status_code == want, (action, status, who, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    after = api.get(f"/api/v1/invitations/{inv['id']}", "liaison").json()
    assert after == before  # a refused action changes nothing
    for action in ACTIONS:
        for who in ACTORS:
            want = expected(action, status, who)
            if want not in (200, 201):
                continue
            fresh = in_status(api, status)
            step, body = ACTIONS[action]
            r = act(api, fresh["id"], step, who, **body)
            assert r.status_code == want, (action, status, who, r.text)


def test_readers_are_the_committee_admin_the_invited_unit_and_the_station(api):
    city(api)
    api.post("/api/v1/keys", json={"role": "station", "station_code": "xicheng", "label": "x"})
    inv = issued(api)
    for who, code in (
        ("liaison", 200),
        ("admin", 200),
        (UNIT, 200),
        (STATION, 200),
        (OTHER_UNIT, 404),
        (OTHER_STATION, 404),
        ("hotline", 403),
    ):
        assert api.get(f"/api/v1/invitations/{inv['id']}", who).status_code == code, who
    for who, n in (("liaison", 1), (UNIT, 1), (STATION, 1), (OTHER_UNIT, 0), (OTHER_STATION, 0)):
        assert len(api.get("/api/v1/invitations", who).json()["items"]) == n, who


def test_a_station_submits_for_itself_only_and_bad_fields_are_named(api):
    city(api)
    api.post("/api/v1/keys", json={"role": "station", "station_code": "xicheng", "label": "x"})
    body = {"station": "dongcheng", "unit": UNIT, "subject": "s", "content": "c", "deputies": []}
    assert api.post("/api/v1/invitations", OTHER_STATION, json=body).status_code == 403
    assert api.post("/api/v1/invitations", UNIT, json=body).status_code == 403
    for field, value in (("unit", "nowhere"), ("station", "nowhere"), ("deputies", ["no-such-deputy"])):
        r = api.post("/api/v1/invitations", "liaison", json={**body, field: value})
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"].startswith(field)
    assert api.get("/api/v1/invitations", "liaison").json()["items"] == []


def test_at_may_not_lie_in_the_future_nor_before_the_step_it_follows(api):
    city(api)
    inv = issued(api)
    r = act(api, inv["id"], "acknowledge", UNIT, **ACK, at="2025-09-30T11:00:00+08:00")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    r = act(api, inv["id"], "acknowledge", UNIT, **ACK, at="2025-09-30T09:00:00+08:00")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "at"
    assert api.get(f"/api/v1/invitations/{inv['id']}", UNIT).json()["status"] == "issued"


# --- letter numbers ---------------------------------------------------------------------------


def approve_all(api: Api, ids: list[str]) -> list[int]:
    headers = api.h("liaison")

    async def burst() -> list[int]:
        transport = httpx.ASGITransport(app=api.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            rs = await asyncio.gather(
                *(
                    client.post(f"/api/v1/invitations/{i}/review", headers=headers, json={"approve": True})
                    for i in ids
                )
            )
            return [r.status_code for r in rs]

    return asyncio.run(burst())


def test_letter_numbers_are_consecutive_under_many_concurrent_approvals(api):
    city(api)
    ids = [submit(api)["id"] for _ in range(40)]
    # Each invitation twice at once: one approval wins, the other is out of order (409) and
    # must not take a number; a request over the service's admission limit is refused at
    # once (503) and changes nothing, so those are approved again afterwards.
    settings = api.app.state.hotline.settings
    settings.queue_timeout = 60.0  # a loaded test machine: correctness, not admission
    try:
        codes = approve_all(api, ids + ids)
    finally:
        settings.queue_timeout = 3.0
    assert set(codes) <= {200, 409, 503}, codes
    approved = {i for i, c in zip(ids + ids, codes, strict=True) if c == 200}
    assert len(approved) == codes.count(200)  # never two approvals of one invitation
    late = [i for i in ids if i not in approved]
    assert all(c == 200 for c in approve_all(api, late))
    invs = [api.get(f"/api/v1/invitations/{i}", "liaison").json() for i in ids]
    numbers = sorted(int(i["number"].split("〕")[1].rstrip("号")) for i in invs)
    assert numbers == list(range(1, 41))
    assert all(i["number"].startswith("人大约〔2025〕") for i in invs)
    # The next approval continues the sequence with no gap; a new year starts again at 1.
    assert issued(api)["number"] == "人大约〔2025〕41号"
    api.set_now("2026-01-04 09:00")
    assert issued(api)["number"] == "人大约〔2026〕1号"
    api.set_now("2026-01-05 09:00")
    assert issued(api)["number"] == "人大约〔2026〕2号"


def test_the_letter_prefix_is_a_setting(db_url, clock):
    from tests.conftest import make_settings, serve

    with serve(make_settings(db_url, HOTLINE_INVITATION_LETTER_PREFIX="温人大约"), clock) as running:
        api = city(running)
        assert issued(api)["number"] == "温人大约〔2025〕1号"


def test_instants_and_booleans_are_strict_as_everywhere_else(api):
    """RFC 3339 text with an offset for instants, JSON booleans for decisions (issue 13,
    item 5): a Unix timestamp or the string "true" is refused naming the field, and
    nothing changes."""
    city(api)
    inv = submit(api)
    for approve in ("true", 1):
        r = act(api, inv["id"], "review", "liaison", approve=approve)
        assert r.status_code == 422, r.text
        assert "approve" in r.text
    assert api.get(f"/api/v1/invitations/{inv['id']}", "liaison").json()["status"] == "submitted"
    inv = issued(api)
    for meeting_at in (1700000000, "1700000000.5", "0001-01-01T00:00:00+08:00"):
        r = act(api, inv["id"], "acknowledge", UNIT, **{**ACK, "meeting_at": meeting_at})
        assert r.status_code == 422, r.text
        assert "meeting_at" in r.text
    assert api.get(f"/api/v1/invitations/{inv['id']}", "liaison").json()["status"] == "issued"
