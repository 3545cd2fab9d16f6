"""Two `hotline serve` replicas on one PostgreSQL database, both sweeping and delivering.

Under concurrent intake sent to both: one ticket per hotline number, each breach recorded
once, each supervision case once, and every webhook delivered once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.integration.test_crash_safety import ADMIN_KEY, Server, body
from tests.support import throwaway_database

pytestmark = pytest.mark.skipif(
    not os.environ.get("HOTLINE_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="replicas share a PostgreSQL database",
)
TICKETS = 40


class Receiver:
    """A local webhook endpoint that records every delivery id it is sent."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.types: Counter[str] = Counter()
        received = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                payload = self.rfile.read(int(self.headers["content-length"]))
                received.ids.append(self.headers["webhook-id"])
                received.types[json.loads(payload)["type"]] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def start_replica(url: str, log: Path) -> Server:
    """A replica with the scheduler (sweep every second) and webhook delivery on."""
    server = Server(url, log)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HOTLINE_ADMIN_KEY": ADMIN_KEY,
        "HOTLINE_SCHEDULER": "on",
        "HOTLINE_WEBHOOKS": "on",
        "HOTLINE_SWEEP_INTERVAL_SECONDS": "1",
    }
    with log.open("ab") as out:
        server.proc = subprocess.Popen(
            [str(Path(sys.executable).parent / "hotline"), "serve", "--port", str(server.port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.proc.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(server.base + "/readyz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("replica did not start: " + log.read_text()[-3000:])


@pytest.mark.serial
def test_two_replicas_record_everything_once(tmp_path: Path) -> None:
    receiver = Receiver()
    with throwaway_database(os.environ.get("HOTLINE_TEST_DATABASE_URL"), "hotline_rep") as url:
        from app.migrate import upgrade

        upgrade(url)  # before both start, so they do not race to migrate
        a = start_replica(url, tmp_path / "a.log")
        b = start_replica(url, tmp_path / "b.log")
        try:
            admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
            with httpx.Client(base_url=a.base, timeout=30) as client:
                for code, kind in (
                    ("water-bureau", "department"),
                    ("heshan-gov", "district_government"),
                    ("urban-env-committee", "special_committee"),
                    ("heshan-congress", "district_congress"),
                ):
                    r = client.put(
                        f"/api/v1/units/{code}",
                        headers=admin,
                        json={
                            "name": code,
                            "kind": kind,
                            "district": "heshan" if code == "heshan-congress" else None,
                            "webhook_url": receiver.url,
                            "webhook_secret": "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQ=",
                        },
                    )
                    assert r.status_code == 201, r.text  # created: the database is new
                r = client.put(
                    "/api/v1/categories/water",
                    headers=admin,
                    json={
                        "name": "water",
                        "default_lead_unit": "water-bureau",
                        "committee_unit": "urban-env-committee",
                    },
                )
                assert r.status_code == 201, r.text
                key = client.post(
                    "/api/v1/keys", headers=admin, json={"role": "hotline", "label": "replicas"}
                ).json()["key"]

            # Every ticket is posted to both replicas at once; all are long past due.
            def post(args: tuple[str, int]) -> int:
                base, n = args
                r = httpx.post(
                    base + "/api/v1/tickets",
                    json=body(n),
                    timeout=60,
                    headers={"Authorization": f"Bearer {key}"},
                )
                return r.status_code

            jobs = [(base, n) for n in range(TICKETS) for base in (a.base, b.base)]
            with ThreadPoolExecutor(8) as pool:
                statuses = Counter(pool.map(post, jobs))
            assert statuses == Counter({201: TICKETS, 200: TICKETS}), statuses

            engine = create_engine(url)
            expected_breaches = TICKETS * 3  # contact, resolve, one opinion clock each
            deadline = time.monotonic() + 90
            with engine.connect() as conn:
                while time.monotonic() < deadline:
                    breached = conn.execute(
                        text("SELECT count(*) FROM events WHERE type = 'clock.breached'")
                    ).scalar()
                    joint = conn.execute(
                        text("SELECT count(*) FROM supervisions WHERE kind = 'joint'")
                    ).scalar()
                    pending = conn.execute(
                        text("SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'")
                    ).scalar()
                    if breached >= expected_breaches and joint >= TICKETS and pending == 0:
                        break
                    conn.commit()
                    time.sleep(1)
                tickets = conn.execute(text("SELECT count(*), count(DISTINCT hotline_no) FROM tickets")).one()
                per_clock = conn.execute(
                    text(
                        "SELECT data->>'clock_id', count(*) FROM events "
                        "WHERE type = 'clock.breached' GROUP BY 1 HAVING count(*) > 1"
                    )
                ).all()
                breached = conn.execute(
                    text("SELECT count(*) FROM events WHERE type = 'clock.breached'")
                ).scalar()
                joint = conn.execute(text("SELECT count(*) FROM supervisions WHERE kind = 'joint'")).scalar()
                deliveries = conn.execute(
                    text(
                        "SELECT count(*), count(*) FILTER (WHERE state = 'delivered') FROM webhook_deliveries"
                    )
                ).one()
            engine.dispose()
        finally:
            a.stop()
            b.stop()
            receiver.server.shutdown()
            receiver.server.server_close()

    assert tickets == (TICKETS, TICKETS)
    assert per_clock == [], f"breaches recorded twice: {per_clock}"
    assert breached == expected_breaches
    assert joint == TICKETS  # 久拖不决, once per ticket round
    total, delivered = deliveries
    assert total > 0 and delivered == total
    duplicates = [i for i, c in Counter(receiver.ids).items() if c > 1]
    assert duplicates == [] and len(receiver.ids) == total
    assert receiver.types["clock.breached"] == expected_breaches
