"""Deputies' public code queries (一人一码): a code accepts messages while its state is
`active`, and its public page is read in one round trip."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Row,
    String,
    bindparam,
    cast,
    exists,
    literal,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from app.models import Deputy, DeputyCode, District, Station, StationDeputy


def is_active(code: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """`code` (a value or a bound parameter) is a code that accepts messages: its terms, to
    spread into a WHERE."""
    return DeputyCode.code == code, DeputyCode.state == "active"


def active_of(session: Session, deputy_id: str) -> DeputyCode | None:
    """The deputy's active code (at most one: `active_for` is unique)."""
    return session.scalar(select(DeputyCode).where(DeputyCode.active_for == deputy_id))


def ever_issued(session: Session, deputy_id: str) -> bool:
    """The deputy has had a code, in whatever state it is now."""
    q = select(DeputyCode.code).where(DeputyCode.deputy_id == deputy_id).limit(1)
    return session.scalar(q) is not None


def _public_page_query() -> Any:
    active = is_active(bindparam("code"))
    text_null = cast(null(), String)
    return union_all(
        select(literal("a").label("k"), Deputy.name, Deputy.level, Deputy.id.label("s"))
        .join(DeputyCode, DeputyCode.deputy_id == Deputy.id)
        .where(*active),
        select(literal("b"), Station.name, text_null, Station.code)
        .join(StationDeputy, StationDeputy.station_code == Station.code)
        .join(DeputyCode, DeputyCode.deputy_id == StationDeputy.deputy_id)
        .where(*active),
        select(literal("c"), District.code, District.name, District.code).where(exists().where(*active)),
    ).order_by("k", "s")


# The page in one round trip (the code's deputy, its stations, the districts); built once.
_PUBLIC_PAGE = _public_page_query()


def public_page_rows(conn: Connection, code: str) -> Sequence[Row[Any, Any, Any, Any]]:
    """The rows of an active code's public page, in order: ("a", deputy name, level, id)
    first, then ("b", station name, None, code) per station of the deputy, then
    ("c", district code, name, code) per district; none when the code is not active."""
    return conn.execute(_PUBLIC_PAGE, {"code": code}).all()
