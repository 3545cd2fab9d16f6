"""Upgrading a running deployment: migrations first, then code (README "Upgrading").

That order holds only if each migration leaves the schema usable by the release before it.
Two checks: every migration's SQL is read for steps the previous code cannot live with
(unless the migration is listed below with the reason it is acceptable), and the code of
the release before the newest additive migration really serves on the schema it produced.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import httpx
import pytest
from alembic import command
from alembic.script import ScriptDirectory

from app.migrate import alembic_config, upgrade
from tests.integration.test_crash_safety import ADMIN_KEY, Server, body, free_port, setup_city
from tests.support import throwaway_database

ROOT = Path(__file__).resolve().parents[2]

# Migrations that are not additive, each with why it was acceptable. A new entry here means
# the upgrade stops every replica first (README "Upgrading": the exception).
NOT_ADDITIVE = {
    "0002": "a unique constraint the code before it already kept: a round is rated once, "
    "under the ticket's row lock, by the status machine",
    "0005": "category NOT NULL on clocks, resolutions and ratings: the code before it does not "
    "write those columns, so that upgrade stopped every replica first",
}
# Statements the previous release's code may fail on: it reads or writes what they remove,
# rename or retype, or does not fill what they make compulsory.
BREAKING = [
    (re.compile(r"\bDROP TABLE\b", re.I), "drops a table"),
    (re.compile(r"\bDROP COLUMN\b", re.I), "drops a column"),
    (re.compile(r"\bRENAME\b", re.I), "renames"),
    (re.compile(r"\bALTER COLUMN \S+ (SET DATA )?TYPE\b", re.I), "changes a column's type"),
    (re.compile(r"\bSET NOT NULL\b", re.I), "makes a column compulsory"),
    (
        re.compile(r"\bADD COLUMN (?:(?!DEFAULT)[^;])*\bNOT NULL\b(?:(?!DEFAULT)[^;])*;", re.I),
        "adds a compulsory column without a default",
    ),
    (
        re.compile(r"\bCREATE UNIQUE INDEX\b|\bADD CONSTRAINT \S+ (UNIQUE|CHECK)\b", re.I),
        "adds a uniqueness or check constraint",
    ),
]


def migrations() -> list[tuple[str, str | None, Path]]:
    """(revision, down_revision, file) from the oldest to the newest."""
    scripts = ScriptDirectory.from_config(alembic_config("sqlite://"))
    steps = [(s.revision, s.down_revision, Path(s.path)) for s in scripts.walk_revisions()]
    return list(reversed(steps))  # type: ignore[arg-type]


def upgrade_sql(revision: str, down: str) -> str:
    """The PostgreSQL statements of one migration, as `alembic upgrade --sql` writes them."""
    cfg = alembic_config("postgresql+psycopg://offline@localhost/offline")
    cfg.output_buffer = io.StringIO()
    command.upgrade(cfg, f"{down}:{revision}", sql=True)
    return str(cfg.output_buffer.getvalue())


def test_every_migration_is_additive_or_says_why_not():
    found = {}
    for revision, down, _ in migrations():
        if down is None:
            continue  # the first builds the schema from nothing
        sql = upgrade_sql(revision, str(down))
        found[revision] = [why for pattern, why in BREAKING if pattern.search(sql)]
    unexplained = {rev: whys for rev, whys in found.items() if whys and rev not in NOT_ADDITIVE}
    assert not unexplained, (
        f"{unexplained}: the running release may fail on these; split the migration (add now, "
        "constrain or drop in the release after) or list it in NOT_ADDITIVE with the reason"
    )
    stale = [rev for rev in NOT_ADDITIVE if rev in found and not found[rev]]
    assert not stale, f"{stale} are listed as not additive but read as additive"


def test_the_breaking_patterns_catch_what_they_name():
    assert any(p.search("ALTER TABLE t ADD COLUMN c INTEGER NOT NULL;") for p, _ in BREAKING)
    assert not any(p.search("ALTER TABLE t ADD COLUMN c BIGINT DEFAULT '0' NOT NULL;") for p, _ in BREAKING)
    assert not any(
        p.search("CREATE INDEX ix ON t (a);\nALTER TABLE t ADD COLUMN c TEXT;") for p, _ in BREAKING
    )
    for statement in (
        "ALTER TABLE t DROP COLUMN c;",
        "ALTER TABLE t RENAME TO u;",
        "ALTER TABLE t ALTER COLUMN c TYPE TEXT;",
        "DROP TABLE t;",
        "CREATE UNIQUE INDEX u ON t (a);",
    ):
        assert any(p.search(statement) for p, _ in BREAKING), statement


def previous_release(into: Path) -> tuple[str, Path]:
    """The newest additive migration, and the code of the release before it, unpacked."""
    candidates = [
        (rev, path) for rev, down, path in migrations() if down is not None and rev not in NOT_ADDITIVE
    ]
    if not candidates:
        pytest.skip("no additive migration yet")
    revision, path = candidates[-1]
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("needs the repository's history (git)")
    added = subprocess.run(
        [git, "log", "--diff-filter=A", "--format=%H", "-1", "--", str(path.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    ).stdout.strip()
    before = f"{added}^" if added else "HEAD"  # not committed yet: HEAD is the running code
    archive = subprocess.run(
        [git, "archive", "--format=tar", before, "app", "migrations"],
        cwd=ROOT,
        capture_output=True,
        check=False,
        timeout=60,
    )
    if archive.returncode != 0:
        pytest.skip(f"the history does not reach {before} (a shallow clone?)")
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return revision, into


def start_old_code(code: Path, url: str, log: Path) -> Server:
    """The previous release's app (not its `serve`, which would migrate) on `url`."""
    server = Server(url, log)
    server.port = free_port()
    program = (
        f"import sys; sys.path.insert(0, {str(code)!r}); import app; "
        f"assert app.__file__.startswith({str(code)!r}), app.__file__; import uvicorn; "
        f"uvicorn.run('app.main:app_factory', factory=True, host='127.0.0.1', "
        f"port={server.port}, log_config=None)"
    )
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HOTLINE_ADMIN_KEY": ADMIN_KEY,
        "HOTLINE_SCHEDULER": "off",
        "HOTLINE_WEBHOOKS": "off",
        "PYTHONPATH": str(code),
    }
    with log.open("ab") as out:
        server.proc = subprocess.Popen(
            [sys.executable, "-c", program], cwd=code, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(server.base + "/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("the previous release did not start: " + log.read_text()[-3000:])


def test_the_release_before_the_newest_additive_migration_serves_on_its_schema(tmp_path):
    revision, code = previous_release(tmp_path / "previous")
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_up") as url:
        command.upgrade(alembic_config(url), revision)  # step 1 of an upgrade: migrate
        old = start_old_code(code, url, tmp_path / "old.log")  # still serving, unchanged
        try:
            with httpx.Client(base_url=old.base, timeout=30) as client:
                hotline_key = setup_city(client)
                r = client.post(
                    "/api/v1/keys",
                    headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                    json={"role": "unit", "unit_code": "water-bureau", "label": "u"},
                )
                assert r.status_code == 201, r.text
                unit = {"Authorization": f"Bearer {r.json()['key']}"}
                hotline = {"Authorization": f"Bearer {hotline_key}"}
                r = client.post(
                    "/api/v1/keys",
                    headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                    json={"role": "liaison", "label": "l"},
                )
                assert r.status_code == 201, r.text
                liaison = {"Authorization": f"Bearer {r.json()['key']}"}
                ids = []
                for n in range(5):
                    r = client.post("/api/v1/tickets", json=body(n), headers=hotline)
                    assert r.status_code == 201, r.text
                    ids.append(r.json()["id"])
                r = client.post(
                    f"/api/v1/tickets/{ids[0]}/contact",
                    headers=unit,
                    json={"method": "phone", "deputy_invited": False},
                )
                assert r.status_code == 200, r.text
                r = client.post(
                    f"/api/v1/tickets/{ids[0]}/resolve",
                    headers=unit,
                    json={"outcome": "solved", "reply": "已修复"},
                )
                assert r.status_code == 200, r.text
                for path, who in (
                    ("/api/v1/units/water-bureau/queue", unit),
                    (f"/api/v1/tickets/{ids[0]}/events", hotline),
                    ("/api/v1/reports/monthly?month=2025-09", liaison),
                ):
                    r = client.get(path, headers=who)
                    assert r.status_code == 200, (path, r.status_code, r.text)
        finally:
            old.stop()
        assert "unhandled error" not in (tmp_path / "old.log").read_text()

        upgrade(url)  # step 2: the new code, whose `serve` applies the rest
        new = Server(url, tmp_path / "new.log")
        try:
            new.start()
            with httpx.Client(base_url=new.base, timeout=30) as client:
                for n in range(5):
                    r = client.get(f"/api/v1/tickets/by-hotline-no/{body(n)['hotline_no']}", headers=hotline)
                    assert r.status_code == 200, r.text
                    assert {c["kind"] for c in r.json()["clocks"]} >= {"contact", "resolve"}
        finally:
            new.stop()
