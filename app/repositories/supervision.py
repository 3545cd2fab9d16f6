"""Supervision case queries (督办): a case is open while its state is `open`."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.models import Rating, Supervision, SupervisionMeeting, SupervisionNote
from app.repositories import EVERY, Every, tickets
from app.services.vocabulary import CaseState

if TYPE_CHECKING:
    from app.services.reports.period import Period


def is_open() -> ColumnElement[bool]:
    """A case not yet closed or withdrawn."""
    return Supervision.state == CaseState.OPEN.value


def open_cases_of(session: Session, ticket_ids: Collection[str]) -> dict[str, list[tuple[str, str | None]]]:
    """ticket id -> (kind, unit) of its open cases in the order they opened (each present)."""
    cases: dict[str, list[tuple[str, str | None]]] = {t: [] for t in ticket_ids}
    if cases:
        for ticket_id, kind, unit in session.execute(
            select(Supervision.ticket_id, Supervision.kind, Supervision.unit_code)
            .where(Supervision.ticket_id.in_(cases), is_open())
            .order_by(Supervision.opened_at)
        ):
            if ticket_id is not None:
                cases[ticket_id].append((kind, unit))
    return cases


def open_by_kind(session: Session) -> dict[str, int]:
    """kind -> how many cases of it are open."""
    q = select(Supervision.kind, func.count()).where(is_open()).group_by(Supervision.kind)
    return {k: int(n) for k, n in session.execute(q)}


def get(session: Session, case_id: str, *, for_update: bool = False) -> Supervision | None:
    """One case by id (locked for the transaction when `for_update`)."""
    q = select(Supervision).where(Supervision.id == case_id)
    if for_update:
        q = q.with_for_update()
    return session.scalar(q)


def of_round(session: Session, ticket_id: str, kind: str, round_: int) -> Supervision | None:
    """The ticket's case of this kind in this round (the unique key's row)."""
    q = select(Supervision).where(
        Supervision.ticket_id == ticket_id, Supervision.kind == kind, Supervision.round == round_
    )
    return session.scalar(q)


def open_triggered_by(session: Session, clock_id: int) -> Iterable[Supervision]:
    """The open cases this clock's running long opened."""
    return session.scalars(select(Supervision).where(Supervision.trigger_clock_id == clock_id, is_open()))


_Row = TypeVar("_Row", SupervisionNote, SupervisionMeeting)


def by_case(session: Session, model: type[_Row], case_ids: list[str], when: Any) -> dict[str, list[_Row]]:
    """The notes or meetings of each case, in the order they happened (each present)."""
    out: dict[str, list[_Row]] = {i: [] for i in case_ids}
    if case_ids:
        for row in session.scalars(
            select(model).where(model.supervision_id.in_(case_ids)).order_by(when, model.id)
        ):
            out[row.supervision_id].append(row)
    return out


def listed(
    session: Session,
    *,
    own_unit: str | None | Every = EVERY,
    kind: str | None,
    state: str | None,
    unit: str | None,
    ticket_id: str | None,
    after: str | None,
    limit: int,
) -> list[Supervision]:
    """Cases newest first: a unit's own when given, filtered, after the cursor's id."""
    q = select(Supervision).order_by(Supervision.id.desc()).limit(limit)
    if own_unit is not EVERY:
        q = q.where(Supervision.unit_code == own_unit)
    if kind:
        q = q.where(Supervision.kind == kind)
    if state:
        q = q.where(Supervision.state == state)
    if unit:
        q = q.where(Supervision.unit_code == unit)
    if ticket_id:
        q = q.where(Supervision.ticket_id == ticket_id)
    if after:
        q = q.where(Supervision.id < after)
    return list(session.scalars(q))


def cases_of_unsatisfied(session: Session, period: Period) -> list[Any]:
    """The cases opened by the cut-off on the tickets rated unsatisfied in the period, in
    opening order: (id, ticket, kind, unit, round, state, opened, closed), as plain rows."""
    rated = select(Rating.ticket_id).where(*tickets.unsatisfied_in(period))
    return list(
        session.connection()
        .execute(
            select(
                Supervision.id,
                Supervision.ticket_id,
                Supervision.kind,
                Supervision.unit_code,
                Supervision.round,
                Supervision.state,
                Supervision.opened_at,
                Supervision.closed_at,
            )
            .where(Supervision.ticket_id.in_(rated), period.acted(Supervision.opened_at))
            .order_by(Supervision.opened_at, Supervision.id)
        )
        .all()
    )
