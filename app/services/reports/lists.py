"""The two lists the monthly report leads with (SPEC "Reports"): tickets that should have
been resolved and were not (应当办结但没有办结), and tickets rated unsatisfied with the state
of their supervision as at the cut-off; with the Chinese names of the codes they show."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from app.repositories import clocks, registry, supervision, tickets
from app.services.reports.period import Period


class Names:
    """The Chinese names reports show for unit, category and district codes."""

    def __init__(self, session: Session) -> None:
        self.units: dict[str, str] = registry.unit_names(session)
        self.cats: dict[str, str] = registry.category_names(session)
        self.districts: dict[str, str] = dict(registry.districts(session))

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
    rows = clocks.overdue_with_tickets(session, period)
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
    rows = tickets.unsatisfied_ratings(session, period)
    cases: dict[str, list[dict[str, Any]]] = defaultdict(list)
    # The cases of the same cohort's tickets, in one query of plain rows.
    local = period.local
    for (
        case_id,
        ticket_id,
        kind,
        unit,
        round_,
        state,
        opened_at,
        closed_at,
    ) in supervision.cases_of_unsatisfied(session, period):
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
