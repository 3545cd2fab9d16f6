"""`hotline backup` while a real server takes tickets, `hotline restore` into a new database.

Every ticket whose intake and contact were acknowledged before the backup began comes back
whole (the same ticket, clocks and events); any ticket taken while the backup ran comes
back as a consistent earlier state of itself (its events a prefix of the original's) or
not at all. Engine: HOTLINE_TEST_DATABASE_URL (SQLite without it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.config import get_settings
from tests.integration.test_crash_safety import ADMIN_KEY, Server, body, setup_city
from tests.support import throwaway_database

SERVER_URL = os.environ.get("HOTLINE_TEST_DATABASE_URL")
ON_POSTGRES = bool(SERVER_URL and SERVER_URL.startswith("postgresql"))
WRITERS = 4


def hotline(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    """The installed `hotline` command, as an operator runs it."""
    return subprocess.run(
        [str(Path(sys.executable).parent / "hotline"), *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


class Load:
    """Writers that take a ticket, then record the lead unit's contact, again and again."""

    def __init__(self, base: str, hotline_key: str, unit_key: str) -> None:
        self.base, self.hotline_key, self.unit_key = base, hotline_key, unit_key
        self.lock = threading.Lock()
        self.ids: dict[str, str] = {}  # hotline_no -> ticket id, once intake was acknowledged
        self.done: dict[str, float] = {}  # hotline_no -> when its contact was acknowledged
        self.acks: list[float] = []
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.numbers = iter(range(1, 1_000_000))
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(WRITERS)]

    def start(self) -> None:
        for t in self.threads:
            t.start()

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def _work(self) -> None:
        with httpx.Client(base_url=self.base, timeout=30) as client:
            while not self.stop.is_set():
                with self.lock:
                    n = next(self.numbers)
                b = body(n)
                r = client.post(
                    "/api/v1/tickets", json=b, headers={"Authorization": f"Bearer {self.hotline_key}"}
                )
                if r.status_code != 201:
                    self.errors.append(f"intake {r.status_code} {r.text[:200]}")
                    return
                with self.lock:
                    self.ids[b["hotline_no"]] = r.json()["id"]
                    self.acks.append(time.monotonic())
                c = client.post(
                    f"/api/v1/tickets/{r.json()['id']}/contact",
                    headers={"Authorization": f"Bearer {self.unit_key}"},
                    json={"method": "phone", "deputy_invited": True, "note": f"{n}"},
                )
                if c.status_code != 200:
                    self.errors.append(f"contact {c.status_code} {c.text[:200]}")
                    return
                now = time.monotonic()
                with self.lock:
                    self.done[b["hotline_no"]] = now
                    self.acks.append(now)

    def wait_for(self, count: int, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while len(self.done) < count:
            assert not self.errors, self.errors[:3]
            assert time.monotonic() < deadline, f"only {len(self.done)} tickets in {seconds} s"
            time.sleep(0.05)


def snapshot(base: str, key: str, ids: dict[str, str]) -> dict[str, Any]:
    """Each ticket and its event log as the API shows them (None where it is unknown)."""
    auth = {"Authorization": f"Bearer {key}"}
    seen: dict[str, Any] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for no, ticket_id in ids.items():
            t = client.get(f"/api/v1/tickets/{ticket_id}", headers=auth)
            if t.status_code == 404:
                seen[no] = None
                continue
            assert t.status_code == 200, t.text
            events = client.get(f"/api/v1/tickets/{ticket_id}/events", headers=auth)
            assert events.status_code == 200, events.text
            seen[no] = {"ticket": t.json(), "events": events.json()["items"]}
    return seen


@pytest.mark.serial
def test_a_backup_taken_under_write_load_restores_every_acknowledged_ticket(tmp_path: Path):
    dump = tmp_path / "backups" / "hotline.backup"
    with (
        throwaway_database(SERVER_URL, "hotline_bk") as url,
        throwaway_database(SERVER_URL, "hotline_rs") as restored_url,
    ):
        server = Server(url, tmp_path / "server.log")
        try:
            server.start()
            with httpx.Client(base_url=server.base, timeout=30) as client:
                hotline_key = setup_city(client)
                r = client.post(
                    "/api/v1/keys",
                    headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                    json={"role": "unit", "unit_code": "water-bureau", "label": "bk"},
                )
                assert r.status_code == 201, r.text
                unit_key = r.json()["key"]
            load = Load(server.base, hotline_key, unit_key)
            load.start()
            try:
                load.wait_for(40)
                began = time.monotonic()
                taken = hotline("backup", str(dump), url=url)
                ended = time.monotonic()
                load.wait_for(len(load.done) + 10)  # writes went on after it, too
            finally:
                load.finish()
            assert taken.returncode == 0, taken.stderr
            assert "wrote" in taken.stdout, taken.stdout
            assert not load.errors, load.errors[:3]
            during = [t for t in load.acks if began <= t <= ended]
            assert during, "no write was acknowledged while the backup ran"
            before = {no for no, at in load.done.items() if at < began}
            original = snapshot(server.base, hotline_key, load.ids)
        finally:
            server.stop()

        restored = hotline("restore", str(dump), url=restored_url)
        assert restored.returncode == 0, restored.stderr
        again = Server(restored_url, tmp_path / "restored.log")
        try:
            again.start()
            back = snapshot(again.base, hotline_key, load.ids)  # the keys came back too
        finally:
            again.stop()

    assert len(before) >= 40
    for no in sorted(before):
        assert back[no] == original[no], no
    for no in sorted(set(load.ids) - before):
        if back[no] is None:
            continue  # taken after the backup's snapshot
        events, full = back[no]["events"], original[no]["events"]
        assert events and events == full[: len(events)], no
        assert {(c["kind"], c["unit"], c["due_at"]) for c in back[no]["ticket"]["clocks"]} == {
            (c["kind"], c["unit"], c["due_at"]) for c in original[no]["ticket"]["clocks"]
        }, no
    assert sum(1 for v in back.values() if v is not None) >= len(before)


@pytest.fixture
def run(monkeypatch):
    def invoke(*args: str, url: str):
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        return CliRunner().invoke(cli, list(args))

    yield invoke
    get_settings.cache_clear()


def test_restore_refuses_a_database_that_already_has_tables(run, tmp_path):
    with throwaway_database(SERVER_URL, "hotline_bk") as url:
        assert run("migrate", url=url).exit_code == 0
        taken = run("backup", str(tmp_path / "b"), url=url)
        assert taken.exit_code == 0, taken.output
        refused = run("restore", str(tmp_path / "b"), url=url)
    assert refused.exit_code == 1
    assert "already has" in refused.output and "new, empty database" in refused.output
    assert len(refused.output.strip().splitlines()) == 1


def test_restore_refuses_a_file_that_is_no_backup_and_a_backup_of_the_other_engine(run, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("not a backup", encoding="utf-8")
    other = tmp_path / "other"
    other.write_bytes(b"SQLite format 3\x00" if ON_POSTGRES else b"PGDMP\x01\x0e\x00")
    with throwaway_database(SERVER_URL, "hotline_rs") as url:
        not_backup = run("restore", str(junk), url=url)
        wrong_kind = run("restore", str(other), url=url)
        missing = run("restore", str(tmp_path / "absent"), url=url)
    assert not_backup.exit_code == 1 and "neither a SQLite database nor" in not_backup.output
    assert wrong_kind.exit_code == 1 and "of its own kind" in wrong_kind.output
    assert missing.exit_code == 1 and "cannot read" in missing.output


@pytest.mark.skipif(not ON_POSTGRES, reason="pg_dump and pg_restore are PostgreSQL's tools")
def test_pg_tools_missing_or_older_than_the_server_get_one_line_errors(run, tmp_path, monkeypatch):
    with throwaway_database(SERVER_URL, "hotline_bk") as url:
        assert run("migrate", url=url).exit_code == 0
        monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump anywhere
        missing = run("backup", str(tmp_path / "b"), url=url)
        old = tmp_path / "pg_dump"
        old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n", encoding="utf-8")
        old.chmod(0o755)
        too_old = run("backup", str(tmp_path / "b"), url=url)
    assert missing.exit_code == 1 and "pg_dump is not installed" in missing.output
    assert len(missing.output.strip().splitlines()) == 1
    assert too_old.exit_code == 1, too_old.output
    assert "pg_dump is version 9 but the server is PostgreSQL" in too_old.output
    assert not (tmp_path / "b").exists() and not (tmp_path / "b.partial").exists()
