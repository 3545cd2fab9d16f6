"""Migrations: `alembic upgrade head` builds exactly the models' schema, and round-trips."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

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
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": False}
            )
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


def test_report_dimensions_are_copied_onto_existing_rows(fresh_url):
    """0005 fills category/district (and kind, rated unit) on rows written before it, so a
    report reads the same across the upgrade."""
    from fastapi.testclient import TestClient

    from app.clock import FixedClock
    from app.main import create_app
    from tests.builders import Api
    from tests.conftest import make_settings
    from tests.integration.test_reports import generate

    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    clock = FixedClock(datetime(2025, 9, 30, 2, 0, tzinfo=UTC))
    app = create_app(make_settings(fresh_url), clock=clock, background=False)
    with TestClient(app, raise_server_exceptions=False) as client:
        api = Api(client, clock, app).city()
        api.set_now("2025-11-20 10:00")
        done = generate(api, 40, seed=3)
        assert done["unsatisfied"] >= 1
        before = client.get("/api/v1/reports/monthly?month=2025-10", headers=api.h("liaison"))
        assert before.status_code == 200, before.text
        app.state.hotline.db.dispose()  # let the migration take its locks
        command.downgrade(cfg, "0004")
        command.upgrade(cfg, "head")
        after = client.get("/api/v1/reports/monthly?month=2025-10", headers=api.h("liaison"))
    assert after.json() == before.json()
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        for table, extra in (("clocks", ""), ("resolutions", " OR r.ticket_kind <> t.kind"), ("ratings", "")):
            stale = conn.execute(
                text(
                    f"SELECT count(*) FROM {table} AS r JOIN tickets AS t ON t.id = r.ticket_id "
                    f"WHERE r.category <> t.category OR coalesce(r.district, '') <> "
                    f"coalesce(t.district, ''){extra}"
                )
            ).scalar_one()
            assert stale == 0, table
        unrated = conn.execute(text("SELECT count(*) FROM ratings WHERE unit_code IS NULL"))
        assert unrated.scalar_one() == 0
    engine.dispose()


# Each racer imports everything first, says it is ready, then waits for the starting gun,
# so that the five `hotline migrate` really run at the same moment.
RACER = """
import sys, time
from pathlib import Path
import app.migrate, app.models, alembic.command  # noqa: F401 (imported before the gun)
from app.cli import cli
Path(sys.argv[1], f"ready-{sys.argv[3]}").touch()
while not Path(sys.argv[2]).exists():
    time.sleep(0.002)
sys.argv = ["hotline", "migrate"]
cli()
"""


def test_five_migrations_started_at_once_all_succeed_and_one_migrates(fresh_url, tmp_path):
    import subprocess
    import sys
    import time

    env = {**os.environ, "DATABASE_URL": fresh_url}
    gun = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(tmp_path), str(gun), str(n)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for n in range(5)
    ]
    try:
        deadline = time.monotonic() + 120
        while len(list(tmp_path.glob("ready-*"))) < 5:
            assert time.monotonic() < deadline, "the racers did not start"
            assert all(r.poll() is None for r in racers), [r.communicate() for r in racers]
            time.sleep(0.05)
        gun.touch()
        outputs = [r.communicate(timeout=240)[0].decode() for r in racers]
    finally:
        for r in racers:
            if r.poll() is None:
                r.kill()
    assert [r.returncode for r in racers] == [0] * 5, outputs
    head = head_revision()
    migrated = [o for o in outputs if f"migrated the database from empty to {head}" in o]
    idle = [o for o in outputs if f"database is at migration {head}; nothing to do" in o]
    assert (len(migrated), len(idle)) == (1, 4), outputs
    engine = create_engine(fresh_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [head]
    engine.dispose()
    diffs = schema_diffs(fresh_url)
    assert diffs == [], "\n".join(map(str, diffs))


def test_a_database_newer_than_the_code_is_left_as_it_is(fresh_url):
    """An older replica restarting after the upgrade's migration runs on the newer schema
    (migrations are additive) instead of failing on a revision it does not know."""
    upgrade(fresh_url)
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    outcome = upgrade(fresh_url)
    assert (outcome.before, outcome.after, outcome.migrated) == ("9999", "9999", False)
    with engine.connect() as conn:
        assert current_revision(conn) == "9999"
    engine.dispose()


def test_a_lock_held_too_long_ends_the_wait_with_an_error(fresh_url):
    """Nothing waits forever: a migration lock never released (a hung migrator) is reported."""
    import fcntl

    from sqlalchemy.engine import make_url

    from app.migrate import ADVISORY_KEY, MigrationLockTimeout

    engine = create_engine(fresh_url)
    try:
        if fresh_url.startswith("postgresql"):
            holder = engine.connect()
            holder.execute(text("SELECT pg_advisory_lock(:k)"), {"k": ADVISORY_KEY})
            holder.commit()

            def release() -> None:  # a session lock outlives a connection returned to its pool
                holder.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                holder.close()
        else:
            path = f"{make_url(fresh_url).database}.migrate-lock"
            held = open(path, "a")  # noqa: SIM115 (held across the call below)
            fcntl.flock(held, fcntl.LOCK_EX)
            release = held.close
        try:
            with pytest.raises(MigrationLockTimeout, match="held the migration lock"):
                upgrade(fresh_url, wait_seconds=0.5)
        finally:
            release()
        assert upgrade(fresh_url).migrated  # released: the next one goes ahead
    finally:
        engine.dispose()
