"""The public pages (一人一码): a deputy's page `/d/<code>` with the message form (the
tracking page where the voter follows the message is app.pages.tracking).

They face the whole internet, so every byte is hostile: a refused address costs one
counting query and nothing else; the form carries a CSRF token (double-submit cookie) and
a hidden trap field; sizes are bounded before anything is parsed; nothing of a rejected
submission is stored; a tracking code is looked up by its digest, known or not alike."""

from __future__ import annotations

import html
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, field_validator
from pydantic import Field as PydField
from sqlalchemy import Connection

from app.db import Transaction
from app.deps import app_state
from app.pages.forms import Field, FormState, read
from app.pages.voters import PUBLIC_MAX_BYTES, VOTER, PublicRoute, gone, public_work
from app.pages.web import (
    anonymous_csrf,
    check_anonymous_csrf,
    keep_anonymous_csrf,
    read_form,
    redirect,
    render,
)
from app.repositories import messages as repo
from app.repositories.messages import lock_senders, write_in_one_trip
from app.schemas.common import Code, ShortText
from app.services import codes, messages
from app.services.registry import normalize_phone, valid_phone
from app.state import AppState

GONE = (
    "二维码不存在或已停止使用",
    "这个二维码不存在，或者已经停止使用。请向代表或代表联络站索取新的二维码。",
)
TRAP = (
    "提交未被接受：页面上一个应当留空的栏目被填写了。如果您使用了浏览器自动填表功能，请关闭后重新填写提交。"
)


class PublicMessage(BaseModel):
    content: ShortText
    name: str | None = PydField(default=None, max_length=50)
    phone: str = PydField(min_length=1, max_length=32)
    district: Code | None = None
    consent: bool

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        phone = normalize_phone(value)
        if not valid_phone(phone):
            raise ValueError("须为 5 至 20 位数字")
        return phone

    @field_validator("consent")
    @classmethod
    def _consent(cls, value: bool) -> bool:
        if not value:
            raise ValueError("须勾选后才能提交")
        return value


def _fields(districts: list[tuple[str, str]]) -> list[Field]:
    district = (
        Field("district", "所在区县", kind="select", options=tuple(districts), required=False)
        if districts
        else Field("district", "所在区县", required=False, width="w-10")
    )
    return [
        Field(
            "content",
            "留言内容",
            kind="textarea",
            hint="请写清楚反映的问题、发生的地点和您的诉求，不超过 2000 字。",
        ),
        Field("name", "您的姓名", required=False, width="w-10", autocomplete="name"),
        Field("phone", "手机号码", width="w-10", autocomplete="tel", hint="用于告知办理结果，不会公开显示。"),
        district,
    ]


CONSENT = Field("consent", "我已阅读上述告知，同意按告知处理我的个人信息", kind="checkbox")


def client_address(request: Request) -> str:
    """The address limits count by (the proxy in front sets it through uvicorn's
    --forwarded-allow-ips; a forged header from anyone else is not believed)."""
    return (request.client.host if request.client else "unknown")[:64]


def _retry_after(oldest: datetime | None, window: timedelta, now: datetime) -> int:
    if oldest is None:
        return int(window.total_seconds())
    return max(1, math.ceil((oldest + window - now).total_seconds()))


def _address_limit(state: AppState, conn: Connection, address: str, now: datetime) -> int | None:
    """Seconds to wait when the address is over its limit; one query, no transaction."""
    s = state.settings
    window = timedelta(minutes=s.message_address_window_minutes)
    count, oldest = repo.recent_from_address(conn, address, now - window, s.message_limit_per_address)
    if count >= s.message_limit_per_address:
        return _retry_after(oldest, window, now)
    return None


def limited(request: Request, seconds: int) -> Response:
    response = render(
        request,
        "public/gone.html",
        status=429,
        title="提交过于频繁",
        message=f"提交过于频繁，请 {math.ceil(seconds / 60)} 分钟后再试。",
    )
    response.headers["Retry-After"] = str(seconds)
    return response


def _read_page(state: AppState, code: str) -> codes.PublicPage | None:
    with state.db.reader.connect() as conn:
        page = codes.public_page(conn, code)
    if page is not None:
        codes.PAGES.put(code, page)
    return page


def _page_context(page: codes.PublicPage) -> dict[str, object]:
    return {
        "deputy": {"name": page.deputy_name, "level": page.deputy_level},
        "stations": page.stations,
        "districts": page.districts,
    }


def _deputy_page(state: AppState, code: str) -> dict[str, object] | None:
    page = codes.PAGES.get(code) or _read_page(state, code)
    return None if page is None else _page_context(page)


def _show_form(
    request: Request,
    code: str,
    page: dict[str, object],
    form: FormState,
    token: str,
    new: bool,
    status: int = 200,
) -> Response:
    response = render(
        request,
        "public/deputy.html",
        status=status,
        title="给代表留言",
        code=code,
        form=form,
        consent_field=CONSENT,
        csrf_token=token,
        retention_days=app_state(request).settings.voter_data_days,
        **page,
    )
    keep_anonymous_csrf(response, request, token, new)
    return response


# Where the CSRF token goes in a rendered empty form: a random word of this process's, which
# no page's data holds.
_TOKEN_SLOT = f"csrf-{secrets.token_hex(16)}"


class _EmptyForms:
    """The deputy's page with its empty form, rendered once per remembered page: it is the
    same for every voter who scans the code but for the CSRF token, which each response
    puts in its slot (escaped, as the template would). A page read again (codes.PageCache:
    every few seconds, or after a rotation) is rendered again."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._forms: dict[str, tuple[codes.PublicPage, int, bytes, bytes]] = {}

    def response(self, request: Request, code: str, page: codes.PublicPage) -> Response:
        token, new = anonymous_csrf(request)
        days = app_state(request).settings.voter_data_days
        found = self._forms.get(code)
        if found is None or found[0] is not page or found[1] != days:
            fields = [*_fields(page.districts), CONSENT]
            shown = _show_form(request, code, _page_context(page), FormState(fields), _TOKEN_SLOT, False)
            before, _, after = bytes(shown.body).partition(_TOKEN_SLOT.encode())
            assert _TOKEN_SLOT.encode() not in after
            if len(self._forms) >= self.size:
                self._forms.clear()
            found = self._forms[code] = (page, days, before, after)
        body = found[2] + html.escape(token).encode() + found[3]
        response = HTMLResponse(body, headers={"Cache-Control": "no-store"})
        keep_anonymous_csrf(response, request, token, new)
        return response


_EMPTY_FORMS = _EmptyForms()


async def deputy_page(request: Request) -> Response:
    """The deputy's public page: name, level, stations, and the message form (a page seen
    in the last few seconds is shown without a query, codes.PageCache, and without
    rendering it again, _EmptyForms)."""
    code = request.path_params["code"]
    page = codes.PAGES.get(code)
    if page is None:
        state = app_state(request)
        page = await public_work(state, _read_page, state, code)
    if page is None:
        return gone(request, GONE)
    return _EMPTY_FORMS.response(request, code, page)


def _store(state: AppState, code: str, data: PublicMessage, address: str, now: datetime) -> Outcome:
    """One transaction: the code, both limits and the calendar in one look-up, then the
    message and its first event."""
    s = state.settings
    with Transaction(state.db.write_session) as session:
        ctx = state.ctx(session, VOTER)
        lock_senders(session, (address, data.phone))
        window, day = timedelta(minutes=s.message_address_window_minutes), timedelta(days=1)
        found = messages.public_intake(
            ctx,
            code,
            address,
            now - window,
            data.phone,
            now - day,
            (s.message_limit_per_address, s.message_limit_per_phone),
        )
        if found.deputy_id is None:
            return Outcome("gone")
        if found.by_address >= s.message_limit_per_address:
            return Outcome("limited", seconds=_retry_after(found.oldest_by_address, window, now))
        if found.by_phone >= s.message_limit_per_phone:
            return Outcome("limited", seconds=_retry_after(found.oldest_by_phone, day, now))
        tracking = messages.submit_public(ctx, _new_message(found.deputy_id, data, address, now))
        return Outcome("stored", tracking=tracking)


def _store_at_once(
    state: AppState, conn: Connection | None, code: str, data: PublicMessage, address: str, now: datetime
) -> str | None:
    """The message written by statements that check the code, both limits and the calendar
    themselves (app.repositories.messages.STORE_PUBLIC_MESSAGE): on PostgreSQL one round trip on `conn`, the
    senders locked as `_store` locks them; on SQLite one short BEGIN IMMEDIATE. Its
    tracking code; None when nothing was written (a code this process has not seen in the
    last few seconds, no longer active, a sender at a limit, a calendar changed since this
    process built it): then `_store` looks it all up and says why, or stores it."""
    page, known = codes.PAGES.get(code), state.calendars.known()
    if page is None or known is None:
        return None
    signature, calendar = known
    s = state.settings
    with state.db.read_session() as session:  # never used: the context wants one
        ctx = state.ctx(session, VOTER)
        ctx.use_calendar(calendar)
        row, event = messages.public_rows(ctx, _new_message(page.deputy_id, data, address, now))
    since = (now - timedelta(minutes=s.message_address_window_minutes), now - timedelta(days=1))
    caps = (s.message_limit_per_address, s.message_limit_per_phone)
    params = repo.store_public_params(row, event, code, since, caps, signature)
    first, second = repo.STORE_PUBLIC_MESSAGE, repo.STORE_PUBLIC_EVENT
    senders = (address, data.phone)
    if conn is not None:
        written = write_in_one_trip(conn, senders, first, second, params)
    else:
        with state.db.writer.connect() as writer:
            written = write_in_one_trip(writer, senders, first, second, params)
    return str(row["tracking_code"]) if written == 1 else None


def _new_message(deputy_id: str, data: PublicMessage, address: str, now: datetime) -> messages.NewMessage:
    return messages.NewMessage(
        deputy_id=deputy_id,
        channel="code",
        content=data.content,
        voter_name=(data.name or "").strip() or None,
        voter_phone=data.phone,
        district=data.district,
        received_at=now,
        client_address=address,
    )


@dataclass
class Outcome:
    what: str  # stored | gone | limited | again
    tracking: str | None = None
    seconds: int | None = None
    page: dict[str, object] | None = None


def _submit(state: AppState, code: str, data: PublicMessage | None, address: str, now: datetime) -> Outcome:
    """The submission's database work, in one trip to a thread: the address limit first
    (a refused address causes that one counting query and nothing else), then either the
    page's look-ups to show the form again (`data` None: nothing is stored) or the store:
    at once when it can be (`_store_at_once`; on PostgreSQL on the connection of the limit
    check), else in `_store`'s transaction."""
    postgres = state.db.is_postgres
    with state.db.reader.connect() as conn:
        wait = _address_limit(state, conn, address, now)
        tracking = (
            _store_at_once(state, conn, code, data, address, now)
            if wait is None and data is not None and postgres
            else None
        )
    if wait is not None:
        return Outcome("limited", seconds=wait)
    if data is None:
        page = _deputy_page(state, code)
        return Outcome("gone") if page is None else Outcome("again", page=page)
    if tracking is None and not postgres:
        tracking = _store_at_once(state, None, code, data, address, now)
    if tracking is not None:
        return Outcome("stored", tracking=tracking)
    return _store(state, code, data, address, now)


def _too_large(request: Request) -> Response:
    return render(
        request,
        "public/gone.html",
        status=413,
        title="提交的内容过大",
        message="留言内容不能超过 2000 字，请精简后重新提交。",
    )


async def submit_message(request: Request) -> Response:
    """Size, token, trap and fields (no database work); then the address limit, and the
    store or the form again, in one trip; then the tracking page."""
    code = request.path_params["code"]
    state = app_state(request)
    address = client_address(request)
    now = state.clock.now()
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > PUBLIC_MAX_BYTES:
        return _too_large(request)
    body = await request.body()
    if len(body) > PUBLIC_MAX_BYTES:
        return _too_large(request)
    form = await read_form(request)
    check_anonymous_csrf(request, form)
    # Read with the fields alone: the page's own look-ups are made only to show it again.
    fields = [*_fields([]), CONSENT]
    model: BaseModel | None = None
    if str(form.get("website", "")).strip():
        shown = FormState(fields, {k: form.get(k, "") for k in [f.name for f in fields]})
        shown.problems.append(TRAP)
    else:
        model, shown = read(fields, form, PublicMessage, state.settings.tz)
    assert model is None or isinstance(model, PublicMessage)
    outcome = await public_work(state, _submit, state, code, model, address, now)
    if outcome.what == "stored":
        return redirect(f"/t/{outcome.tracking}?sent=1")
    if outcome.what == "limited":
        assert outcome.seconds is not None
        return limited(request, outcome.seconds)
    if outcome.what == "gone":
        return gone(request, GONE)
    assert outcome.page is not None
    token, _ = anonymous_csrf(request)
    return _again(request, code, outcome.page, shown, token)


def _again(request: Request, code: str, page: dict[str, object], shown: FormState, token: str) -> Response:
    """The form shown again with what is wrong (nothing was stored)."""
    districts = page["districts"]
    assert isinstance(districts, list)
    shown.fields = [*_fields(districts), CONSENT]
    return _show_form(request, code, page, shown, token, False, 422)


# Plain Starlette routes, not FastAPI's: every voter who scans a code costs a GET and a POST
# here, and these two take no key, no session, no parameter but the code and no JSON, so
# FastAPI's per-request work (resolving dependencies, validating parameters, serialising a
# return value) would be all cost (a tenth of the server's CPU per message, bench/messages.py).
# Everything around a route stays the same: the middleware, the error handlers (a page's
# error is a page), the route's name in the metrics, a 405 for another method.
routes = [
    PublicRoute("/d/{code}", deputy_page, methods=["GET"]),
    PublicRoute("/d/{code}", submit_message, methods=["POST"]),
]
