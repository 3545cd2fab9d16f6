"""Run and inspect Alembic migrations from the installed package.

Any number of processes may call `upgrade` at once (replicas starting together, a
`hotline migrate` beside them): each takes a lock first, a PostgreSQL advisory lock or,
on SQLite, a file lock beside the database file, so one migrates and the others then find
the schema at head and do nothing.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, pool, text
from sqlalchemy.engine import make_url

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# pg_advisory_lock's key: any fixed bigint; this one is crc32("deputy-hotline migrations").
ADVISORY_KEY = 0x5E1F_3A07
LOCK_WAIT_SECONDS = 1800.0  # a long migration (0005 took 3 min at 1 M tickets) on a big city
_POLL_SECONDS = 0.2

log = logging.getLogger("hotline.migrate")


class MigrationLockTimeout(RuntimeError):
    """Another process held the migration lock longer than we were willing to wait."""


@dataclass(frozen=True)
class Outcome:
    """What one `upgrade` call found and left."""

    before: str | None
    after: str | None

    @property
    def migrated(self) -> bool:
        return self.before != self.after


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, *, wait_seconds: float = LOCK_WAIT_SECONDS) -> Outcome:
    """Apply pending migrations, one process at a time."""
    cfg = alembic_config(url)
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with _migration_lock(url, engine, wait_seconds) as conn:
            before = current_revision(conn)
            conn.commit()
            if before is not None and not known_revision(before):
                # A newer release has migrated this database; its migrations are additive
                # (README "Upgrading"), so this older code runs on the schema as it is.
                log.warning(
                    "the database is at migration %s, newer than this release's %s: leaving it as it is",
                    before,
                    head_revision(),
                )
                return Outcome(before, before)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            conn.commit()
            after = current_revision(conn)
            conn.commit()
    finally:
        engine.dispose()
    if before != after:
        log.info("migrated the database from %s to %s", before or "empty", after)
    return Outcome(before, after)


@contextmanager
def _migration_lock(url: str, engine: Engine, wait_seconds: float) -> Iterator[Connection]:
    """A connection to migrate on, held under the migration lock."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            _wait(
                lambda: bool(
                    conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar_one()
                ),
                wait_seconds,
                "PostgreSQL advisory lock",
            )
            conn.commit()
            try:
                yield conn
            finally:
                try:
                    conn.rollback()  # what a failed migration left open
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                    conn.commit()
                except Exception:  # a broken connection: closing it unlocks too
                    log.debug("could not unlock explicitly; closing the connection unlocks")
        return
    database = make_url(url).database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with engine.connect() as conn:  # in memory: no other process can reach it
            yield conn
        return
    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as lock_file:

        def take() -> bool:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _wait(take, wait_seconds, f"lock file {lock_path}")
        try:
            with engine.connect() as conn:
                yield conn
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def _wait(take: Callable[[], bool], wait_seconds: float, what: str) -> None:
    """Poll `take()` until it succeeds; a bounded wait, said once in the log."""
    deadline = time.monotonic() + wait_seconds
    said = False
    while not take():
        if time.monotonic() >= deadline:
            raise MigrationLockTimeout(
                f"another process held the migration lock ({what}) for more than {wait_seconds:.0f} s"
            )
        if not said:
            log.info("another process is migrating the database; waiting for it (%s)", what)
            said = True
        time.sleep(_POLL_SECONDS)


@cache
def _scripts() -> tuple[str | None, frozenset[str]]:
    """This release's head and all its revisions (read once: /readyz asks every few seconds)."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    return scripts.get_current_head(), frozenset(s.revision for s in scripts.walk_revisions())


def head_revision() -> str | None:
    return _scripts()[0]


def known_revision(revision: str) -> bool:
    """Whether this release's migrations include `revision`."""
    return revision in _scripts()[1]


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def schema_is_usable(current: str | None) -> bool:
    """At this release's head, or at a newer release's (additive migrations: README)."""
    return current == head_revision() or (current is not None and not known_revision(current))
