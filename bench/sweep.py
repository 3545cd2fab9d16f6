"""Benchmark: the SLA sweep over many open clocks.

For each size in --clocks (default 1,000,000; a comma list such as 100000,1000000 checks that
the idle sweep stays flat as the table grows): a fresh database, migrated, gets that many open
clocks (two per ticket; tickets, units and a category bulk-inserted with SQLAlchemy core),
none of them due. Then:

- idle: the service's ``sweep()`` in its own transaction (as the scheduler runs it) with
  nothing due, median of --runs runs (target <= 20 ms, flat from 100k to 1M);
- due: --due clocks (default 10,000) made due, and one sweep that records them all
  (target <= 10 s);
- baseline: a bare indexed ``SELECT 1 FROM clocks WHERE due_at <= :now LIMIT 1`` in a
  transaction on the same engine, median of --runs runs.

ratio = idle sweep median / baseline median at the largest size.

Run: ``.venv/bin/python bench/sweep.py --db sqlite|postgres [--clocks 100000] [--due 10000]``
"""

from __future__ import annotations

import os
import sys

# bench/ holds files named like standard modules (calendar.py, queue.py): keep it off
# sys.path and import the helpers as the namespace package `bench` from the repository.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if os.path.dirname(_HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import hashlib  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import func, select, text  # noqa: E402

from bench import _common as c  # noqa: E402

NOW = datetime(2025, 10, 15, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, a working Wednesday
BATCH = 10_000
UNITS = ["water-bureau", "housing-bureau", "heshan-gov", "ziyang-gov"]


def fill(url: str, n_clocks: int, seed: int) -> float:
    """Tickets and open clocks, none due at NOW; returns the seconds it took."""
    from sqlalchemy import create_engine

    from app.models import Category, Clock, Ticket, Unit

    rng = random.Random(seed)
    started = time.perf_counter()
    engine = create_engine(url)
    digest = hashlib.sha256(b"bench").hexdigest()
    with engine.begin() as conn:
        conn.execute(
            Unit.__table__.insert(),
            [
                {
                    "code": u,
                    "name": u,
                    "kind": "department",
                    "district": None,
                    "webhook_url": None,
                    "webhook_secret": None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for u in UNITS
            ],
        )
        conn.execute(
            Category.__table__.insert(),
            [
                {
                    "code": "water",
                    "name": "water",
                    "default_lead_unit": "water-bureau",
                    "committee_unit": None,
                    "coordinator_unit": None,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            ],
        )
    n_tickets = (n_clocks + 1) // 2
    done = 0
    while done < n_tickets:
        size = min(BATCH, n_tickets - done)
        tickets: list[dict[str, Any]] = []
        clocks: list[dict[str, Any]] = []
        for i in range(done, done + size):
            tid = str(uuid.UUID(int=rng.getrandbits(128)))
            dispatched = NOW - timedelta(minutes=rng.randint(10, 60 * 20))
            lead = UNITS[i % len(UNITS)]
            tickets.append(
                {
                    "id": tid,
                    "hotline_no": f"B{i:09d}",
                    "request_hash": digest,
                    "status": "in_progress",
                    "kind": "problem",
                    "category": "water",
                    "district": "heshan",
                    "urgency": "normal",
                    "complex": False,
                    "content": "bench",
                    "called_at": dispatched - timedelta(minutes=5),
                    "dispatched_at": dispatched,
                    "caller_name": "代表",
                    "caller_phone": "13800000001",
                    "deputy_id": None,
                    "deputy_verified": False,
                    "lead_unit": lead,
                    "round": 1,
                    "created_at": dispatched,
                    "updated_at": dispatched,
                }
            )
            for kind in ("contact", "resolve")[: min(2, n_clocks - 2 * i)]:
                due = NOW + timedelta(minutes=rng.randint(60 * 5, 60 * 24 * 20))
                clocks.append(
                    {
                        "ticket_id": tid,
                        "unit_code": lead,
                        "kind": kind,
                        "round": 1,
                        "started_at": dispatched,
                        "category": "water",
                        "district": "heshan",
                        "basis": "hours" if kind == "contact" else "workdays",
                        "amount": 24 if kind == "contact" else 7,
                        "due_at": due,
                        "warn_at": due - timedelta(hours=4),
                        "escalate_at": due + timedelta(days=7) if kind == "resolve" else None,
                        "provisional": False,
                        "met_at": None,
                        "cancelled_at": None,
                        "warned_at": None,
                        "breach_recorded_at": None,
                        "escalated_at": None,
                    }
                )
        with engine.begin() as conn:
            conn.execute(Ticket.__table__.insert(), tickets)
            conn.execute(Clock.__table__.insert(), clocks)
        done += size
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("ANALYZE"))
        count = conn.scalar(select(func.count()).select_from(Clock.__table__))
    engine.dispose()
    assert count == n_clocks, (count, n_clocks)
    return time.perf_counter() - started


def timed_sweep(state: Any) -> tuple[float, Any]:
    from app.db import Transaction
    from app.services.context import SYSTEM
    from app.services.sweep import sweep

    t0 = time.perf_counter()
    with Transaction(state.db.write_session) as session:
        result = sweep(state.ctx(session, SYSTEM))
    return time.perf_counter() - t0, result


def timed_baseline(state: Any) -> float:
    t0 = time.perf_counter()
    with state.db.writer.begin() as conn:
        conn.execute(
            text("SELECT 1 FROM clocks WHERE due_at <= :now LIMIT 1"),
            {"now": NOW if state.db.is_postgres else NOW.replace(tzinfo=None)},
        ).all()
    return time.perf_counter() - t0


def run_size(db: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    from app.clock import FixedClock
    from app.config import Settings
    from app.migrate import upgrade
    from app.state import build_state

    url, drop = c.fresh_database(db)
    state = None
    try:
        upgrade(url)
        print(f"  filling {n:,} clocks ...", flush=True)
        fill_s = fill(url, n, args.seed)
        settings = Settings(
            DATABASE_URL=url,
            HOTLINE_SCHEDULER=False,  # type: ignore[call-arg]
            HOTLINE_WEBHOOKS=False,
        )
        state = build_state(settings, clock=FixedClock(NOW))
        timed_sweep(state)  # warm the pool, caches and plans
        timed_baseline(state)
        idle: list[float] = []
        for _ in range(args.runs):
            dt, r = timed_sweep(state)
            assert (r.breached, r.warned, r.supervisions_opened) == (0, 0, 0), r
            idle.append(dt)
        base = [timed_baseline(state) for _ in range(args.runs)]
        due = min(args.due, n)
        step = max(1, n // due)
        with state.db.writer.begin() as conn:
            ids = conn.execute(text("SELECT id FROM clocks ORDER BY id")).scalars().all()[::step][:due]
            past = NOW - timedelta(hours=1)
            for i in range(0, len(ids), 1000):
                chunk = ids[i : i + 1000]
                conn.execute(
                    text(
                        "UPDATE clocks SET due_at = :d, warn_at = :w WHERE id IN ("
                        + ",".join(str(int(x)) for x in chunk)
                        + ")"
                    ),
                    {
                        "d": past if state.db.is_postgres else past.replace(tzinfo=None),
                        "w": (past - timedelta(hours=4))
                        if state.db.is_postgres
                        else (past - timedelta(hours=4)).replace(tzinfo=None),
                    },
                )
        due_s, r = timed_sweep(state)
        assert r.breached == len(ids), (r, len(ids))
        after_s, r2 = timed_sweep(state)
        assert r2.breached == 0, r2
        return {
            "clocks": n,
            "fill_s": round(fill_s, 1),
            "idle_sweep_ms_median": round(statistics.median(idle) * 1000, 2),
            "idle_sweep_ms_p90": round(c.percentile(idle, 90) * 1000, 2),
            "baseline_select_ms_median": round(statistics.median(base) * 1000, 3),
            "due_clocks": len(ids),
            "due_sweep_s": round(due_s, 3),
            "due_per_s": round(len(ids) / due_s, 1),
            "next_idle_sweep_ms": round(after_s * 1000, 2),
        }
    finally:
        if state is not None:
            state.db.dispose()
        drop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument(
        "--clocks", default="1000000", help="open clocks; a comma list runs each size (e.g. 100000,1000000)"
    )
    p.add_argument("--due", type=int, default=10_000, help="clocks made due for the 2nd part")
    p.add_argument("--runs", type=int, default=9, help="idle sweeps timed (median)")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    sizes = [int(s.replace("_", "")) for s in args.clocks.split(",") if s.strip()]

    print(f"sweep benchmark on {args.db}: sizes {', '.join(f'{n:,}' for n in sizes)}", flush=True)
    results = [run_size(args.db, n, args) for n in sizes]
    rows = [
        [
            f"{r['clocks']:,}",
            r["idle_sweep_ms_median"],
            r["idle_sweep_ms_p90"],
            r["baseline_select_ms_median"],
            r["due_clocks"],
            r["due_sweep_s"],
            r["next_idle_sweep_ms"],
            r["fill_s"],
        ]
        for r in results
    ]
    print(
        c.table(
            [
                "open clocks",
                "idle sweep ms (median)",
                "idle p90 ms",
                "baseline SELECT ms",
                "made due",
                "due sweep s",
                "next idle ms",
                "fill s",
            ],
            rows,
        )
    )
    last = results[-1]
    flat = (
        results[-1]["idle_sweep_ms_median"] / results[0]["idle_sweep_ms_median"] if len(results) > 1 else None
    )
    print(
        f"targets: idle <= 20 ms ({last['idle_sweep_ms_median']} ms), "
        f"due sweep <= 10 s ({last['due_sweep_s']} s)"
        + (f", idle largest/smallest = {flat:.2f}" if flat else "")
    )
    ratio = last["idle_sweep_ms_median"] / last["baseline_select_ms_median"]
    metrics = {
        "sizes": results,
        "idle_sweep_ms_median": last["idle_sweep_ms_median"],
        "due_sweep_s": last["due_sweep_s"],
        "idle_growth": flat and round(flat, 3),
    }
    baseline = {
        "query": "SELECT 1 FROM clocks WHERE due_at <= :now LIMIT 1",
        "ms_median": last["baseline_select_ms_median"],
    }
    c.emit(
        "sweep",
        args.db,
        {"clocks": sizes, "due": args.due, "runs": args.runs, "seed": args.seed},
        metrics,
        baseline,
        ratio,
    )


if __name__ == "__main__":
    main()
