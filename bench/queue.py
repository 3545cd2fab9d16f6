"""Queue polling under load: 50 concurrent pollers against the real server.

Fills a fresh database with N tickets over 200 units (most closed; busy units carry a few
thousand open items), then polls unit queues for --seconds with --clients concurrent
clients and reports p50/p99 latency and requests/s, for full pages and for 304s.
Baseline, in the same run: a bare FastAPI endpoint serving a same-sized JSON page.

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
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402

import httpx  # noqa: E402

from bench._common import fresh_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "bench-admin-key-0123456789abcdef"
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
        conn.execute(insert(Unit), [{"code": u, "name": u, "kind": "department", "created_at": now,
                                     "updated_at": now} for u in units])
        conn.execute(insert(Category), [{"code": "water", "name": "water", "created_at": now,
                                         "updated_at": now}])
        conn.execute(insert(ApiKey), [{"id": new_id(), "prefix": "bench", "key_hash": hash_key(f"key-{u}"),
                                       "role": "unit", "unit_code": u, "label": u, "created_at": now}
                                      for u in units])
    batch = 10_000
    for start in range(0, n, batch):
        tickets, items = [], []
        for i in range(start, min(n, start + batch)):
            unit = rng.choices(units, weights)[0]
            called = now - timedelta(days=rng.uniform(0, 365))
            is_open = rng.random() < open_share
            tid = new_id()
            tickets.append({
                "id": tid, "hotline_no": f"B{i:08d}", "request_hash": "x",
                "status": "in_progress" if is_open else "closed", "kind": "problem",
                "category": "water", "district": None, "urgency": "normal", "complex": False,
                "content": "停水" * 20, "called_at": called, "dispatched_at": called,
                "caller_name": "代表", "caller_phone": "13800000000", "deputy_id": None,
                "deputy_verified": False, "lead_unit": unit, "round": 1,
                "created_at": called, "updated_at": called,
            })
            if is_open:
                due = now + timedelta(hours=rng.uniform(-48, 240))
                open_counts[unit] = open_counts.get(unit, 0) + 1
                items.append({"unit_code": unit, "ticket_id": tid, "role": "lead", "active": True,
                              "next_action": "resolve", "next_due_at": due, "sort_key": due,
                              "updated_at": called})
        with engine.begin() as conn:
            conn.execute(insert(Ticket), tickets)
            if items:
                conn.execute(insert(QueueItem), items)
    if url.startswith("postgresql"):
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return open_counts


BASELINE_APP = '''
import os
from fastapi import FastAPI
from fastapi.responses import Response
page = open(os.environ["BENCH_PAGE"], "rb").read()
app = FastAPI()
@app.get("/page")
def serve_page():
    return Response(page, media_type="application/json")
'''


def start(cmd: list[str], env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = Path(tempfile.mkdtemp()) / "server.log"
    print(f"  server log: {log}")
    out = log.open("wb")
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT,
                            cwd=log.parent)
    for _ in range(200):
        try:
            path = "/healthz" if cmd[0].endswith("hotline") else "/page"
            httpx.get(f"http://127.0.0.1:{port}{path}", timeout=1).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"server on {port} did not start")


async def load(urls: list[tuple[str, dict[str, str]]], clients: int, seconds: float) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        async def worker(k: int) -> None:
            nonlocal errors
            i = k
            while time.perf_counter() < deadline:
                url, headers = urls[i % len(urls)]
                i += clients
                t0 = time.perf_counter()
                try:
                    r = await client.get(url, headers=headers)
                except httpx.HTTPError:
                    errors += 1
                    continue
                latencies.append(time.perf_counter() - t0)
                if r.status_code not in (200, 304):
                    errors += 1
        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": len(latencies), "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2),
        "errors": errors,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--limit", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    url, drop = fresh_database(args.db)
    try:
        t0 = time.perf_counter()
        open_counts = fill(url, args.tickets, args.seed)
        fill_s = time.perf_counter() - t0
        busy = sorted(open_counts, key=open_counts.get, reverse=True)[:20]  # type: ignore[arg-type]
        port, base_port = 18700 + os.getpid() % 500, 19300 + os.getpid() % 500
        hotline = str(Path(sys.executable).with_name("hotline"))
        server = start([hotline, "serve", "--port", str(port), "--workers", str(args.workers)],
                       {"DATABASE_URL": url, "HOTLINE_ADMIN_KEY": ADMIN, "HOTLINE_SCHEDULER": "off",
                        "HOTLINE_WEBHOOKS": "off", "HOTLINE_LOG_LEVEL": "WARNING"}, port)
        try:
            targets = [(f"http://127.0.0.1:{port}/api/v1/units/{u}/queue?limit={args.limit}",
                        {"Authorization": f"Bearer key-{u}"}) for u in busy]
            sample = httpx.get(targets[0][0], headers=targets[0][1], timeout=30)
            sample.raise_for_status()
            etags = {u: h for (u, h) in [(t[0], {**t[1], "If-None-Match": httpx.get(
                t[0], headers=t[1], timeout=30).headers["etag"]}) for t in targets]}
            full = asyncio.run(load(targets, args.clients, args.seconds))
            not_modified = asyncio.run(load(list(etags.items()), args.clients, args.seconds))
        finally:
            server.terminate()
            server.wait(10)
        page_file = Path(tempfile.mkdtemp()) / "page.json"
        page_file.write_bytes(sample.content)
        app_file = page_file.with_name("baseline_app.py")
        app_file.write_text(BASELINE_APP)
        uvicorn = str(Path(sys.executable).with_name("uvicorn"))
        base = start([uvicorn, "baseline_app:app", "--app-dir", str(app_file.parent), "--port",
                      str(base_port), "--workers", str(args.workers), "--log-level", "warning"],
                     {"BENCH_PAGE": str(page_file)}, base_port)
        try:
            baseline = asyncio.run(load([(f"http://127.0.0.1:{base_port}/page", {})],
                                        args.clients, args.seconds))
        finally:
            base.terminate()
            base.wait(10)
    finally:
        drop()

    rows = [("queue page (200)", full), ("queue unchanged (304)", not_modified),
            ("baseline bare page", baseline)]
    print(f"\nqueue polling, {args.db}, {args.tickets:,} tickets, {sum(open_counts.values()):,} open, "
          f"busiest unit {open_counts[busy[0]]:,} open; fill {fill_s:.0f} s; {args.clients} clients, "
          f"{args.seconds:.0f} s each, page size {args.limit}, {len(sample.content):,} bytes")
    print(f"{'what':<24}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, m in rows:
        print(f"{name:<24}{m['rps']:>10}{m['p50_ms']:>10}{m['p99_ms']:>10}{m['errors']:>8}")
    result = {
        "bench": "queue", "db": args.db,
        "params": {"tickets": args.tickets, "clients": args.clients, "seconds": args.seconds,
                   "workers": args.workers, "limit": args.limit,
                   "open_items": sum(open_counts.values())},
        "metrics": {"page": full, "not_modified": not_modified,
                    "not_modified_vs_page_p50": round(full["p50_ms"] / not_modified["p50_ms"], 2)},
        "baseline": baseline,
        "ratio": round(full["rps"] / baseline["rps"], 3),
    }
    line = json.dumps(result, ensure_ascii=False)
    print(line)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"queue-{args.db}.json").write_text(line + "\n")


if __name__ == "__main__":
    main()
