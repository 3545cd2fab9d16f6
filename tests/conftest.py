"""Test database and app fixtures, for SQLite (default) or PostgreSQL.

HOTLINE_TEST_DATABASE_URL picks the engine; the schema is built by `alembic upgrade head`
once per run, and every table is emptied before each test that asks for the database.
Under pytest-xdist (`-n 2`) each worker has a database of its own (see _worker_database).
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from app.clock import FixedClock
from app.config import Settings
from app.models import Base
from app.services.calendar_in_force import CalendarProvider
from app.services.working_days import builtin_arrangements

ADMIN_KEY = "test-admin-key-0123456789abcdef"
METRICS_TOKEN = "test-metrics-token-0123456789abcdef"
METRICS = {"Authorization": f"Bearer {METRICS_TOKEN}"}

# The arrangement the tests rely on: the State Council's arrangements for 2004-2026 are
# built in, and 2027 has none until a test loads it. Pinned, so that a data package that
# learns 2027 (the State Council publishes it each autumn) changes no test's outcome.
PUBLISHED_THROUGH = 2026
T = TypeVar("T")


def _compile_routes_once() -> None:
    """Each app the tests make (about a thousand a run) compiles the same routes: FastAPI
    builds an included route's dependencies, validators and handler per app, at the app's
    first request (routing walks every included router), about 0.27 s of a core each time.
    The result depends on the route and how it is included, never on which app includes it,
    except for the app's `dependency_overrides`, which the service never sets (an app that
    sets some compiles its own). So a process compiles each (route, inclusion) once and
    every app shares it: what routing, validation and the handlers do is unchanged.
    Relies on FastAPI internals: should they change, every app compiles its own again."""
    from fastapi import routing

    context_class = getattr(routing, "_EffectiveRouteContext", None)
    compile_route = getattr(context_class, "from_api_route", None)
    if context_class is None or compile_route is None or not dataclasses.is_dataclass(context_class):
        return
    compiled: dict[tuple[int, str], tuple[Any, Any]] = {}

    def shared(cls: Any, *, original_route: Any, include_context: Any) -> Any:
        provider = getattr(include_context, "dependency_overrides_provider", None)
        if getattr(provider, "dependency_overrides", None):
            return compile_route(original_route=original_route, include_context=include_context)
        how = repr(dataclasses.replace(include_context, dependency_overrides_provider=None))
        key = (id(original_route), how)
        hit = compiled.get(key)
        if hit is None or hit[0] is not original_route:
            context = compile_route(original_route=original_route, include_context=include_context)
            hit = compiled[key] = (original_route, context)
        return hit[1]

    context_class.from_api_route = classmethod(shared)  # type: ignore[attr-defined]


_compile_routes_once()


def pinned_calendars() -> CalendarProvider:
    """A calendar provider whose built-in years stop at PUBLISHED_THROUGH."""
    return CalendarProvider(builtin_arrangements(through=PUBLISHED_THROUGH))


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker gets a PostgreSQL database of its own, named after the
    given one (`hotline_test` -> `hotline_test_gw0`), created here when it is missing."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    name = f"{make_url(url).database}_{worker}"
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            if (
                conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
                is None
            ):
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _test_url(tmp_root: Path) -> str:
    url = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if url:
        return _worker_database(url)
    return f"sqlite:///{tmp_root / 'hotline-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from app.migrate import upgrade

    url = _test_url(tmp_path_factory.mktemp("db"))
    engine = create_engine(url)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            # Commits need not wait for the disk: a throwaway database, and a server crash
            # is no case any test makes. New connections (the app's) take the setting.
            database = make_url(url).database
            conn.execute(text(f'ALTER DATABASE "{database}" SET synchronous_commit = off'))
    engine.dispose()
    upgrade(url)
    return url


def _sqlite_without_syncs(dbapi_conn: Any, _: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA synchronous=OFF")
    cur.close()


class Emptier:
    """Empties every table of the schema, and restarts its id counters, between tests.

    One connection for the whole run. DELETE, not TRUNCATE: on PostgreSQL a TRUNCATE of every
    table makes new files for each (about a second per test); deleting the few rows a test
    wrote costs milliseconds. On SQLite DELETE restarts rowids by itself (max + 1).

    On SQLite that connection stays open, and its commits do not wait for the disk (the
    database is a throwaway, as on PostgreSQL: synchronous_commit = off). When the last
    connection to a WAL database closes, SQLite checkpoints it and syncs the file: with no
    connection of its own kept, every test paid that twice (its app's engines closing, then
    this emptier's), and a synced commit besides, about 55 ms of waiting for the disk each."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgresql")
        if self.postgres:
            self.engine = create_engine(url, pool_size=1, pool_pre_ping=True)
        else:
            # The pool keeps its connection open between tests (overflow ones close).
            self.engine = create_engine(url, pool_size=1, max_overflow=4)
            event.listen(self.engine, "connect", _sqlite_without_syncs)
        self.tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
        self.sequences: list[str] = []
        if self.postgres:
            with self.engine.connect() as conn:
                self.sequences = list(
                    conn.execute(
                        text("SELECT sequencename FROM pg_sequences WHERE schemaname = current_schema()")
                    ).scalars()
                )

    def __call__(self) -> None:
        with self.engine.begin() as conn:
            if self.postgres:
                conn.exec_driver_sql("; ".join(f"DELETE FROM {name}" for name in self.tables))
                if self.sequences:
                    restart = ", ".join(f"setval('{name}', 1, false)" for name in self.sequences)
                    conn.exec_driver_sql(f"SELECT {restart}")
            else:
                for name in self.tables:
                    conn.exec_driver_sql(f"DELETE FROM {name}")

    def dispose(self) -> None:
        self.engine.dispose()


class Snapshots:
    """Data sets that many tests read, built once per worker and written back for each.

    `snapshot(name, api, build)`: the first test runs `build()` through the API, as always;
    its rows (every table), its keys and its clock are kept. Each later test asking for the
    same name gets the same rows inserted in its empty database, the same keys and the same
    time, in milliseconds instead of the seconds the API took to write them. Only for data
    sets a test reads; whatever a test then writes is emptied after it like any other."""

    def __init__(self, emptier: Emptier) -> None:
        self.emptier = emptier
        self.saved: dict[str, tuple[dict[str, list[dict[str, Any]]], Any, Any]] = {}

    def __call__(self, name: str, api: Any, build: Callable[[], T]) -> T:
        if name not in self.saved:
            result = build()
            with self.emptier.engine.connect() as conn:
                rows = {
                    t.name: [dict(r) for r in conn.execute(t.select()).mappings()]
                    for t in Base.metadata.sorted_tables
                }
            keys = (dict(api.keys), dict(api.key_ids), api.clock.now())
            self.saved[name] = (rows, keys, copy.deepcopy(result))
            return result
        rows, (keys, key_ids, now), result = self.saved[name]
        with self.emptier.engine.begin() as conn:
            if self.emptier.postgres:
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no FK order
            for table in Base.metadata.sorted_tables:
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])
            if self.emptier.postgres:
                for table in Base.metadata.sorted_tables:
                    if "id" in table.c and table.c.id.autoincrement is True and rows[table.name]:
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                f"(SELECT max(id) FROM {table.name}))"
                            )
                        )
        api.keys.update(keys)
        api.key_ids.update(key_ids)
        api.clock.set(now)
        return copy.deepcopy(result)


@pytest.fixture(scope="session")
def emptier(database_url: str) -> Iterator[Emptier]:
    emptier = Emptier(database_url)
    yield emptier
    emptier.dispose()


@pytest.fixture(scope="session")
def snapshots(emptier: Emptier) -> Snapshots:
    return Snapshots(emptier)


@pytest.fixture
def snapshot(snapshots: Snapshots, db_url: str) -> Snapshots:
    """See Snapshots: the data set of a name, built once, written back for each test."""
    return snapshots


@pytest.fixture
def db_url(database_url: str, emptier: Emptier) -> str:
    emptier()
    return database_url


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2025, 9, 30, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai


def make_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "DATABASE_URL": url,
        "HOTLINE_ADMIN_KEY": ADMIN_KEY,
        "HOTLINE_SCHEDULER": False,
        "HOTLINE_WEBHOOKS": False,
        "HOTLINE_METRICS_TOKEN": METRICS_TOKEN,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(db_url: str) -> Settings:
    return make_settings(db_url)


@pytest.fixture
def api(settings: Settings, clock: FixedClock) -> Iterator[object]:
    with serve(settings, clock) as running:
        yield running


@contextmanager
def serve(settings: Settings, clock: FixedClock) -> Iterator[Any]:
    """The service with these settings, the pinned calendars and no background work, its
    lifespan running: an `Api` on it (for a test that needs settings of its own)."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.state import AppState
    from tests.builders import Api

    state = AppState(settings=settings, db=_database(settings), clock=clock, calendars=pinned_calendars())
    app = create_app(settings, clock=clock, state=state, background=False)
    _share_openapi_document(app, settings)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, clock, app)


_databases: dict[str, Any] = {}


def _database(settings: Settings) -> Any:
    """The engines for these settings, made once per process and shared by every app made
    with the same settings, one test after another. Each app's lifespan disposes them at
    its end, which closes their connections but keeps what SQLAlchemy learned: the compiled
    form of every statement (an engine's cache) and the dialect's first-connect checks. A
    fresh engine per test compiled each statement the test ran again."""
    from app.db import make_database

    key = repr(sorted(settings.model_dump().items()))
    if key not in _databases:
        if len(_databases) >= 16:  # throwaway databases of their own: forget the oldest
            _databases.pop(next(iter(_databases))).dispose()
        _databases[key] = make_database(settings)
    return _databases[key]


_documents: dict[str, dict[str, Any]] = {}


def _share_openapi_document(app: Any, settings: Settings) -> None:
    """The OpenAPI document, built once per process for each set of settings: the same code
    and settings give the same document (the database URL is in none of it), and building it
    costs about 0.4 s of a core, which the fuzz and contract tests would pay for each app."""
    generate = app.openapi
    key = repr(sorted(settings.model_dump(exclude={"database_url"}).items()))

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            if key not in _documents:
                _documents[key] = copy.deepcopy(generate())
            app.openapi_schema = copy.deepcopy(_documents[key])
        return app.openapi_schema  # type: ignore[no-any-return]

    app.openapi = openapi


@pytest.fixture(autouse=True)
def cheap_password_hashes(request: pytest.FixtureRequest) -> Iterator[None]:
    """Argon2id at its smallest cost (one pass over 8 MiB) for every test but the timing and
    load tests (marked serial), which keep the service's real parameters: a real hash and
    check cost about 0.35 s of a core, and the suite signs people in hundreds of times.
    Which parameters the service uses is not what those tests check."""
    if request.node.get_closest_marker("serial"):
        yield
        return
    from argon2 import PasswordHasher

    from app.services import passwords

    real = passwords.use_hasher(PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    try:
        yield
    finally:
        passwords.use_hasher(real)


# Modules that take the longest on one worker (a server and a browser, an OpenID provider, a
# month reckoned by brute force, migrations run again and again), in about that order. The
# two workers take whole modules in collection order (`--dist loadfile`, .ci/run): taken
# last, one of these kept one worker busy for half a minute after the other had finished.
HEAVY_FIRST = (
    "test_pages_browser.py",
    "test_oidc.py",
    "test_reports.py",
    "test_migrations.py",
    "test_report_readers.py",
    "test_messages_browser.py",
    "test_invitations_browser.py",
    "test_fuzz.py",
    "test_export_masking.py",
    "test_fuzz_contract.py",
    "test_duty_pages_browser.py",
    "test_station_pages_browser.py",
    "test_upgrade.py",
    "test_first_hour.py",
)
UNIT = Path(__file__).resolve().parent / "unit"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Heavy modules first (a stable sort: every other order is kept). And on PostgreSQL the
    tests of tests/unit that take no database are deselected: they are pure, so the SQLite
    pass that runs them (in CI, the same run) checks all they can check, and a second
    engine would run the same code again."""
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
    if not os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    pure = [
        item
        for item in items
        if item.path.is_relative_to(UNIT) and "database_url" not in getattr(item, "fixturenames", ())
    ]
    if pure:
        config.hook.pytest_deselected(items=pure)
        gone = {id(item) for item in pure}
        items[:] = [item for item in items if id(item) not in gone]
