"""Builders for tests: a thin client over the HTTP API with the sample city."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.clock import FixedClock
from tests.conftest import ADMIN_KEY

UNITS = {
    "water-bureau": ("益阳市水务局", "department", None),
    "housing-bureau": ("益阳市住房和城乡建设局", "department", None),
    "heshan-gov": ("赫山区人民政府", "district_government", "heshan"),
    "ziyang-gov": ("资阳区人民政府", "district_government", "ziyang"),
    "urban-env-committee": ("城乡建设环境保护委员会", "special_committee", None),
    "heshan-congress": ("赫山区人大常委会", "district_congress", "heshan"),
    "ziyang-congress": ("资阳区人大常委会", "district_congress", "ziyang"),
    "coordinator": ("分管副秘书长", "coordinator", None),
}
_numbers = itertools.count(1)
PROBLEM = "application/problem+json"


def ok(r: Any, status: int = 200) -> Any:
    """The JSON body of an answer that must have exactly `status`."""
    assert r.status_code == status, r.text
    return r.json()


def problem(r: Any, status: int) -> dict[str, Any]:
    """The body of an answer that must be an RFC 9457 problem with exactly `status`."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body: dict[str, Any] = r.json()
    assert {"type", "title", "status", "detail"} <= body.keys() and body["status"] == status, body
    return body


def problem_fields(r: Any, status: int) -> list[str]:
    """The fields a problem answer with exactly `status` names (its `errors`)."""
    return [e["field"] for e in problem(r, status).get("errors", [])]


def fields(body: dict[str, Any]) -> set[str]:
    """The fields a problem body names (its `errors`)."""
    return {e["field"] for e in body["errors"]}


def act(api: Api, t: dict[str, Any], action: str, who: str, **body: Any) -> Any:
    """POST an action (contact, resolve, rating, ...) on ticket `t` as `who`."""
    return api.post(f"/api/v1/tickets/{t['id']}/{action}", who, json=body)


def rate(api: Api, t: dict[str, Any], rating: str, at: str | None = None) -> Any:
    """The hotline records the deputy's rating of ticket `t` (at local time `at`)."""
    body: dict[str, Any] = {"rating": rating}
    if at:
        body["at"] = api.at(at)
    return act(api, t, "rating", "hotline", **body)


@dataclass
class Api:
    client: TestClient
    clock: FixedClock
    app: FastAPI
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    def h(self, who: str) -> dict[str, str]:
        """Headers for 'admin', 'hotline', 'liaison', a unit code or 'station:<code>'."""
        if who == "admin":
            return {"Authorization": f"Bearer {ADMIN_KEY}"}
        if who not in self.keys:
            role = who if who in ("hotline", "liaison") else "unit"
            body = {"role": role, "label": f"test {who}"}
            if who.startswith("station:"):  # a station's key: "station:<code>"
                body = {"role": "station", "station_code": who.split(":", 1)[1], "label": f"test {who}"}
            elif role == "unit":
                body["unit_code"] = who
            r = self.client.post("/api/v1/keys", json=body, headers=self.h("admin"))
            assert r.status_code == 201, r.text
            self.keys[who] = r.json()["key"]
            self.key_ids[who] = r.json()["id"]
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def actor(self, who: str) -> str:
        """The event log's name for the key of 'admin', 'hotline', 'liaison' or a unit."""
        if who == "admin":
            return "key:bootstrap"
        self.h(who)
        return f"key:{self.key_ids[who]}"

    def call(self, method: str, path: str, who: str = "admin", **kw: Any) -> Any:
        return self.client.request(method, path, headers={**self.h(who), **kw.pop("headers", {})}, **kw)

    def get(self, path: str, who: str = "admin", **kw: Any) -> Any:
        return self.call("GET", path, who, **kw)

    def post(self, path: str, who: str = "admin", **kw: Any) -> Any:
        return self.call("POST", path, who, **kw)

    def put(self, path: str, who: str = "admin", **kw: Any) -> Any:
        return self.call("PUT", path, who, **kw)

    def concurrently(
        self, who: str, path: str, bodies: list[dict[str, Any]], method: str = "POST"
    ) -> list[int]:
        """POST (or `method`) each body to `path` at once (one event loop, the app in process); the status
        codes in the order of `bodies`."""
        import asyncio

        import httpx

        headers = self.h(who)

        async def burst() -> list[int]:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                rs = await asyncio.gather(
                    *(client.request(method, path, headers=headers, json=body) for body in bodies)
                )
                return [r.status_code for r in rs]

        return asyncio.run(burst())

    def concurrently_put(self, path: str, bodies: list[dict[str, Any]], who: str = "liaison") -> list[int]:
        """PUT each body to `path` at once; the status codes in the order of `bodies`."""
        import asyncio

        import httpx

        headers = self.h(who)

        async def burst() -> list[int]:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                rs = await asyncio.gather(*(client.put(path, headers=headers, json=body) for body in bodies))
                return [r.status_code for r in rs]

        return asyncio.run(burst())

    def city(self) -> Api:
        """The sample units, three categories and deputy 张三, written through the service
        layer in one transaction. Most tests start from it; what HTTP adds to these writes
        (the admin key, the bodies' schemas, 201 or 200) is what test_registry checks."""
        from app.db import Transaction
        from app.services import deputies, registry
        from app.services.context import BOOTSTRAP

        state = self.app.state.hotline
        with Transaction(state.db.write_session) as session:
            ctx = state.ctx(session, BOOTSTRAP)
            for code, (name, kind, district) in UNITS.items():
                unit = registry.UnitInput(name=name, kind=kind, district=district)
                _, created = registry.put_unit(session, code=code, data=unit, now=ctx.now())
                assert created, code  # the database is empty
            categories = (
                ("water", registry.CategoryInput("water", "water-bureau", "urban-env-committee")),
                ("housing", registry.CategoryInput("housing", "housing-bureau", "urban-env-committee")),
                ("misc", registry.CategoryInput("其他")),
            )
            for code, category in categories:
                _, created = registry.put_category(session, code=code, data=category, now=ctx.now())
                assert created, code
            zhang = registry.DeputyInput(name="张三", phone="13800000001", level="city", district="heshan")
            deputies.register(ctx, zhang)
        return self

    def station(
        self, code: str = "heshan-01", deputies: list[str] | None = None, **overrides: Any
    ) -> dict[str, Any]:
        """A liaison station of Heshan (its deputies: ids)."""
        body: dict[str, Any] = {
            "name": "赫山区会龙山街道代表联络站",
            "district": "heshan",
            "township": "会龙山街道",
            "kind": "physical",
            "deputies": deputies or [],
        }
        body.update(overrides)
        r = self.put(f"/api/v1/stations/{code}", json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()  # type: ignore[no-any-return]

    def ticket_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "hotline_no": f"YY-{next(_numbers):06d}",
            "deputy_call": True,
            "called_at": self.local(self.clock.now()).isoformat(),
            "caller": {"name": "张三", "phone": "13800000001"},
            "category": "water",
            "content": "小区停水三天",
            "district": "heshan",
            "units": ["water-bureau"],
        }
        body.update(overrides)
        return body

    def ticket(self, **overrides: Any) -> dict[str, Any]:
        r = self.post("/api/v1/tickets", "hotline", json=self.ticket_body(**overrides))
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    def local(self, dt: datetime) -> datetime:
        from zoneinfo import ZoneInfo

        return dt.astimezone(ZoneInfo("Asia/Shanghai"))

    def at(self, iso_local: str) -> str:
        """'2025-10-01 09:00' in Shanghai as RFC 3339."""
        return iso_local.replace(" ", "T") + ":00+08:00"

    def set_now(self, iso_local: str) -> None:
        self.clock.set(datetime.fromisoformat(self.at(iso_local)))

    def sweep(self) -> dict[str, int]:
        r = self.post("/api/v1/admin/sla-sweep")
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    def clock_of(
        self, ticket: dict[str, Any], kind: str, unit: str | None = None, round_: int | None = None
    ) -> dict[str, Any]:
        found = [
            c
            for c in ticket["clocks"]
            if c["kind"] == kind
            and (unit is None or c["unit"] == unit)
            and (round_ is None or c["round"] == round_)
        ]
        assert found, f"no {kind} clock in {ticket['clocks']}"
        return found[-1]  # type: ignore[no-any-return]


CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
PASSWORD = "Lianluo-2025-pw"


def csrf_of(html: str) -> str:
    m = CSRF.search(html)
    assert m, "the page has no form with a CSRF token"
    return m.group(1)


@dataclass
class Person:
    """Someone using the pages in a browser of their own (cookies kept per person)."""

    client: TestClient
    username: str

    def get(self, path: str, **kw: Any) -> Any:
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any], **kw: Any) -> Any:
        return self.client.post(path, data=data, follow_redirects=False, **kw)

    def form(self, path: str, data: dict[str, Any], page: str | None = None) -> Any:
        """Open the form's page (`page`, default `path`), then send it with its token."""
        shown = self.client.get(page or path)
        assert shown.status_code == 200, shown.text
        return self.post(path, {"csrf_token": csrf_of(shown.text), **data})


def invite_path(invite_url: str) -> str:
    return "/ui/" + invite_url.split("/ui/", 1)[1]


def set_password(client: TestClient, invite_url: str, password: str = PASSWORD) -> Any:
    path = invite_path(invite_url)
    shown = client.get(path)
    assert shown.status_code == 200, shown.text
    return client.post(
        path,
        data={"csrf_token": csrf_of(shown.text), "password": password, "confirm": password},
        follow_redirects=False,
    )


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> Any:
    shown = client.get("/ui/sign-in")
    return client.post(
        "/ui/sign-in",
        data={"csrf_token": csrf_of(shown.text), "username": username, "password": password},
        follow_redirects=False,
    )


def person(api: Api, username: str, role: str, **binding: str) -> Person:
    """A new account of `role`, its password set from the invitation, signed in."""
    r = api.post(
        "/api/v1/accounts", json={"username": username, "display_name": username, "role": role, **binding}
    )
    assert r.status_code == 201, r.text
    client = TestClient(api.app, raise_server_exceptions=False)
    assert set_password(client, r.json()["invite_url"]).status_code == 303
    assert sign_in(client, username).status_code == 303
    return Person(client, username)
