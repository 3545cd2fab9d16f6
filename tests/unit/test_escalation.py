"""When supervision opens, of which kind and owned by whom (pure: app.services.escalation)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.services.escalation import CaseToOpen, disproved, on_complex, on_long_overdue, on_unsatisfied
from app.services.vocabulary import CaseKind

LIAISON = "the liaison committee owns the case"


def test_first_unsatisfied_rating_opens_committee_and_local_cases_owned_by_their_units():
    cases = on_unsatisfied(
        rating="unsatisfied",
        rounds_rated=1,
        category="roads",
        committee_unit="urban-committee",
        district="xihu",
        district_congress="xihu-congress",
    )
    assert cases == [
        CaseToOpen(CaseKind.COMMITTEE, "urban-committee", "rated unsatisfied"),
        CaseToOpen(CaseKind.LOCAL, "xihu-congress", "rated unsatisfied"),
    ]


def test_second_unsatisfied_rating_adds_a_joint_case_for_the_liaison_committee():
    cases = on_unsatisfied(
        rating="very_unsatisfied",
        rounds_rated=2,
        category="roads",
        committee_unit="urban-committee",
        district="xihu",
        district_congress="xihu-congress",
    )
    assert [c.kind for c in cases] == [CaseKind.COMMITTEE, CaseKind.LOCAL, CaseKind.JOINT]
    assert cases[2] == CaseToOpen(
        CaseKind.JOINT, None, "rated unsatisfied again (very_unsatisfied) after re-handling"
    )


@pytest.mark.parametrize(
    ("district", "congress", "unit", "reason"),
    [
        ("xihu", "xihu-congress", "xihu-congress", "rated unsatisfied"),
        (
            "xihu",
            None,
            None,
            f"rated unsatisfied; district xihu has no district congress unit, so {LIAISON}",
        ),
        (None, None, None, f"rated unsatisfied; the ticket names no district, so {LIAISON}"),
    ],
)
def test_local_case_goes_to_the_district_congress_or_else_the_liaison_committee(
    district, congress, unit, reason
):
    cases = on_unsatisfied(
        rating="unsatisfied",
        rounds_rated=1,
        category="roads",
        committee_unit="c",
        district=district,
        district_congress=congress,
    )
    assert cases[1] == CaseToOpen(CaseKind.LOCAL, unit, reason)


def test_committee_case_without_a_committee_unit_is_the_liaison_committees():
    cases = on_unsatisfied(
        rating="unsatisfied",
        rounds_rated=1,
        category="roads",
        committee_unit=None,
        district="xihu",
        district_congress="xihu-congress",
    )
    assert cases[0] == CaseToOpen(
        CaseKind.COMMITTEE, None, f"rated unsatisfied; category roads has no committee unit, so {LIAISON}"
    )


@pytest.mark.parametrize(
    ("named", "registered", "unit", "reason"),
    [
        ("coord-a", ["coord-b"], "coord-a", "complex ticket: coordination by the category's coordinator"),
        (None, ["coord-b"], "coord-b", "complex ticket: coordination by the only coordinator"),
        (None, [], None, f"complex ticket: no coordinator unit is registered; {LIAISON}"),
        (
            None,
            ["coord-a", "coord-b"],
            None,
            f"complex ticket: several coordinator units and the category names none; {LIAISON}",
        ),
    ],
)
def test_complex_ticket_goes_to_the_named_then_the_only_coordinator(named, registered, unit, reason):
    assert on_complex(category_coordinator=named, coordinators=registered) == CaseToOpen(
        CaseKind.COORDINATION, unit, reason
    )


def test_long_overdue_opens_a_joint_case_naming_the_due_time():
    case = on_long_overdue(due_at="2025-10-15T23:59:59+08:00", working_days=5)
    assert case == CaseToOpen(
        CaseKind.JOINT,
        None,
        "long overdue (久拖不决): resolve clock due 2025-10-15T23:59:59+08:00 still unmet "
        "5 working days after its due day",
    )


T = datetime(2025, 10, 22, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("met_at", "escalate_at", "withdrawn"),
    [
        (None, T, False),  # still unmet
        (T.replace(hour=15), None, False),  # no threshold
        (T.replace(hour=15), T, True),  # met before the threshold, recorded late
        (T, T, False),  # met at the threshold: the case stands
        (T.replace(hour=17), T, False),
    ],
)
def test_a_long_overdue_case_is_disproved_only_by_a_clock_met_before_its_threshold(
    met_at, escalate_at, withdrawn
):
    assert disproved(met_at=met_at, escalate_at=escalate_at) is withdrawn
