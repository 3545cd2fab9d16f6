"""A first hour without surprises: the `hotline` command as a new user meets it.

One-line errors that say what to do and never print a secret; no empty database made
behind the user's back; a demo city whose every report shows figures."""

from __future__ import annotations

import json
import os
import select
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from tests.support import throwaway_database

SECRET = "s3cr3t-pw-Q7"


def today() -> date:
    """Today where the demo's story is told (the service's zone)."""
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


HOTLINE = [sys.executable, "-c", "from app.cli import main; main()"]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Run the CLI with exactly these settings in the environment."""
    for name in ("DATABASE_URL", "HOTLINE_ADMIN_KEY"):
        monkeypatch.delenv(name, raising=False)

    def run(*args: str, **settings: str) -> Any:
        for name, value in settings.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return CliRunner().invoke(cli, list(args))

    yield run
    get_settings.cache_clear()


def one_line_error(result: Any) -> str:
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    # At most the line naming the database (migrate, serve), then the error.
    lines = [x for x in result.output.splitlines() if x.strip() and not x.startswith("database: ")]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


def test_a_command_run_from_another_folder_creates_no_database(env, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for args in (
        ["keys", "create", "--role", "admin"],
        ["report", "monthly", "2026-10"],
        ["calendar", "show", "2026"],
        ["seed-demo"],
    ):
        line = one_line_error(env(*args))
        assert f"no database at sqlite:///{tmp_path}/data/hotline.db" in line
        assert "hotline migrate" in line and "DATABASE_URL" in line
    assert not (tmp_path / "data").exists()


def test_a_database_without_the_schema_is_refused(env, tmp_path):
    empty = tmp_path / "other.db"
    sqlite3.connect(empty).close()
    line = one_line_error(env("keys", "create", "--role", "admin", DATABASE_URL=f"sqlite:///{empty}"))
    assert "has no hotline schema" in line and "hotline migrate" in line
    server = os.environ.get("HOTLINE_TEST_DATABASE_URL")
    if server and server.startswith("postgresql"):
        with throwaway_database(server, "hotline_empty") as url:
            line = one_line_error(env("report", "monthly", "2026-10", DATABASE_URL=url))
            assert "has no hotline schema" in line


@pytest.mark.parametrize(
    "url, says",
    [
        (f"postgres://hotline:{SECRET}@127.0.0.1/hotline", "the driver 'postgres' is not one"),
        (f"postgresql://hotline:{SECRET}@127.0.0.1/hotline", "the driver 'postgresql' is not one"),
        ("not a url", "is not a database URL"),
        (f"mysql://root:{SECRET}@localhost/x", "the driver 'mysql' is not one"),
    ],
)
def test_a_bad_database_url_is_one_line_without_the_password(env, url, says):
    line = one_line_error(env("migrate", DATABASE_URL=url))
    assert line.startswith("error: DATABASE_URL: ") and says in line
    assert "postgresql+psycopg://user:password@host:5432/dbname" in line
    assert SECRET not in line


def test_an_unreachable_database_is_one_line_without_the_password(env):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    url = f"postgresql+psycopg://hotline:{SECRET}@127.0.0.1:{port}/hotline"
    line = one_line_error(env("migrate", DATABASE_URL=url))
    assert f"cannot open the database at postgresql+psycopg://hotline:***@127.0.0.1:{port}" in line
    assert "check DATABASE_URL" in line and SECRET not in line


@pytest.mark.parametrize(
    "key, says",
    [
        ("Zq9-short", "must be at least 16 characters (it has 9)"),
        ("change-this-admin-key-123", "looks like a placeholder"),  # the README's old example
        ("replace-with-a-long-random-key", "looks like a placeholder"),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", "looks like a placeholder"),
    ],
)
def test_a_bad_admin_key_is_refused_in_one_line_that_never_shows_it(env, db_url, key, says):
    line = one_line_error(env("migrate", DATABASE_URL=db_url, HOTLINE_ADMIN_KEY=key))
    assert line.startswith("error: HOTLINE_ADMIN_KEY: ") and says in line
    assert "secrets.token_urlsafe" in line  # says how to make a real one
    assert key not in line


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_on_a_chosen_port_warns_when_no_admin_key_is_set(tmp_path):
    port = free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HOTLINE_ADMIN_KEY", "DATABASE_URL", "HOTLINE_TEST_DATABASE_URL")
    }
    env |= {
        "HOTLINE_SCHEDULER": "off",
        "HOTLINE_WEBHOOKS": "off",
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    proc = subprocess.Popen(
        [*HOTLINE, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    try:
        seen, deadline = b"", time.monotonic() + 60
        assert proc.stderr is not None
        while b"serving on" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stderr], [], [], 1)
            if ready:
                chunk = os.read(proc.stderr.fileno(), 4096)
                if not chunk:
                    break
                seen += chunk
        text = seen.decode()
        assert f"database: sqlite:///{tmp_path}/data/hotline.db" in text
        assert "warning: HOTLINE_ADMIN_KEY is not set" in text
        assert f"serving on http://127.0.0.1:{port}" in text
        assert "Traceback" not in text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_seed_demo_tells_a_history_that_every_report_shows_and_adds_nothing_again(env, db_url, api):
    first = env("seed-demo", "--days", "75", DATABASE_URL=db_url)
    assert first.exit_code == 0, first.output
    assert "deputies created 300" in first.output and "history:" in first.output
    told = int(first.output.split("history: ")[1].split()[0])
    assert told > 60
    again = env("seed-demo", DATABASE_URL=db_url)
    assert again.exit_code == 0, again.output
    assert "created 0, updated 300" in again.output
    assert f"history already loaded ({told} demo tickets); nothing added" in again.output
    # What the story made, the service's own rules made: look at it through the API.
    tickets = api.get("/api/v1/tickets?limit=500", "hotline").json()["items"]
    assert len(tickets) == told
    statuses = {t["status"] for t in tickets}
    assert "closed" in statuses  # handled to the end
    assert statuses & {"dispatched", "in_progress", "resolved", "fed_back", "supervising"}
    cases = api.get("/api/v1/supervisions?limit=500", "liaison").json()["items"]
    assert {"committee", "local"} <= {c["kind"] for c in cases}
    assert any(c["meetings"] for c in cases) or len(cases) > 5
    units = {u["code"]: u for u in api.get("/api/v1/units").json()}
    assert units["heshan-longguangqiao-gov"]["kind"] == "township"
    assert {d["code"] for d in api.get("/api/v1/districts").json()} >= {"heshan", "datonghu"}
    # Every report shows figures.
    last_month = (today().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    report = env("report", "monthly", last_month, DATABASE_URL=db_url)
    assert report.exit_code == 0, report.output
    body = json.loads(report.output)
    t = body["totals"]
    assert t["calls"] > 10 and t["resolved"] > 5 and t["rated"] > 5
    assert t["resolve_on_time_rate"] is not None and t["satisfaction_rate"] is not None
    assert any(r["score"] is not None for r in body["by_unit"])
    assert all(r["name"] and r["name"] != r["district"] for r in body["by_district"])
    year = (today() - timedelta(days=40)).year  # the middle of the story
    deputies = json.loads(env("report", "deputies", str(year), DATABASE_URL=db_url).output)
    assert deputies["items"] and deputies["silent_deputies"]
