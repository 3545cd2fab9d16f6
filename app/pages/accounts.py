"""Account pages for the admin and the liaison committee: list, create, invite again, disable, enable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import savepoint
from app.deps import OneTripRoute, app_state
from app.errors import DomainError, NotFound, status_of
from app.pages import labels
from app.pages.forms import Field, FormState, read, refused
from app.pages.web import page_reader, page_writer, redirect, render
from app.routers.accounts import account_state
from app.schemas.accounts import AccountIn
from app.services import accounts, registry
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui/admin", include_in_schema=False)
MANAGERS = ("admin", "liaison")


def _base_url(request: Request) -> str:
    configured: str | None = app_state(request).settings.public_base_url
    return configured or str(request.base_url)


def _role_options(ctx: Ctx) -> tuple[tuple[str, str], ...]:
    return tuple((r, labels.ROLES[r]) for r in accounts.ROLES if accounts.may_manage(ctx, r))


def _account_fields(ctx: Ctx) -> list[Field]:
    units = tuple((u.code, u.name) for u in registry.list_units(ctx.session))
    return [
        Field(
            "username",
            "用户名",
            width="w-20",
            autocomplete="off",
            hint="登录时使用：3 至 64 个字母、数字或 . _ @ -，如 wang.li。",
        ),
        Field("display_name", "姓名", width="w-20"),
        Field("role", "身份", kind="radios", options=_role_options(ctx)),
        Field(
            "unit_code",
            "所属单位",
            kind="select",
            options=units,
            required=False,
            hint="身份为承办（督办）单位时必填。",
        ),
        Field(
            "deputy_id",
            "代表编号",
            required=False,
            width="w-20",
            hint="身份为人大代表时必填：代表名册中的编号。",
        ),
        Field("station_code", "联络站编码", required=False, width="w-20", hint="身份为代表联络站时必填。"),
    ]


@router.get("/accounts")
def accounts_page(
    request: Request,
    ctx: Ctx = page_reader(*MANAGERS),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    rows = accounts.list_accounts(ctx)
    now = ctx.now()
    notice = {"disabled": "账户已停用，其登录会话已全部结束。", "enabled": "账户已启用。"}
    return render(
        request,
        "admin/accounts.html",
        title="账户",
        rows=rows,
        states={a.id: account_state(a, now) for a in rows},
        units=registry.unit_names(ctx.session, {a.unit_code for a in rows}),
        notice=notice.get(done or "", ""),
    )


def _new_account_page(request: Request, ctx: Ctx, state: FormState, status: int = 200) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="新建账户",
        form=state,
        submit="建立账户并生成邀请链接",
        action="/ui/admin/accounts/new",
        back="/ui/admin/accounts",
        intro="建立后会生成一次性邀请链接（7 天内有效），请交给本人设置密码。",
    )


@router.get("/accounts/new")
def new_account_form(request: Request, ctx: Ctx = page_reader(*MANAGERS)) -> Response:
    return _new_account_page(request, ctx, FormState(_account_fields(ctx)))


@router.post("/accounts/new")
def new_account(request: Request, ctx: Ctx = page_writer(*MANAGERS)) -> Response:
    """The same use-case as POST /api/v1/accounts; the link is shown once, on this page."""
    fields = _account_fields(ctx)
    model, state = read(fields, request.state.form, AccountIn, ctx.tz)
    if model is None:
        return _new_account_page(request, ctx, state, 422)
    try:
        with savepoint(ctx.session):
            account, url = accounts.create_account(
                ctx, accounts.AccountInput(**model.model_dump()), base_url=_base_url(request)
            )
    except DomainError as exc:
        return _new_account_page(request, ctx, refused(state, exc), status_of(exc))
    return render(request, "admin/invited.html", title="邀请链接", account=account, url=url, created=True)


@router.post("/accounts/{account_id}/{what}")
def account_action(
    request: Request, account_id: str, what: str, ctx: Ctx = page_writer(*MANAGERS)
) -> Response:
    """A new invitation link, disabling, enabling (POST /api/v1/accounts/{id}/...)."""
    if what == "invite":
        account, url = accounts.reinvite(ctx, account_id, base_url=_base_url(request))
        return render(
            request, "admin/invited.html", title="邀请链接", account=account, url=url, created=False
        )
    if what == "disable":
        accounts.disable(ctx, account_id)
    elif what == "enable":
        accounts.enable(ctx, account_id)
    else:
        raise NotFound(f"no action {what}")
    return redirect(f"/ui/admin/accounts?done={what}d")
