"""The domain's shared words, and the schemas and labels derived from them."""

from __future__ import annotations

from typing import get_args

import pytest

from app.schemas import invitations, messages, supervision, tickets, webhooks
from app.services import vocabulary as v


@pytest.mark.parametrize(
    ("given", "rating", "satisfied"),
    [
        ("very_satisfied", v.Rating.VERY_SATISFIED, True),
        ("满意", v.Rating.SATISFIED, True),
        ("basically_satisfied", v.Rating.BASICALLY_SATISFIED, True),
        ("不满意", v.Rating.UNSATISFIED, False),
        ("非常不满意", v.Rating.VERY_UNSATISFIED, False),
    ],
)
def test_a_rating_is_read_by_its_code_or_its_chinese_label(given, rating, satisfied):
    assert v.rating_of(given) is rating
    assert rating.satisfied is satisfied


@pytest.mark.parametrize("given", ["very_satisfied", "非常满意", "非常不满意", "Satisfied", ""])
def test_the_three_point_scale_refuses_what_it_does_not_list(given):
    assert v.rating_of(given, v.THREE_POINT) is None


def test_schema_literals_list_the_enums_words_in_order():
    assert get_args(supervision.CaseKind) == (
        "committee",
        "local",
        "joint",
        "coordination",
        "invitation",
    )
    assert get_args(supervision.CaseState) == ("open", "closed", "withdrawn")
    assert get_args(webhooks.DeliveryState) == ("pending", "delivered", "failed")
    assert get_args(tickets.ExtensionState) == get_args(invitations.ExtensionState)
    assert get_args(tickets.ExtensionState) == ("pending", "approved", "refused", "lapsed")
    assert get_args(tickets.RatingCode) == (
        *v.values(v.Rating),
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    )
    assert get_args(invitations.EvaluationRating) == (
        "satisfied",
        "basically_satisfied",
        "unsatisfied",
        "满意",
        "基本满意",
        "不满意",
    )


def test_statuses_and_clock_states_in_the_schemas_are_the_state_machines_words():
    assert get_args(tickets.Status) == (
        "dispatched",
        "in_progress",
        "resolved",
        "fed_back",
        "supervising",
        "returned",
        "closed",
    )
    assert get_args(tickets.ClockStateName) == ("running", "met", "met_late", "breached", "cancelled")
    assert get_args(invitations.InvitationStatus) == (
        "submitted",
        "issued",
        "rejected",
        "acknowledged",
        "reported",
        "closed",
    )
    assert get_args(messages.MessageStatus) == (
        "received",
        "answered",
        "forwarded",
        "declined",
        "result_ready",
        "closed",
    )


def test_a_word_without_a_label_is_refused_when_the_labels_are_built():
    with pytest.raises(ValueError, match="no label for lapsed"):
        v.labelled(v.ExtensionState, {s: "x" for s in v.ExtensionState if s is not v.ExtensionState.LAPSED})


def test_every_status_and_clock_word_has_a_chinese_label():
    """A state added to a machine and not labelled would show its code on pages and reports."""
    from app.pages import labels
    from app.services import invitation_flow, message_flow, sla, workflow

    assert set(labels.STATUSES) == set(v.values(workflow.Status))
    assert set(labels.INVITATION_STATUSES) == set(v.values(invitation_flow.Status))
    assert set(labels.MSG_STATUSES) == set(v.values(message_flow.MsgStatus))
    assert set(labels.CLOCK_STATES) == set(v.values(sla.ClockState))
    assert set(labels.CLOCK_KINDS) == set(v.values(sla.ClockKind))
