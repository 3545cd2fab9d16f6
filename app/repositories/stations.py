"""Liaison station queries: stations, their deputies, their reception days and who was
present, and the monthly station report's reads (receptions by station; messages and their
handling by station or by deputy)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from app.models import Message, Reception, ReceptionDeputy, Station, StationDeputy, Ticket
from app.repositories.figures import count_if as one

if TYPE_CHECKING:
    from app.services.reports.period import Period


def get(session: Session, code: str, *, for_update: bool = False) -> Station | None:
    """One station by code (locked for the transaction when `for_update`)."""
    if not for_update:
        return session.get(Station, code)
    return session.scalar(select(Station).where(Station.code == code).with_for_update())


def by_code(session: Session) -> list[Station]:
    """Every station, by code."""
    return list(session.scalars(select(Station).order_by(Station.code)))


def listed(session: Session, *, district: str | None, deputy_id: str | None) -> list[Station]:
    """Every station (of a district, or that a deputy belongs to), by code."""
    q = select(Station).order_by(Station.code)
    if district is not None:
        q = q.where(Station.district == district)
    if deputy_id is not None:
        q = q.where(
            Station.code.in_(select(StationDeputy.station_code).where(StationDeputy.deputy_id == deputy_id))
        )
    return list(session.scalars(q))


def members(session: Session, code: str) -> list[str]:
    """The ids of the deputies who belong to a station, in id order."""
    q = (
        select(StationDeputy.deputy_id)
        .where(StationDeputy.station_code == code)
        .order_by(StationDeputy.deputy_id)
    )
    return list(session.scalars(q))


def members_of(session: Session, codes: Collection[str]) -> dict[str, list[str]]:
    """code -> the ids of its deputies in id order, for these stations (each present)."""
    out: dict[str, list[str]] = {c: [] for c in codes}
    if out:
        for row in session.execute(
            select(StationDeputy.station_code, StationDeputy.deputy_id)
            .where(StationDeputy.station_code.in_(list(out)))
            .order_by(StationDeputy.deputy_id)
        ):
            out[row.station_code].append(row.deputy_id)
    return out


def replace_members(session: Session, code: str, deputies: Sequence[str]) -> None:
    """The station's deputies are these, and only these."""
    session.execute(delete(StationDeputy).where(StationDeputy.station_code == code))
    session.add_all(StationDeputy(station_code=code, deputy_id=d) for d in deputies)


# --- receptions ----------------------------------------------------------------------------


def get_reception(session: Session, reception_id: str) -> Reception | None:
    """One reception by id."""
    return session.get(Reception, reception_id)


def present(session: Session, reception_ids: Collection[str]) -> dict[str, list[str]]:
    """reception id -> the ids of the deputies present, in id order (each present)."""
    out: dict[str, list[str]] = {i: [] for i in reception_ids}
    if out:
        for row in session.execute(
            select(ReceptionDeputy.reception_id, ReceptionDeputy.deputy_id)
            .where(ReceptionDeputy.reception_id.in_(list(out)))
            .order_by(ReceptionDeputy.deputy_id)
        ):
            out[row.reception_id].append(row.deputy_id)
    return out


def receptions_of(
    session: Session,
    code: str,
    *,
    start: date | None,
    end: date | None,
    after: tuple[date, str] | None,
    limit: int,
) -> list[Reception]:
    """A station's receptions between two dates (inclusive), newest first, after the
    cursor's (date, id), at most `limit`."""
    q = select(Reception).where(Reception.station_code == code)
    if start is not None:
        q = q.where(Reception.held_on >= start)
    if end is not None:
        q = q.where(Reception.held_on <= end)
    if after is not None:
        held, rid = after
        q = q.where((Reception.held_on < held) | ((Reception.held_on == held) & (Reception.id < rid)))
    return list(session.scalars(q.order_by(Reception.held_on.desc(), Reception.id.desc()).limit(limit)))


# --- the monthly station report ------------------------------------------------------------


def receptions_by_station(session: Session, first: date, last: date) -> Iterable[Any]:
    """(station, receptions, voters received, batches) of the receptions held from `first`
    to `last`."""
    return session.execute(
        select(
            Reception.station_code,
            func.count(),
            func.sum(Reception.voters_received),
            func.sum(Reception.batches),
        )
        .where(Reception.held_on >= first, Reception.held_on <= last)
        .group_by(Reception.station_code)
    )


def message_handling(session: Session, period: Period, key: Any) -> Iterable[Any]:
    """Per `key` (Message.station_code or Message.deputy_id), of the messages received in
    the period: (key, messages, answered, forwarded, declined, resolved, responded on time,
    counted for the on-time rate), as at the cut-off."""
    acted = period.acted
    responded = and_(Message.responded_at.is_not(None), acted(Message.responded_at))
    due = Message.due_at <= period.cutoff  # unmet and past due by the cut-off: late
    return session.execute(
        select(
            key,
            func.count(),
            one(and_(responded, Message.reply.is_not(None))),
            one(and_(responded, Message.forward_level.is_not(None))),
            one(and_(responded, Message.decline_reason.is_not(None))),
            one(and_(Ticket.resolved_at.is_not(None), acted(Ticket.resolved_at))),
            one(and_(responded, Message.responded_at < Message.due_at)),
            one(responded | due),
        )
        .outerjoin(Ticket, Ticket.id == Message.ticket_id)
        .where(key.is_not(None), period.within(Message.received_at))
        .group_by(key)
    )


def message_ratings(session: Session, period: Period, key: Any, satisfied: Collection[str]) -> Iterable[Any]:
    """Per `key`: (key, ratings given in the period, of them one of `satisfied`)."""
    return session.execute(
        select(key, func.count(), one(Message.rating.in_(list(satisfied))))
        .where(key.is_not(None), Message.rated_at.is_not(None), period.within(Message.rated_at))
        .group_by(key)
    )
