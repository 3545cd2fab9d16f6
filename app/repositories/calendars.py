"""Working-calendar queries: the operator's years (app.models.CalendarYear) and the
signature that says whether they changed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import CalendarYear


def signature_columns() -> tuple[Any, Any]:
    """What identifies the operator's years: their count and latest change, as two scalar
    subqueries a caller may read in a statement of its own."""
    return (
        select(func.count()).select_from(CalendarYear).scalar_subquery(),
        select(func.max(CalendarYear.updated_at)).scalar_subquery(),
    )


def signature(session: Session) -> tuple[int, datetime | None]:
    """The operator's years' signature, in one small query."""
    count, latest = session.execute(select(*signature_columns())).one()
    return int(count), latest


def years(session: Session) -> Iterable[CalendarYear]:
    """Every year the operator arranged."""
    return session.scalars(select(CalendarYear))


def get(session: Session, year: int) -> CalendarYear | None:
    """The operator's arrangement of a year, if any."""
    return session.get(CalendarYear, year)
