"""What every page shares: templates, the signed-in person, forms and CSRF, security
headers, and errors shown as pages.

Pages use the API's own request context (`app.deps`): a page reads or writes in the same
transaction scheme as the endpoint beside it, and calls the same service functions. Only
the actor is found another way: from the session cookie instead of a bearer key.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote, urlsplit

import jinja2
from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import Transaction
from app.deps import app_state, context_of
from app.errors import DomainError, Forbidden, Unauthorized, status_of
from app.pages import labels
from app.services.context import Actor
from app.services.sessions import SignedIn, lookup, needs_touch, touch
from app.state import AppState

ROOT = Path(__file__).resolve().parent.parent
PREFIX = "/ui"

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(ROOT / "templates"),
    autoescape=True,  # every page: whatever people typed is shown as text
    auto_reload=False,  # templates change only with a release: no stat() per render
    trim_blocks=True,
    lstrip_blocks=True,
)
labels.install(_env)
templates = Jinja2Templates(env=_env)


class SignInRequired(Unauthorized):
    """No valid session: pages answer with the sign-in page."""


class CsrfRefused(Forbidden):
    """A form without this session's token: nothing is done."""


# --- cookies -------------------------------------------------------------------------------


def cookie_names(state: AppState) -> tuple[str, str]:
    """(session, anonymous CSRF) cookie names; with HTTPS the __Host- prefix binds them to
    this host, Secure and Path=/ (browsers refuse them otherwise)."""
    if state.settings.secure_cookies:
        return "__Host-hotline_session", "__Host-hotline_csrf"
    return "hotline_session", "hotline_csrf"


def set_session_cookie(response: Response, state: AppState, token: str) -> None:
    from app.services.sessions import ABSOLUTE

    response.set_cookie(
        cookie_names(state)[0],
        token,
        max_age=int(ABSOLUTE.total_seconds()),
        path="/",
        secure=state.settings.secure_cookies,
        httponly=True,
        samesite="lax",
    )


def clear_session_cookie(response: Response, state: AppState) -> None:
    response.delete_cookie(
        cookie_names(state)[0], path="/", secure=state.settings.secure_cookies, httponly=True, samesite="lax"
    )


def anonymous_csrf(request: Request) -> tuple[str, bool]:
    """The CSRF token of a page shown before sign-in (double-submit: the same random value
    in a cookie and in the form); True when the cookie must be set."""
    existing = request.cookies.get(cookie_names(app_state(request))[1], "")
    if 20 <= len(existing) <= 100:
        return existing, False
    return secrets.token_urlsafe(32), True


def keep_anonymous_csrf(response: Response, request: Request, token: str, new: bool) -> None:
    if new:
        state = app_state(request)
        response.set_cookie(
            cookie_names(state)[1],
            token,
            path="/",
            httponly=True,
            secure=state.settings.secure_cookies,
            samesite="strict",
        )


def same_token(given: str | None, expected: str | None) -> bool:
    return bool(given) and bool(expected) and hmac.compare_digest(str(given).encode(), str(expected).encode())


# --- forms ---------------------------------------------------------------------------------


async def read_form(request: Request) -> FormData:
    """The posted form (application/x-www-form-urlencoded; read once per request)."""
    cached: FormData | None = getattr(request.state, "form", None)
    if cached is not None:
        return cached
    form = FormData()
    if request.method == "POST":
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise CsrfRefused("forms are posted as application/x-www-form-urlencoded")
        try:
            text = (await request.body()).decode("utf-8")
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=400)
        except (UnicodeDecodeError, ValueError):
            raise CsrfRefused("the form could not be read") from None
        items: list[tuple[str, str | UploadFile]] = list(pairs)
        form = FormData(items)
    request.state.form = form
    return form


FormDep = Annotated[FormData, Depends(read_form)]


def check_anonymous_csrf(request: Request, form: FormData) -> None:
    """A form posted before sign-in carries the token of its cookie."""
    cookie = request.cookies.get(cookie_names(app_state(request))[1])
    if not same_token(str(form.get("csrf_token", "")), cookie):
        raise CsrfRefused("the form's security token is missing or out of date")


# --- the signed-in person ----------------------------------------------------------------


def _find(state: AppState, token: str | None, now: datetime) -> SignedIn | None:
    with state.db.reader.connect() as conn:
        found = lookup(conn, token, now)
    if found is not None and needs_touch(found, now):
        with Transaction(state.db.write_session) as session:
            touch(session, found.session_id, now)
    return found


async def signed_in(request: Request) -> SignedIn:
    """The person whose session cookie came with the request, or SignInRequired."""
    state = app_state(request)
    token = request.cookies.get(cookie_names(state)[0])
    found = await run_in_threadpool(_find, state, token, state.clock.now()) if token else None
    if found is None:
        raise SignInRequired("sign in to continue")
    request.state.signed_in = found
    request.state.actor = found.actor()  # the access log names who asked
    return found


Me = Annotated[SignedIn, Depends(signed_in)]


async def page_actor(request: Request, me: Me) -> Actor:
    """The signed-in person as the actor; a POST must carry the session's CSRF token
    (checked before any transaction opens, so a refused form changes nothing)."""
    if request.method == "POST":
        form = await read_form(request)
        if not same_token(str(form.get("csrf_token", "")), me.csrf_token):
            raise CsrfRefused("the form's security token is missing or out of date")
    return me.actor()


def page_reader(*roles: str) -> Any:
    """A read-only context for a signed-in person of these roles (all when none named)."""
    return context_of(page_actor, roles, write=False)


def page_writer(*roles: str) -> Any:
    """A writing context for a signed-in person of these roles, after the CSRF check."""
    return context_of(page_actor, roles, write=True)


# --- responses -----------------------------------------------------------------------------


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page in the base layout; signed-in pages are never stored by caches."""
    me: SignedIn | None = getattr(request.state, "signed_in", None)
    context.setdefault("csrf_token", me.csrf_token if me else "")
    context.update(me=me, nav=labels.nav_for(me, request.url.path), tz=app_state(request).settings.tz)
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


def redirect(url: str) -> RedirectResponse:
    """See other (303): after a form, the browser GETs the result page."""
    return RedirectResponse(url, status_code=303)


def local_path(raw: str | None, default: str = PREFIX + "/") -> str:
    """A path on this site's pages only (never another host: no open redirect)."""
    if not raw:
        return default
    parts = urlsplit(raw)
    if (
        parts.scheme
        or parts.netloc
        or not raw.startswith(PREFIX + "/")
        or "\\" in raw
        or raw.startswith("//")
    ):
        return default
    return raw


PUBLIC_PREFIXES = ("/d/", "/t/")  # the voters' pages (一人一码)


def is_page_path(path: str) -> bool:
    """Whether a path is a page's (under /ui, or the voters' /d/ and /t/): pages answer
    errors as pages (app.errors) and carry the pages' security headers (PageHeaders)."""
    return path == PREFIX or path.startswith((PREFIX + "/", *PUBLIC_PREFIXES))


_TITLES = {
    400: "无法读取请求",
    401: "请先登录",
    403: "无权进行此操作",
    404: "找不到该页面",
    405: "不支持此操作",
    409: "无法完成此操作",
    413: "提交的内容过大",
    415: "无法读取请求",
    422: "提交的内容有误",
    429: "请求过于频繁",
    500: "系统出现错误",
    503: "系统繁忙",
}
_ADVICE = {
    403: "如您认为应当有权访问，请联系系统管理员。",
    404: "页面地址可能有误，或者您无权查看该内容。",
    409: "该事项的状态可能已经变化，请返回重新打开后再试。",
    500: "错误已记录，请稍后再试；如果问题持续，请联系系统管理员。",
    503: "请稍后再试。",
}


def error_page(request: Request, status: int, detail: str = "") -> Response:
    """An error as a page (pages never answer with problem+json)."""
    state = app_state(request)
    if isinstance(request.scope.get("hotline_error"), SignInRequired) or status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response: Response = redirect(f"{PREFIX}/sign-in?next={quote(local_path(target))}")
        clear_session_cookie(response, state)
        return response
    message = labels.translate_detail(detail) if status in (409, 422) else ""
    if status == 403 and isinstance(request.scope.get("hotline_error"), CsrfRefused):
        message = "表单已过期或来源不明，未做任何更改。请返回上一页，刷新后重新提交。"
    return render(
        request,
        "error.html",
        status=status,
        title=_TITLES.get(status, "出错了"),
        message=message,
        advice=_ADVICE.get(status, ""),
        back=_back(request.url.path),
    )


def _back(path: str) -> tuple[str, str]:
    """Where an error page leads: a voter back to the deputy's page or the tracking page
    they were on (the staff's home would only ask them to sign in), the staff home."""
    head, _, rest = path.partition("/")[2].partition("/")
    code = rest.split("/", 1)[0]
    if head == "d" and code:
        return f"/d/{quote(code)}", "返回留言页面"
    if head == "t" and code:
        return f"/t/{quote(code)}", "返回留言查询"
    return PREFIX + "/", "返回首页"


def domain_error_page(request: Request, exc: DomainError) -> Response:
    request.scope["hotline_error"] = exc
    return error_page(request, status_of(exc), exc.detail)


# --- security headers ----------------------------------------------------------------------

# Only this service's own origin. Charts are inline SVG (markup, not style or script), so
# no 'unsafe-inline' of any kind is needed; pages carry no style attributes.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]


class PageHeaders:
    """Security headers on every response under /ui (a route may set its own CSP)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not is_page_path(path):
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [h for h in _HEADERS if h[0] not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
