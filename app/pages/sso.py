"""Single sign-on (统一身份认证) by OpenID Connect: the button's start and the provider's
callback. The protocol lives in app.services.oidc, the account rules in
app.services.sessions; this router only moves the browser and the cookie."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from app.db import Transaction
from app.deps import OneTripRoute, app_state
from app.errors import NotFound
from app.pages.forms import FormState
from app.pages.session import SIGN_IN, sign_in_page
from app.pages.web import anonymous_csrf, local_path, redirect, set_session_cookie
from app.services import sessions
from app.services.oidc import OidcClient, Pending, ProviderUnavailable, SignInRefused
from app.state import AppState

router = APIRouter(route_class=OneTripRoute, prefix="/ui/sso", include_in_schema=False)
log = logging.getLogger("hotline.oidc")

CANCELLED = "您已取消统一身份认证登录。可以重新登录，或使用本系统的用户名和密码登录。"
FAILED = "统一身份认证登录未能完成（登录请求已过期，或不是从本浏览器发起的）。请重新登录。"
NO_ACCOUNT = (
    "统一身份认证账户“{name}”在本系统中没有可用的账户（未开设或已停用）。"
    "请联系系统管理员开设账户；本系统不会自动创建账户。"
)
UNAVAILABLE = "统一身份认证服务暂时无法访问。请稍后再试，或使用本系统的用户名和密码登录。"


def client_of(request: Request) -> OidcClient:
    """The configured identity provider's client (one per process); NotFound when single
    sign-on is off, so that its addresses do not exist at all."""
    state = app_state(request)
    if not state.settings.oidc_enabled:
        raise NotFound("single sign-on is not configured")
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        client = request.app.state.oidc = OidcClient(state.settings)
    return client


def _cookie(state: AppState) -> str:
    return "__Host-hotline_sso" if state.settings.secure_cookies else "hotline_sso"


def _forget(response: Response, state: AppState) -> Response:
    response.delete_cookie(
        _cookie(state), path="/", secure=state.settings.secure_cookies, httponly=True, samesite="lax"
    )
    return response


def _back_to_sign_in(
    request: Request, status: int, problem: str = "", notice: str = "", retry_after: int | None = None
) -> Response:
    token, new = anonymous_csrf(request)
    form = FormState(SIGN_IN)
    if problem:
        form.problems.append(problem)
    response = sign_in_page(request, form, token, new, status, notice=notice)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return _forget(response, app_state(request))


@router.get("/start")
async def start(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """Send the browser to the provider, keeping state, nonce and PKCE verifier in a cookie
    that lasts as long as a sign-in may take."""
    client = client_of(request)
    state = app_state(request)
    try:
        url, pending = await run_in_threadpool(client.begin, local_path(next, ""))
    except ProviderUnavailable as exc:
        log.warning("single sign-on: provider unavailable: %s", exc)
        return _back_to_sign_in(request, 503, UNAVAILABLE, retry_after=30)
    response = redirect(url)
    # SameSite=Lax: the provider sends the browser back with a top-level GET from its own
    # site, which a Strict cookie would not accompany.
    response.set_cookie(
        _cookie(state),
        pending.dump(),
        max_age=600,
        path="/",
        secure=state.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )
    return response


def _finish(
    state: AppState, client: OidcClient, raw: str | None, params: dict[str, str]
) -> tuple[str, str | None]:
    """(where to go, the new session's token), or raises; a thread of its own, since it
    waits on the provider."""
    pending = Pending.load(raw)
    identity = client.finish(pending, params)
    assert pending is not None
    now = state.clock.now()
    with Transaction(state.db.write_session) as session:
        outcome = sessions.sign_in_external(
            session, username=identity.username, now=now, via="oidc", subject=identity.subject
        )
    if outcome is None:
        log.warning(
            "single sign-on: %s=%r (sub %r) has no enabled account here",
            client.claim,
            identity.username,
            identity.subject,
        )
        return identity.username, None
    return pending.next_url or "/ui/", outcome.token


@router.get("/callback")
async def callback(request: Request) -> Response:
    """The provider's answer: a session for the account its claim names, or the sign-in page
    saying why not. The cookie is spent either way (a code is good once)."""
    client = client_of(request)
    state = app_state(request)
    params = {k: v[:2000] for k, v in request.query_params.items()}
    try:
        target, token = await run_in_threadpool(
            _finish, state, client, request.cookies.get(_cookie(state)), params
        )
    except ProviderUnavailable as exc:
        log.warning("single sign-on: provider unavailable: %s", exc)
        return _back_to_sign_in(request, 503, UNAVAILABLE, retry_after=30)
    except SignInRefused as exc:
        log.warning("single sign-on refused: %s", exc.reason)
        if exc.cancelled:
            return _back_to_sign_in(request, 200, notice=CANCELLED)
        return _back_to_sign_in(request, 400, FAILED)
    if token is None:
        return _back_to_sign_in(request, 403, NO_ACCOUNT.format(name=target))
    response = redirect(target)
    set_session_cookie(response, state, token)
    return _forget(response, state)
