"""Term (届) and duty report (述职) queries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Deputy, DutyReport, Term
from app.repositories.figures import count_rows


def get(session: Session, code: str, *, for_update: bool = False) -> Term | None:
    """One term by code (locked for the transaction when `for_update`)."""
    if not for_update:
        return session.get(Term, code)
    return session.scalar(select(Term).where(Term.code == code).with_for_update())


def listed(session: Session) -> list[Term]:
    """Every term, the newest first within each level."""
    return list(session.scalars(select(Term).order_by(Term.level, Term.starts_on.desc(), Term.code)))


def deputies_of_other_level(session: Session, code: str, level: str) -> int:
    """How many of the term's deputies are not of this level."""
    return count_rows(session, Deputy, Deputy.term_code == code, Deputy.level != level)


def reports_outside(session: Session, code: str, starts_on: date, ends_on: date) -> int:
    """How many of the term's duty reports fall outside these dates."""
    q = (
        select(func.count())
        .select_from(DutyReport)
        .where(
            DutyReport.term_code == code, (DutyReport.held_on < starts_on) | (DutyReport.held_on > ends_on)
        )
    )
    return int(session.scalar(q) or 0)


def deputies_of(session: Session, code: str) -> list[Deputy]:
    """The term's deputies, by name and phone."""
    q = select(Deputy).where(Deputy.term_code == code).order_by(Deputy.name, Deputy.phone)
    return list(session.scalars(q))


# --- duty reports --------------------------------------------------------------------------


def reports_of_deputy(session: Session, deputy_id: str) -> list[DutyReport]:
    """A deputy's duty reports, the oldest first."""
    q = (
        select(DutyReport)
        .where(DutyReport.deputy_id == deputy_id)
        .order_by(DutyReport.held_on, DutyReport.id)
    )
    return list(session.scalars(q))


def reports_by(session: Session, code: str, last: date) -> Iterable[DutyReport]:
    """The term's duty reports made by `last`, the oldest first."""
    return session.scalars(
        select(DutyReport)
        .where(DutyReport.term_code == code, DutyReport.held_on <= last)
        .order_by(DutyReport.held_on, DutyReport.id)
    )
