"""Engines, the per-request session, and the one owner of every transaction (`Transaction`).

SQLite has one write lock per database. A pool of writers only queues on it
(measured: p99 about 1 s), so on SQLite every writing request shares one
connection that opens its transactions with BEGIN IMMEDIATE, while reads use
a small pool of their own. PostgreSQL gets one pool for both. Reads run without
an explicit transaction on both engines: every read endpoint is correct statement by
statement, and a poll saves the BEGIN and ROLLBACK round trips.
"""

from __future__ import annotations

import functools
import select
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread
import psycopg
from sqlalchemy import Connection, Dialect, Engine, Select, create_engine, event
from sqlalchemy.exc import DBAPIError, DisconnectionError, StatementError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool, StaticPool
from sqlalchemy.sql.compiler import Compiled
from sqlalchemy.sql.expression import Executable

from app.config import Settings


@dataclass
class Database:
    """The engines of one process and the session factories over them."""

    url: str
    writer: Engine
    reader: Engine
    health: Engine
    write_session: sessionmaker[Session]
    read_session: sessionmaker[Session]

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def is_postgres(self) -> bool:
        return self.url.startswith("postgresql")

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()
        if self.health is not self.writer:
            self.health.dispose()


def _sqlite_engine(url: str, *, write: bool, pool_size: int, wait: float, health: bool = False) -> Engine:
    if ":memory:" in url or url.rstrip("/") == "sqlite:":
        # One shared in-memory database for the process (demos, throwaway runs).
        engine = create_engine(url, connect_args={"check_same_thread": False}, poolclass=StaticPool)
    elif health:
        # Readiness opens its own connection: it never queues behind requests for a pooled one.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": wait}, poolclass=NullPool
        )
    else:
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": wait},
            pool_size=1 if write else pool_size,
            max_overflow=0,
            pool_timeout=wait,
        )
    busy_ms = int(wait * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _: Any) -> None:
        # Autocommit at the driver so that SQLAlchemy's "begin" below decides the lock mode.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # bounded: then 503 (app.errors)
        cur.execute("PRAGMA synchronous=NORMAL")
        if write:
            # Checkpoint every 10,000 WAL pages (40 MB) instead of SQLite's 1,000. Intake
            # dirties ~25 pages a ticket, many of them the same index pages; at 1,000 the
            # writer copied them back (and synced) every 40 tickets, inside a request.
            # Measured with bench/ingest.py: 188-200 -> 218-225 tickets/s.
            cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.close()

    if write:

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _ping_if_readable(dbapi_conn: Any, record: Any, proxy: Any) -> None:
    """Pessimistic disconnect handling without a round trip per checkout.

    An idle PostgreSQL connection has nothing to read. When the server ends it (a restart,
    pg_terminate_backend, an idle timeout) it sends its last words and closes the socket,
    which then polls readable. Only then does a SELECT 1 decide; a failure makes the pool
    open a fresh connection, so the request never sees the dead one. `pool_pre_ping`
    would cost every request, intake and each queue poll, one more round trip."""
    try:
        # poll, not select: a busy process has descriptors past select's limit of 1024.
        poller = select.poll()
        poller.register(dbapi_conn.pgconn.socket, select.POLLIN | select.POLLERR | select.POLLHUP)
        readable = bool(poller.poll(0))
    except Exception:  # closed, or no socket any more: let the ping below decide
        readable = True
    if not readable:
        return
    try:
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("SELECT 1")
        finally:
            cursor.close()
        dbapi_conn.rollback()
    except Exception as exc:
        raise DisconnectionError("the server closed the connection") from exc


def postgres_options(settings: Settings) -> str:
    """Every connection's session settings.

    JIT compilation cost the report's grouped queries 100-175 ms each, more than it saved;
    the service's other queries never reach its threshold. In a UTC session psycopg hands
    back instants already in `datetime.UTC`, which the models' UTCDateTime then passes
    through (what we store and compare is UTC). The timeouts bound every wait: a lock
    (lock_timeout), a statement (statement_timeout), and a transaction left open by a
    client that went away (idle_in_transaction_session_timeout, which frees its row
    locks); a wait that runs out is answered 503 + Retry-After (app.errors)."""
    return (
        f"-c jit=off -c timezone=UTC -c lock_timeout={settings.db_lock_timeout_ms} "
        f"-c statement_timeout={settings.db_statement_timeout_ms} "
        "-c idle_in_transaction_session_timeout="
        f"{settings.db_idle_in_transaction_timeout_ms}"
    )


def make_database(settings: Settings, url: str | None = None) -> Database:
    """Create the engines for a database URL."""
    url = url or settings.database_url
    wait = settings.db_pool_timeout
    if url.startswith("sqlite"):
        settings.ensure_data_dir()
        writer = _sqlite_engine(url, write=True, pool_size=1, wait=wait)
        memory = ":memory:" in url or url.rstrip("/") == "sqlite:"
        reader = (
            writer
            if memory
            else _sqlite_engine(url, write=False, pool_size=max(4, settings.db_pool_size), wait=wait)
        )
        health = writer if memory else _sqlite_engine(url, write=False, pool_size=1, wait=1.0, health=True)
    else:
        options = postgres_options(settings)
        writer = create_engine(
            url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_timeout=wait,
            connect_args={"options": options, "connect_timeout": max(1, round(wait))},
        )
        event.listen(writer, "checkout", _ping_if_readable)
        # Reads run in autocommit: no BEGIN/ROLLBACK round trips around a poll. The flag is
        # client-side in psycopg, so sharing the writer's pool costs nothing.
        reader = writer.execution_options(isolation_level="AUTOCOMMIT")
        # Readiness on a connection of its own, never one the requests wait for.
        health = create_engine(
            url,
            poolclass=NullPool,
            isolation_level="AUTOCOMMIT",
            connect_args={"options": "-c statement_timeout=2000", "connect_timeout": 2},
        )
    from app.services.queue import track_versions  # the service layer, imported late

    write_session = sessionmaker(writer, expire_on_commit=False)
    track_versions(write_session)
    return Database(
        url=url,
        writer=writer,
        reader=reader,
        health=health,
        write_session=write_session,
        read_session=sessionmaker(reader, expire_on_commit=False),
    )


class Raced(Exception):
    """A use-case lost a race to a concurrent transaction (e.g. the same new key committed
    first). Its transaction is lost; the owner rolls it back and runs the use-case once
    more, which then sees the winner's rows."""


# What waits for a transaction's commit (Session.info), e.g. forgetting remembered API keys:
# done before the commit, a concurrent request could remember them again from the old rows.
_AFTER_COMMIT = "hotline_after_commit"


def after_commit(session: Session, work: Callable[[], None]) -> None:
    """Run `work` once the session's transaction has committed (never if it rolls back)."""
    session.info.setdefault(_AFTER_COMMIT, []).append(work)


def end(session: Session, *, ok: bool) -> None:
    """Commit (or roll back) the session's transaction, releasing its connection to the
    pool; a commit that fails is rolled back before its error goes on. After a commit,
    what waited for it runs (`after_commit`)."""
    waiting = session.info.pop(_AFTER_COMMIT, ())
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    if ok:
        for work in waiting:
            work()


class Transaction:
    """The one owner of a transaction: a new session, committed when the block ends
    normally, rolled back on any error, then closed.

    Requests use it through app.deps (the writing context), every other caller (jobs, the
    CLI, the pages' own short transactions) directly. Nothing else commits or rolls back:
    a use-case only flushes, and one that may be refused midway runs in `savepoint`.
    `async with` ends a transaction that is still open in a worker thread of its own
    limiter, so that the event loop never blocks on the database and the connection never
    waits for a thread (see app.deps)."""

    def __init__(self, factory: Callable[[], Session]) -> None:
        self.session = factory()

    def __enter__(self) -> Session:
        return self.session

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        finish(self.session, ok=kind is None)

    async def __aenter__(self) -> Session:
        return self.session

    async def __aexit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if not self.session.in_transaction():  # ended in the endpoint's own thread
            self.session.close()
            return
        await anyio.to_thread.run_sync(
            functools.partial(finish, self.session, ok=kind is None),
            limiter=anyio.CapacityLimiter(1),
        )


def finish(session: Session, *, ok: bool) -> None:
    """End the transaction (see `end`) and close the session."""
    try:
        end(session, ok=ok)
    finally:
        session.close()


@contextmanager
def savepoint(session: Session) -> Iterator[None]:
    """A step that may be refused (a DomainError): its writes are undone to a SAVEPOINT
    and the error goes on, while the transaction stays open for its owner to end (a page
    shows the form again from what is stored, then the request's transaction ends)."""
    with session.begin_nested():
        yield


def in_one_trip(conn: Connection, steps: Sequence[tuple[Executable, Mapping[str, Any]]]) -> list[int]:
    """One short transaction in one round trip, for a hot write whose statements check
    their own conditions (they need no answer between them), each statement compiled once
    and handed to the driver directly:
    - on PostgreSQL, BEGIN, the steps and COMMIT sent together in psycopg's pipeline mode,
      on a connection in autocommit (the readers'). Nothing waits on this process while the
      transaction is open, so its locks are held for the server's work alone;
    - on SQLite, BEGIN IMMEDIATE, the steps and COMMIT on the writer's connection (not yet
      in a transaction), with none of SQLAlchemy's per-statement work in between.
    Returns each step's row count. On any error nothing is kept (rolled back) and a driver's
    error is SQLAlchemy's, as any query's (`_driver_error`)."""
    raw: Any = conn.connection.dbapi_connection
    # Every parameter is bound before the transaction begins: a bind that fails opens none.
    bound = [
        (compiled.string, _driver_params(compiled, conn.dialect, params))
        for compiled, params in ((_compiled(statement, conn.dialect), params) for statement, params in steps)
    ]
    sqlite = isinstance(raw, sqlite3.Connection)
    if sqlite and (raw.isolation_level is not None or raw.in_transaction):
        raise TypeError("in_one_trip needs an SQLite connection in no transaction, driver autocommit")
    if not sqlite and not (isinstance(raw, psycopg.Connection) and raw.autocommit):
        raise TypeError("in_one_trip needs a PostgreSQL connection in autocommit")
    cursors = [raw.cursor() for _ in bound]
    try:
        if sqlite:
            raw.execute("BEGIN IMMEDIATE")
            _send(conn, cursors, bound)
            raw.execute("COMMIT")
        else:
            with raw.pipeline():
                raw.execute("BEGIN")
                _send(conn, cursors, bound)
                raw.execute("COMMIT")
        return [cursor.rowcount for cursor in cursors]
    except BaseException as exc:
        # Whatever went wrong (the driver, a listener, a cancellation), nothing stays open.
        if raw.in_transaction if sqlite else (not raw.broken and raw.info.transaction_status != _IDLE):
            _roll_back(conn, raw)
        if not isinstance(exc, conn.dialect.loaded_dbapi.Error):
            raise
        raise _driver_error(conn, exc, "; ".join(sql for sql, _ in bound), raw, cursors[-1]) from exc
    finally:
        _close(conn, cursors)


_IDLE = psycopg.pq.TransactionStatus.IDLE


def _send(conn: Connection, cursors: list[Any], bound: list[tuple[str, Any]]) -> None:
    for cursor, (sql, values) in zip(cursors, bound, strict=True):
        _announce(conn, cursor, sql, values)
        cursor.execute(sql, values)


def first_row(conn: Connection, statement: Select[Any], params: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """The first row of a hot read, compiled once and handed to the driver directly, its
    values converted as SQLAlchemy's own execution converts them (the public form's count
    of an address's messages: the one query a refused submission makes, on every post)."""
    compiled = _compiled(statement, conn.dialect)
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        values = _driver_params(compiled, conn.dialect, params)
        _announce(conn, cursor, compiled.string, values)
        cursor.execute(compiled.string, values)
        row = cursor.fetchone()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(conn, exc, compiled.string, raw, cursor) from exc
    finally:
        _close(conn, [cursor])
    if row is None:
        return None
    processors = _result_processors(statement, conn.dialect)
    return tuple(
        value if p is None or value is None else p(value) for p, value in zip(processors, row, strict=True)
    )


@functools.cache
def _result_processors(statement: Select[Any], dialect: Dialect) -> tuple[Any, ...]:
    return tuple(
        c.type.dialect_impl(dialect).result_processor(dialect, None) for c in statement.selected_columns
    )


def _driver_error(conn: Connection, exc: Exception, sent: str, raw: Any, cursor: Any) -> StatementError:
    """A driver's error as SQLAlchemy's own execution raises it: a connection that is lost (or
    could not even roll back, `_roll_back`) is thrown away, not pooled again, and the error
    says so, which app.errors answers with 503."""
    gone = conn.invalidated or conn.dialect.is_disconnect(exc, raw, cursor)  # type: ignore[arg-type]
    if gone and not conn.invalidated:
        conn.invalidate(exc)
    error = conn.dialect.loaded_dbapi.Error
    return DBAPIError.instance(sent, None, exc, error, connection_invalidated=gone, dialect=conn.dialect)


def _roll_back(conn: Connection, raw: Any) -> None:
    """Undo a write that failed halfway; a connection that cannot even roll back is thrown
    away (the pool opens a fresh one), and the write's own error is the one raised."""
    try:
        raw.rollback()
    except Exception as exc:
        conn.invalidate(exc)


def _close(conn: Connection, cursors: list[Any]) -> None:
    if not conn.invalidated:  # an invalidated connection is closed, its cursors with it
        for cursor in cursors:
            cursor.close()


def _announce(conn: Connection, cursor: Any, statement: str, values: Any) -> None:
    """A statement handed to the driver directly still fires SQLAlchemy's
    before_cursor_execute (without an execution context), so whatever watches the
    statements a request sends, a test counting them or a tracer, sees these too."""
    if conn.dispatch.before_cursor_execute:
        conn.dispatch.before_cursor_execute(conn, cursor, statement, values, None, False)


@functools.cache
def _compiled(statement: Executable, dialect: Dialect) -> Compiled:
    return statement.compile(dialect=dialect)  # type: ignore[attr-defined,no-any-return]


@functools.cache
def _processors(compiled: Compiled, dialect: Dialect) -> dict[str, Any]:
    """Each bound name's bind processor, from the types' public API (what SQLAlchemy's own
    execution applies before handing values to the driver)."""
    found = {}
    for bind, name in compiled.bind_names.items():  # type: ignore[attr-defined]
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            found[name] = process
    return found


def _driver_params(
    compiled: Compiled, dialect: Dialect, params: Mapping[str, Any]
) -> dict[str, Any] | tuple[Any, ...]:
    """The parameters as SQLAlchemy would hand them to the driver (types' bind processing),
    by name or, for a positional paramstyle (SQLite's qmark), in the statement's order."""
    values = dict(compiled.construct_params(dict(params)) or {})
    for name, process in _processors(compiled, dialect).items():
        if values.get(name) is not None:
            values[name] = process(values[name])
    order = compiled.positiontup  # type: ignore[attr-defined]
    return tuple(values[name] for name in order) if order is not None else values
