"""When supervision (督办) opens, of which kind, owned by whom, and why (pure).

SPEC Part I "Supervision": an unsatisfied rating opens a committee case (对口督办) and a
local case (属地督办) for the new round, and from the second unsatisfied rating a joint
case (联合督办) too; a complex ticket goes to coordination (呈签协调); a resolve clock
still unmet long after its due day opens a joint case (久拖不决). A case with no unit to
own it is the liaison committee's (`unit` None). The use-cases (app.services.supervision)
look the units up and open what these functions decide.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from app.services.vocabulary import CaseKind

LIAISON_OWNS = "the liaison committee owns the case"


@dataclass(frozen=True)
class CaseToOpen:
    kind: CaseKind
    unit: str | None  # None: the liaison committee's
    reason: str


def on_unsatisfied(
    *,
    rating: str | None,
    rounds_rated: int,
    category: str,
    committee_unit: str | None,
    district: str | None,
    district_congress: str | None,
) -> list[CaseToOpen]:
    """The cases an unsatisfied rating opens for the new round; `rounds_rated` is the
    round just rated (from 2, the rating is unsatisfied again after re-handling)."""
    reason = f"rated {rating}"
    committee_reason = (
        reason
        if committee_unit
        else f"{reason}; category {category} has no committee unit, so {LIAISON_OWNS}"
    )
    if district_congress is not None:
        local_reason = reason
    elif district:
        local_reason = f"{reason}; district {district} has no district congress unit, so {LIAISON_OWNS}"
    else:
        local_reason = f"{reason}; the ticket names no district, so {LIAISON_OWNS}"
    cases = [
        CaseToOpen(CaseKind.COMMITTEE, committee_unit, committee_reason),
        CaseToOpen(CaseKind.LOCAL, district_congress, local_reason),
    ]
    if rounds_rated >= 2:
        cases.append(
            CaseToOpen(CaseKind.JOINT, None, f"rated unsatisfied again ({rating}) after re-handling")
        )
    return cases


def on_complex(*, category_coordinator: str | None, coordinators: Sequence[str]) -> CaseToOpen:
    """A complex ticket (复杂疑难) goes to the category's coordinator, else to the only
    coordinator unit registered, else to the liaison committee (`coordinators`: up to two
    of those registered, enough to tell one from several)."""
    if category_coordinator is not None:
        return CaseToOpen(
            CaseKind.COORDINATION,
            category_coordinator,
            "complex ticket: coordination by the category's coordinator",
        )
    if len(coordinators) == 1:
        return CaseToOpen(
            CaseKind.COORDINATION, coordinators[0], "complex ticket: coordination by the only coordinator"
        )
    why = (
        "no coordinator unit is registered"
        if not coordinators
        else "several coordinator units and the category names none"
    )
    return CaseToOpen(CaseKind.COORDINATION, None, f"complex ticket: {why}; {LIAISON_OWNS}")


def on_long_overdue(*, due_at: str, working_days: int) -> CaseToOpen:
    """久拖不决: a resolve clock (due `due_at`, as shown) still unmet `working_days` working
    days after its due day; the sweep decides when (the clock's `escalate_at`, app.services.sla)."""
    return CaseToOpen(
        CaseKind.JOINT,
        None,
        f"long overdue (久拖不决): resolve clock due {due_at} still unmet "
        f"{working_days} working days after its due day",
    )


def disproved(*, met_at: datetime | None, escalate_at: datetime | None) -> bool:
    """A long-overdue case is withdrawn when its clock turns out to have been met before the
    threshold (an action recorded late, with its true `at`)."""
    return met_at is not None and escalate_at is not None and met_at < escalate_at
