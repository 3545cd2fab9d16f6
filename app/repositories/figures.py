"""Counting helpers the reports' and the dashboard's queries share: a portable conditional
count, and counts bucketed by month of a period."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from app.services.reports.period import Period


def count_rows(session: Session, entity: Any, *where: Any) -> int:
    """How many rows of `entity` meet every condition: SELECT count(*) ... WHERE, one trip."""
    return int(session.scalar(select(func.count()).select_from(entity).where(*where)) or 0)


def count_if(cond: Any) -> Any:
    """Portable count of rows where `cond` holds (no boolean arithmetic)."""
    return func.coalesce(func.sum(case((cond, 1), else_=0)), 0)


def by_month(
    session: Session, period: Period, col: Any, *measures: Any, where: tuple[Any, ...] = ()
) -> Iterable[Any]:
    """(month label, *measures) of the rows whose `col` lies in the period, per month."""
    bucket = period.bucket(col)
    if bucket is None:  # one month: no CASE to work out per row
        only = period.months[0][0]
        return ((only, *r) for r in session.execute(select(*measures).where(period.within(col), *where)))
    return session.execute(select(bucket, *measures).where(period.within(col), *where).group_by(bucket))
