"""Which database errors are a bounded wait that ran out (503, the request changed nothing)
and which are real faults (500)."""

from __future__ import annotations

import sqlite3

import psycopg
from sqlalchemy.exc import IntegrityError, OperationalError

from app.errors import Unavailable, database_busy


def test_a_connection_not_made_within_its_timeout_is_busy_not_a_fault():
    # psycopg raises it on the client's side, with no SQLSTATE (seen in CI under load).
    exc = OperationalError("connect", {}, psycopg.errors.ConnectionTimeout("connection timeout expired"))
    assert isinstance(database_busy(exc), Unavailable)


def test_sqlites_busy_timeout_is_busy():
    exc = OperationalError("INSERT", {}, sqlite3.OperationalError("database is locked"))
    assert isinstance(database_busy(exc), Unavailable)


def test_a_broken_constraint_is_a_fault():
    exc = IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed: units.code"))
    assert database_busy(exc) is None
