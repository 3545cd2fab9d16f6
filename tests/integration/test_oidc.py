"""Single sign-on (统一身份认证) by OpenID Connect, against a real provider: panva's
oidc-provider (Node.js, OpenID-certified), started on the loopback address for this module
from tests/oidc/ (its dependencies pinned by tests/oidc/package-lock.json, installed by
`npm ci` there: .ci/run does it, and so does this module when they are missing).

The provider's own login page stands in for the city's: any login name signs in as the
person of that name, whose preferred_username is that name. Nothing is mocked: the browser
goes to the provider and back, the service redeems the code at the provider's token
endpoint and checks the ID token against the provider's published keys.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.config import Settings
from app.services.oidc import OidcClient, Pending, SignInRefused
from tests.builders import PASSWORD, csrf_of, person, sign_in
from tests.conftest import make_settings

NODE = shutil.which("node")
# One provider (a Node.js process) for the module: .ci/run keeps a module's tests on one
# xdist worker (--dist loadfile).
pytestmark = [
    pytest.mark.skipif(
        NODE is None,
        reason="Node.js is not installed: the real OpenID provider of these tests (oidc-provider) runs on it",
    ),
]
HERE = Path(__file__).resolve().parent.parent / "oidc"
CLIENT_ID = "deputy-hotline"
SECRET = "hotline-oidc-test-client-secret-9f3a"
CALLBACK = "http://testserver/ui/sso/callback"
BUTTON = "统一身份认证登录"


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[str]
    server_port: int  # the browser test's server, whose callback is registered too


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        npm = shutil.which("npm")
        assert npm, "npm is missing: install Node.js with npm, or run `npm ci` in tests/oidc"
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True, timeout=300
        )
    port = free_port()
    config = {
        "client_id": CLIENT_ID,
        "client_secret": SECRET,
        "redirect_uris": [CALLBACK, f"http://127.0.0.1:{port}/ui/sso/callback"],
    }
    assert NODE is not None
    process = subprocess.Popen(
        [NODE, "provider.mjs", json.dumps(config)],
        cwd=HERE,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line, "the OpenID provider did not start (node tests/oidc/provider.mjs)"
    try:
        yield Provider(json.loads(line)["issuer"], process, port)
    finally:
        assert process.stdin is not None
        process.stdin.close()  # the provider stops when its input closes
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()


def sso_settings(url: str, issuer: str, **more: object) -> Settings:
    return make_settings(
        url,
        HOTLINE_OIDC_ISSUER=issuer,
        HOTLINE_OIDC_CLIENT_ID=CLIENT_ID,
        HOTLINE_OIDC_CLIENT_SECRET=SECRET,
        HOTLINE_OIDC_REDIRECT_URI=CALLBACK,
        **more,
    )


@pytest.fixture
def settings(db_url: str, provider: Provider) -> Settings:
    return sso_settings(db_url, provider.issuer)


def at_provider(location: str, login: str | None, *, cancel: bool = False) -> str:
    """A person at the provider: signs in as `login` and agrees (or cancels); returns the
    address the provider sends the browser back to."""
    with httpx.Client(timeout=10) as idp:
        url = location
        for _ in range(12):
            if url.startswith(CALLBACK):
                return url
            r = idp.get(url)
            if r.is_redirect:
                url = str(r.url.join(r.headers["location"]))
                continue
            assert r.status_code == 200, r.text
            if cancel:
                url = str(r.url.join(unescape(re.search(r'href="([^"]*/abort)"', r.text).group(1))))  # type: ignore[union-attr]
                continue
            action = unescape(re.search(r'action="([^"]+)"', r.text).group(1))  # type: ignore[union-attr]
            prompt = re.search(r'name="prompt" value="(\w+)"', r.text).group(1)  # type: ignore[union-attr]
            data = {"prompt": prompt}
            if prompt == "login":
                assert login is not None
                data |= {"login": login, "password": "any-password"}
            r = idp.post(str(r.url.join(action)), data=data)
            assert r.is_redirect, r.text
            url = str(r.url.join(r.headers["location"]))
    raise AssertionError("the provider never sent the browser back")


def start(browser: TestClient, next_url: str | None = None) -> str:
    """Press the sign-in page's button: the service sends the browser to the provider."""
    page = browser.get("/ui/sign-in" + (f"?next={next_url}" if next_url else ""))
    href = unescape(re.search(r'href="(/ui/sso/start[^"]*)"', page.text).group(1))  # type: ignore[union-attr]
    assert BUTTON in page.text
    r = browser.get(href, follow_redirects=False)
    assert r.status_code == 303, r.text
    return r.headers["location"]


def come_back(browser: TestClient, url: str) -> httpx.Response:
    parts = urlsplit(url)
    return browser.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def sso_sign_in(browser: TestClient, login: str, next_url: str | None = None) -> httpx.Response:
    return come_back(browser, at_provider(start(browser, next_url), login))


def account_events(api, username: str) -> list[dict]:
    from sqlalchemy import select

    from app.models import Account, AccountEvent

    with api.app.state.hotline.db.read_session() as s:
        rows = s.execute(
            select(AccountEvent.type, AccountEvent.data, AccountEvent.actor)
            .join(Account, Account.id == AccountEvent.account_id)
            .where(Account.username == username)
            .order_by(AccountEvent.id)
        ).all()
    return [{"type": t, "data": d, "actor": a} for t, d, a in rows]


def new_account(api, username: str, role: str = "hotline") -> dict:
    r = api.post("/api/v1/accounts", json={"username": username, "display_name": "李明", "role": role})
    assert r.status_code == 201, r.text
    return r.json()


def test_a_person_signs_in_at_the_provider_to_the_account_of_that_name(api, provider):
    # An account made by the administrator; its owner never set a password here.
    new_account(api, "li.ming")
    browser = TestClient(api.app, raise_server_exceptions=False)
    location = start(browser)
    auth = urlsplit(location)
    query = parse_qs(auth.query)
    assert location.startswith(provider.issuer + "/auth?")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert query["redirect_uri"] == [CALLBACK] and query["response_type"] == ["code"]
    assert "hotline_sso" in browser.cookies
    r = come_back(browser, at_provider(location, "Li.Ming"))  # usernames match in any case
    assert r.status_code == 303 and r.headers["location"] == "/ui/", r.text
    assert "hotline_sso" not in browser.cookies  # spent
    page = browser.get("/ui/account")
    assert page.status_code == 200 and "li.ming" in page.text
    signed_in = [e for e in account_events(api, "li.ming") if e["type"] == "session.signed_in"]
    assert signed_in == [
        {"type": "session.signed_in", "actor": "user:li.ming", "data": {"via": "oidc", "subject": "Li.Ming"}}
    ]
    # The password sign-in still refuses it: SSO set no password.
    assert sign_in(TestClient(api.app), "li.ming", PASSWORD).status_code == 401


def test_the_person_returns_to_the_page_they_asked_for(api):
    new_account(api, "li.ming")
    browser = TestClient(api.app, raise_server_exceptions=False)
    r = sso_sign_in(browser, "li.ming", "/ui/account")
    assert r.status_code == 303 and r.headers["location"] == "/ui/account"
    # Never another site's address.
    r = sso_sign_in(TestClient(api.app), "li.ming", "https://evil.example/ui/")
    assert r.status_code == 303 and r.headers["location"] == "/ui/"


def test_no_account_is_created_for_a_stranger(api):
    new_account(api, "li.ming")
    before = api.get("/api/v1/accounts").json()
    browser = TestClient(api.app, raise_server_exceptions=False)
    r = sso_sign_in(browser, "wang.wu")
    assert r.status_code == 403 and "没有可用的账户" in r.text and "wang.wu" in r.text
    assert "hotline_session" not in browser.cookies
    assert api.get("/api/v1/accounts").json() == before
    assert browser.get("/ui/account", follow_redirects=False).status_code == 303  # to sign-in


def test_a_disabled_account_cannot_sign_in_and_the_refusal_is_logged(api):
    account = new_account(api, "li.ming")
    ok = TestClient(api.app, raise_server_exceptions=False)
    assert sso_sign_in(ok, "li.ming").status_code == 303
    assert api.post(f"/api/v1/accounts/{account['id']}/disable").status_code == 200
    assert ok.get("/ui/account", follow_redirects=False).status_code == 303  # session ended
    browser = TestClient(api.app, raise_server_exceptions=False)
    r = sso_sign_in(browser, "li.ming")
    assert r.status_code == 403 and "没有可用的账户" in r.text
    assert "hotline_session" not in browser.cookies
    assert account_events(api, "li.ming")[-1] == {
        "type": "sign_in.refused",
        "actor": "oidc:li.ming",
        "data": {"via": "oidc", "reason": "disabled"},
    }


def test_an_answer_for_another_browsers_sign_in_is_refused(api):
    """Login CSRF: an attacker's code, delivered to a victim's browser, signs no one in."""
    new_account(api, "li.ming")
    attacker = TestClient(api.app, raise_server_exceptions=False)
    answer = at_provider(start(attacker), "li.ming")
    victim = TestClient(api.app, raise_server_exceptions=False)
    r = come_back(victim, answer)  # no sign-in under way there
    assert r.status_code == 400 and "未能完成" in r.text
    start(victim)  # one under way, but with its own state
    r = come_back(victim, answer)
    assert r.status_code == 400 and "hotline_session" not in victim.cookies
    # The attacker's own browser could still use it: the refusal was about the state.
    assert come_back(attacker, answer).status_code == 303


def test_a_changed_state_is_refused(api):
    new_account(api, "li.ming")
    browser = TestClient(api.app, raise_server_exceptions=False)
    answer = at_provider(start(browser), "li.ming")
    state = parse_qs(urlsplit(answer).query)["state"][0]
    r = come_back(browser, answer.replace(state, state[:-1] + ("A" if state[-1] != "A" else "B")))
    assert r.status_code == 400 and "hotline_session" not in browser.cookies


def test_a_code_is_good_once(api):
    new_account(api, "li.ming")
    browser = TestClient(api.app, raise_server_exceptions=False)
    location = start(browser)
    pending = browser.cookies["hotline_sso"]
    answer = at_provider(location, "li.ming")
    assert come_back(browser, answer).status_code == 303
    again = TestClient(api.app, raise_server_exceptions=False)
    again.cookies.set("hotline_sso", pending)  # even with the spent cookie replayed
    r = come_back(again, answer)
    assert r.status_code == 400 and "hotline_session" not in again.cookies


def _code_for(client: OidcClient, login: str) -> tuple[Pending, dict[str, str]]:
    url, pending = client.begin("")
    answer = at_provider(url, login)
    return pending, {k: v[0] for k, v in parse_qs(urlsplit(answer).query).items()}


def test_the_nonce_and_the_pkce_verifier_are_checked(settings):
    client = OidcClient(settings)
    pending, params = _code_for(client, "li.ming")
    # The ID token carries the nonce of this sign-in: another one is refused.
    with pytest.raises(SignInRefused, match="nonce"):
        client.finish(
            Pending(pending.state, "another-nonce-" + "x" * 30, pending.verifier, "", pending.started_at),
            params,
        )
    # The provider refuses to redeem a code without its verifier.
    pending, params = _code_for(client, "li.ming")
    with pytest.raises(SignInRefused, match="invalid_grant"):
        client.finish(Pending(pending.state, pending.nonce, "w" * 64, "", pending.started_at), params)
    pending, params = _code_for(client, "li.ming")
    assert client.finish(pending, params).username == "li.ming"  # the same steps, unchanged


def test_an_expired_id_token_is_refused(settings):
    """ID tokens are checked against real time (the provider's clock), with a minute of
    leeway: a server two hours ahead sees this one as expired."""
    late = OidcClient(settings, now=lambda: time.time() + 7200)
    pending, params = _code_for(late, "li.ming")
    with pytest.raises(SignInRefused, match="ID token"):
        late.finish(pending, params)


def test_a_sign_in_that_took_over_ten_minutes_is_refused(settings):
    client = OidcClient(settings)
    pending, params = _code_for(client, "li.ming")
    old = Pending(pending.state, pending.nonce, pending.verifier, "", pending.started_at - 601)
    with pytest.raises(SignInRefused, match="10 minutes"):
        client.finish(old, params)


def test_cancelling_at_the_provider_returns_to_the_sign_in_page(api):
    new_account(api, "li.ming")
    browser = TestClient(api.app, raise_server_exceptions=False)
    answer = at_provider(start(browser), None, cancel=True)
    assert "error=access_denied" in answer
    r = come_back(browser, answer)
    assert r.status_code == 200 and "您已取消统一身份认证登录" in r.text
    assert "hotline_session" not in browser.cookies


def test_another_claim_can_name_the_account(db_url, provider, clock):
    """A city whose system identifies staff by number: HOTLINE_OIDC_USERNAME_CLAIM picks
    it (the provider gives employee_no only from its userinfo endpoint)."""
    from tests.conftest import pinned_calendars

    settings = sso_settings(db_url, provider.issuer, HOTLINE_OIDC_USERNAME_CLAIM="employee_no")
    from app.main import create_app
    from app.state import build_state
    from tests.builders import Api

    state = build_state(settings, clock, calendars=pinned_calendars())
    app = create_app(settings, clock=clock, state=state, background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, clock, app)
        new_account(api, "e7-li.ming")
        new_account(api, "li.ming")
        browser = TestClient(app, raise_server_exceptions=False)
        assert sso_sign_in(browser, "li.ming").status_code == 303
        assert "e7-li.ming" in browser.get("/ui/account").text


def test_a_provider_that_does_not_answer_gives_a_page_to_try_later(db_url, clock):
    import socket

    from app.main import create_app
    from app.state import build_state
    from tests.builders import Api
    from tests.conftest import pinned_calendars

    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}"
    settings = sso_settings(db_url, closed)
    state = build_state(settings, clock, calendars=pinned_calendars())
    app = create_app(settings, clock=clock, state=state, background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        browser = TestClient(Api(client, clock, app).app, raise_server_exceptions=False)
        t0 = time.monotonic()
        r = browser.get("/ui/sso/start", follow_redirects=False)
        assert r.status_code == 503 and r.headers["retry-after"] == "30"
        assert "暂时无法访问" in r.text and time.monotonic() - t0 < 10
        r = browser.get("/ui/sso/callback?code=x&state=y", follow_redirects=False)
        assert r.status_code == 400  # no sign-in under way: refused before the provider is asked


def test_off_by_default_no_button_and_no_addresses(api_without_sso):
    page = api_without_sso.client.get("/ui/sign-in")
    assert page.status_code == 200 and BUTTON not in page.text
    for path in ("/ui/sso/start", "/ui/sso/callback?code=x&state=y"):
        assert api_without_sso.client.get(path, follow_redirects=False).status_code == 404


@pytest.fixture
def api_without_sso(db_url, clock):
    from tests.conftest import serve

    with serve(make_settings(db_url), clock) as api:
        yield api


@pytest.mark.parametrize(
    "missing", ["HOTLINE_OIDC_CLIENT_ID", "HOTLINE_OIDC_CLIENT_SECRET", "HOTLINE_OIDC_REDIRECT_URI"]
)
def test_a_half_configured_sign_on_stops_at_start_up(db_url, missing):
    values = {
        "HOTLINE_OIDC_ISSUER": "https://sso.city.gov.cn/oidc",
        "HOTLINE_OIDC_CLIENT_ID": CLIENT_ID,
        "HOTLINE_OIDC_CLIENT_SECRET": SECRET,
        "HOTLINE_OIDC_REDIRECT_URI": CALLBACK,
    }
    del values[missing]
    with pytest.raises(ValidationError, match=missing.split(" ")[0]):
        make_settings(db_url, **values)
    del values["HOTLINE_OIDC_ISSUER"]
    assert not make_settings(db_url, **values).oidc_enabled  # no issuer: simply off


def test_password_sign_in_still_works_beside_it(api):
    person(api, "li.ming", "hotline")
    browser = TestClient(api.app, raise_server_exceptions=False)
    page = browser.get("/ui/sign-in")
    assert BUTTON in page.text and csrf_of(page.text)
    assert sign_in(browser, "li.ming").status_code == 303


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENS = Path(__file__).resolve().parent.parent / "out" / "screens"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Chromium is not installed")
def test_in_a_browser_the_button_leads_to_the_provider_and_back(provider, tmp_path):
    """Chromium, a real server process and the real provider: the button, the provider's
    login page, its consent page, and the person's landing page here."""
    import os
    import sys

    from tests.support import throwaway_database

    sync_api = pytest.importorskip("playwright.sync_api")
    admin = "oidc-admin-key-0123456789abcdef"
    base = f"http://127.0.0.1:{provider.server_port}"
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_oidc") as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "HOTLINE_ADMIN_KEY": admin,
            "HOTLINE_SCHEDULER": "off",
            "HOTLINE_WEBHOOKS": "off",
            "HOTLINE_OIDC_ISSUER": provider.issuer,
            "HOTLINE_OIDC_CLIENT_ID": CLIENT_ID,
            "HOTLINE_OIDC_CLIENT_SECRET": SECRET,
            "HOTLINE_PUBLIC_BASE_URL": base,
        }
        log = tmp_path / "server.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "hotline"), "serve", "--port", str(provider.server_port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + 60
            while True:
                assert proc.poll() is None, log.read_text()[-3000:]
                try:
                    if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()[-3000:]
                time.sleep(0.1)
            r = httpx.post(
                base + "/api/v1/accounts",
                headers={"Authorization": f"Bearer {admin}"},
                json={"username": "li.ming", "display_name": "李明", "role": "liaison"},
            )
            assert r.status_code == 201, r.text
            SCREENS.mkdir(parents=True, exist_ok=True)
            with sync_api.sync_playwright() as p:
                chromium = p.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
                )
                try:
                    for name, viewport in (
                        ("desktop", {"width": 1280, "height": 900}),
                        ("phone", {"width": 390, "height": 844}),
                    ):
                        context = chromium.new_context(viewport=viewport, locale="zh-CN")
                        page = context.new_page()
                        page.set_default_timeout(15_000)
                        page.goto(base + "/ui/sign-in")
                        page.screenshot(path=str(SCREENS / f"sso-sign-in-{name}.png"), full_page=True)
                        page.get_by_role("link", name=BUTTON).click()
                        page.wait_for_url(provider.issuer + "/interaction/**")
                        page.fill("input[name=login]", "li.ming")
                        page.fill("input[name=password]", "any-password")
                        page.click("button[type=submit]")
                        page.get_by_role("button", name="Continue").click()
                        page.wait_for_url(base + "/ui/**")
                        page.screenshot(path=str(SCREENS / f"sso-landed-{name}.png"), full_page=True)
                        assert "李明" in page.content()
                        context.close()
                finally:
                    chromium.close()
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
