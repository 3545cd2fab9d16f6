"""Keys, units, categories, districts, deputies."""

from __future__ import annotations

import codecs
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.db import after_commit
from app.deps import (
    CursorParam,
    Limit,
    OneTripRoute,
    app_state,
    decode_cursor,
    encode_cursor,
    reader,
    write_in_one_trip,
    writer,
)
from app.errors import Invalid, UnsupportedMedia
from app.models import Category, Deputy, District, Unit
from app.schemas.common import Code, Page, problem_responses
from app.schemas.registry import (
    CategoryIn,
    CategoryOut,
    DeputyIn,
    DeputyOut,
    DeputyPatch,
    DistrictIn,
    DistrictOut,
    ImportOut,
    KeyCreated,
    KeyIn,
    KeyOut,
    UnitIn,
    UnitOut,
)
from app.services import deputies
from app.services import registry as svc
from app.services.context import Actor, Ctx

router = APIRouter(
    route_class=OneTripRoute, prefix="/api/v1", tags=["registry"], responses=problem_responses(401, 403, 422)
)


def unit_out(u: Unit, actor: Actor) -> UnitOut:
    url = u.webhook_url if svc.sees_webhook(actor, u.code) else None
    return UnitOut(
        code=u.code,
        name=u.name,
        kind=u.kind,
        district=u.district,
        webhook_url=url,
        webhook_secret_set=bool(u.webhook_secret),
    )


def category_out(c: Category) -> CategoryOut:
    return CategoryOut(
        code=c.code,
        name=c.name,
        default_lead_unit=c.default_lead_unit,
        committee_unit=c.committee_unit,
        coordinator_unit=c.coordinator_unit,
    )


def deputy_out(d: Deputy) -> DeputyOut:
    return DeputyOut(
        id=d.id,
        name=d.name,
        phone=d.phone,
        level=d.level,
        district=d.district,
        delegation=d.delegation,
        term=d.term_code,
        reelected=d.reelected,
        official=d.official,
    )


@router.post("/keys", status_code=201, response_model=KeyCreated)
def create_key(body: KeyIn, ctx: Ctx = writer("admin")) -> KeyCreated:
    """Issue an API key; the key itself is shown only in this response."""
    key, plain = svc.create_key(
        ctx.session,
        role=body.role,
        unit_code=body.unit_code,
        deputy_id=body.deputy_id,
        station_code=body.station_code,
        label=body.label,
        now=ctx.now(),
    )
    return KeyCreated(
        id=key.id,
        key=plain,
        role=body.role,
        unit_code=key.unit_code,
        deputy_id=key.deputy_id,
        station_code=key.station_code,
        label=key.label,
    )


@router.get("/keys", response_model=list[KeyOut])
def list_keys(ctx: Ctx = reader("admin")) -> list[KeyOut]:
    """Every key with its prefix and state; never the key."""
    return [
        KeyOut(
            id=k.id,
            prefix=k.prefix,
            role=k.role,
            unit_code=k.unit_code,
            deputy_id=k.deputy_id,
            station_code=k.station_code,
            label=k.label,
            created_at=k.created_at.astimezone(ctx.tz),
            revoked_at=k.revoked_at and k.revoked_at.astimezone(ctx.tz),
        )
        for k in svc.list_keys(ctx.session)
    ]


@router.delete("/keys/{key_id}", status_code=204, responses=problem_responses(404))
def revoke_key(key_id: str, request: Request, ctx: Ctx = writer("admin")) -> Response:
    """Revoke a key; it stops working at once here (other replicas: within a few seconds)."""
    svc.revoke_key(ctx.session, key_id=key_id, now=ctx.now())
    after_commit(ctx.session, request.app.state.hotline.forget_keys)
    return Response(status_code=204)


@router.put("/units/{code}", response_model=UnitOut, responses={201: {"model": UnitOut}})
def put_unit(
    code: Code, body: UnitIn, request: Request, response: Response, ctx: Ctx = writer("admin")
) -> UnitOut:
    """Create (201) or replace (200) a handling or supervising unit."""
    unit, created = svc.put_unit(
        ctx.session,
        code=code,
        data=svc.UnitInput(**body.model_dump()),
        now=ctx.now(),
        deny_private=app_state(request).settings.webhook_deny_private,
    )
    response.status_code = 201 if created else 200
    return unit_out(unit, ctx.actor)


@router.get("/units", response_model=list[UnitOut])
def list_units(ctx: Ctx = reader()) -> list[UnitOut]:
    return [unit_out(u, ctx.actor) for u in svc.list_units(ctx.session)]


@router.get("/units/{code}", response_model=UnitOut, responses=problem_responses(404))
def get_unit(code: str, ctx: Ctx = reader()) -> UnitOut:
    return unit_out(svc.get_unit(ctx.session, code), ctx.actor)


@router.put("/categories/{code}", response_model=CategoryOut, responses={201: {"model": CategoryOut}})
def put_category(code: Code, body: CategoryIn, response: Response, ctx: Ctx = writer("admin")) -> CategoryOut:
    """Create (201) or replace (200) a category and the units in charge of it."""
    cat, created = svc.put_category(
        ctx.session, code=code, data=svc.CategoryInput(**body.model_dump()), now=ctx.now()
    )
    response.status_code = 201 if created else 200
    return category_out(cat)


@router.get("/categories", response_model=list[CategoryOut])
def list_categories(ctx: Ctx = reader()) -> list[CategoryOut]:
    return [category_out(c) for c in svc.list_categories(ctx.session)]


@router.get("/categories/{code}", response_model=CategoryOut, responses=problem_responses(404))
def get_category(code: str, ctx: Ctx = reader()) -> CategoryOut:
    return category_out(svc.get_category(ctx.session, code))


def district_out(d: District) -> DistrictOut:
    return DistrictOut(code=d.code, name=d.name)


@router.put("/districts/{code}", response_model=DistrictOut, responses={201: {"model": DistrictOut}})
def put_district(code: Code, body: DistrictIn, response: Response, ctx: Ctx = writer("admin")) -> DistrictOut:
    """Create (201) or rename (200) a district: the Chinese name reports show for its code."""
    district, created = svc.put_district(ctx.session, code=code, name=body.name, now=ctx.now())
    response.status_code = 201 if created else 200
    return district_out(district)


@router.get("/districts", response_model=list[DistrictOut])
def list_districts(ctx: Ctx = reader()) -> list[DistrictOut]:
    return [district_out(d) for d in svc.list_districts(ctx.session)]


@router.get("/districts/{code}", response_model=DistrictOut, responses=problem_responses(404))
def get_district(code: str, ctx: Ctx = reader()) -> DistrictOut:
    return district_out(svc.get_district(ctx.session, code))


@router.post("/deputies", status_code=201, response_model=DeputyOut, responses=problem_responses(409))
def create_deputy(body: DeputyIn, ctx: Ctx = writer("admin", "liaison")) -> DeputyOut:
    """Register a deputy; a phone already registered → 409. The phone's unverified calls of
    this and last year are linked to the deputy (`ticket.deputy_linked`)."""
    return deputy_out(deputies.register(ctx, svc.DeputyInput(**body.model_dump())))


@router.patch("/deputies/{deputy_id}", response_model=DeputyOut, responses=problem_responses(404, 409))
def patch_deputy(deputy_id: str, body: DeputyPatch, ctx: Ctx = writer("admin", "liaison")) -> DeputyOut:
    """Change a deputy's registry fields, term (届) and marks (re-elected 连任, leading post
    职务代表); a new phone links that phone's unverified calls of this and last year, and a
    phone already registered → 409. The term must exist and be of the deputy's level."""
    changes = deputies.DeputyChanges(**body.model_dump())
    return deputy_out(deputies.change(ctx, deputy_id, changes, body.model_fields_set))


@router.get("/deputies", response_model=Page[DeputyOut])
def list_deputies(
    ctx: Ctx = reader("admin", "liaison", "hotline"),
    phone: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Page[DeputyOut]:
    """The registry, or the deputy with a phone number."""
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    rows = svc.list_deputies(ctx.session, phone=phone, after=after, limit=limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[deputy_out(d) for d in rows], next_cursor=encode_cursor(rows[-1].id) if more else None)


@router.get("/deputies/{deputy_id}", response_model=DeputyOut, responses=problem_responses(404))
def get_deputy(deputy_id: str, ctx: Ctx = reader("admin", "liaison", "hotline")) -> DeputyOut:
    return deputy_out(svc.get_deputy(ctx.session, deputy_id))


@router.post(
    "/deputies/import",
    response_model=ImportOut,
    responses=problem_responses(413, 415),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {
                    "schema": {"type": "string"},
                    "example": "name,phone,level,district,delegation\n张三,13800000001,city,heshan,\n",
                },
                "text/plain": {"schema": {"type": "string"}},
                "application/csv": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_deputies(request: Request, ctx: Ctx = writer("admin", "liaison")) -> ImportOut:
    """Upsert deputies from CSV (UTF-8, header name,phone,level,district,delegation).

    Good lines are kept even when others are bad; `errors` names each bad line (header = 1).
    The imported phones' unverified calls of this and last year are linked to the deputies."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in ("text/csv", "text/plain", "application/csv"):
        raise UnsupportedMedia(f"send the file as text/csv, not {ctype or 'no media type'}")
    lines = await _read_lines(request)

    def work() -> svc.ImportResult:
        result = svc.import_deputies(ctx.session, lines=lines, now=ctx.now())
        deputies.link_imported(ctx, result.phones)
        return result

    result = await write_in_one_trip(ctx, work)
    return ImportOut(created=result.created, updated=result.updated, errors=result.errors)


async def _read_lines(request: Request) -> list[str]:
    """Decode the body as it streams in, cut at line feeds only (the csv module finds the
    records: a CR LF split across two chunks, or a U+2028 inside a field, must not end
    one); keeps lines, not a second copy of the raw bytes."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines: list[str] = []
    tail = ""
    try:
        async for chunk in request.stream():
            parts = (tail + decoder.decode(chunk)).split("\n")
            tail = parts.pop()
            lines.extend(part + "\n" for part in parts)
        tail += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise Invalid("body", "the CSV must be UTF-8") from None
    if tail:
        lines.append(tail)
    if len(lines) == 1 and "\r" in lines[0]:  # no line feed at all: old Mac line ends
        lines = [part + "\r" for part in lines[0].rstrip("\r").split("\r")]
    return lines
