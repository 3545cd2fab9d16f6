"""Supervision case queries (督办): a case is open while its state is `open`."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from app.models import Supervision


def is_open() -> ColumnElement[bool]:
    """A case not yet closed or withdrawn."""
    return Supervision.state == "open"


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
