"""Registry look-ups the pages show as choices and labels: units, stations, deputies,
districts and categories by code (or id) and name."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Category, Deputy, District, Station, StationDeputy, Unit

Choice = tuple[str, str]  # (code or id, name)

# The unit kinds a message can be forwarded to for handling (SPEC Part II, messages).
HANDLING_KINDS = ("department", "district_government", "township")


def _names(
    session: Session,
    code: InstrumentedAttribute[str],
    name: InstrumentedAttribute[str],
    codes: Collection[str] | None,
) -> dict[str, str]:
    q = select(code, name).order_by(code)
    if codes is not None:
        if not codes:
            return {}
        q = q.where(code.in_(codes))
    return {c: n for c, n in session.execute(q)}


def unit_names(session: Session, codes: Collection[str] | None = None) -> dict[str, str]:
    """code -> name of these units (all when None), by code."""
    return _names(session, Unit.code, Unit.name, codes)


def handling_units(session: Session) -> list[Choice]:
    """The units a message may be forwarded to, by code."""
    q = select(Unit.code, Unit.name).where(Unit.kind.in_(HANDLING_KINDS)).order_by(Unit.code)
    return [(c, n) for c, n in session.execute(q)]


def station_names(session: Session, codes: Collection[str] | None = None) -> dict[str, str]:
    """code -> name of these stations (all when None), by code."""
    return _names(session, Station.code, Station.name, codes)


def deputy_names(session: Session, ids: Collection[str]) -> dict[str, str]:
    """id -> name of these deputies, by name."""
    if not ids:
        return {}
    q = select(Deputy.id, Deputy.name).where(Deputy.id.in_(ids)).order_by(Deputy.name)
    return {i: n for i, n in session.execute(q)}


def deputy_choices(session: Session, *, station: str | None = None, limit: int = 500) -> list[Choice]:
    """Deputies by name (a station's own when named), at most `limit`."""
    q = select(Deputy.id, Deputy.name).order_by(Deputy.name).limit(limit)
    if station is not None:
        q = q.join(StationDeputy, StationDeputy.deputy_id == Deputy.id).where(
            StationDeputy.station_code == station
        )
    return [(i, n) for i, n in session.execute(q)]


def districts(session: Session) -> list[Choice]:
    """Every district, by code."""
    return [(c, n) for c, n in session.execute(select(District.code, District.name).order_by(District.code))]


def category_names(session: Session, codes: Collection[str] | None = None) -> dict[str, str]:
    """code -> name of these categories (all when None), by code."""
    return _names(session, Category.code, Category.name, codes)


def get_deputy(session: Session, deputy_id: str) -> Deputy | None:
    """One deputy by id."""
    return session.get(Deputy, deputy_id)


def known_deputies(session: Session, ids: Collection[str]) -> set[str]:
    """Those of these ids that name a deputy."""
    return set(session.scalars(select(Deputy.id).where(Deputy.id.in_(ids))))


def get_unit(session: Session, code: str) -> Unit | None:
    """One unit by code."""
    return session.get(Unit, code)


def get_station(session: Session, code: str) -> Station | None:
    """One station by code."""
    return session.get(Station, code)


def unit_name(session: Session, code: str) -> str | None:
    """The name of one unit."""
    return session.scalar(select(Unit.name).where(Unit.code == code))


def station_name(session: Session, code: str) -> str | None:
    """The name of one station."""
    return session.scalar(select(Station.name).where(Station.code == code))


def get_district(session: Session, code: str) -> District | None:
    """One district by code."""
    return session.get(District, code)


def deputies_by_name(session: Session) -> list[Deputy]:
    """Every deputy, by name and phone."""
    return list(session.scalars(select(Deputy).order_by(Deputy.name, Deputy.phone)))


def get_category(session: Session, code: str) -> Category | None:
    """One category by code."""
    return session.get(Category, code)


def units(session: Session) -> list[Unit]:
    """Every unit, by code."""
    return list(session.scalars(select(Unit).order_by(Unit.code)))


def categories(session: Session) -> list[Category]:
    """Every category, by code."""
    return list(session.scalars(select(Category).order_by(Category.code)))


def district_rows(session: Session) -> list[District]:
    """Every district, by code."""
    return list(session.scalars(select(District).order_by(District.code)))


def deputy_id_by_phone(session: Session, phone: str) -> str | None:
    """The deputy registered under this (normalized) phone."""
    return session.scalar(select(Deputy.id).where(Deputy.phone == phone))


def deputies_with_phones(session: Session, phones: Collection[str]) -> list[Deputy]:
    """The deputies registered under these phones."""
    return list(session.scalars(select(Deputy).where(Deputy.phone.in_(phones))))


def deputies_by_phone(session: Session, phones: Collection[str]) -> dict[str, Deputy]:
    """phone -> deputy, of those of these phones that are registered."""
    return {d.phone: d for d in deputies_with_phones(session, phones)}


def deputy_for_update(session: Session, deputy_id: str) -> Deputy | None:
    """One deputy by id, locked for the transaction."""
    return session.scalar(select(Deputy).where(Deputy.id == deputy_id).with_for_update())


def deputies_page(session: Session, *, phone: str | None, after: str | None, limit: int) -> list[Deputy]:
    """Deputies by id after the cursor's id, of this phone when given, at most `limit`."""
    q = select(Deputy).order_by(Deputy.id).limit(limit)
    if phone is not None:
        q = q.where(Deputy.phone == phone)
    if after:
        q = q.where(Deputy.id > after)
    return list(session.scalars(q))


def coordinators(session: Session, *, limit: int) -> list[str]:
    """Codes of coordinator units, at most `limit` (to tell one from several)."""
    return list(session.scalars(select(Unit.code).where(Unit.kind == "coordinator").limit(limit)))


def district_congress(session: Session, district: str) -> str | None:
    """The code of the district's people's congress (the first by code)."""
    q = (
        select(Unit.code)
        .where(Unit.kind == "district_congress", Unit.district == district)
        .order_by(Unit.code)
        .limit(1)
    )
    return session.scalar(q)
