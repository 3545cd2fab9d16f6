"""The operator's pages: accounts (the liaison committee: deputies' and stations'), units,
categories, API keys and the working calendar. Each form calls the service of the API
endpoint beside it, validated by that endpoint's request model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.db import after_commit, savepoint
from app.deps import OneTripRoute, app_state
from app.errors import DomainError, Invalid, NotFound, status_of
from app.pages import labels
from app.pages.forms import Field, FormState, entry_page, read, refused, submit
from app.pages.web import page_reader, page_writer, redirect, render
from app.routers.accounts import account_state
from app.schemas.accounts import AccountIn
from app.schemas.common import Code
from app.schemas.registry import CategoryIn, DistrictIn, KeyIn, UnitIn
from app.services import accounts, registry
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui/admin", include_in_schema=False)
MANAGERS = ("admin", "liaison")


def _base_url(request: Request) -> str:
    configured: str | None = app_state(request).settings.public_base_url
    return configured or str(request.base_url)


# --- accounts --------------------------------------------------------------------------------


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


# --- units and categories ----------------------------------------------------------------------

UNIT_FIELDS = [
    Field("name", "单位名称", width="w-20"),
    Field("kind", "单位类型", kind="radios", options=tuple(labels.UNIT_KINDS.items())),
    Field(
        "district",
        "属地编码",
        required=False,
        width="w-10",
        hint="区县政府、乡镇（街道）和区县人大常委会填写所在区县的编码，如 heshan（见“属地”）。",
    ),
    Field(
        "webhook_url",
        "接收通知的地址（Webhook）",
        required=False,
        hint="单位有自己的系统时填写，以 http:// 或 https:// 开头。",
    ),
    Field(
        "webhook_secret",
        "Webhook 密钥",
        kind="password",
        required=False,
        width="w-20",
        autocomplete="new-password",
        hint="至少 16 个字符。留空则保留原有密钥。",
    ),
]


@router.get("/units")
def units_page(
    request: Request,
    ctx: Ctx = page_reader("admin"),
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    return render(
        request,
        "admin/units.html",
        title="单位",
        units=registry.list_units(ctx.session),
        notice="已保存单位。" if done else "",
    )


def _unit_fields(new: bool) -> list[Field]:
    code = Field(
        "code", "单位编码", width="w-20", hint="英文字母、数字和 . _ -，如 water-bureau；保存后不能修改。"
    )
    return [code, *UNIT_FIELDS] if new else UNIT_FIELDS


def _unit_page(request: Request, code: str | None, state: FormState, status: int = 200) -> Response:
    return entry_page(request, "单位", "/ui/admin/units", code, state, status)


@router.get("/units/{code}")
def unit_form(request: Request, code: str, ctx: Ctx = page_reader("admin")) -> Response:
    if code == "new":
        return _unit_page(request, None, FormState(_unit_fields(True)))
    unit = registry.get_unit(ctx.session, code)
    return _unit_page(
        request,
        code,
        FormState(
            UNIT_FIELDS,
            {
                "name": unit.name,
                "kind": unit.kind,
                "district": unit.district or "",
                "webhook_url": unit.webhook_url or "",
            },
        ),
    )


class _NewUnit(UnitIn):
    code: Code


@router.post("/units/{code}")
def save_unit(request: Request, code: str, ctx: Ctx = page_writer("admin")) -> Response:
    """The same use-case as PUT /api/v1/units/{code}."""
    new = code == "new"
    fields = _unit_fields(new)
    existing = None if new else registry.get_unit(ctx.session, code)

    def run(m: Any) -> Any:
        target = m.code if new else code
        if new and registry.unit_names(ctx.session, [target]):
            raise Invalid("code", f"{target} is taken")
        secret = m.webhook_secret or (existing.webhook_secret if existing else None)
        return registry.put_unit(
            ctx.session,
            code=target,
            now=ctx.now(),
            data=registry.UnitInput(
                name=m.name,
                kind=m.kind,
                district=m.district,
                webhook_url=m.webhook_url,
                webhook_secret=secret if m.webhook_url else None,
            ),
            deny_private=app_state(request).settings.webhook_deny_private,
        )

    schema: type[BaseModel] = _NewUnit if new else UnitIn
    return submit(
        request,
        ctx,
        fields,
        schema,
        run,
        done="/ui/admin/units?done=1",
        show=lambda state, status: _unit_page(request, None if new else code, state, status),
    )


def _category_fields(ctx: Ctx, new: bool) -> list[Field]:
    units = registry.list_units(ctx.session)

    def of(kind: str | None) -> tuple[tuple[str, str], ...]:
        return tuple((u.code, u.name) for u in units if kind is None or u.kind == kind)

    fields = [
        Field("name", "分类名称", width="w-20"),
        Field("default_lead_unit", "默认牵头单位", kind="select", options=of(None), required=False),
        Field(
            "committee_unit",
            "对口专门委员会",
            kind="select",
            options=of("special_committee"),
            required=False,
            hint="代表不满意时对口督办的专门委员会。",
        ),
        Field(
            "coordinator_unit",
            "分管副秘书长",
            kind="select",
            options=of("coordinator"),
            required=False,
            hint="复杂疑难事项呈签协调的单位。",
        ),
    ]
    code = Field("code", "分类编码", width="w-20", hint="英文字母、数字和 . _ -，如 water；保存后不能修改。")
    return [code, *fields] if new else fields


@router.get("/categories")
def categories_page(
    request: Request,
    ctx: Ctx = page_reader("admin"),
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    cats = registry.list_categories(ctx.session)
    codes = (
        {c.default_lead_unit for c in cats}
        | {c.committee_unit for c in cats}
        | {c.coordinator_unit for c in cats}
    )
    return render(
        request,
        "admin/categories.html",
        title="事项分类",
        categories=cats,
        units=registry.unit_names(ctx.session, codes),
        notice="已保存事项分类。" if done else "",
    )


def _category_page(
    request: Request, ctx: Ctx, code: str | None, state: FormState, status: int = 200
) -> Response:
    return entry_page(request, "事项分类", "/ui/admin/categories", code, state, status)


@router.get("/categories/{code}")
def category_form(request: Request, code: str, ctx: Ctx = page_reader("admin")) -> Response:
    if code == "new":
        return _category_page(request, ctx, None, FormState(_category_fields(ctx, True)))
    c = registry.get_category(ctx.session, code)
    return _category_page(
        request,
        ctx,
        code,
        FormState(
            _category_fields(ctx, False),
            {
                "name": c.name,
                "default_lead_unit": c.default_lead_unit or "",
                "committee_unit": c.committee_unit or "",
                "coordinator_unit": c.coordinator_unit or "",
            },
        ),
    )


class _NewCategory(CategoryIn):
    code: Code


@router.post("/categories/{code}")
def save_category(request: Request, code: str, ctx: Ctx = page_writer("admin")) -> Response:
    """The same use-case as PUT /api/v1/categories/{code}."""
    new = code == "new"
    if not new:
        registry.get_category(ctx.session, code)

    def run(m: Any) -> Any:
        target = m.code if new else code
        if new and registry.category_names(ctx.session, [target]):
            raise Invalid("code", f"{target} is taken")
        return registry.put_category(
            ctx.session,
            code=target,
            now=ctx.now(),
            data=registry.CategoryInput(
                name=m.name,
                default_lead_unit=m.default_lead_unit,
                committee_unit=m.committee_unit,
                coordinator_unit=m.coordinator_unit,
            ),
        )

    schema: type[BaseModel] = _NewCategory if new else CategoryIn
    return submit(
        request,
        ctx,
        _category_fields(ctx, new),
        schema,
        run,
        done="/ui/admin/categories?done=1",
        show=lambda state, status: _category_page(request, ctx, None if new else code, state, status),
    )


# --- districts ------------------------------------------------------------------------------------

DISTRICT_FIELDS = [
    Field("code", "属地编码", width="w-20", hint="英文字母、数字和 . _ -，如 heshan；与工单的属地编码一致。"),
    Field("name", "名称", width="w-20", hint="报表和页面上显示的名称，如“赫山区”。"),
]


@router.get("/districts")
def districts_page(
    request: Request, ctx: Ctx = page_reader("admin"), done: Annotated[str | None, Query(max_length=8)] = None
) -> Response:
    return render(
        request,
        "admin/districts.html",
        title="属地",
        districts=registry.list_districts(ctx.session),
        form=FormState(DISTRICT_FIELDS),
        notice="已保存属地。" if done else "",
    )


class _District(DistrictIn):
    code: Code


@router.post("/districts")
def save_district(request: Request, ctx: Ctx = page_writer("admin")) -> Response:
    """The same use-case as PUT /api/v1/districts/{code} (a code given again is renamed)."""
    return submit(
        request,
        ctx,
        DISTRICT_FIELDS,
        _District,
        lambda m: registry.put_district(ctx.session, code=m.code, name=m.name, now=ctx.now()),
        done="/ui/admin/districts?done=1",
        show=lambda state, status: render(
            request,
            "admin/districts.html",
            status=status,
            title="属地",
            districts=registry.list_districts(ctx.session),
            form=state,
            notice="",
        ),
    )


# --- API keys -----------------------------------------------------------------------------------


def _key_fields(ctx: Ctx) -> list[Field]:
    units = tuple((u.code, u.name) for u in registry.list_units(ctx.session))
    return [
        Field("label", "用途说明", width="w-20", hint="持有该密钥的系统，如“市长热线工单系统”。"),
        Field(
            "role",
            "身份",
            kind="radios",
            options=tuple(
                (r, labels.ROLES[r]) for r in ("hotline", "unit", "liaison", "admin", "deputy", "station")
            ),
        ),
        Field(
            "unit_code",
            "所属单位",
            kind="select",
            options=units,
            required=False,
            hint="身份为承办（督办）单位时必填。",
        ),
        Field("deputy_id", "代表编号", required=False, width="w-20"),
        Field("station_code", "联络站编码", required=False, width="w-20"),
    ]


@router.get("/keys")
def keys_page(
    request: Request,
    ctx: Ctx = page_reader("admin"),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    keys = registry.list_keys(ctx.session)
    return render(
        request,
        "admin/keys.html",
        title="接口密钥",
        keys=keys,
        units=registry.unit_names(ctx.session, {k.unit_code for k in keys}),
        notice="密钥已吊销，即时失效（其他服务实例在几秒内失效）。" if done else "",
    )


def _key_page(request: Request, state: FormState, status: int = 200) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="新建接口密钥",
        form=state,
        submit="生成密钥",
        action="/ui/admin/keys/new",
        back="/ui/admin/keys",
        intro="接口密钥供其他系统调用本服务的接口使用。密钥只显示一次，请立即妥善保存。",
    )


@router.get("/keys/new")
def new_key_form(request: Request, ctx: Ctx = page_reader("admin")) -> Response:
    return _key_page(request, FormState(_key_fields(ctx)))


@router.post("/keys/new")
def new_key(request: Request, ctx: Ctx = page_writer("admin")) -> Response:
    """The same use-case as POST /api/v1/keys; the key is shown once, on this page."""
    model, state = read(_key_fields(ctx), request.state.form, KeyIn, ctx.tz)
    if not isinstance(model, KeyIn):
        return _key_page(request, state, 422)
    try:
        with savepoint(ctx.session):
            key, plain = registry.create_key(
                ctx.session,
                role=model.role,
                unit_code=model.unit_code,
                deputy_id=model.deputy_id,
                station_code=model.station_code,
                label=model.label,
                now=ctx.now(),
            )
    except DomainError as exc:
        return _key_page(request, refused(state, exc), status_of(exc))
    return render(request, "admin/key_created.html", title="接口密钥", key=key, plain=plain)


@router.post("/keys/{key_id}/revoke")
def revoke_key(request: Request, key_id: str, ctx: Ctx = page_writer("admin")) -> Response:
    """The same use-case as DELETE /api/v1/keys/{id}."""
    registry.revoke_key(ctx.session, key_id=key_id, now=ctx.now())
    after_commit(ctx.session, app_state(request).forget_keys)
    return redirect("/ui/admin/keys?done=revoked")
