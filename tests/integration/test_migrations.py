"""Migrations: `alembic upgrade head` builds exactly the models' schema, and round-trips."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.migrate import alembic_config, current_revision, head_revision, upgrade
from app.models import Base


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """An empty database of the engine under test, dropped afterwards."""
    base = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if not base or not base.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    name = f"hotline_mig_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


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
