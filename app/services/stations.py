"""Use-cases of liaison stations (代表联络站) and their reception days (接待日)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Forbidden, Invalid, NotFound
from app.models import Reception, ReceptionDeputy, Station
from app.repositories import registry
from app.repositories import stations as repo
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
    found = registry.known_deputies(session, wanted)
    missing = [d for d in wanted if d not in found]
    if missing:
        raise Invalid(field, f"unknown deputy {missing[0]!r}")
    return wanted


def members(session: Session, code: str) -> list[str]:
    """The ids of the deputies who belong to a station."""
    return repo.members(session, code)


def put_station(ctx: Ctx, *, code: str, data: StationInput) -> tuple[StationView, bool]:
    """Create or replace a station and its deputies; True when created."""
    session, now = ctx.session, ctx.now()
    deputies = _known_deputies(session, data.deputies, "deputies")
    # The row lock orders concurrent PUTs of one station, so their member lists never mix.
    station = repo.get(session, code, for_update=True)
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
            station = repo.get(session, code, for_update=True)
            if station is None:  # pragma: no cover - the other insert rolled back
                raise
    station.name, station.district, station.kind = data.name, data.district, data.kind
    station.township = data.township
    station.updated_at = now
    repo.replace_members(session, code, deputies)
    session.flush()
    return StationView(station, sorted(deputies)), created


def get_station(session: Session, code: str) -> StationView:
    station = repo.get(session, code)
    if station is None:
        raise NotFound(f"no station {code!r}")
    return StationView(station, members(session, code))


def list_stations(
    session: Session, *, district: str | None = None, deputy_id: str | None = None
) -> list[StationView]:
    """Every station (of a district, or that a deputy belongs to), by code."""
    stations = repo.listed(session, district=district, deputy_id=deputy_id)
    by_station = repo.members_of(session, [s.code for s in stations])
    return [StationView(s, by_station[s.code]) for s in stations]


def station_names(session: Session, codes: Sequence[str]) -> dict[str, str]:
    """Station names by code (for pages and the card)."""
    return registry.station_names(session, codes)


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
    reception = repo.get_reception(session, reception_id)
    if reception is None:
        raise NotFound(f"no reception {reception_id}")
    return ReceptionView(reception, repo.present(session, [reception.id])[reception.id])


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
    rows = repo.receptions_of(ctx.session, code, start=start, end=end, after=after, limit=limit + 1)
    present = repo.present(ctx.session, [r.id for r in rows])
    return [ReceptionView(r, present[r.id]) for r in rows]
