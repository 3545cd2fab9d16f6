"""Lead choice and the status machine (pure)."""

from __future__ import annotations

import pytest

from app.services.routing import choose_lead
from app.services.workflow import (
    ALLOWED,
    Action,
    Status,
    TransitionRefused,
    in_queues,
    is_closed,
    is_unresolved,
    next_status,
)


@pytest.mark.parametrize(
    ("units", "named", "default", "lead", "co", "rule"),
    [
        (["a"], None, None, "a", (), "single_unit"),
        (["a", "b"], "b", "a", "b", ("a",), "named_by_hotline"),
        (["a", "b"], None, "b", "b", ("a",), "category_default_lead"),
        (["a", "b"], None, "c", "a", ("b",), "first_listed"),
        (["a", "b", "a"], None, None, "a", ("b",), "first_listed"),
    ],
)
def test_lead_is_named_then_category_default_then_first_listed(units, named, default, lead, co, rule):
    r = choose_lead(units, named, default)
    assert (r.lead, r.co_handlers, r.rule) == (lead, co, rule)


def test_status_machine_matches_the_spec_table():
    s, a = Status, Action
    assert next_status(s.DISPATCHED, a.CONTACT) is s.IN_PROGRESS
    for status in (s.IN_PROGRESS, s.RESOLVED, s.FED_BACK, s.SUPERVISING):
        assert next_status(status, a.CONTACT) is status
    for status in (s.DISPATCHED, s.IN_PROGRESS, s.SUPERVISING):
        assert next_status(status, a.RESOLVE) is s.RESOLVED
    assert next_status(s.RESOLVED, a.FEEDBACK) is s.FED_BACK
    assert next_status(s.FED_BACK, a.RATE_SATISFIED) is s.CLOSED
    assert next_status(s.FED_BACK, a.RATE_UNSATISFIED) is s.SUPERVISING
    assert next_status(s.RETURNED, a.DISPATCH) is s.DISPATCHED
    assert len(ALLOWED) == 14


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (Status.DISPATCHED, Action.FEEDBACK),
        (Status.IN_PROGRESS, Action.RATE_SATISFIED),
        (Status.RESOLVED, Action.RETURN),
        (Status.SUPERVISING, Action.RETURN),
        (Status.CLOSED, Action.CONTACT),
        (Status.CLOSED, Action.OPINION),
        (Status.CLOSED, Action.EXTENSION),
        (Status.RETURNED, Action.RESOLVE),
        (Status.DISPATCHED, Action.DISPATCH),
    ],
)
def test_actions_outside_the_table_are_refused(status, action):
    with pytest.raises(TransitionRefused):
        next_status(status, action)


def test_opinions_and_extensions_never_move_the_status():
    for status in Status:
        if status is Status.CLOSED:
            continue
        assert next_status(status, Action.OPINION) is status
        assert next_status(status, Action.EXTENSION) is status


@pytest.mark.parametrize(
    ("status", "closed", "unresolved", "queued"),
    [
        ("dispatched", False, True, True),
        ("in_progress", False, True, True),
        ("resolved", False, False, True),
        ("fed_back", False, False, True),
        ("supervising", False, True, True),
        ("returned", False, False, False),
        ("closed", True, False, False),
    ],
)
def test_each_status_says_whether_closed_unresolved_and_in_queues(status, closed, unresolved, queued):
    assert (is_closed(status), is_unresolved(status), in_queues(status)) == (closed, unresolved, queued)


def test_every_status_is_in_the_table_of_predicates():
    # A status added to the machine must be placed in the predicates' table above too.
    assert {s.value for s in Status} == {
        "dispatched",
        "in_progress",
        "resolved",
        "fed_back",
        "supervising",
        "returned",
        "closed",
    }
