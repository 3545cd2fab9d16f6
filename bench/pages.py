"""Benchmark: the liaison committee's dashboard and a unit's queue page, from a running
server, beside the JSON queue endpoint on the same data in the same run.

Fills a database with a year of tickets up to now (bench/report.py's generator: clocks,
resolutions, ratings, cases, extensions), gives every open clock its queue row, and
creates two people (a liaison officer, the clerk of the busiest unit) and the unit's API
key. Then, from ``hotline serve``, one request at a time over one kept-alive connection,
in rounds (dashboard, queue page, JSON queue) so that all three see the same machine:

- ``GET /ui/dashboard`` (signed in as the liaison officer; the first request, which
  computes the year of trends, is reported apart);
- ``GET /ui/queue`` (signed in as the clerk: the first 50 items, nearest due first);
- baseline: ``GET /api/v1/units/{code}/queue`` with the unit's key (the same 50 items).

Targets (issue #16): dashboard ≤ 300 ms; queue page ≤ 1.5 × the JSON queue; no page over
150 KB before compression. Prints a table and one JSON line (bench/out/pages-<db>.json).

    .venv/bin/python bench/pages.py --db postgres --tickets 1000000 --reuse
"""

from __future__ import annotations

import os
import sys

# bench/ holds a calendar.py and a queue.py that would shadow the standard library's.
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402
from sqlalchemy import create_engine, func, insert, literal, select, text, true  # noqa: E402

from bench import _common as c  # noqa: E402

OUT = Path(_ROOT) / "bench" / "out"
PASSWORD = "Bench-password-2025"
KEY = "bench-unit-key-0123456789abcdef"


def database(db: str, tickets: int, seed: int, reuse: bool) -> tuple[str, float | None]:
    """A filled database: with --reuse the one an identical earlier run left."""
    from app.migrate import upgrade

    params = {"tickets": tickets, "seed": seed}
    stamp = OUT / f"pages-{db}.params"
    OUT.mkdir(parents=True, exist_ok=True)
    if db == "sqlite":
        path = OUT / "bench-pages.db"
        url = f"sqlite:///{path}"
    else:
        url = f"{c.PG_SERVER}/hotline_bench_pages"
    if reuse and stamp.exists() and json.loads(stamp.read_text()) == params:
        upgrade(url)  # a database kept from an older schema gets the newer migrations
        return url, None
    stamp.unlink(missing_ok=True)
    if db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(OUT / "bench-pages.db") + suffix).unlink(missing_ok=True)
    else:
        admin = create_engine(f"{c.PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS hotline_bench_pages WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE hotline_bench_pages"))
        admin.dispose()
    upgrade(url)
    t0 = time.perf_counter()
    fill(url, tickets, seed)
    stamp.write_text(json.dumps(params))
    return url, time.perf_counter() - t0


def fill(url: str, tickets: int, seed: int) -> None:
    from bench.report import generate

    engine = create_engine(url)
    now = datetime.now(UTC)
    generate(engine, tickets, seed, unresolved=0.02, late=0.08, first=now - timedelta(days=365), now=now)
    from app.models import Clock, QueueItem

    with engine.begin() as conn:
        # Every open clock's work in its unit's queue, as the service keeps it.
        due = func.min(Clock.due_at)
        conn.execute(
            insert(QueueItem).from_select(
                [
                    "unit_code",
                    "ticket_id",
                    "role",
                    "active",
                    "next_action",
                    "next_due_at",
                    "sort_key",
                    "updated_at",
                ],
                select(
                    Clock.unit_code,
                    Clock.ticket_id,
                    literal("lead"),
                    true(),
                    literal("resolve"),
                    due,
                    due,
                    literal(now),
                )
                .where(Clock.met_at.is_(None), Clock.cancelled_at.is_(None))
                .group_by(Clock.unit_code, Clock.ticket_id),
            )
        )
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()


def people(url: str) -> str:
    """The liaison officer, the busiest unit's clerk and its key; returns the unit."""
    from app.auth import hash_key
    from app.config import Settings
    from app.db import Transaction, make_database
    from app.models import Account, ApiKey, QueueItem
    from app.services.passwords import hash_password

    db = make_database(Settings(), url)
    now = datetime.now(UTC)
    hashed = hash_password(PASSWORD)
    with Transaction(db.write_session) as session:
        unit = session.execute(
            select(QueueItem.unit_code)
            .where(QueueItem.active.is_(True))
            .group_by(QueueItem.unit_code)
            .order_by(func.count().desc())
            .limit(1)
        ).scalar_one()
        for username, role, unit_code in (("bench.liaison", "liaison", None), ("bench.clerk", "unit", unit)):
            account = session.scalar(select(Account).where(Account.username == username))
            if account is None:
                session.add(
                    Account(
                        username=username,
                        display_name=username,
                        role=role,
                        unit_code=unit_code,
                        created_by="bench",
                        created_at=now,
                        updated_at=now,
                    )
                )
                session.flush()
                account = session.scalar(select(Account).where(Account.username == username))
            assert account is not None
            account.unit_code, account.password_hash = unit_code, hashed
            account.password_set_at, account.disabled_at = now, None
        if session.scalar(select(ApiKey.id).where(ApiKey.key_hash == hash_key(KEY))) is None:
            session.add(
                ApiKey(
                    prefix="bench",
                    key_hash=hash_key(KEY),
                    role="unit",
                    unit_code=unit,
                    label="bench",
                    created_at=now,
                )
            )
        else:
            session.execute(
                ApiKey.__table__.update().where(ApiKey.key_hash == hash_key(KEY)).values(unit_code=unit)
            )
    db.dispose()
    return str(unit)


def cookie_of(base: str, username: str) -> str:
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/ui/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token, page.text[:500]
        r = client.post(
            "/ui/sign-in", data={"csrf_token": token.group(1), "username": username, "password": PASSWORD}
        )
        assert r.status_code == 303, r.text[:500]
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


async def rounds(
    port: int, targets: dict[str, tuple[str, dict[str, str]]], n: int
) -> tuple[dict[str, list[float]], dict[str, int], float]:
    """`n` rounds over one kept-alive connection; per target the latencies (ms) and the
    size of its body; and the first dashboard request's time (ms)."""
    conn = c.LeanConnection("127.0.0.1", port)
    times: dict[str, list[float]] = {name: [] for name in targets}
    sizes: dict[str, int] = {}
    try:
        t0 = time.perf_counter()
        status, _ = await conn.get(*targets["dashboard"])
        cold = (time.perf_counter() - t0) * 1000
        assert status == 200, status
        for name, (path, headers) in targets.items():  # warm-up
            for _ in range(3):
                status, body = await conn.get(path, headers)
                assert status == 200, (name, status, body[:300])
        for _ in range(n):
            for name, (path, headers) in targets.items():
                t0 = time.perf_counter()
                status, body = await conn.get(path, headers)
                times[name].append((time.perf_counter() - t0) * 1000)
                assert status == 200, (name, status)
                sizes[name] = len(body)
    finally:
        await conn.close()
    return times, sizes, cold


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--reuse", action="store_true", help="keep the filled database for the next run with the same size"
    )
    args = ap.parse_args()

    url, fill_s = database(args.db, args.tickets, args.seed, args.reuse)
    unit = people(url)
    port = c.free_port()
    server = c.hotline_server(url, port, "pages")
    try:
        base = f"http://127.0.0.1:{port}"
        liaison, clerk = cookie_of(base, "bench.liaison"), cookie_of(base, "bench.clerk")
        targets = {
            "dashboard": ("/ui/dashboard", {"Cookie": liaison}),
            "queue_page": ("/ui/queue", {"Cookie": clerk}),
            "queue_json": (f"/api/v1/units/{unit}/queue?limit=50", {"Authorization": f"Bearer {KEY}"}),
        }
        times, sizes, cold = asyncio.run(rounds(port, targets, args.rounds))
    finally:
        c.stop(server)

    stats: dict[str, dict[str, Any]] = {
        name: {
            "p50_ms": round(c.percentile(v, 50), 2),
            "p99_ms": round(c.percentile(v, 99), 2),
            "bytes": sizes[name],
        }
        for name, v in times.items()
    }
    ratio = stats["queue_page"]["p50_ms"] / stats["queue_json"]["p50_ms"]
    made = f"filled in {fill_s:.0f} s" if fill_s is not None else "database reused"
    print(
        f"\npages, {args.db}, {args.tickets:,} tickets ({made}); {args.rounds} rounds over "
        f"one kept-alive connection; unit {unit}"
    )
    print(
        c.table(
            ["what", "p50 ms", "p99 ms", "bytes"],
            [[name, s["p50_ms"], s["p99_ms"], s["bytes"]] for name, s in stats.items()],
        )
    )
    print(f"dashboard, first request (computes the year of trends): {cold:.0f} ms")
    print(
        f"queue page / JSON queue (p50): {ratio:.2f}  (target <= 1.5); dashboard p50 "
        f"{stats['dashboard']['p50_ms']} ms (target <= 300); largest page "
        f"{max(sizes['dashboard'], sizes['queue_page']):,} bytes (target <= 150,000)"
    )
    c.emit(
        "pages",
        args.db,
        {"tickets": args.tickets, "rounds": args.rounds, "seed": args.seed},
        {
            "dashboard": stats["dashboard"],
            "queue_page": stats["queue_page"],
            "dashboard_first_ms": round(cold, 1),
        },
        stats["queue_json"],
        ratio,
    )


if __name__ == "__main__":
    main()
