"""Queries, one module per aggregate: the only place a `select()` over its tables is
written, and each predicate (an open clock, a due delivery) is defined once.

Services call these and stay free of SQL shapes; routers call services. A repository
takes a `Session` (or builds a statement for a caller that runs it on its own connection),
never commits: the transaction belongs to its owner (app.db.Transaction).
"""

from enum import Enum


class Every(Enum):
    """A list not scoped to one unit or station (None is a value: a row with no code)."""

    EVERY = 0


EVERY = Every.EVERY
