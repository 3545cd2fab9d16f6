"""Rows written below the ORM are derived from the model's columns (app.services.rows)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect

from app.models import Assignment, Clock, Event, Ticket
from app.services.rows import instance_of, row_of
from app.services.views import clock_view


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


def test_a_row_written_below_the_orm_reads_as_an_instance_of_its_model():
    """What intake's views and queue read of the rows it has just inserted: the model's
    own class holding the row, as a query would load it, with nothing left to flush."""
    now = datetime(2025, 10, 1, 1, 0, tzinfo=UTC)
    row = row_of(Clock, {"ticket_id": "t", "unit_code": "u", "kind": "resolve", "due_at": now})
    clock = instance_of(Clock, {"id": 7, **row})
    assert type(clock) is Clock
    assert clock.id == 7 and {key: getattr(clock, key) for key in row} == row
    state = inspect(clock)
    assert state.transient and not state.modified and state.session is None
    assert clock_view(clock, now, UTC)["state"] == "breached"
