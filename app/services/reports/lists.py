"""The two lists the monthly report leads with (SPEC "Reports"): tickets that should have
been resolved and were not (应当办结但没有办结), and tickets rated unsatisfied with the state
of their supervision as at the cut-off; with the Chinese names of the codes they show."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Category, Clock, Deputy, District, Rating, Supervision, Ticket, Unit
from app.repositories.clocks import overdue
from app.services.reports.period import Period


class Names:
    """The Chinese names reports show for unit, category and district codes."""

    def __init__(self, session: Session) -> None:
        self.units: dict[str, str] = {c: n for c, n in session.execute(select(Unit.code, Unit.name))}
        self.cats: dict[str, str] = {c: n for c, n in session.execute(select(Category.code, Category.name))}
        self.districts: dict[str, str] = {
            c: n for c, n in session.execute(select(District.code, District.name))
        }

    def of(self, codes: dict[str, str], code: str | None) -> str | None:
        """The name of a code (the code itself when the registry has none)."""
        return None if code is None else codes.get(code, code)

    def row(self, *, unit: str | None, category: str, district: str | None) -> dict[str, Any]:
        """The codes of a listed ticket with their names beside them."""
        return {
            "unit": unit,
            "unit_name": self.of(self.units, unit),
            "category": category,
            "category_name": self.of(self.cats, category),
            "district": district,
            "district_name": self.of(self.districts, district),
        }


def overdue_list(session: Session, period: Period, names: Names) -> list[dict[str, Any]]:
    rows = (
        session.connection()
        .execute(
            select(
                Ticket.id,
                Ticket.hotline_no,
                Ticket.category,
                Ticket.district,
                Ticket.urgency,
                Ticket.called_at,
                Ticket.status,
                Ticket.caller_name,
                Ticket.caller_phone,
                Deputy.name,
                Clock.unit_code,
                Clock.round,
                Clock.due_at,
                Clock.met_at,
            )
            .select_from(Clock)
            .join(Ticket, Ticket.id == Clock.ticket_id)
            .outerjoin(Deputy, Deputy.id == Ticket.deputy_id)
            .where(*overdue(period))
            .order_by(Clock.due_at, Ticket.hotline_no, Clock.id)
        )
        .all()
    )
    out: dict[str, dict[str, Any]] = {}
    local, cutoff = period.local, period.cutoff
    # Rows unpacked as tuples: a Row's attribute look-up costs about 1 us, 14 of them a row.
    for (
        ticket_id,
        hotline_no,
        category,
        district,
        urgency,
        called_at,
        status,
        caller_name,
        caller_phone,
        deputy_name,
        unit,
        round_,
        due_at,
        met_at,
    ) in rows:
        if ticket_id in out:
            continue
        out[ticket_id] = {
            "hotline_no": hotline_no,
            "ticket_id": ticket_id,
            **names.row(unit=unit, category=category, district=district),
            "urgency": urgency,
            "round": round_,
            "called_at": local(called_at),
            "due_at": local(due_at),
            "overdue_days": (cutoff - due_at).days,
            # Resolved after the cut-off: shown, but it was not resolved as of the cut-off.
            "resolved_at": local(met_at),
            "caller_name": caller_name,
            "caller_phone": caller_phone,
            "deputy_name": deputy_name,
            "status": status,
        }
    return list(out.values())


def _case_state(period: Period, state: str, closed_at: datetime | None) -> str:
    """A case's state as it stood at the cut-off."""
    if closed_at is not None and period.acted_py(closed_at):
        return state
    return "open"


def unsatisfied_list(session: Session, period: Period, names: Names) -> list[dict[str, Any]]:
    rows = (
        session.connection()
        .execute(
            select(
                Rating.ticket_id,
                Rating.round,
                Rating.at,
                Rating.rating,
                Rating.comment,
                Ticket.hotline_no,
                Ticket.category,
                Ticket.district,
                Ticket.status,
                Ticket.caller_name,
                Ticket.caller_phone,
                Deputy.name,
                Rating.unit_code.label("unit"),
            )
            .select_from(Rating)
            .join(Ticket, Ticket.id == Rating.ticket_id)
            .outerjoin(Deputy, Deputy.id == Ticket.deputy_id)
            .where(period.within(Rating.at), Rating.satisfied.is_(False))
            .order_by(Rating.at, Ticket.hotline_no, Rating.id)
        )
        .all()
    )
    cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # The cases of the same cohort's tickets, in one query of plain rows.
    rated = select(Rating.ticket_id).where(period.within(Rating.at), Rating.satisfied.is_(False))
    local = period.local
    for case_id, ticket_id, kind, unit, round_, state, opened_at, closed_at in (
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
    ):
        state = _case_state(period, state, closed_at)
        if ticket_id is None:
            continue  # not reachable: the query names tickets
        cases[ticket_id].append(
            {
                "id": case_id,
                "kind": kind,
                "unit": unit,
                "unit_name": names.of(names.units, unit),
                "round": round_,
                "state": state,
                "opened_at": local(opened_at),
                "closed_at": local(closed_at) if state != "open" else None,
            }
        )
    return [
        {
            "hotline_no": hotline_no,
            "ticket_id": ticket_id,
            **names.row(unit=unit, category=category, district=district),
            "round": round_,
            "rating": rating,
            "rated_at": local(at),
            "comment": comment,
            "caller_name": caller_name,
            "caller_phone": caller_phone,
            "deputy_name": deputy_name,
            "status": status,
            "supervisions": cases.get(ticket_id, []),
        }
        for (
            ticket_id,
            round_,
            at,
            rating,
            comment,
            hotline_no,
            category,
            district,
            status,
            caller_name,
            caller_phone,
            deputy_name,
            unit,
        ) in rows
    ]
