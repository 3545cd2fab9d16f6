"""Terms (届): a level's term with its dates; term year n is the nth calendar year of it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, Invalid, NotFound
from app.models import Term
from app.repositories import terms as repo


def term_year(term: Term, year: int) -> int:
    """The term year of a calendar year: the start date's year is year 1."""
    return year - term.starts_on.year + 1


def put_term(
    session: Session, *, code: str, level: str, name: str, starts_on: date, ends_on: date, now: datetime
) -> tuple[Term, bool]:
    """Create (True) or change (False) a term. A term whose deputies or reports rest on
    its level or dates keeps them: changing those under them is a conflict."""
    if ends_on <= starts_on:
        raise Invalid("ends_on", "must be after starts_on")
    term = repo.get(session, code, for_update=True)
    if term is None:
        term = Term(
            code=code,
            level=level,
            name=name,
            starts_on=starts_on,
            ends_on=ends_on,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(term)
                session.flush()
            return term, True
        except IntegrityError:
            # Created by a concurrent request since the look-up: change that one instead
            # (the savepoint's rollback has already dropped the pending row).
            term = repo.get(session, code, for_update=True)
            assert term is not None
    if level != term.level:
        others = repo.deputies_of_other_level(session, code, level)
        if others:
            raise Conflict(
                f"{others} deputies of term {code} are {term.level} deputies; "
                "move them to another term before changing its level"
            )
    outside = repo.reports_outside(session, code, starts_on, ends_on)
    if outside:
        raise Conflict(f"{outside} duty reports of term {code} fall outside the new dates")
    term.level, term.name, term.starts_on, term.ends_on = level, name, starts_on, ends_on
    term.updated_at = now
    session.flush()
    return term, False


def list_terms(session: Session) -> list[Term]:
    """Every term, the newest first within each level."""
    return repo.listed(session)


def get_term(session: Session, code: str, *, field: str | None = None) -> Term:
    """The term with this code: 404, or 422 naming `field` when the request names it."""
    term = repo.get(session, code)
    if term is None:
        if field is not None:
            raise Invalid(field, f"no term {code!r}; create it with PUT /api/v1/terms/{{code}}")
        raise NotFound(f"no term {code!r}")
    return term


def check_membership(session: Session, *, term_code: str | None, level: str) -> None:
    """A deputy may belong only to an existing term of his or her own level."""
    if term_code is None:
        return
    term = get_term(session, term_code, field="term")
    if term.level != level:
        raise Invalid("term", f"term {term_code} is a {term.level} term; the deputy is a {level} deputy")
