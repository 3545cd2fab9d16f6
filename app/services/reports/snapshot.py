"""Several PostgreSQL sessions that read one snapshot, so a report's sections can be read
in parallel and still describe the same instant.

The first session opens a read-only REPEATABLE READ transaction and exports its
snapshot (`pg_export_snapshot`); the others adopt it (`SET TRANSACTION SNAPSHOT`) before
their first query. PostgreSQL documents this for exactly this use: parallel readers of
one consistent state.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from sqlalchemy import Engine
from sqlalchemy.orm import Session

_SNAPSHOT_ID = re.compile(r"^[0-9A-F]+-[0-9A-F]+(-[0-9]+)?$")


@contextmanager
def shared_snapshot(engine: Engine, n: int) -> Iterator[list[Session]]:
    """`n` sessions on `engine` (PostgreSQL) reading one snapshot, from the moment this
    is entered; their read-only transactions end on exit."""
    with ExitStack() as stack:
        sessions: list[Session] = []
        snapshot = ""
        for i in range(n):
            conn = stack.enter_context(engine.connect().execution_options(isolation_level="REPEATABLE READ"))
            stack.enter_context(conn.begin())
            if i == 0:
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
                snapshot = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar_one()
                # A utility command takes no parameters; the id comes from the server.
                if not _SNAPSHOT_ID.match(snapshot):
                    raise RuntimeError(f"unexpected snapshot id {snapshot!r}")
            else:
                conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
                conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            sessions.append(stack.enter_context(Session(bind=conn)))
        yield sessions
