"""Queue polling under load: 50 concurrent pollers against the real server.

Fills a fresh database with N tickets over 200 units (most closed; busy units carry a few
thousand open items), then polls unit queues for --seconds with --clients concurrent
clients and reports p50/p99 latency and requests/s, for full pages and for 304s.
Baselines, in the same run: a bare FastAPI endpoint serving a same-sized JSON page, and a
bare FastAPI endpoint that runs the same page queries (the unit's tickets and invitations)
with SQLAlchemy Core and returns their rows as JSON: no auth, no ETag, no views.

    python bench/queue.py --db postgres --tickets 1000000
"""

from __future__ import annotations

import os
import sys

# Named like the standard library's `queue` (which asyncio and concurrent.futures import):
# keep this folder off sys.path and put the repository on it.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import httpx  # noqa: E402

from bench import _common as c  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
UNITS = 200


def fill(url: str, n: int, seed: int) -> dict[str, int]:
    """Bulk-insert units, tickets and the queue rows of the open ones."""
    from sqlalchemy import create_engine, insert

    from app.auth import hash_key
    from app.migrate import upgrade
    from app.models import ApiKey, Category, QueueItem, Ticket, Unit
    from app.models.base import new_id

    upgrade(url)
    rng = random.Random(seed)
    engine = create_engine(url)
    now = datetime.now(UTC)
    units = [f"unit-{i:03d}" for i in range(UNITS)]
    # A few busy units get most of the open work (Zipf-like spread).
    weights = [1.0 / (i + 1) ** 1.1 for i in range(UNITS)]
    open_share = 0.03
    open_counts: dict[str, int] = {}
    with engine.begin() as conn:
        conn.execute(
            insert(Unit),
            [
                {"code": u, "name": u, "kind": "department", "created_at": now, "updated_at": now}
                for u in units
            ],
        )
        conn.execute(
            insert(Category), [{"code": "water", "name": "water", "created_at": now, "updated_at": now}]
        )
        conn.execute(
            insert(ApiKey),
            [
                {
                    "id": new_id(),
                    "prefix": "bench",
                    "key_hash": hash_key(f"key-{u}"),
                    "role": "unit",
                    "unit_code": u,
                    "label": u,
                    "created_at": now,
                }
                for u in units
            ],
        )
    batch = 10_000
    for start in range(0, n, batch):
        tickets, items = [], []
        for i in range(start, min(n, start + batch)):
            unit = rng.choices(units, weights)[0]
            called = now - timedelta(days=rng.uniform(0, 365))
            is_open = rng.random() < open_share
            tid = new_id()
            tickets.append(
                {
                    "id": tid,
                    "hotline_no": f"B{i:08d}",
                    "request_hash": "x",
                    "status": "in_progress" if is_open else "closed",
                    "kind": "problem",
                    "category": "water",
                    "district": None,
                    "urgency": "normal",
                    "complex": False,
                    "content": "停水" * 20,
                    "called_at": called,
                    "dispatched_at": called,
                    "caller_name": "代表",
                    "caller_phone": "13800000000",
                    "deputy_id": None,
                    "deputy_verified": False,
                    "lead_unit": unit,
                    "round": 1,
                    "created_at": called,
                    "updated_at": called,
                }
            )
            if is_open:
                due = now + timedelta(hours=rng.uniform(-48, 240))
                open_counts[unit] = open_counts.get(unit, 0) + 1
                items.append(
                    {
                        "unit_code": unit,
                        "ticket_id": tid,
                        "role": "lead",
                        "active": True,
                        "next_action": "resolve",
                        "next_due_at": due,
                        "sort_key": due,
                        "updated_at": called,
                    }
                )
        with engine.begin() as conn:
            conn.execute(insert(Ticket), tickets)
            if items:
                conn.execute(insert(QueueItem), items)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return open_counts


BASELINE_APP = """
import os
from fastapi import FastAPI
from fastapi.responses import Response
page = open(os.environ["BENCH_PAGE"], "rb").read()
app = FastAPI()
@app.get("/page")
def serve_page():
    return Response(page, media_type="application/json")
"""


# The fair baseline: what the page's own queries cost behind a bare endpoint. The same
# statements as app/services/queue.py (the first page, without cursor or updated_since),
# written out here so that this baseline does not move when the service does.
QUERY_APP = """
import os

import orjson
from fastapi import FastAPI
from fastapi.responses import Response
from sqlalchemy import bindparam, create_engine, literal, select

from app.models import Invitation, QueueItem, Ticket

# A pooled connection for each of the framework's 40 threads: no request opens its own
# (on PostgreSQL a new backend per request would cost more than the page).
engine = create_engine(os.environ["DATABASE_URL"], pool_size=40, max_overflow=0)
tickets = (
    select(
        QueueItem.sort_key, Ticket.id, QueueItem.role, QueueItem.active, QueueItem.next_action,
        QueueItem.next_due_at, QueueItem.updated_at, Ticket.hotline_no, Ticket.status,
        Ticket.kind, Ticket.category, Ticket.district, Ticket.urgency, Ticket.round,
        Ticket.lead_unit, Ticket.called_at,
    )
    .join(Ticket, Ticket.id == QueueItem.ticket_id)
    .where(QueueItem.unit_code == bindparam("unit"), QueueItem.active.is_(True))
    .order_by(QueueItem.sort_key, QueueItem.ticket_id, QueueItem.role)
    .limit(bindparam("limit"))
)
invitations = (
    select(
        Invitation.sort_key, Invitation.id, literal("invited").label("role"),
        Invitation.queue_active.label("active"), Invitation.next_action, Invitation.next_due_at,
        Invitation.updated_at, Invitation.number, Invitation.subject, Invitation.status,
        Invitation.round, Invitation.station_code,
    )
    .where(
        Invitation.unit_code == bindparam("unit"),
        Invitation.number.is_not(None),
        Invitation.queue_active.is_(True),
    )
    .order_by(Invitation.sort_key, Invitation.id)
    .limit(bindparam("limit"))
)
app = FastAPI()


@app.get("/units/{code}/queue")
def page(code: str, limit: int = 50):
    params = {"unit": code, "limit": limit + 1}
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(tickets, params)]
        rows += [dict(r._mapping) for r in conn.execute(invitations, params)]
    rows.sort(key=lambda r: (r["sort_key"], r["id"], r["role"]))
    return Response(orjson.dumps({"items": rows[:limit]}), media_type="application/json")
"""


def measure(
    proc: subprocess.Popen[bytes],
    port: int,
    targets: list[tuple[str, dict[str, str]]],
    args: argparse.Namespace,
) -> dict[str, Any]:
    """Saturation (closed loop) with the CPU it cost, then a paced phase."""
    asyncio.run(c.lean_load("127.0.0.1", port, targets, clients=args.clients, seconds=2))
    cpu0, db0 = c.tree_cpu_seconds(proc.pid), c.postgres_cpu_seconds()
    sat = asyncio.run(c.lean_load("127.0.0.1", port, targets, clients=args.clients, seconds=args.seconds))
    cpu1, db1 = c.tree_cpu_seconds(proc.pid), c.postgres_cpu_seconds()
    n = max(sat["requests"], 1)
    paced = asyncio.run(
        c.lean_load(
            "127.0.0.1", port, targets, clients=args.clients, seconds=args.seconds, interval=args.interval
        )
    )
    return {
        **sat,
        "server_cpu_ms": round((cpu1 - cpu0) * 1000 / n, 3),
        "db_cpu_ms": round((db1 - db0) * 1000 / n, 3),
        "cpu_ms": round(((cpu1 - cpu0) + (db1 - db0)) * 1000 / n, 3),
        "paced": paced,
    }


def _bare_server(
    module: str, folder: Path, port: int, env: dict[str, str], args: argparse.Namespace
) -> subprocess.Popen[bytes]:
    """One of the baselines' bare FastAPI apps, under uvicorn with our worker count."""
    uvicorn = str(Path(sys.executable).with_name("uvicorn"))
    return c.start_server(
        [
            uvicorn,
            f"{module}:app",
            "--app-dir",
            str(folder),
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
        ],
        {**env, "PYTHONPATH": str(ROOT)},
        port,
        ready_path="/openapi.json",
        log_name=f"queue-{module}",
    )


def database(args: argparse.Namespace) -> tuple[str, Callable[[], None], dict[str, int], float | None]:
    """The filled database: a fresh one, or with --reuse the one an identical run left."""
    params = {"tickets": args.tickets, "seed": args.seed}
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    stamp = out / f"queue-{args.db}.params"
    if not args.reuse:
        url, drop = c.fresh_database(args.db)
        t0 = time.perf_counter()
        return url, drop, fill(url, args.tickets, args.seed), time.perf_counter() - t0
    if args.db == "sqlite":
        url = f"sqlite:///{out / 'bench-queue.db'}"
    else:
        url = f"{c.PG_SERVER}/hotline_bench_queue"
    if stamp.exists() and json.loads(stamp.read_text())["params"] == params:
        return url, lambda: None, json.loads(stamp.read_text())["open"], None
    stamp.unlink(missing_ok=True)
    if args.db == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(str(out / "bench-queue.db") + suffix).unlink(missing_ok=True)
    else:
        from sqlalchemy import create_engine, text

        admin = create_engine(f"{c.PG_SERVER}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS hotline_bench_queue WITH (FORCE)"))
            conn.execute(text("CREATE DATABASE hotline_bench_queue"))
        admin.dispose()
    t0 = time.perf_counter()
    open_counts = fill(url, args.tickets, args.seed)
    stamp.write_text(json.dumps({"params": params, "open": open_counts}))
    return url, lambda: None, open_counts, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30, help="per phase")
    ap.add_argument(
        "--interval",
        type=float,
        default=0.5,
        help="paced phase: seconds between one client's polls (default 0.5)",
    )
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--reuse", action="store_true", help="keep the filled database for the next run with the same size"
    )
    args = ap.parse_args()

    url, drop, open_counts, fill_s = database(args)
    try:
        busy = sorted(open_counts, key=open_counts.get, reverse=True)[:20]  # type: ignore[arg-type]
        port, base_port = c.free_port(), c.free_port()
        server = c.hotline_server(url, port, "queue-ours", "--workers", str(args.workers))
        try:
            targets = [
                (f"/api/v1/units/{u}/queue?limit={args.limit}", {"Authorization": f"Bearer key-{u}"})
                for u in busy
            ]
            base_url = f"http://127.0.0.1:{port}"
            sample = httpx.get(base_url + targets[0][0], headers=targets[0][1], timeout=30)
            sample.raise_for_status()
            unchanged = [
                (
                    path,
                    {**h, "If-None-Match": httpx.get(base_url + path, headers=h, timeout=30).headers["etag"]},
                )
                for path, h in targets
            ]
            full = measure(server, port, targets, args)
            not_modified = measure(server, port, unchanged, args)
        finally:
            c.stop(server)
        folder = Path(tempfile.mkdtemp())
        page_file = folder / "page.json"
        page_file.write_bytes(sample.content)
        (folder / "baseline_app.py").write_text(BASELINE_APP)
        (folder / "query_app.py").write_text(QUERY_APP)
        base = _bare_server("baseline_app", folder, base_port, {"BENCH_PAGE": str(page_file)}, args)
        try:
            baseline = measure(base, base_port, [("/page", {})], args)
        finally:
            c.stop(base)
        query_port = c.free_port()
        bare = _bare_server("query_app", folder, query_port, {"DATABASE_URL": url}, args)
        try:
            query_targets = [(f"/units/{u}/queue?limit={args.limit}", {}) for u in busy]
            query = measure(bare, query_port, query_targets, args)
        finally:
            c.stop(bare)
    finally:
        drop()

    rows = [
        ("queue page (200)", full),
        ("queue unchanged (304)", not_modified),
        ("baseline bare page", baseline),
        ("baseline page query (Core)", query),
    ]
    made = f"fill {fill_s:.0f} s" if fill_s is not None else "database reused"
    print(
        f"\nqueue polling, {args.db}, {args.tickets:,} tickets, {sum(open_counts.values()):,} "
        f"open, busiest unit {open_counts[busy[0]]:,} open; {made}; {args.clients} clients, "
        f"{args.seconds:.0f} s per phase, page size {args.limit}, {len(sample.content):,} bytes"
    )
    print(
        c.table(
            [
                "what",
                "req/s",
                "p50 ms",
                "p99 ms",
                "CPU ms/req (server+db)",
                f"paced {args.clients / args.interval:.0f}/s: p50 ms",
                "p99 ms",
                "errors",
            ],
            [
                [
                    name,
                    m["rps"],
                    m["p50_ms"],
                    m["p99_ms"],
                    f"{m['cpu_ms']:.2f} ({m['server_cpu_ms']:.2f}+{m['db_cpu_ms']:.2f})",
                    m["paced"]["p50_ms"],
                    m["paced"]["p99_ms"],
                    m["errors"] + m["paced"]["errors"],
                ]
                for name, m in rows
            ],
        )
    )
    cheaper_cpu = full["cpu_ms"] / not_modified["cpu_ms"] if not_modified["cpu_ms"] else None
    cheaper_p50 = full["p50_ms"] / not_modified["p50_ms"]
    print(
        f"a 304 costs 1/{cheaper_cpu:.1f} of a page in CPU (target: 1/3 or less); "
        f"1/{cheaper_p50:.1f} by p50 at saturation"
        if cheaper_cpu
        else ""
    )
    print(
        f"paced p99: {full['paced']['p99_ms']} ms for a page, {not_modified['paced']['p99_ms']} "
        f"ms for a 304, {baseline['paced']['p99_ms']} ms for the bare page (target <= 50 ms)"
    )
    vs_query = full["cpu_ms"] / query["cpu_ms"] if query["cpu_ms"] else None
    vs_query_server = full["server_cpu_ms"] / query["server_cpu_ms"] if query["server_cpu_ms"] else None
    if vs_query and vs_query_server:
        print(
            f"a page costs {vs_query:.2f}x the bare page query in CPU (server+db; target <= 2), "
            f"{vs_query_server:.2f}x in server CPU alone"
        )
    c.emit(
        "queue",
        args.db,
        {
            "tickets": args.tickets,
            "clients": args.clients,
            "seconds": args.seconds,
            "interval": args.interval,
            "workers": args.workers,
            "limit": args.limit,
            "open_items": sum(open_counts.values()),
        },
        {
            "page": full,
            "not_modified": not_modified,
            "not_modified_cheaper_cpu": round(cheaper_cpu, 2) if cheaper_cpu else None,
            "not_modified_cheaper_p50": round(cheaper_p50, 2),
            "query_baseline": query,
            "page_cpu_vs_query": round(vs_query, 2) if vs_query else None,
            "page_server_cpu_vs_query": round(vs_query_server, 2) if vs_query_server else None,
        },
        baseline,
        round(full["rps"] / baseline["rps"], 3),
    )


if __name__ == "__main__":
    main()
