"""Station staff's pages: the station's reception days, recording one, and the messages
taken there (or on paper, in a WeChat group) for the station's deputies."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import AwareDatetime, ValidationError, field_validator

from app.db import savepoint
from app.deps import OneTripRoute
from app.errors import DomainError, Forbidden, status_of
from app.pages import labels
from app.pages.forms import Field, FormState, refused, submit
from app.pages.web import FormDep, page_reader, page_writer, redirect, render
from app.repositories import registry as names_repo
from app.repositories.messages import counts_by_reception
from app.schemas.common import Code, ShortText, Strict
from app.schemas.messages import RecordedChannel
from app.schemas.stations import ReceptionIn
from app.services import messages, stations
from app.services.context import Ctx
from app.services.registry import normalize_phone, valid_phone

router = APIRouter(route_class=OneTripRoute, prefix="/ui", include_in_schema=False)
DONE = {"reception": "已记录接待。", "message": "已记录留言，请把查询码告诉群众。"}


def _mine(ctx: Ctx) -> stations.StationView:
    if ctx.actor.role != "station" or not ctx.actor.station_code:
        raise Forbidden("station staff only")
    return stations.get_station(ctx.session, ctx.actor.station_code)


def _deputies(ctx: Ctx, ids: list[str]) -> list[tuple[str, str]]:
    return list(names_repo.deputy_names(ctx.session, ids).items())


@router.get("/station")
def station_home(
    request: Request,
    ctx: Ctx = page_reader("station"),
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    """The station's receptions, newest first, and what to record next."""
    view = _mine(ctx)
    rows = stations.list_receptions(ctx, code=view.station.code, start=None, end=None, limit=100)
    counts = _message_counts(ctx, [r.reception.id for r in rows])
    names = dict(_deputies(ctx, view.deputies))
    return render(
        request,
        "station/home.html",
        title="接待记录",
        station=view.station,
        receptions=rows[:100],
        counts=counts,
        names=names,
        notice=DONE.get(done or "", ""),
    )


def _message_counts(ctx: Ctx, ids: list[str]) -> dict[str, int]:
    return counts_by_reception(ctx.session, ids)


def _reception_fields(ctx: Ctx, view: stations.StationView) -> list[Field]:
    return [
        Field("date", "接待日期", kind="date", width="w-10"),
        Field(
            "deputies",
            "到场代表",
            kind="checkboxes",
            options=tuple(_deputies(ctx, view.deputies)),
            required=False,
        ),
        Field("voters_received", "接待群众（人次）", kind="number", width="w-5"),
        Field("batches", "批次", kind="number", width="w-5"),
        Field("note", "接待情况", kind="textarea", required=False),
    ]


def _reception_form(request: Request, ctx: Ctx, state: FormState, status: int = 200) -> Response:
    return render(
        request,
        "form.html",
        status=status,
        title="记录接待",
        caption=_mine(ctx).station.name,
        form=state,
        submit="保存接待记录",
        action="/ui/station/receptions/new",
        back="/ui/station",
    )


@router.get("/station/receptions/new")
def new_reception(request: Request, ctx: Ctx = page_reader("station")) -> Response:
    view = _mine(ctx)
    today = ctx.now().astimezone(ctx.tz).date().isoformat()
    return _reception_form(
        request, ctx, FormState(_reception_fields(ctx, view), {"date": today, "deputies": []})
    )


@router.post("/station/receptions/new")
def record_reception(request: Request, form: FormDep, ctx: Ctx = page_writer("station")) -> Response:
    """Record a reception day (the API's model and use-case)."""
    return _record_reception(request, ctx, form)


def _record_reception(request: Request, ctx: Ctx, form: Any) -> Response:
    view = _mine(ctx)
    fields = _reception_fields(ctx, view)
    chosen = [str(v) for v in form.getlist("deputies")]
    values = {f.name: form.get(f.name, "") for f in fields}
    values["deputies"] = chosen
    state = FormState(fields, values)
    data = {k: str(v).strip() for k, v in values.items() if k != "deputies" and str(v).strip()}
    try:
        model = ReceptionIn.model_validate({**data, "deputies": chosen})
    except ValidationError as exc:
        by_name = {f.name: f for f in fields}
        for err in exc.errors():
            name = str((err.get("loc") or ("",))[0])
            f = by_name.get(name)
            if f is not None:
                state.errors.setdefault(name, _say(err, f))
        return _reception_form(request, ctx, state, 422)
    try:
        with savepoint(ctx.session):
            stations.record_reception(
                ctx,
                code=view.station.code,
                data=stations.ReceptionInput(
                    held_on=model.date,
                    deputies=model.deputies,
                    voters_received=model.voters_received,
                    batches=model.batches,
                    note=model.note,
                ),
            )
    except DomainError as exc:
        return _reception_form(request, ctx, refused(state, exc), status_of(exc))
    return redirect("/ui/station?done=reception")


def _say(err: Any, f: Field) -> str:
    from app.pages.forms import field_message

    return field_message(err, f)


class StationMessage(Strict):
    deputy_id: Code
    channel: RecordedChannel
    content: ShortText
    voter_name: str | None = None
    voter_phone: str
    district: Code | None = None
    received_at: AwareDatetime | None = None

    @field_validator("voter_phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        if not valid_phone(normalize_phone(value)):
            raise ValueError("须为 5 至 20 位数字")
        return value


def _message_fields(ctx: Ctx, view: stations.StationView) -> list[Field]:
    districts = tuple(names_repo.districts(ctx.session))
    return [
        Field("deputy_id", "留言给哪位代表", kind="select", options=tuple(_deputies(ctx, view.deputies))),
        Field(
            "channel",
            "来源",
            kind="radios",
            options=tuple((k, v) for k, v in labels.CHANNELS.items() if k != "code"),
        ),
        Field("content", "留言内容", kind="textarea", hint="不超过 2000 字。"),
        Field("voter_name", "群众姓名", required=False, width="w-10"),
        Field("voter_phone", "群众手机号码", width="w-10", hint="用于告知办理结果。"),
        Field("district", "所在区县", kind="select", options=districts, required=False)
        if districts
        else Field("district", "所在区县", required=False, width="w-10"),
        Field("received_at", "收到时间", kind="datetime", required=False, hint="不填则记为现在。"),
    ]


def _message_form(
    request: Request, ctx: Ctx, reception: str | None, state: FormState, status: int = 200
) -> Response:
    action = "/ui/station/messages/new" + (f"?reception={reception}" if reception else "")
    return render(
        request,
        "form.html",
        status=status,
        title="记录群众留言",
        caption=_mine(ctx).station.name,
        form=state,
        submit="保存留言",
        action=action,
        back="/ui/station",
        intro="接待时或收到书面来信、微信群留言时记录；保存后显示查询码，请告诉群众。",
    )


@router.get("/station/messages/new")
def new_message(
    request: Request,
    ctx: Ctx = page_reader("station"),
    reception: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    view = _mine(ctx)
    channel = "station" if reception else "paper"
    return _message_form(request, ctx, reception, FormState(_message_fields(ctx, view), {"channel": channel}))


@router.post("/station/messages/new")
def record_message(
    request: Request,
    ctx: Ctx = page_writer("station"),
    reception: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    """A message taken for one of the station's deputies (at a reception when named)."""
    view = _mine(ctx)
    fields = _message_fields(ctx, view)

    def run(m: Any) -> Any:
        return messages.record(
            ctx,
            messages.NewMessage(
                deputy_id=m.deputy_id,
                channel=m.channel,
                content=m.content,
                voter_name=m.voter_name,
                voter_phone=m.voter_phone,
                district=m.district,
                received_at=m.received_at,
                reception_id=reception,
            ),
        )

    return submit(
        request,
        ctx,
        fields,
        StationMessage,
        run,
        done=lambda m: f"/ui/messages/{m.id}?done=recorded",
        show=lambda state, status: _message_form(request, ctx, reception, state, status),
    )
