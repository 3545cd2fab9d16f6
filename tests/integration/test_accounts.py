"""People's accounts through the API and the CLI; who acted, in the event log."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from tests.builders import PASSWORD, invite_path, ok, person, set_password, sign_in


def fields(r) -> list[str]:
    assert r.status_code == 422, r.text
    return [e["field"] for e in r.json()["errors"]]


def create(api, who="admin", **body):
    body = {"display_name": "某人", **body}
    return api.post("/api/v1/accounts", who, json=body)


def test_admin_creates_an_account_with_a_one_time_link_valid_seven_days(api):
    api.city()
    out = ok(create(api, username="Wang.Li", role="unit", unit_code="water-bureau"), 201)
    assert set(out) == {"id", "username", "role", "invite_url", "invite_expires_at"}
    assert out["username"] == "wang.li" and out["role"] == "unit"
    assert out["invite_url"].startswith("http://testserver/ui/invite/")
    assert out["invite_expires_at"] == "2025-10-07T10:00:00+08:00"  # now + 7 days
    listed = ok(api.get("/api/v1/accounts"))["items"]
    assert [(a["username"], a["state"], a["unit_code"]) for a in listed] == [
        ("wang.li", "invited", "water-bureau")
    ]
    assert not {"password_hash", "invite_hash", "invite_url"} & set(listed[0])


def test_the_public_base_url_makes_the_links(db_url, clock):
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings

    app = create_app(
        make_settings(db_url, HOTLINE_PUBLIC_BASE_URL="https://rd.example.gov.cn/"),
        clock=clock,
        background=False,
    )
    with TestClient(app) as client:
        api = Api(client, clock, app)
        out = ok(create(api, username="first.admin", role="admin"), 201)
    assert out["invite_url"].startswith("https://rd.example.gov.cn/ui/invite/")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "unit"}, "unit_code"),
        ({"role": "unit", "unit_code": "nowhere"}, "unit_code"),
        ({"role": "hotline", "unit_code": "water-bureau"}, "unit_code"),
        ({"role": "deputy"}, "deputy_id"),
        ({"role": "deputy", "deputy_id": "no-such-deputy"}, "deputy_id"),
        ({"role": "station"}, "station_code"),
        ({"role": "station", "station_code": "bad code!"}, "station_code"),
        ({"role": "station", "station_code": "no-such-station"}, "station_code"),
        ({"role": "mayor"}, "role"),
        ({"role": "admin", "username": "a"}, "username"),
        ({"role": "admin", "username": "bad name"}, "username"),
    ],
)
def test_an_account_names_what_its_role_is_bound_to(api, body, field):
    api.city()
    assert field in fields(create(api, **{"username": "some.one", **body}))
    assert ok(api.get("/api/v1/accounts"))["items"] == []


def test_usernames_are_unique_whatever_their_case(api):
    ok(create(api, username="li.ming", role="hotline"), 201)
    r = create(api, username="LI.MING", role="liaison")
    assert r.status_code == 409


def test_the_liaison_committee_manages_deputies_and_station_staff_only(api):
    api.city()
    deputy = api.get("/api/v1/deputies?phone=13800000001", "liaison").json()["items"][0]
    api.station("heshan-01")
    ok(create(api, "liaison", username="dep.zhang", role="deputy", deputy_id=deputy["id"]), 201)
    ok(create(api, "liaison", username="station.one", role="station", station_code="heshan-01"), 201)
    assert create(api, "liaison", username="clerk", role="unit", unit_code="water-bureau").status_code == 403
    unit_account = ok(create(api, username="clerk", role="unit", unit_code="water-bureau"), 201)
    assert [a["username"] for a in ok(api.get("/api/v1/accounts", "liaison"))["items"]] == [
        "dep.zhang",
        "station.one",
    ]
    for action in ("invite", "disable"):
        r = api.post(f"/api/v1/accounts/{unit_account['id']}/{action}", "liaison")
        assert r.status_code == 404
    assert (
        api.post(
            "/api/v1/accounts",
            "hotline",
            json={"username": "x.y", "display_name": "x", "role": "deputy", "deputy_id": deputy["id"]},
        ).status_code
        == 403
    )


def test_a_new_invitation_ends_the_old_link_the_password_and_every_session(api):
    api.city()
    clerk = person(api, "water.clerk", "unit", unit_code="water-bureau")
    account = ok(api.get("/api/v1/accounts"))["items"][0]
    assert account["state"] == "active"
    fresh = ok(api.post(f"/api/v1/accounts/{account['id']}/invite"))
    assert clerk.get("/ui/queue", follow_redirects=False).status_code == 303  # session ended
    from fastapi.testclient import TestClient

    other = TestClient(api.app, raise_server_exceptions=False)
    assert sign_in(other, "water.clerk").status_code == 401  # the old password is gone
    assert ok(api.get(f"/api/v1/accounts/{account['id']}"))["state"] == "invited"
    assert set_password(other, fresh["invite_url"], "Another-pass-42").status_code == 303
    assert sign_in(other, "water.clerk", "Another-pass-42").status_code == 303


def test_a_replaced_or_used_link_no_longer_opens(api):
    out = ok(create(api, username="first.one", role="hotline"), 201)
    again = ok(api.post(f"/api/v1/accounts/{out['id']}/invite"))
    assert api.client.get(invite_path(out["invite_url"])).status_code == 404
    assert set_password(api.client, again["invite_url"]).status_code == 303
    page = api.client.get(invite_path(again["invite_url"]))
    assert page.status_code == 404 and "链接无效或已过期" in page.text


def test_an_invitation_expires_after_seven_days(api):
    out = ok(create(api, username="late.one", role="hotline"), 201)
    api.clock.advance(days=7)
    assert api.client.get(invite_path(out["invite_url"])).status_code == 404
    assert ok(api.get(f"/api/v1/accounts/{out['id']}"))["state"] == "expired"


def test_disabling_ends_sessions_at_once_and_enabling_restores_the_password(api):
    api.city()
    clerk = person(api, "water.clerk", "unit", unit_code="water-bureau")
    account_id = ok(api.get("/api/v1/accounts"))["items"][0]["id"]
    assert clerk.get("/ui/queue").status_code == 200
    out = ok(api.post(f"/api/v1/accounts/{account_id}/disable"))
    assert out["state"] == "disabled"
    r = clerk.get("/ui/queue", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/ui/sign-in")
    from fastapi.testclient import TestClient

    other = TestClient(api.app, raise_server_exceptions=False)
    refused = sign_in(other, "water.clerk")
    assert refused.status_code == 401 and "用户名或密码不正确" in refused.text
    assert ok(api.post(f"/api/v1/accounts/{account_id}/enable"))["state"] == "active"
    assert sign_in(other, "water.clerk").status_code == 303


def test_a_person_cannot_disable_their_own_account(api):
    admin = person(api, "site.admin", "admin")
    account_id = ok(api.get("/api/v1/accounts"))["items"][0]["id"]
    r = admin.form(f"/ui/admin/accounts/{account_id}/disable", {}, page="/ui/admin/accounts")
    assert r.status_code == 409 and "不能停用自己的账户" in r.text


def test_keys_bind_deputies_and_stations(api):
    api.city()
    deputy = api.get("/api/v1/deputies?phone=13800000001", "liaison").json()["items"][0]
    key = ok(
        api.post("/api/v1/keys", json={"role": "deputy", "deputy_id": deputy["id"], "label": "代表 App"}), 201
    )
    assert (key["role"], key["deputy_id"], key["station_code"]) == ("deputy", deputy["id"], None)
    api.station("heshan-01")
    station = ok(
        api.post("/api/v1/keys", json={"role": "station", "station_code": "heshan-01", "label": "联络站"}),
        201,
    )
    assert station["station_code"] == "heshan-01"
    assert "deputy_id" in fields(api.post("/api/v1/keys", json={"role": "deputy", "label": "x"}))
    assert fields(api.post("/api/v1/keys", json={"role": "station", "label": "x"})) == ["station_code"]
    assert fields(
        api.post(
            "/api/v1/keys",
            json={"role": "station", "label": "x", "station_code": "s-1", "deputy_id": deputy["id"]},
        )
    ) == ["deputy_id"]
    listed = {k["id"]: k for k in ok(api.get("/api/v1/keys"))}
    assert listed[key["id"]]["deputy_id"] == deputy["id"]
    # Such keys read nothing of Part I that is not theirs: a deputy reads his or her own
    # calls (Part II), no one else's.
    t = api.ticket(caller={"name": "路人", "phone": "13600000000"})
    h = {"Authorization": f"Bearer {key['key']}"}
    assert api.client.get(f"/api/v1/tickets/{t['id']}", headers=h).status_code == 404
    own = api.ticket()
    assert api.client.get(f"/api/v1/tickets/{own['id']}", headers=h).status_code == 200
    assert api.client.get("/api/v1/tickets", headers=h).status_code == 403


def test_events_name_the_person_or_the_key_with_the_role_and_unit(api):
    api.city()
    t = api.ticket()
    clerk = person(api, "water.clerk", "unit", unit_code="water-bureau")
    r = clerk.form(f"/ui/tickets/{t['id']}/contact", {"method": "phone"})
    assert r.status_code == 303, r.text
    ok(
        api.post(
            f"/api/v1/tickets/{t['id']}/resolve",
            "water-bureau",
            json={"outcome": "solved", "reply": "已修复"},
        )
    )
    api.set_now("2025-10-30 10:00")
    from app.jobs.scheduler import run_sweep_job

    assert run_sweep_job(api.app.state.hotline).breached == 1  # the scheduled sweep
    events = ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]
    who = {e["type"]: (e["actor"], e["by"]) for e in events}
    none = {"deputy_id": None, "station": None}
    assert who["ticket.received"] == (api.actor("hotline"), {"role": "hotline", "unit": None, **none})
    assert who["ticket.contacted"] == ("user:water.clerk", {"role": "unit", "unit": "water-bureau", **none})
    assert who["ticket.resolved"] == (
        api.actor("water-bureau"),
        {"role": "unit", "unit": "water-bureau", **none},
    )
    assert who["clock.breached"] == ("system", {"role": "system", "unit": None, **none})


def test_events_recorded_before_accounts_keep_their_names(api, db_url):
    from sqlalchemy import create_engine, update

    from app.models import Event

    api.city()
    t = api.ticket()
    engine = create_engine(db_url)
    with engine.begin() as conn:  # as rows written before migration 0008 look
        conn.execute(
            update(Event).where(Event.type == "ticket.received").values(actor="hotline", actor_role=None)
        )
        conn.execute(
            update(Event)
            .where(Event.type == "ticket.dispatched")
            .values(actor="unit:water-bureau", actor_role=None)
        )
    engine.dispose()
    events = {e["type"]: e for e in ok(api.get(f"/api/v1/tickets/{t['id']}/events"))["items"]}
    assert (events["ticket.received"]["actor"], events["ticket.received"]["by"]["role"]) == (
        "hotline",
        "hotline",
    )
    assert events["ticket.dispatched"]["by"] == {
        "role": "unit",
        "unit": "water-bureau",
        "deputy_id": None,
        "station": None,
    }


def test_forty_accounts_created_at_once_all_exist(api):
    def one(i: int) -> int:
        return int(create(api, username=f"person.{i:02d}", role="hotline").status_code)

    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(one, range(40)))
    assert statuses == [201] * 40
    assert len(ok(api.get("/api/v1/accounts?limit=100"))["items"]) == 40


@pytest.fixture
def run(db_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("HOTLINE_PUBLIC_BASE_URL", raising=False)
    get_settings.cache_clear()
    yield lambda *args: CliRunner().invoke(cli, list(args))
    get_settings.cache_clear()


def test_a_citys_first_admin_is_created_on_the_command_line(run, api):
    result = run("accounts", "create", "--role", "admin", "--username", "first.admin", "--name", "系统管理员")
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("http://127.0.0.1:8000/ui/invite/")
    assert set_password(api.client, link).status_code == 303
    assert sign_in(api.client, "first.admin", PASSWORD).status_code == 303
    assert api.client.get("/ui/admin/accounts").status_code == 200
    account = ok(api.get("/api/v1/accounts"))["items"][0]
    assert (account["created_by"], account["state"]) == ("cli", "active")
    again = run("accounts", "invite", "FIRST.ADMIN")
    assert again.exit_code == 0 and "/ui/invite/" in again.output
    assert run("accounts", "disable", "first.admin").exit_code == 0
    assert ok(api.get("/api/v1/accounts"))["items"][0]["state"] == "disabled"
    bad = run("accounts", "create", "--role", "unit", "--username", "x.y", "--name", "x")
    assert bad.exit_code == 2 and "must name its unit" in bad.output
    assert run("accounts", "invite", "nobody").exit_code == 2
