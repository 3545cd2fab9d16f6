"""Rows written below the ORM are derived from the model's columns (app.services.rows)."""

from __future__ import annotations

import pytest

from app.models import Assignment, Clock, Event, Ticket
from app.services.rows import row_of


def test_a_row_carries_every_column_with_the_models_defaults():
    row = row_of(Assignment, {"ticket_id": "t", "unit_code": "u", "role": "lead"})
    assert row == {
        "ticket_id": "t",
        "unit_code": "u",
        "role": "lead",
        "active": True,  # the column's default
        "assigned_at": None,
        "ended_at": None,
        "opinion": None,
        "opinion_at": None,
    }


def test_a_numbered_key_is_left_to_the_database_and_a_made_default_is_made_per_row():
    assert "id" not in row_of(Clock, {})
    first, second = row_of(Event, {}), row_of(Event, {})
    assert first["data"] == {} and first["data"] is not second["data"]
    assert row_of(Ticket, {})["id"] != row_of(Ticket, {})["id"]


def test_every_row_of_a_table_has_the_same_keys_in_the_same_order():
    assert list(row_of(Clock, {"kind": "resolve", "unit_code": "u"})) == list(row_of(Clock, {}))


def test_a_key_that_is_not_a_column_is_refused():
    with pytest.raises(KeyError, match="met"):
        row_of(Clock, {"met": None})


def test_the_fresh_row_types_and_the_views_protocols_name_only_model_columns():
    """NewClock / NewAssignment stand for rows just written below the ORM, and the views'
    protocols for either kind of row: a column renamed in the model fails here, not in use."""
    from dataclasses import fields

    from app.services.clocks import NewClock
    from app.services.tickets import NewAssignment
    from app.services.views import AssignmentLike, ClockLike

    clock_columns = set(Clock.__table__.columns.keys())
    assignment_columns = set(Assignment.__table__.columns.keys())
    assert {f.name for f in fields(NewClock)} == clock_columns
    assert {f.name for f in fields(NewAssignment)} <= assignment_columns
    for protocol, columns in ((ClockLike, clock_columns), (AssignmentLike, assignment_columns)):
        named = {n for n in vars(protocol) if not n.startswith("_")}
        assert named and named <= columns, protocol
