"""Helpers shared by the tests and the benchmarks that need a database of their own."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def throwaway_database(server_url: str | None, prefix: str = "hotline_tmp") -> Iterator[str]:
    """An empty database nobody else uses, dropped afterwards.

    `server_url`: any PostgreSQL URL on the server to use; otherwise a temporary SQLite file."""
    if not server_url or not server_url.startswith("postgresql"):
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            yield f"sqlite:///{Path(folder) / 'hotline.db'}"
        return
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(server_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
