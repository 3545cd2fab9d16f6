"""Liaison stations and their reception days (SPEC Part II)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.deps import CursorParam, Limit, OneTripRoute, decode_cursor, encode_cursor, reader, writer
from app.errors import Invalid
from app.schemas.common import Code, Page, QueryDay, problem_responses
from app.schemas.stations import ReceptionIn, ReceptionOut, StationIn, StationOut
from app.services import stations as svc
from app.services.context import Ctx

router = APIRouter(
    route_class=OneTripRoute, prefix="/api/v1", tags=["stations"], responses=problem_responses(401, 403, 422)
)

READERS = ("admin", "liaison", "hotline", "deputy", "station")


def station_out(v: svc.StationView) -> StationOut:
    s = v.station
    return StationOut(
        code=s.code, name=s.name, district=s.district, township=s.township, kind=s.kind, deputies=v.deputies
    )


def reception_out(ctx: Ctx, v: svc.ReceptionView) -> ReceptionOut:
    r = v.reception
    return ReceptionOut(
        id=r.id,
        station=r.station_code,
        date=r.held_on,
        deputies=v.deputies,
        voters_received=r.voters_received,
        batches=r.batches,
        note=r.note,
        recorded_by=r.recorded_by,
        recorded_at=r.created_at.astimezone(ctx.tz),
    )


@router.put("/stations/{code}", response_model=StationOut, responses={201: {"model": StationOut}})
def put_station(
    code: Code, body: StationIn, response: Response, ctx: Ctx = writer("admin", "liaison")
) -> StationOut:
    """Create (201) or replace (200) a station and the deputies who belong to it."""
    view, created = svc.put_station(ctx, code=code, data=svc.StationInput(**body.model_dump()))
    response.status_code = 201 if created else 200
    return station_out(view)


@router.get("/stations", response_model=list[StationOut])
def list_stations(
    ctx: Ctx = reader(*READERS),
    district: Annotated[str | None, Query(max_length=64)] = None,
    deputy_id: Annotated[str | None, Query(max_length=64)] = None,
) -> list[StationOut]:
    """Every station, by code (of a district, or that a deputy belongs to)."""
    return [station_out(v) for v in svc.list_stations(ctx.session, district=district, deputy_id=deputy_id)]


@router.get("/stations/{code}", response_model=StationOut, responses=problem_responses(404))
def get_station(code: str, ctx: Ctx = reader(*READERS)) -> StationOut:
    return station_out(svc.get_station(ctx.session, code))


@router.post(
    "/stations/{code}/receptions",
    status_code=201,
    response_model=ReceptionOut,
    responses=problem_responses(404),
)
def record_reception(code: str, body: ReceptionIn, ctx: Ctx = writer("station", "liaison")) -> ReceptionOut:
    """Record a reception day (its station, or the liaison committee for it)."""
    data = svc.ReceptionInput(
        held_on=body.date,
        deputies=body.deputies,
        voters_received=body.voters_received,
        batches=body.batches,
        note=body.note,
    )
    return reception_out(ctx, svc.record_reception(ctx, code=code, data=data))


@router.get(
    "/stations/{code}/receptions", response_model=Page[ReceptionOut], responses=problem_responses(404)
)
def list_receptions(
    code: str,
    ctx: Ctx = reader("station", "liaison", "admin"),
    from_: Annotated[QueryDay | None, Query(alias="from")] = None,
    to: Annotated[QueryDay | None, Query()] = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[ReceptionOut]:
    """A station's receptions, newest first; `from`/`to` are inclusive dates."""
    after = decode_cursor(cursor)
    if after is not None:
        try:
            after = (date.fromisoformat(after[0]), str(after[1]))
        except (TypeError, ValueError, IndexError, KeyError):
            raise Invalid("cursor", "not a cursor this service issued") from None
    rows = svc.list_receptions(ctx, code=code, start=from_, end=to, limit=limit, after=after)
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor([rows[-1].reception.held_on.isoformat(), rows[-1].reception.id]) if more else None
    return Page(items=[reception_out(ctx, v) for v in rows], next_cursor=nxt)
