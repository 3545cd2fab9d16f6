"""A batch job's claim on the rows it is about to change (the sweeps, retention)."""

from __future__ import annotations

from typing import TypeVarTuple

from sqlalchemy import Select
from sqlalchemy.orm import Session

_Ts = TypeVarTuple("_Ts")


def claimed(session: Session, q: Select[*_Ts]) -> Select[*_Ts]:
    """`q` locking its rows on PostgreSQL, skipping those another replica holds, so that two
    schedulers never take the same row; SQLite's writer connection (BEGIN IMMEDIATE) already
    serializes them."""
    if session.get_bind().dialect.name == "postgresql":
        return q.with_for_update(skip_locked=True)
    return q
