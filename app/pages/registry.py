"""The registry's pages (admin): units, categories and districts, each through its API's request model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from app.deps import OneTripRoute, app_state
from app.errors import Invalid
from app.pages import labels
from app.pages.forms import Field, FormState, entry_page, submit
from app.pages.web import page_reader, page_writer, render
from app.schemas.common import Code
from app.schemas.registry import CategoryIn, DistrictIn, UnitIn
from app.services import registry
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui/admin", include_in_schema=False)


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
