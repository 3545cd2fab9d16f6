"""Invitation queries: the invitation's row and its parts (clocks, reports, evaluations,
extensions, history, cases), the letters' yearly numbering, the lists and the figures of the
invitations report. A pending extension request is defined once (`pending`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import (
    Invitation,
    InvitationClock,
    InvitationEvaluation,
    InvitationEvent,
    InvitationExtension,
    InvitationReport,
    LetterCounter,
    Supervision,
)
from app.repositories import EVERY, Every
from app.repositories.clocks import open_clock
from app.repositories.figures import count_rows
from app.services.vocabulary import ExtensionState

if TYPE_CHECKING:
    from app.services.reports.period import Period


def get(session: Session, invitation_id: str, *, for_update: bool = False) -> Invitation | None:
    """One invitation by id (locked for the transaction when `for_update`)."""
    q = select(Invitation).where(Invitation.id == invitation_id)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def by_id(session: Session, invitation_id: str) -> Invitation | None:
    """One invitation by id, from the session's identity map when it is loaded."""
    return session.get(Invitation, invitation_id)


def next_letter(session: Session, year: int) -> int:
    """The year's next letter number, taken under the counter row's lock: numbers follow the
    order in which approvals commit, and a rolled-back approval gives its number back."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(LetterCounter).values(year=year, last=0).on_conflict_do_nothing(index_elements=["year"])
    )
    n = session.scalar(
        update(LetterCounter)
        .where(LetterCounter.year == year)
        .values(last=LetterCounter.last + 1)
        .returning(LetterCounter.last)
    )
    assert n is not None
    return int(n)


# --- clocks --------------------------------------------------------------------------------


def open_clock_of(session: Session, invitation_id: str, kind: str, round_: int) -> InvitationClock | None:
    """The round's open clock of this kind (the latest, should there be two)."""
    return session.scalar(
        select(InvitationClock)
        .where(
            InvitationClock.invitation_id == invitation_id,
            InvitationClock.kind == kind,
            InvitationClock.round == round_,
            open_clock(InvitationClock),
        )
        .order_by(InvitationClock.id.desc())
        .limit(1)
    )


def nearest_open_due(session: Session, invitation_id: str) -> datetime | None:
    """The earliest due time among the invitation's open clocks."""
    return session.scalar(
        select(InvitationClock.due_at)
        .where(InvitationClock.invitation_id == invitation_id, open_clock(InvitationClock))
        .order_by(InvitationClock.due_at)
        .limit(1)
    )


def get_clock(session: Session, clock_id: int) -> InvitationClock | None:
    """One invitation clock by id."""
    return session.get(InvitationClock, clock_id)


def touch(session: Session, invitation_ids: Collection[str], now: datetime) -> Iterable[str]:
    """Mark these invitations changed at `now`; their invited units' codes."""
    return session.scalars(
        update(Invitation)
        .where(Invitation.id.in_(invitation_ids))
        .values(updated_at=now)
        .returning(Invitation.unit_code)
        .execution_options(synchronize_session=False)
    )


# --- reports and extensions ----------------------------------------------------------------


def report_at(session: Session, invitation_id: str, round_: int) -> datetime | None:
    """When the round's report was filed."""
    return session.scalar(
        select(InvitationReport.at).where(
            InvitationReport.invitation_id == invitation_id, InvitationReport.round == round_
        )
    )


def pending() -> ColumnElement[bool]:
    """An extension request still waiting for the committee's decision."""
    return InvitationExtension.state == ExtensionState.PENDING.value


def pending_extensions_of(session: Session, invitation_id: str) -> list[InvitationExtension]:
    """The invitation's pending extension requests."""
    q = select(InvitationExtension).where(InvitationExtension.invitation_id == invitation_id, pending())
    return list(session.scalars(q))


def pending_extension_id(session: Session, invitation_id: str) -> str | None:
    """The invitation's pending extension request, if any (one at a time)."""
    q = select(InvitationExtension.id).where(InvitationExtension.invitation_id == invitation_id, pending())
    return session.scalar(q)


def get_extension(
    session: Session, extension_id: str, *, for_update: bool = False
) -> InvitationExtension | None:
    """An invitation's extension request by id (locked when `for_update`)."""
    q = select(InvitationExtension).where(InvitationExtension.id == extension_id)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def pending_extensions(session: Session, *, limit: int) -> list[tuple[InvitationExtension, Invitation]]:
    """Extension requests waiting for the committee, oldest first, with their invitations."""
    q = (
        select(InvitationExtension, Invitation)
        .join(Invitation, Invitation.id == InvitationExtension.invitation_id)
        .where(pending())
        .order_by(InvitationExtension.requested_at, InvitationExtension.id)
        .limit(limit)
    )
    return [(e, i) for e, i in session.execute(q)]


# --- reading -------------------------------------------------------------------------------


def listed(
    session: Session,
    *,
    own_unit: str | None | Every = EVERY,
    own_station: str | None | Every = EVERY,
    status: str | None,
    unit: str | None,
    station: str | None,
    after: str | None,
    limit: int,
) -> list[Invitation]:
    """Invitations newest first: a unit's own or a station's own when given, filtered,
    after the cursor's id."""
    q = select(Invitation).order_by(Invitation.id.desc()).limit(limit)
    if own_unit is not EVERY:
        q = q.where(Invitation.unit_code == own_unit)
    if own_station is not EVERY:
        q = q.where(Invitation.station_code == own_station)
    if status:
        q = q.where(Invitation.status == status)
    if unit:
        q = q.where(Invitation.unit_code == unit)
    if station:
        q = q.where(Invitation.station_code == station)
    if after:
        q = q.where(Invitation.id < after)
    return list(session.scalars(q))


def numbers(session: Session, ids: Collection[str]) -> dict[str, str | None]:
    """id -> letter number of these invitations."""
    if not ids:
        return {}
    return {
        i: n
        for i, n in session.execute(select(Invitation.id, Invitation.number).where(Invitation.id.in_(ids)))
    }


def parts(session: Session, invitation_id: str) -> dict[str, list[Any]]:
    """Everything beside the row: clocks, reports, evaluations, extensions, history and
    supervision cases, each in its order."""

    def rows(model: Any, order: Any) -> list[Any]:
        return list(
            session.scalars(select(model).where(model.invitation_id == invitation_id).order_by(order))
        )

    return {
        "clocks": rows(InvitationClock, InvitationClock.id),
        "reports": rows(InvitationReport, InvitationReport.round),
        "evaluations": rows(InvitationEvaluation, InvitationEvaluation.round),
        "extensions": rows(InvitationExtension, InvitationExtension.requested_at),
        "history": rows(InvitationEvent, InvitationEvent.id),
        "cases": rows(Supervision, Supervision.opened_at),
    }


# --- the invitations report ----------------------------------------------------------------


def units_issued(session: Session, period: Period) -> list[str]:
    """The invited unit of each letter issued (numbered) in the period, by review time."""
    q = select(Invitation.unit_code).where(
        period.within(Invitation.reviewed_at), Invitation.letter_seq.is_not(None)
    )
    return [unit for (unit,) in session.execute(q)]


def clocks_started(session: Session, period: Period) -> list[tuple[str, str, datetime, datetime | None]]:
    """(unit, kind, due, met) of each clock started in the period."""
    c = InvitationClock
    q = select(c.unit_code, c.kind, c.due_at, c.met_at).where(period.within(c.started_at))
    return [(u, k, d, m) for u, k, d, m in session.execute(q)]


def evaluations_in(session: Session, period: Period) -> list[tuple[str, bool]]:
    """(invited unit, satisfied) of each evaluation dated in the period."""
    q = (
        select(Invitation.unit_code, InvitationEvaluation.satisfied)
        .join(Invitation, Invitation.id == InvitationEvaluation.invitation_id)
        .where(period.within(InvitationEvaluation.at))
    )
    return [(u, s) for u, s in session.execute(q)]


def submitted_count(session: Session) -> int:
    """How many invitations wait for the committee to vet them."""
    return count_rows(session, Invitation, Invitation.status == "submitted")
