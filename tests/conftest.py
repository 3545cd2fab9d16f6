"""Test database and app fixtures, for SQLite (default) or PostgreSQL.

HOTLINE_TEST_DATABASE_URL picks the engine; the schema is built by `alembic upgrade head`
once per run, and every table is emptied before each test that asks for the database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

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


def pinned_calendars() -> CalendarProvider:
    """A calendar provider whose built-in years stop at PUBLISHED_THROUGH."""
    return CalendarProvider(builtin_arrangements(through=PUBLISHED_THROUGH))


def _test_url(tmp_root: Path) -> str:
    url = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_root / 'hotline-test.db'}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from app.migrate import upgrade

    url = _test_url(tmp_path_factory.mktemp("db"))
    engine = create_engine(url)
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    upgrade(url)
    return url


def empty_tables(url: str) -> None:
    engine = create_engine(url)
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if url.startswith("postgresql"):
            conn.execute(text("TRUNCATE " + ", ".join(tables) + " RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                conn.execute(text(f"DELETE FROM {name}"))
    engine.dispose()


@pytest.fixture
def db_url(database_url: str) -> str:
    empty_tables(database_url)
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
    from fastapi.testclient import TestClient

    from app.main import create_app
    from app.state import build_state
    from tests.builders import Api

    state = build_state(settings, clock, calendars=pinned_calendars())
    app = create_app(settings, clock=clock, state=state, background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, clock, app)
