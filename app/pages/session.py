"""Signing in and out, choosing a password from an invitation link, and the landing page
that sends each role to its work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import Transaction
from app.deps import OneTripRoute, app_state
from app.errors import Invalid, NotFound
from app.models import Account
from app.pages import labels
from app.pages.forms import Field, FormState, refused
from app.pages.web import (
    CsrfRefused,
    FormDep,
    Me,
    anonymous_csrf,
    check_anonymous_csrf,
    clear_session_cookie,
    cookie_names,
    keep_anonymous_csrf,
    local_path,
    redirect,
    render,
    same_token,
    set_session_cookie,
)
from app.services import accounts, sessions
from app.services.sessions import LOCK_AFTER, LOCK_FOR

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)

SIGN_IN = [
    Field("username", "用户名", autocomplete="username", width="w-20"),
    Field("password", "密码", kind="password", autocomplete="current-password", width="w-20"),
]
NEW_PASSWORD = [
    Field(
        "password",
        "新密码",
        kind="password",
        autocomplete="new-password",
        width="w-20",
        hint="至少 10 个字符。请不要使用常用密码（如 1234567890、qwertyuiop），也不要包含用户名。",
    ),
    Field("confirm", "再次输入新密码", kind="password", autocomplete="new-password", width="w-20"),
]
NOTICES = {
    "password": "密码已设置，请登录。",
    "signed-out": "您已退出登录。",
    "expired": "为保护您的信息，长时间未操作后需要重新登录。",
}
WRONG = "用户名或密码不正确"
LOCKED = (
    f"登录失败次数过多（15 分钟内 {LOCK_AFTER} 次），该用户名已暂时锁定 "
    f"{int(LOCK_FOR.total_seconds() // 60)} 分钟。请稍后再试，或联系系统管理员重新发送邀请链接。"
)


@router.get("/", name="landing")
def landing(request: Request) -> Response:
    """Each role to its work; anyone else to the sign-in page."""
    state = app_state(request)
    token = request.cookies.get(cookie_names(state)[0])
    with state.db.read_session() as session:
        me = sessions.lookup(session, token, state.clock.now())
    if me is None:
        return redirect("/ui/sign-in")
    return redirect(labels.HOME.get(me.role, "/ui/account"))


def sign_in_page(
    request: Request,
    form: FormState,
    token: str,
    new: bool,
    status: int = 200,
    next_url: str = "",
    notice: str = "",
) -> Response:
    """The sign-in page (with the single sign-on button when it is configured)."""
    sso = app_state(request).settings.oidc_enabled
    response = render(
        request,
        "session/sign_in.html",
        status=status,
        title="登录",
        form=form,
        next_url=next_url,
        notice=notice,
        csrf_token=token,
        sso=sso,
    )
    keep_anonymous_csrf(response, request, token, new)
    return response


@router.get("/sign-in")
def sign_in_form(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    done: Annotated[str | None, Query(max_length=20)] = None,
    username: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    token, new = anonymous_csrf(request)
    return sign_in_page(
        request,
        FormState(SIGN_IN, {"username": username or ""}),
        token,
        new,
        next_url=local_path(next, ""),
        notice=NOTICES.get(done or "", ""),
    )


@router.post("/sign-in")
def sign_in(request: Request, form: FormDep) -> Response:
    """Check the password outside any transaction, then record the attempt in a short
    one (app.services.sessions)."""
    check_anonymous_csrf(request, form)
    state = app_state(request)
    token, _ = anonymous_csrf(request)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    next_url = local_path(str(form.get("next", "")), "")
    shown = FormState(SIGN_IN, {"username": username})
    if not username.strip():
        shown.errors["username"] = "请填写用户名"
    if not password:
        shown.errors["password"] = "请填写密码"
    if shown.errors:
        return sign_in_page(request, shown, token, False, 422, next_url)
    now = state.clock.now()
    with state.db.read_session() as session:
        attempt = sessions.prepare(session, username, now)
    checked = sessions.check(attempt, password, state.settings.password_wait_seconds)
    with Transaction(state.db.write_session) as session:
        outcome = sessions.finish(session, attempt, checked, now)
    if not outcome.ok:
        # The same answer whether or not the username exists (SPEC "People and sign-in").
        shown.problems.append(LOCKED if outcome.locked else WRONG)
        return sign_in_page(request, shown, token, False, 401, next_url)
    assert outcome.token is not None
    response = redirect(next_url or "/ui/")
    set_session_cookie(response, state, outcome.token)
    return response


@router.post("/sign-out")
def sign_out(request: Request, form: FormDep) -> Response:
    """End the session (its form carries the session's CSRF token)."""
    state = app_state(request)
    token = request.cookies.get(cookie_names(state)[0])
    now = state.clock.now()
    with state.db.read_session() as session:
        me = sessions.lookup(session, token, now)
    if me is not None and same_token(str(form.get("csrf_token", "")), me.csrf_token):
        with Transaction(state.db.write_session) as session:
            sessions.sign_out(session, token, now)
    elif me is not None:
        raise CsrfRefused("the form's security token is missing or out of date")
    response = redirect("/ui/sign-in?done=signed-out")
    clear_session_cookie(response, state)
    return response


def _invite_page(
    request: Request, account: Account, form: FormState, token: str, new: bool, status: int = 200
) -> Response:
    response = render(
        request,
        "session/set_password.html",
        status=status,
        title="设置密码",
        form=form,
        account=account,
        csrf_token=token,
    )
    keep_anonymous_csrf(response, request, token, new)
    return response


def _invited(request: Request, link: str) -> Account:
    state = app_state(request)
    with state.db.read_session() as session:
        account = accounts.invited(session, link, state.clock.now())
    if account is None:
        raise NotFound("this invitation link is not valid")
    return account


@router.get("/invite/{link}")
def invite_form(request: Request, link: str) -> Response:
    try:
        account = _invited(request, link)
    except NotFound:
        return render(request, "session/invalid_link.html", status=404, title="链接无效")
    token, new = anonymous_csrf(request)
    return _invite_page(request, account, FormState(NEW_PASSWORD), token, new)


@router.post("/invite/{link}")
def set_password(request: Request, link: str, form: FormDep) -> Response:
    """Hash the new password outside any transaction, then use the link in a short one."""
    check_anonymous_csrf(request, form)
    state = app_state(request)
    try:
        account = _invited(request, link)
    except NotFound:
        return render(request, "session/invalid_link.html", status=404, title="链接无效")
    token, _ = anonymous_csrf(request)
    password, confirm = str(form.get("password", "")), str(form.get("confirm", ""))
    shown = FormState(NEW_PASSWORD)
    try:
        if not password:
            raise Invalid("password", "must be at least 10 characters")
        hashed = accounts.new_password_hash(account, password, confirm)
    except Invalid as exc:
        if not password:
            shown.errors["password"] = "请填写新密码"
            return _invite_page(request, account, shown, token, False, 422)
        return _invite_page(request, account, refused(shown, exc), token, False, 422)
    try:
        with Transaction(state.db.write_session) as session:
            used = accounts.set_password(session, token=link, password_hash=hashed, now=state.clock.now())
    except NotFound:
        return render(request, "session/invalid_link.html", status=404, title="链接无效")
    return redirect(f"/ui/sign-in?done=password&username={used.username}")


@router.get("/account")
def account_page(request: Request, me: Me) -> Response:
    """Who is signed in, and as what."""
    return render(request, "session/account.html", title="我的账户")
