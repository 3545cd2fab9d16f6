"""The invitation status machine (pure): SPEC Part II's table, exhaustively, and walks."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.services.invitation_flow import (
    NEXT_ACTION,
    Action,
    OutOfOrder,
    Party,
    Status,
    WrongParty,
    letter_number,
    next_round,
    next_status,
    party_of,
    rating_action,
)

S, A, P = Status, Action, Party

# SPEC.md Part II "Invitations", row by row: (from, action) -> (to, the parties named).
SPEC_ROWS = {
    (None, A.SUBMIT): (S.SUBMITTED, {P.STATION, P.LIAISON}),
    (S.SUBMITTED, A.APPROVE): (S.ISSUED, {P.LIAISON}),
    (S.SUBMITTED, A.REJECT): (S.REJECTED, {P.LIAISON}),
    (S.ISSUED, A.ACKNOWLEDGE): (S.ACKNOWLEDGED, {P.UNIT}),
    (S.ACKNOWLEDGED, A.REPORT): (S.REPORTED, {P.UNIT}),
    (S.REPORTED, A.EVALUATE_SATISFIED): (S.CLOSED, {P.STATION, P.LIAISON}),
    (S.REPORTED, A.EVALUATE_UNSATISFIED): (S.ACKNOWLEDGED, {P.STATION, P.LIAISON}),
    # "while acknowledged, the unit may ask for 1-30 more working days"
    (S.ACKNOWLEDGED, A.EXTENSION): (S.ACKNOWLEDGED, {P.UNIT}),
}
ACTION_PARTIES = {action: parties for (_, action), (_, parties) in SPEC_ROWS.items()}
STATUSES: list[Status | None] = [None, *Status]


@pytest.mark.parametrize(
    ("status", "action", "party"), list(itertools.product(STATUSES, list(Action), list(Party)))
)
def test_every_status_action_and_party_against_spec(status, action, party):
    row = SPEC_ROWS.get((status, action))
    if party not in ACTION_PARTIES[action]:
        with pytest.raises(WrongParty):  # the wrong party learns so whatever the status
            next_status(party, status, action)
    elif row is None:
        with pytest.raises(OutOfOrder):
            next_status(party, status, action)
    else:
        assert next_status(party, status, action) is row[0]


def test_only_an_unsatisfied_evaluation_starts_a_new_round():
    for action in Action:
        want = 3 if action is A.EVALUATE_UNSATISFIED else 2
        assert next_round(2, action) == want


@pytest.mark.parametrize(
    ("rating", "action"),
    [
        ("satisfied", A.EVALUATE_SATISFIED),
        ("basically_satisfied", A.EVALUATE_SATISFIED),
        ("unsatisfied", A.EVALUATE_UNSATISFIED),
        ("满意", A.EVALUATE_SATISFIED),
        ("基本满意", A.EVALUATE_SATISFIED),
        ("不满意", A.EVALUATE_UNSATISFIED),
    ],
)
def test_ratings_and_their_chinese_labels(rating, action):
    assert rating_action(rating) is action


def test_an_unknown_rating_is_refused():
    with pytest.raises(KeyError):
        rating_action("very_satisfied")  # a ticket's rating, not an evaluation's


@pytest.mark.parametrize(
    ("role", "unit", "station", "party"),
    [
        ("liaison", None, None, P.LIAISON),
        ("admin", None, None, P.OTHER),
        ("unit", "water-bureau", None, P.UNIT),
        ("unit", "housing-bureau", None, None),
        ("station", None, "dongcheng", P.STATION),
        ("station", None, "xicheng", None),
        ("hotline", None, None, None),
        ("deputy", None, None, None),
    ],
)
def test_who_is_which_party(role, unit, station, party):
    assert (
        party_of(
            role=role, unit_code=unit, station_code=station, invited_unit="water-bureau", station="dongcheng"
        )
        is party
    )


@pytest.mark.parametrize(
    ("prefix", "year", "n", "text"),
    [
        ("人大约", 2025, 1, "人大约〔2025〕1号"),
        ("温人大约", 2026, 27, "温人大约〔2026〕27号"),
    ],
)
def test_letter_number_as_printed(prefix, year, n, text):
    assert letter_number(prefix, year, n) == text


@given(st.lists(st.tuples(st.sampled_from(list(Party)), st.sampled_from(list(Action))), max_size=40))
def test_any_sequence_of_attempts_keeps_the_machine_consistent(attempts):
    """Whatever is tried, in whatever order: refused attempts change nothing, rounds move
    only on an unsatisfied evaluation, closed and rejected are final, and the unit's queue
    has work exactly while the letter is issued or being handled."""
    status: Status | None = None
    round_ = 1
    for party, action in attempts:
        try:
            new = next_status(party, status, action)
        except (WrongParty, OutOfOrder):
            continue
        assert status not in (S.CLOSED, S.REJECTED)
        round_ = next_round(round_, action)
        status = new
        assert (NEXT_ACTION.get(status) is not None) == (status in (S.ISSUED, S.ACKNOWLEDGED))
    assert round_ >= 1
