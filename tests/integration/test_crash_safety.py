"""Crash safety: SIGKILL the real server during concurrent ingestion, restart, verify.

Every ticket acknowledged (201/200) before the kill exists whole after the restart (its
clocks and events present); every request left unanswered succeeds when retried (201 or
200) and no hotline number is stored twice.

Engine: HOTLINE_TEST_DATABASE_URL. On PostgreSQL the test creates and drops a throwaway
database of its own on that server (never the database the fixtures truncate).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import throwaway_database

ADMIN_KEY = "crash-admin-key-0123456789abcdef"
WORKERS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`hotline serve` in a subprocess of this test (stopped by its own pid only)."""

    def __init__(self, url: str, log: Path) -> None:
        self.url, self.log = url, log
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.url,
            "HOTLINE_ADMIN_KEY": ADMIN_KEY,
            "HOTLINE_SCHEDULER": "off",
            "HOTLINE_WEBHOOKS": "off",
        }
        hotline = Path(sys.executable).parent / "hotline"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [str(hotline), "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(self.base + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("server did not start: " + self.log.read_text()[-3000:])

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def setup_city(client: httpx.Client) -> str:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for code, kind in (
        ("water-bureau", "department"),
        ("heshan-gov", "district_government"),
        ("urban-env-committee", "special_committee"),
    ):
        r = client.put(f"/api/v1/units/{code}", headers=admin, json={"name": code, "kind": kind})
        assert r.status_code == 201, r.text  # created: the database is new
    r = client.put(
        "/api/v1/categories/water",
        headers=admin,
        json={"name": "water", "default_lead_unit": "water-bureau", "committee_unit": "urban-env-committee"},
    )
    assert r.status_code == 201, r.text
    r = client.post(
        "/api/v1/deputies", headers=admin, json={"name": "张三", "phone": "13800000001", "level": "city"}
    )
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/keys", headers=admin, json={"role": "hotline", "label": "crash"})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def body(n: int) -> dict[str, Any]:
    return {
        "hotline_no": f"CRASH-{n:06d}",
        "deputy_call": True,
        "called_at": "2025-09-30T09:12:00+08:00",
        "dispatched_at": "2025-09-30T10:00:00+08:00",
        "caller": {"name": "张三", "phone": "13800000001"},
        "category": "water",
        "content": f"停水 {n}",
        "district": "heshan",
        "units": ["water-bureau", "heshan-gov"],
        "lead_unit": "water-bureau",
    }


@pytest.mark.serial
def test_sigkill_during_ingestion_loses_nothing_acknowledged(tmp_path: Path) -> None:
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_crash") as url:
        server = Server(url, tmp_path / "server.log")
        try:
            run_crash_scenario(server)
        finally:
            server.stop()


def run_crash_scenario(server: Server) -> None:
    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as c:
        key = setup_city(c)
    auth = {"Authorization": f"Bearer {key}"}

    acked: dict[str, int] = {}
    unacked: set[str] = set()
    lock = threading.Lock()
    counter = iter(range(1, 100_000))
    stop = threading.Event()

    def worker() -> None:
        with httpx.Client(base_url=server.base, timeout=10) as client:
            while not stop.is_set():
                with lock:
                    n = next(counter)
                b = body(n)
                try:
                    r = client.post("/api/v1/tickets", json=b, headers=auth)
                except httpx.HTTPError as exc:
                    with lock:
                        unacked.add(b["hotline_no"])
                        failures.append(f"{type(exc).__name__} killed={stop.is_set()}")
                    if server.proc is not None and server.proc.poll() is not None:
                        return
                    continue
                with lock:
                    if r.status_code in (200, 201):
                        acked[b["hotline_no"]] = r.status_code
                    else:
                        unacked.add(b["hotline_no"])
                        errors.append(f"{b['hotline_no']}: {r.status_code} {r.text[:200]}")

    errors: list[str] = []
    failures: list[str] = []
    threads = [threading.Thread(target=worker, daemon=True) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 60 and time.monotonic() < deadline:
        time.sleep(0.02)
    server.kill()  # mid-load: requests are in flight on 8 connections
    stop.set()
    for t in threads:
        t.join(15)
    assert not errors, errors[:5]
    assert len(acked) >= 20, f"too little load before the kill: {len(acked)} acknowledged"

    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as c:
        for no in sorted(acked):
            r = c.get(f"/api/v1/tickets/by-hotline-no/{no}", headers=auth)
            assert r.status_code == 200, (no, r.status_code, r.text)
            t = r.json()
            kinds = {(k["kind"], k["unit"]) for k in t["clocks"]}
            assert {
                ("contact", "water-bureau"),
                ("resolve", "water-bureau"),
                ("opinion", "heshan-gov"),
            } <= kinds, (no, t["clocks"])
            assert [a["unit"] for a in t["assignments"]] == ["water-bureau", "heshan-gov"]
            ev = c.get(f"/api/v1/tickets/{t['id']}/events", headers=auth)
            assert ev.status_code == 200 and ev.json()["items"], (no, ev.text)
        for no in sorted(unacked):
            n = int(no.split("-")[1])
            r = c.post("/api/v1/tickets", json=body(n), headers=auth)
            assert r.status_code in (200, 201), (no, r.status_code, r.text)
        for no in sorted(acked)[:10]:  # a replay of an acknowledged one is idempotent
            r = c.post("/api/v1/tickets", json=body(int(no.split("-")[1])), headers=auth)
            assert r.status_code == 200, (no, r.status_code, r.text)
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 500, **({"cursor": cursor} if cursor else {})}
            page = c.get("/api/v1/tickets", params=params, headers=auth).json()
            seen += [t["hotline_no"] for t in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
    assert len(seen) == len(set(seen)), "a hotline number is stored twice"
    assert set(seen) == set(acked) | unacked, (len(seen), len(acked), len(unacked))
    served_log = server.log.read_text(encoding="utf-8", errors="replace")
    assert "hotline.access" in served_log and "13800000001" not in served_log
    print(f"crash: transport errors {failures}")
    print(
        f"crash: {len(acked)} acknowledged, {len(unacked)} unanswered and retried, "
        f"{len(seen)} tickets after restart"
    )
