"""Migrations: `alembic upgrade head` builds exactly the models' schema, and round-trips."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.migrate import alembic_config, current_revision, head_revision, upgrade
from app.models import Base
from tests.support import throwaway_database


@pytest.fixture
def fresh_url() -> Iterator[str]:
    """An empty database of the engine under test, dropped afterwards."""
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_mig") as url:
        yield url


def schema_diffs(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": False})
            return list(compare_metadata(ctx, Base.metadata))
    finally:
        engine.dispose()


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_upgrade_head_matches_the_models(fresh_url):
    upgrade(fresh_url)
    diffs = schema_diffs(fresh_url)
    assert diffs == [], "\n".join(map(str, diffs))
    assert {t.name for t in Base.metadata.sorted_tables} <= tables(fresh_url)
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision()
    engine.dispose()


def test_downgrade_base_then_upgrade_again(fresh_url):
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    assert tables(fresh_url) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    diffs = schema_diffs(fresh_url)
    assert diffs == [], "\n".join(map(str, diffs))


def test_upgrade_is_idempotent(fresh_url):
    upgrade(fresh_url)
    upgrade(fresh_url)  # nothing pending: a no-op
    assert schema_diffs(fresh_url) == []
