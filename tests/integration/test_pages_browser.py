"""The pages in a real browser: Debian's Chromium driven by Playwright, against a real
server process (one per module) on the engine under test.

Scenarios: a new clerk sets a password and signs in; a unit clerk works a ticket from the
queue to feedback; the hotline office decides an extension; the liaison committee works
and closes a supervision case. Every page is also shot at a desktop and a phone width
(tests/out/screens/), with no console error (a CSP violation is one) and nothing wider
than a phone's screen.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.builders import PASSWORD, UNITS, csrf_of
from tests.support import throwaway_database

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Under xdist a module's tests stay on one worker (`--dist loadfile`, .ci/run): each worker
# that ran some of them would start a server, migrate and load the city anew.
pytestmark = [
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Chromium is not installed (apt-get install chromium)"
    ),
]
ADMIN_KEY = "pages-admin-key-0123456789abcdef"
SCREENS = Path(__file__).resolve().parent.parent / "out" / "screens"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


# `hotline serve`, its password hashes at Argon2's smallest cost, as the in-process tests have
# them (tests/conftest.py, cheap_password_hashes): each module's server sets four passwords
# and checks one at every sign-in, about 0.35 s of a core each at the real cost, and which
# parameters the service hashes with is not what these tests look at.
SERVE_WITH_CHEAP_HASHES = """
import sys
from argon2 import PasswordHasher
from app.services import passwords
passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
from app.cli import main
sys.argv[0] = "hotline"
main()
"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    """The server under test, with an admin client for the API and the sample city."""

    base: str
    api: httpx.Client
    keys: dict[str, str] = field(default_factory=dict)
    numbers: Iterator[int] = field(default_factory=lambda: iter(range(1, 10_000)))
    early_case: dict[str, Any] = field(default_factory=dict)

    def key(self, who: str) -> dict[str, str]:
        if who == "admin":
            return {"Authorization": f"Bearer {ADMIN_KEY}"}
        if who not in self.keys:
            role = who if who in ("hotline", "liaison") else "unit"
            body = {"role": role, "label": who, **({"unit_code": who} if role == "unit" else {})}
            r = self.api.post("/api/v1/keys", json=body, headers=self.key("admin"))
            assert r.status_code == 201, r.text
            self.keys[who] = r.json()["key"]
        return {"Authorization": f"Bearer {self.keys[who]}"}

    def call(self, method: str, path: str, who: str = "admin", **kw: Any) -> Any:
        r = self.api.request(method, path, headers=self.key(who), **kw)
        assert r.status_code < 300, r.text
        return r.json() if r.content else None

    def ticket(self, **overrides: Any) -> dict[str, Any]:
        now = datetime.now().astimezone().isoformat()
        body = {
            "hotline_no": f"YY-UI-{next(self.numbers):05d}",
            "deputy_call": True,
            "called_at": now,
            "caller": {"name": "张三", "phone": "13800000001"},
            "category": "water",
            "content": "某小区停水三天，居民生活受到影响。",
            "district": "heshan",
            "units": ["water-bureau"],
            **overrides,
        }
        return self.call("POST", "/api/v1/tickets", "hotline", json=body)  # type: ignore[no-any-return]

    def account(self, username: str, role: str, name: str, **binding: str) -> str:
        """A new account; returns its invitation link."""
        r = self.call(
            "POST",
            "/api/v1/accounts",
            json={"username": username, "display_name": name, "role": role, **binding},
        )
        return str(r["invite_url"])

    def person(self, username: str, role: str, name: str, **binding: str) -> str:
        """An account whose password is set (over HTTP, as a browser would)."""
        link = self.account(username, role, name, **binding)
        with httpx.Client(base_url=self.base) as c:
            page = c.get(link)
            r = c.post(
                link, data={"csrf_token": csrf_of(page.text), "password": PASSWORD, "confirm": PASSWORD}
            )
            assert r.status_code == 303, r.text
        return username


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    log = tmp_path_factory.mktemp("pages") / "server.log"
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_pages") as url:
        port = free_port()
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "HOTLINE_ADMIN_KEY": ADMIN_KEY,
            "HOTLINE_SCHEDULER": "off",
            "HOTLINE_WEBHOOKS": "off",
        }
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [sys.executable, "-c", SERVE_WITH_CHEAP_HASHES, "serve", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
            with httpx.Client(base_url=base, timeout=30) as api:
                s = Site(base, api)
                _city(s)
                yield s
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    errors = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if '"level": "error"' in line or "Traceback" in line
    ]
    assert not errors, "\n".join(errors[:20])


def _city(s: Site) -> None:
    for code, (name, kind, district) in UNITS.items():
        s.call("PUT", f"/api/v1/units/{code}", json={"name": name, "kind": kind, "district": district})
    s.call("PUT", "/api/v1/districts/heshan", json={"name": "赫山区"})
    s.call(
        "PUT",
        "/api/v1/categories/water",
        json={
            "name": "供水排水",
            "default_lead_unit": "water-bureau",
            "committee_unit": "urban-env-committee",
        },
    )
    s.call(
        "POST",
        "/api/v1/deputies",
        json={"name": "张三", "phone": "13800000001", "level": "city", "district": "heshan"},
    )
    # A case opened two hours ago (back-recorded), so that a meeting can be recorded at a
    # whole minute after its opening (times are typed to the minute).
    early = _rated_unsatisfied(s, hours_ago=2)
    s.early_case = [
        c
        for c in s.call("GET", f"/api/v1/supervisions?ticket_id={early['id']}")["items"]
        if c["kind"] == "local"
    ][0]
    s.person("water.clerk", "unit", "王水利", unit_code="water-bureau")
    s.person("hotline.staff", "hotline", "赵热线")
    s.person("liaison.staff", "liaison", "李联络")
    s.person("committee.clerk", "unit", "陈委员", unit_code="urban-env-committee")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def shown(locator: Any) -> bool:
    """True once the locator is visible, waiting up to the page's timeout.

    ``is_visible()`` answers at once: right after a click the URL may already be the next
    page's while its document is still being parsed (seen once in CI under load).
    """
    locator.wait_for(state="visible")
    return True


class Person:
    """One person's browser (its own cookies), watching the console for errors."""

    def __init__(self, browser: Any, site: Site, viewport: dict[str, int] = DESKTOP) -> None:
        self.site = site
        self.context = browser.new_context(viewport=viewport, locale="zh-CN")
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.console: list[str] = []
        # CSP violations and script errors; a page answering 4xx (a form sent back with
        # its errors) is the document itself, but every asset it loads must load.
        self.page.on(
            "console",
            lambda m: (
                self.console.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource")
                else None
            ),
        )
        self.page.on(
            "response",
            lambda r: (
                self.console.append(f"{r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )

    def open(self, path: str) -> Any:
        self.page.goto(self.site.base + path)
        return self.page

    def sign_in(self, username: str, password: str = PASSWORD) -> Any:
        page = self.open("/ui/sign-in")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        with page.expect_navigation():  # to the landing page, loaded: callers count on it
            page.get_by_role("button", name="登录").click()
        return page

    def shoot(self, name: str) -> None:
        """The page at this width, and again at a phone's (and a desktop's) width."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        page = self.page
        size = page.viewport_size
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.screenshot(path=str(SCREENS / f"{name}-{label}.png"), full_page=True)
            if label == "phone":
                wide = page.evaluate("document.documentElement.scrollWidth")
                assert wide <= PHONE["width"] + 1, f"{name}: {wide}px wide on a phone"
        page.set_viewport_size(size)
        assert not self.console, f"{name}: console errors {self.console}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def people(browser: Any, site: Site) -> Iterator[Any]:
    opened: list[Person] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Person:
        p = Person(browser, site, viewport)
        opened.append(p)
        return p

    yield make
    for p in opened:
        p.close()


def events_of(site: Site, ticket_id: str) -> list[dict[str, Any]]:
    return site.call("GET", f"/api/v1/tickets/{ticket_id}/events")["items"]  # type: ignore[no-any-return]


# --- scenarios -------------------------------------------------------------------------------


def test_a_new_clerk_sets_a_password_from_the_invitation_and_signs_in(site, people):
    link = site.account("new.clerk", "unit", "孙新", unit_code="heshan-gov")
    me = people()
    page = me.open(link.replace(site.base, ""))
    assert shown(page.get_by_role("heading", name="设置密码"))
    me.shoot("set-password")
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="设置密码").click()
    summary = page.get_by_role("alert")
    assert "新密码至少需要 10 个字符" in summary.inner_text()
    assert page.title().startswith("错误：")
    me.shoot("set-password-errors")
    summary.get_by_role("link").first.click()  # the summary links to the field
    assert page.evaluate("document.activeElement.id") == "f-password"
    page.get_by_label("新密码", exact=True).fill("长城脚下一条河2025")
    page.get_by_label("再次输入新密码").fill("长城脚下一条河2025")
    page.get_by_role("button", name="设置密码").click()
    assert "密码已设置" in page.get_by_role("status").inner_text()
    assert page.get_by_label("用户名").input_value() == "new.clerk"
    page.get_by_label("密码").fill("wrong-password-1")
    page.get_by_role("button", name="登录").click()
    assert "用户名或密码不正确" in page.get_by_role("alert").inner_text()
    me.shoot("sign-in-wrong")
    page.get_by_label("密码").fill("长城脚下一条河2025")
    page.get_by_role("button", name="登录").click()
    assert page.url.endswith("/ui/queue")
    assert shown(page.get_by_role("heading", name="待办工单"))
    assert "赫山区人民政府" in page.locator(".whoami").inner_text()
    # The link was used up.
    page = me.open(link.replace(site.base, ""))
    assert shown(page.get_by_role("heading", name="链接无效或已过期"))


def test_a_unit_clerk_works_a_ticket_from_the_queue_to_feedback(site, people):
    t = site.ticket()
    me = people()
    page = me.sign_in("water.clerk")
    assert page.url.endswith("/ui/queue")
    row = page.get_by_role("row").filter(has_text=t["hotline_no"])
    assert "联系代表" in row.inner_text()
    me.shoot("queue")
    row.get_by_role("link", name=t["hotline_no"]).click()
    assert shown(page.get_by_role("heading", name=t["hotline_no"]))
    me.shoot("ticket-dispatched")

    page.get_by_role("link", name="记录联系代表").click()
    me.shoot("form-contact")
    page.get_by_label("电话").check()
    page.get_by_label("已邀请代表参与办理").check()
    page.get_by_label("联系情况").fill("约定明日上午到小区查看。<script>alert(1)</script>")
    page.get_by_role("button", name="保存联系记录").click()
    assert "已记录联系代表" in page.get_by_role("status").inner_text()
    assert "<script>alert(1)</script>" in page.locator("ol.timeline").inner_text()  # as text

    page.get_by_role("link", name="办结").click()
    page.get_by_role("button", name="确认办结").click()
    summary = page.get_by_role("alert")
    assert "请选择办理结果" in summary.inner_text() and "请填写答复内容" in summary.inner_text()
    assert page.locator("#f-reply-error").inner_text().endswith("请填写答复内容")
    me.shoot("form-resolve-errors")
    page.get_by_label("已解决", exact=True).check()
    page.get_by_label("答复内容").fill("已更换破损管道，当晚恢复供水。")
    page.get_by_role("button", name="确认办结").click()
    assert "已办结" in page.get_by_role("status").inner_text()

    page.get_by_role("link", name="反馈代表").click()
    page.get_by_label("电话").check()
    page.get_by_label("反馈内容").fill("已电话告知张三代表，代表表示认可。")
    page.get_by_role("button", name="保存反馈记录").click()
    assert "已记录反馈" in page.get_by_role("status").inner_text()
    assert "已反馈" in page.locator("h1 + p").inner_text()
    me.shoot("ticket-fed-back")

    ticket = site.call("GET", f"/api/v1/tickets/{t['id']}")
    assert ticket["status"] == "fed_back" and ticket["feedback"]["method"] == "phone"
    acted = [
        e
        for e in events_of(site, t["id"])
        if e["type"] in ("ticket.contacted", "ticket.resolved", "ticket.fed_back")
    ]
    assert [e["actor"] for e in acted] == ["user:water.clerk"] * 3
    assert acted[0]["by"] == {"role": "unit", "unit": "water-bureau", "deputy_id": None, "station": None}
    page = me.open("/ui/queue")
    assert t["hotline_no"] not in page.locator("main").inner_text()


def test_the_hotline_office_decides_an_extension_a_clerk_asked_for(site, people):
    t = site.ticket()
    clerk = people()
    page = clerk.sign_in("water.clerk")
    page = clerk.open(f"/ui/tickets/{t['id']}")
    page.get_by_role("link", name="申请延期").click()
    page.get_by_label("延期工作日数").fill("9")
    page.get_by_role("button", name="提交延期申请").click()
    assert "延期工作日数不能大于7" in page.get_by_role("alert").inner_text()
    page.get_by_label("延期工作日数").fill("3")
    page.get_by_label("延期理由").fill("需协调自来水公司更换主管道。")
    page.get_by_role("button", name="提交延期申请").click()
    assert "已提交延期申请" in page.get_by_role("status").inner_text()
    due_before = [
        c for c in site.call("GET", f"/api/v1/tickets/{t['id']}")["clocks"] if c["kind"] == "resolve"
    ][0]["due_at"]

    office = people()
    page = office.sign_in("hotline.staff")
    assert page.url.endswith("/ui/extensions")
    office.shoot("extensions")
    row = page.get_by_role("row").filter(has_text=t["hotline_no"])
    row.get_by_role("link", name="审批").click()
    office.shoot("extension-decide")
    page.get_by_role("radio", name=re.compile("^批准")).check()
    page.get_by_label("说明").fill("同意延期。")
    page.get_by_role("button", name="提交审批意见").click()
    assert "已处理延期申请" in page.get_by_role("status").inner_text()

    ticket = site.call("GET", f"/api/v1/tickets/{t['id']}")
    due_after = [c for c in ticket["clocks"] if c["kind"] == "resolve"][0]["due_at"]
    assert due_after > due_before
    decided = [e for e in events_of(site, t["id"]) if e["type"] == "extension.decided"]
    assert decided[0]["actor"] == "user:hotline.staff" and decided[0]["data"]["approve"]


def _rated_unsatisfied(site: Site, hours_ago: int = 0) -> dict[str, Any]:
    """A ticket handled and rated unsatisfied (its cases opened at the rating), each step
    back-recorded `hours_ago` hours before now when asked."""
    start = datetime.now().astimezone() - timedelta(hours=hours_ago)

    def at(minutes: int) -> dict[str, str]:
        return {"at": (start + timedelta(minutes=minutes)).isoformat()} if hours_ago else {}

    t = site.ticket(called_at=start.isoformat(), dispatched_at=start.isoformat())
    tid = t["id"]
    site.call(
        "POST",
        f"/api/v1/tickets/{tid}/contact",
        "water-bureau",
        json={"method": "phone", "deputy_invited": False, **at(5)},
    )
    site.call(
        "POST",
        f"/api/v1/tickets/{tid}/resolve",
        "water-bureau",
        json={"outcome": "explained", "reply": "管网改造已列入明年计划。", **at(10)},
    )
    site.call(
        "POST",
        f"/api/v1/tickets/{tid}/feedback",
        "water-bureau",
        json={"method": "phone", "content": "已告知代表。", **at(15)},
    )
    site.call("POST", f"/api/v1/tickets/{tid}/rating", "hotline", json={"rating": "不满意", **at(20)})
    return t


def test_the_committee_opens_and_closes_a_joint_case_by_hand(site, people):
    t = site.ticket()
    liaison = people()
    page = liaison.sign_in("liaison.staff")
    assert page.url.endswith("/ui/dashboard")
    assert page.locator("svg[role=img]").count() == 3
    liaison.shoot("dashboard")
    page = liaison.open(f"/ui/tickets/{t['id']}")
    assert "赫山区" in page.locator("main").inner_text()  # the district by its name
    page.get_by_role("link", name="开启联合督办").click()
    page.get_by_role("button", name="开启联合督办").click()
    assert "请填写督办理由" in page.get_by_role("alert").inner_text()
    page.get_by_label("督办理由").fill("停水问题反复出现，承办单位办理不力。")
    page.get_by_role("button", name="开启联合督办").click()
    assert "已开启联合督办" in page.get_by_role("status").inner_text()
    assert shown(page.get_by_role("heading", name=re.compile("联合督办")))
    liaison.shoot("case")

    case_page = page.url
    page = liaison.open(f"/ui/cases/{site.early_case['id']}")
    page.get_by_role("link", name="记录会商").click()
    page.get_by_label("会商意见").fill("水务局三日内制定整改方案。")
    page.get_by_role("button", name="保存会商记录").click()
    assert "请填写会商时间" in page.get_by_role("alert").inner_text()
    assert "请选择参加单位，或填写其他参加方" in page.get_by_role("alert").inner_text()
    assert page.get_by_label("会商意见").input_value() == "水务局三日内制定整改方案。"
    liaison.shoot("form-meeting-errors")
    shanghai = ZoneInfo("Asia/Shanghai")  # the service's zone, in which people type times
    opened = datetime.fromisoformat(site.early_case["opened_at"]).astimezone(shanghai)
    held = opened.replace(second=0, microsecond=0) + timedelta(minutes=30)
    page.get_by_label("会商时间").fill(held.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("益阳市水务局").check()
    page.get_by_label("其他参加方").fill("市长热线办")
    page.get_by_role("button", name="保存会商记录").click()
    assert "已保存会商记录" in page.get_by_role("status").inner_text()
    assert "益阳市水务局、市长热线办" in page.locator("main").inner_text()
    page = liaison.open(case_page.replace(site.base, ""))

    page.get_by_role("link", name="添加督办记录").click()
    page.get_by_label("督办记录").fill("已约谈水务局分管负责人。")
    page.get_by_role("button", name="保存记录").click()
    assert "已保存督办记录" in page.get_by_role("status").inner_text()
    page.get_by_role("link", name="督办办结").click()
    page.get_by_role("button", name="确认办结").click()
    assert "请填写督办结论" in page.get_by_role("alert").inner_text()
    page.get_by_label("督办结论").fill("承办单位已制定整改计划，督办办结。")
    page.get_by_role("button", name="确认办结").click()
    assert "督办案件已办结" in page.get_by_role("status").inner_text()
    case = [
        c
        for c in site.call("GET", f"/api/v1/supervisions?ticket_id={t['id']}")["items"]
        if c["kind"] == "joint"
    ][0]
    assert (case["state"], case["unit"]) == ("closed", None)
    early = site.call("GET", f"/api/v1/supervisions/{site.early_case['id']}")
    assert early["meetings"][0]["participants"] == ["water-bureau", "市长热线办"]
    assert case["notes"][0]["author"] == "user:liaison.staff"
    page = liaison.open(f"/ui/tickets/{t['id']}")
    assert page.get_by_role("link", name="开启联合督办").count() == 0  # once per round


def test_a_committee_clerk_works_the_case_a_rating_opened(site, people):
    t = _rated_unsatisfied(site)
    committee = people(PHONE)
    page = committee.sign_in("committee.clerk")
    page = committee.open("/ui/cases")
    committee.shoot("cases")
    page.get_by_role("link", name=t["hotline_no"]).click()
    page.get_by_role("link", name="添加督办记录").click()
    page.get_by_label("督办记录").fill("专委会已听取水务局汇报。")
    page.get_by_role("button", name="保存记录").click()
    assert "已保存督办记录" in page.get_by_role("status").inner_text()
    assert page.get_by_role("link", name="记录会商").count() == 0  # 会商: the committee only
    committee.shoot("case-committee")
    cases = site.call("GET", f"/api/v1/supervisions?ticket_id={t['id']}")["items"]
    by_kind = {c["kind"]: c for c in cases}
    assert by_kind["committee"]["notes"][-1]["author"] == "user:committee.clerk"


def test_every_page_at_a_desktop_and_a_phone_width(site, people):
    """Each role's pages render without a console error and fit a phone."""
    t = _rated_unsatisfied(site)
    seen = [
        (
            "liaison.staff",
            [
                ("tickets", "/ui/tickets"),
                ("ticket-supervising", f"/ui/tickets/{t['id']}"),
                ("reports", "/ui/reports"),
                ("accounts-liaison", "/ui/admin/accounts"),
            ],
        ),
        ("water.clerk", [("queue-clerk", "/ui/queue"), ("account", "/ui/account")]),
    ]
    for username, pages in seen:
        p = people()
        p.sign_in(username)
        for name, path in pages:
            p.open(path)
            p.shoot(name)
    admin_link = site.account("site.admin", "admin", "周管理")
    admin = people()
    page = admin.open(admin_link.replace(site.base, ""))
    page.get_by_label("新密码", exact=True).fill(PASSWORD)
    page.get_by_label("再次输入新密码").fill(PASSWORD)
    page.get_by_role("button", name="设置密码").click()
    admin.sign_in("site.admin")
    for name, path in [
        ("admin-accounts", "/ui/admin/accounts"),
        ("admin-account-new", "/ui/admin/accounts/new"),
        ("admin-units", "/ui/admin/units"),
        ("admin-unit-edit", "/ui/admin/units/water-bureau"),
        ("admin-categories", "/ui/admin/categories"),
        ("admin-districts", "/ui/admin/districts"),
        ("admin-keys", "/ui/admin/keys"),
        ("admin-calendar", "/ui/admin/calendar"),
    ]:
        admin.open(path)
        admin.shoot(name)
    page = admin.open("/ui/sign-in")
    admin.shoot("sign-in")
