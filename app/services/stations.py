"""Use-cases of liaison stations (代表联络站) and their reception days (接待日)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Forbidden, Invalid, NotFound
from app.models import Deputy, Reception, ReceptionDeputy, Station, StationDeputy
from app.services.context import Actor, Ctx

STATION_KINDS = ("physical", "online", "professional")


@dataclass
class StationInput:
    name: str
    district: str
    kind: str
    township: str | None = None
    deputies: Sequence[str] = ()


@dataclass
class StationView:
    station: Station
    deputies: list[str]


def _known_deputies(session: Session, ids: Sequence[str], field: str) -> list[str]:
    """The ids, each once and in the order given; any unregistered one → 422 naming it."""
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = set(session.scalars(select(Deputy.id).where(Deputy.id.in_(wanted))))
    missing = [d for d in wanted if d not in found]
    if missing:
        raise Invalid(field, f"unknown deputy {missing[0]!r}")
    return wanted


def members(session: Session, code: str) -> list[str]:
    """The ids of the deputies who belong to a station."""
    return list(
        session.scalars(
            select(StationDeputy.deputy_id)
            .where(StationDeputy.station_code == code)
            .order_by(StationDeputy.deputy_id)
        )
    )


def put_station(ctx: Ctx, *, code: str, data: StationInput) -> tuple[StationView, bool]:
    """Create or replace a station and its deputies; True when created."""
    session, now = ctx.session, ctx.now()
    deputies = _known_deputies(session, data.deputies, "deputies")
    # The row lock orders concurrent PUTs of one station, so their member lists never mix.
    station = session.scalar(select(Station).where(Station.code == code).with_for_update())
    created = station is None
    if station is None:
        try:
            with session.begin_nested():
                station = Station(
                    code=code,
                    name=data.name,
                    district=data.district,
                    kind=data.kind,
                    township=data.township,
                    created_at=now,
                    updated_at=now,
                )
                session.add(station)
                session.flush()
        except IntegrityError:
            # Created at the same moment by another request: replace it like any PUT.
            created = False
            station = session.scalar(select(Station).where(Station.code == code).with_for_update())
            if station is None:  # pragma: no cover - the other insert rolled back
                raise
    station.name, station.district, station.kind = data.name, data.district, data.kind
    station.township = data.township
    station.updated_at = now
    session.execute(delete(StationDeputy).where(StationDeputy.station_code == code))
    session.add_all(StationDeputy(station_code=code, deputy_id=d) for d in deputies)
    session.flush()
    return StationView(station, sorted(deputies)), created


def get_station(session: Session, code: str) -> StationView:
    station = session.get(Station, code)
    if station is None:
        raise NotFound(f"no station {code!r}")
    return StationView(station, members(session, code))


def list_stations(
    session: Session, *, district: str | None = None, deputy_id: str | None = None
) -> list[StationView]:
    """Every station (of a district, or that a deputy belongs to), by code."""
    q = select(Station).order_by(Station.code)
    if district is not None:
        q = q.where(Station.district == district)
    if deputy_id is not None:
        q = q.where(
            Station.code.in_(select(StationDeputy.station_code).where(StationDeputy.deputy_id == deputy_id))
        )
    stations = list(session.scalars(q))
    by_station: dict[str, list[str]] = {s.code: [] for s in stations}
    if stations:
        for row in session.execute(
            select(StationDeputy.station_code, StationDeputy.deputy_id)
            .where(StationDeputy.station_code.in_(list(by_station)))
            .order_by(StationDeputy.deputy_id)
        ):
            by_station[row.station_code].append(row.deputy_id)
    return [StationView(s, by_station[s.code]) for s in stations]


def station_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """Station names by code (for pages and the card)."""
    if not codes:
        return {}
    rows = session.execute(select(Station.code, Station.name).where(Station.code.in_(codes)))
    return {r.code: r.name for r in rows}


# --- receptions -------------------------------------------------------------------------------


def check_station_access(actor: Actor, code: str, *, write: bool) -> None:
    """A station acts for itself only; the liaison committee for every station (and admin
    reads). Other roles are refused by the route."""
    if actor.role == "station" and actor.station_code != code:
        raise Forbidden("a station key or account acts for its own station only")
    if write and actor.role == "admin":
        raise Forbidden("receptions are recorded by the station or the liaison committee")


@dataclass
class ReceptionInput:
    held_on: date
    deputies: Sequence[str]
    voters_received: int
    batches: int
    note: str | None = None


@dataclass
class ReceptionView:
    reception: Reception
    deputies: list[str]


def record_reception(ctx: Ctx, *, code: str, data: ReceptionInput) -> ReceptionView:
    """Record a reception day held by a station; its deputies must belong to the station."""
    session = ctx.session
    check_station_access(ctx.actor, code, write=True)
    get_station(session, code)  # 404 for an unknown station
    if data.held_on > ctx.now().astimezone(ctx.tz).date():
        raise Invalid("date", "a reception is recorded once held: the date may not lie ahead")
    deputies = _known_deputies(session, data.deputies, "deputies")
    belong = set(members(session, code))
    strangers = [d for d in deputies if d not in belong]
    if strangers:
        raise Invalid("deputies", f"deputy {strangers[0]!r} does not belong to station {code!r}")
    reception = Reception(
        station_code=code,
        held_on=data.held_on,
        voters_received=data.voters_received,
        batches=data.batches,
        note=data.note,
        recorded_by=ctx.actor.name,
        created_at=ctx.now(),
    )
    session.add(reception)
    session.flush()
    session.add_all(ReceptionDeputy(reception_id=reception.id, deputy_id=d) for d in deputies)
    session.flush()
    return ReceptionView(reception, sorted(deputies))


def get_reception(session: Session, reception_id: str) -> ReceptionView:
    reception = session.get(Reception, reception_id)
    if reception is None:
        raise NotFound(f"no reception {reception_id}")
    return ReceptionView(reception, _present(session, [reception.id])[reception.id])


def _present(session: Session, ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in ids}
    if ids:
        for row in session.execute(
            select(ReceptionDeputy.reception_id, ReceptionDeputy.deputy_id)
            .where(ReceptionDeputy.reception_id.in_(ids))
            .order_by(ReceptionDeputy.deputy_id)
        ):
            out[row.reception_id].append(row.deputy_id)
    return out


def list_receptions(
    ctx: Ctx,
    *,
    code: str,
    start: date | None,
    end: date | None,
    limit: int,
    after: tuple[date, str] | None = None,
) -> list[ReceptionView]:
    """A station's receptions between two dates (inclusive), newest first; one more than
    `limit` when there is a next page."""
    check_station_access(ctx.actor, code, write=False)
    get_station(ctx.session, code)
    if start and end and end < start:
        raise Invalid("to", "must not lie before `from`")
    q = select(Reception).where(Reception.station_code == code)
    if start is not None:
        q = q.where(Reception.held_on >= start)
    if end is not None:
        q = q.where(Reception.held_on <= end)
    if after is not None:
        held, rid = after
        q = q.where((Reception.held_on < held) | ((Reception.held_on == held) & (Reception.id < rid)))
    rows = list(
        ctx.session.scalars(q.order_by(Reception.held_on.desc(), Reception.id.desc()).limit(limit + 1))
    )
    present = _present(ctx.session, [r.id for r in rows])
    return [ReceptionView(r, present[r.id]) for r in rows]
