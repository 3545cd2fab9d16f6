"""The operator's API key pages: list, issue (the key shown once) and revoke."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.db import after_commit, savepoint
from app.deps import OneTripRoute, app_state
from app.errors import DomainError, status_of
from app.pages import labels
from app.pages.forms import Field, FormState, read, refused
from app.pages.web import page_reader, page_writer, redirect, render
from app.schemas.registry import KeyIn
from app.services import registry
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui/admin", include_in_schema=False)


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
