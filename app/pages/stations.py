"""The liaison committee's pages for the station registry (代表联络站): the stations, a new
one, and a station's name, district, kind and deputies changed. Each form calls the use-case
of PUT /api/v1/stations/{code}, validated by that endpoint's request model."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app.deps import OneTripRoute
from app.errors import Invalid
from app.pages import labels
from app.pages.forms import Field, FormState, entry_page, submit
from app.pages.web import page_reader, page_writer, render
from app.repositories import registry as names_repo
from app.schemas.common import Code
from app.schemas.stations import StationIn
from app.services import stations as svc
from app.services.context import Ctx

router = APIRouter(route_class=OneTripRoute, prefix="/ui/stations", include_in_schema=False)
MANAGERS = ("admin", "liaison")  # who may PUT /api/v1/stations/{code}
DONE = {"created": "已新建联络站。", "saved": "已保存联络站。"}


@router.get("")
def stations_page(
    request: Request,
    ctx: Ctx = page_reader(*MANAGERS),
    done: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Every station by code, with its district, kind and deputies."""
    views = svc.list_stations(ctx.session)
    names = names_repo.deputy_names(ctx.session, {d for v in views for d in v.deputies})
    districts = dict(names_repo.districts(ctx.session))
    return render(
        request,
        "stations/list.html",
        title="联络站",
        stations=[
            {
                "code": v.station.code,
                "name": v.station.name,
                "district": districts.get(v.station.district, v.station.district),
                "township": v.station.township,
                "kind": v.station.kind,
                "deputies": [names.get(d, d) for d in v.deputies],
            }
            for v in views
        ],
        notice=DONE.get(done or "", ""),
    )


def _fields(ctx: Ctx, new: bool) -> list[Field]:
    fields = [
        Field("name", "联络站名称", hint="如：赫山区会龙山街道代表联络站。"),
        Field("district", "所在区县", kind="select", options=tuple(names_repo.districts(ctx.session))),
        Field("township", "乡镇（街道）", required=False, width="w-20"),
        Field("kind", "联络站类型", kind="radios", options=tuple(labels.STATION_KINDS.items())),
        Field(
            "deputies",
            "进站代表",
            kind="checkboxes",
            options=tuple(names_repo.deputy_choices(ctx.session)),
            required=False,
            hint="勾选在本站履职的代表；取消勾选即退出本站。",
        ),
    ]
    code = Field(
        "code",
        "联络站编码",
        width="w-20",
        hint="英文字母、数字和 . _ -，如 heshan-01；保存后不能修改。",
    )
    return [code, *fields] if new else fields


def _form_page(request: Request, code: str | None, state: FormState, status: int = 200) -> Response:
    return entry_page(request, "联络站", "/ui/stations", code, state, status)


@router.get("/{code}")
def station_form(request: Request, code: str, ctx: Ctx = page_reader(*MANAGERS)) -> Response:
    if code == "new":
        return _form_page(request, None, FormState(_fields(ctx, True), {"kind": "physical"}))
    view = svc.get_station(ctx.session, code)
    s = view.station
    values = {
        "name": s.name,
        "district": s.district,
        "township": s.township or "",
        "kind": s.kind,
        "deputies": view.deputies,
    }
    return _form_page(request, code, FormState(_fields(ctx, False), values))


class _NewStation(StationIn):
    code: Code


@router.post("/{code}")
def save_station(request: Request, code: str, ctx: Ctx = page_writer(*MANAGERS)) -> Response:
    """The same use-case as PUT /api/v1/stations/{code}; a new station's code may not be
    one already taken (the API's PUT would replace that station)."""
    new = code == "new"
    if not new:
        svc.get_station(ctx.session, code)  # 404 for an unknown one
    fields = _fields(ctx, new)
    deputies = [str(d) for d in request.state.form.getlist("deputies")]
    read_fields = [f for f in fields if f.name != "deputies"]

    def run(m: Any) -> Any:
        target = m.code if new else code
        if new and svc.station_names(ctx.session, [target]):
            raise Invalid("code", f"{target} is taken")
        data = svc.StationInput(
            name=m.name, district=m.district, kind=m.kind, township=m.township, deputies=m.deputies
        )
        return svc.put_station(ctx, code=target, data=data)

    def again(state: FormState, status: int) -> Response:
        full = FormState(
            fields, {**state.values, "deputies": deputies}, dict(state.errors), list(state.problems)
        )
        return _form_page(request, None if new else code, full, status)

    return submit(
        request,
        ctx,
        read_fields,
        _NewStation if new else StationIn,
        run,
        done=f"/ui/stations?done={'created' if new else 'saved'}",
        show=again,
        deputies=deputies,
    )
