"""People's accounts (admin; the liaison committee for deputies and station staff)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request

from app.deps import (
    CursorParam,
    Limit,
    OneTripRoute,
    decode_cursor,
    encode_cursor,
    reader,
    writer,
)
from app.errors import Invalid
from app.models import Account
from app.schemas.accounts import AccountIn, AccountOut, Invited
from app.schemas.common import Page, problem_responses
from app.services import accounts as svc
from app.services.context import Ctx

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["accounts"],
    responses=problem_responses(401, 403, 404, 422),
)


def base_url(request: Request) -> str:
    """Where links point: HOTLINE_PUBLIC_BASE_URL, else the address this request came to."""
    configured: str | None = request.app.state.hotline.settings.public_base_url
    return configured or str(request.base_url)


def account_state(a: Account, now: datetime) -> str:
    if a.disabled_at is not None:
        return "disabled"
    if a.password_hash is not None:
        return "active"
    if a.invite_expires_at is not None and a.invite_expires_at > now:
        return "invited"
    return "expired"


def account_out(a: Account, now: datetime, tz: ZoneInfo) -> AccountOut:
    def local(dt: datetime | None) -> datetime | None:
        return None if dt is None else dt.astimezone(tz)

    return AccountOut(
        id=a.id,
        username=a.username,
        display_name=a.display_name,
        role=a.role,
        unit_code=a.unit_code,
        deputy_id=a.deputy_id,
        station_code=a.station_code,
        state=account_state(a, now),
        invite_expires_at=local(a.invite_expires_at),
        password_set_at=local(a.password_set_at),
        last_sign_in_at=local(a.last_sign_in_at),
        disabled_at=local(a.disabled_at),
        created_at=a.created_at.astimezone(tz),
        created_by=a.created_by,
    )


def invited(a: Account, url: str, tz: ZoneInfo) -> Invited:
    assert a.invite_expires_at is not None
    return Invited(
        id=a.id,
        username=a.username,
        role=a.role,
        invite_url=url,
        invite_expires_at=a.invite_expires_at.astimezone(tz),
    )


@router.post("/accounts", status_code=201, response_model=Invited, responses=problem_responses(409))
def create_account(body: AccountIn, request: Request, ctx: Ctx = writer("admin", "liaison")) -> Invited:
    """A person's account, with the one-time link where they choose a password."""
    account, url = svc.create_account(ctx, svc.AccountInput(**body.model_dump()), base_url=base_url(request))
    out = invited(account, url, ctx.tz)
    return out


@router.get("/accounts", response_model=Page[AccountOut])
def list_accounts(
    ctx: Ctx = reader("admin", "liaison"), limit: Limit = 50, cursor: CursorParam = None
) -> Page[AccountOut]:
    """The accounts this key manages (liaison: deputies' and stations'), by username."""
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    rows = svc.list_accounts(ctx, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    now = ctx.now()
    return Page(
        items=[account_out(a, now, ctx.tz) for a in rows],
        next_cursor=encode_cursor(rows[-1].username) if more else None,
    )


@router.get("/accounts/{account_id}", response_model=AccountOut)
def get_account(account_id: str, ctx: Ctx = reader("admin", "liaison")) -> AccountOut:
    return account_out(svc.get_account(ctx, account_id), ctx.now(), ctx.tz)


@router.post("/accounts/{account_id}/invite", response_model=Invited)
def reinvite(account_id: str, request: Request, ctx: Ctx = writer("admin", "liaison")) -> Invited:
    """A new one-time link (a password reset): the old link, the password and every
    session of the account stop working."""
    account, url = svc.reinvite(ctx, account_id, base_url=base_url(request))
    out = invited(account, url, ctx.tz)
    return out


@router.post("/accounts/{account_id}/disable", response_model=AccountOut, responses=problem_responses(409))
def disable(account_id: str, ctx: Ctx = writer("admin", "liaison")) -> AccountOut:
    """The account can no longer sign in; its sessions end at once."""
    out = account_out(svc.disable(ctx, account_id), ctx.now(), ctx.tz)
    return out


@router.post("/accounts/{account_id}/enable", response_model=AccountOut)
def enable(account_id: str, ctx: Ctx = writer("admin", "liaison")) -> AccountOut:
    """Undo a disabling."""
    out = account_out(svc.enable(ctx, account_id), ctx.now(), ctx.tz)
    return out
