"""Benchmark: the monthly report (JSON) over a year of tickets, against a bare count.

Bulk-generates a year (2025) of tickets with their clocks, resolutions, ratings,
supervision cases, extensions and events straight into a fresh, migrated database
(SQLAlchemy core inserts), then times:

- ours: ``GET /api/v1/reports/monthly`` for one month (every figure, the lists, the
  per-unit/category/district tables) from ``hotline serve`` on that database, one request
  at a time over a kept-alive connection; and, in-process, the same report built with
  ``app.services.reports.monthly.build`` and serialized to JSON (the part that is ours);
- baseline: ``SELECT count(*) FROM tickets WHERE called_at`` in that month;
  ratio = HTTP median / baseline median.

Rows go in in call order, as a running service appends them. The spread is a city's:
about 2% of rounds never resolved and 8% resolved late by default
(`--unresolved`, `--late`); every unresolved ticket stays in each later month's "should have
been resolved" list, so that share sets the size of the report.

Prints a table and a final JSON line, also written to ``bench/out/report-<db>.json``.

Run: ``.venv/bin/python bench/report.py --db sqlite --tickets 50000``
(default 1,000,000 over 12 months; ``--db postgres`` uses ``--url`` or
``postgresql+psycopg://postgres@127.0.0.1:5432/hotline_h_reports_bench``, dropped and rebuilt).
"""

from __future__ import annotations

import os
import sys

# bench/ holds a calendar.py that would shadow the standard library's: keep it off the path.
_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import argparse  # noqa: E402
import http.client  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import orjson  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app.models import (  # noqa: E402
    Category,
    Clock,
    Deputy,
    Event,
    Extension,
    Rating,
    Resolution,
    Supervision,
    Ticket,
    Unit,
)
from app.services.reports.monthly import build  # noqa: E402
from app.services.reports.period import month_period  # noqa: E402
from bench import _common as c  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
OUT = Path(_ROOT) / "bench" / "out"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_h_reports_bench"
YEAR_START = datetime(2025, 1, 1, tzinfo=TZ).astimezone(UTC)
YEAR_SECONDS = 365 * 86400
BATCH = 5000
H = timedelta(hours=1)
D = timedelta(days=1)
# Parents before children (foreign keys).
ORDER = [Unit, Category, Deputy, Ticket, Event, Clock, Extension, Resolution, Rating, Supervision]


def generate(
    engine: Engine,
    n: int,
    seed: int,
    unresolved: float,
    late: float,
    first: datetime = YEAR_START,
    now: datetime = datetime(2026, 1, 15, tzinfo=UTC),
) -> dict[str, int]:
    """A year of tickets with plausible outcomes; ids are sequential strings.

    `unresolved`: the share of rounds never resolved (they pile up in every later month's
    "should have been resolved" list); `late`: the share resolved after the limit.
    `first`: the start of the year of calls; `now`: what counts as the present (nothing
    happens after it)."""
    rnd = random.Random(seed)
    units = [f"unit-{i:02d}" for i in range(30)]
    cats = [f"cat-{i:02d}" for i in range(20)]
    districts = [f"district-{i}" for i in range(10)]
    w = c.BulkWriter(engine, ORDER, BATCH)
    # Parents first, flushed before children (PostgreSQL checks foreign keys per statement).
    for i, code in enumerate(units):
        w.add(
            Unit.__table__,
            {
                "code": code,
                "name": f"单位{i}",
                "kind": "department",
                "district": None,
                "created_at": now,
                "updated_at": now,
            },
        )
    for i, code in enumerate(cats):
        w.add(
            Category.__table__,
            {
                "code": code,
                "name": f"分类{i}",
                "default_lead_unit": None,
                "committee_unit": None,
                "coordinator_unit": None,
                "created_at": now,
                "updated_at": now,
            },
        )
    deputies = [f"dep-{i:05d}" for i in range(max(50, n // 500))]
    for i, dep in enumerate(deputies):
        w.add(
            Deputy.__table__,
            {
                "id": dep,
                "name": f"代表{i}",
                "phone": f"139{i:08d}",
                "level": "city",
                "created_at": now,
                "updated_at": now,
            },
        )
    w.flush()
    clock_id = 0
    # Written in call order, as a running service appends them: a month's rows lie together.
    calls = sorted(rnd.uniform(0, YEAR_SECONDS) for _ in range(n))
    for i in range(n):
        tid = f"t-{i:09d}"
        called = first + timedelta(seconds=calls[i])
        dispatched = called + timedelta(minutes=rnd.uniform(0, 120))
        r = rnd.random()
        kind = "consultation" if r < 0.08 else "suggestion" if r < 0.15 else "problem"
        lead = rnd.choice(units)
        urgent = rnd.random() < 0.15
        dep = rnd.choice(deputies) if rnd.random() < 0.85 else None
        t: dict[str, Any] = {
            "id": tid,
            "hotline_no": f"YY{i:09d}",
            "request_hash": "x" * 64,
            "status": "closed" if kind == "consultation" else "dispatched",
            "kind": kind,
            "category": rnd.choice(cats),
            "district": rnd.choice(districts),
            "urgency": "urgent" if urgent else "normal",
            "complex": False,
            "content": "内容",
            "called_at": called,
            "dispatched_at": dispatched,
            "caller_name": "来电人",
            "caller_phone": f"139{rnd.randrange(10**8):08d}",
            "deputy_id": dep,
            "deputy_verified": dep is not None,
            "lead_unit": lead,
            "round": 1,
            "created_at": called,
            "updated_at": called,
        }
        w.add(Ticket.__table__, t)
        w.add(
            Event.__table__,
            {
                "ticket_id": tid,
                "at": called,
                "recorded_at": called,
                "actor": "hotline",
                "type": "ticket.ingested",
                "data": {},
            },
        )
        if kind == "consultation":
            continue
        pending: list[tuple[Any, dict[str, Any]]] = []
        where = {"category": t["category"], "district": t["district"]}  # copied, as intake does

        def clock(
            kind_: str,
            round_: int,
            start: datetime,
            due: datetime,
            met: datetime | None,
            tid: str = tid,
            lead: str = lead,
            pending: list[tuple[Any, dict[str, Any]]] = pending,
            where: dict[str, Any] = where,
        ) -> int:
            nonlocal clock_id
            clock_id += 1
            met = met if met is not None and met <= now else None
            pending.append(
                (
                    Clock.__table__,
                    {
                        "id": clock_id,
                        "ticket_id": tid,
                        "unit_code": lead,
                        "kind": kind_,
                        "round": round_,
                        "started_at": start,
                        **where,
                        "basis": "hours",
                        "amount": 24,
                        "due_at": due,
                        "warn_at": due - 4 * H,
                        "provisional": False,
                        "met_at": met,
                    },
                )
            )
            return clock_id

        if rnd.random() < 0.03:
            back = dispatched + rnd.uniform(1, 20) * H
            pending.append(
                (
                    Event.__table__,
                    {
                        "ticket_id": tid,
                        "at": back,
                        "recorded_at": back,
                        "actor": f"unit:{lead}",
                        "type": "ticket.returned",
                        "data": {"unit": lead},
                    },
                )
            )
        contact = dispatched + rnd.uniform(0.5, 40) * H if rnd.random() < 0.85 else None
        clock("contact", 1, dispatched, dispatched + 24 * H, contact)
        start, round_ = dispatched, 1
        while round_ <= 3:
            due = start + (24 * H if urgent else 10 * D)
            resolved = None
            if rnd.random() >= unresolved:
                # Most on time, some late: (0.1, 9.5) days, or past the limit by up to 15.
                resolved = start + (rnd.uniform(10, 25) if rnd.random() < late else rnd.uniform(0.1, 9.5)) * D
            cid = clock("resolve", round_, start, due, resolved)
            if rnd.random() < 0.02:
                pending.append(
                    (
                        Extension.__table__,
                        {
                            "id": f"x-{tid}-{round_}",
                            "ticket_id": tid,
                            "clock_id": cid,
                            "unit_code": lead,
                            "round": round_,
                            "working_days": 3,
                            "reason": "协调",
                            "state": "approved",
                            "requested_at": start + D,
                            "decided_at": start + 2 * D,
                        },
                    )
                )
            if resolved is None or resolved > now:
                break
            pending.append(
                (
                    Resolution.__table__,
                    {
                        "ticket_id": tid,
                        "round": round_,
                        "unit_code": lead,
                        "at": resolved,
                        **where,
                        "ticket_kind": kind,
                        "outcome": rnd.choice(["solved", "solved", "stepwise", "referred", "explained"]),
                        "reply": "已办理",
                    },
                )
            )
            fed = resolved + rnd.uniform(0.1, 4) * D if rnd.random() < 0.8 else None
            clock("feedback", round_, resolved, resolved + 3 * D, fed)
            if fed is None or fed > now or rnd.random() > 0.75:
                break
            rated = fed + rnd.uniform(0.1, 3) * D
            if rated > now:
                break
            happy = rnd.random() < 0.75
            pending.append(
                (
                    Rating.__table__,
                    {
                        "ticket_id": tid,
                        "round": round_,
                        "at": rated,
                        "unit_code": lead,
                        **where,
                        "rating": "satisfied" if happy else "unsatisfied",
                        "satisfied": happy,
                    },
                )
            )
            if happy:
                break
            for case in ("committee", "local"):
                closed = rated + rnd.uniform(2, 30) * D if rnd.random() < 0.6 else None
                pending.append(
                    (
                        Supervision.__table__,
                        {
                            "id": f"s-{tid}-{round_}-{case}",
                            "ticket_id": tid,
                            "kind": case,
                            "unit_code": None,
                            "state": "closed" if closed and closed <= now else "open",
                            "reason": "不满意",
                            "round": round_ + 1,
                            "opened_at": rated,
                            "closed_at": closed if closed and closed <= now else None,
                        },
                    )
                )
            start, round_ = rated, round_ + 1
        for table, row in pending:
            w.add(table, row)
    w.flush()
    return w.counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--url", help="PostgreSQL URL of a database this benchmark may drop")
    ap.add_argument("--tickets", type=int, default=1_000_000)
    ap.add_argument("--month", default="2025-06")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--unresolved", type=float, default=0.02, help="share of rounds never resolved (default 0.02)"
    )
    ap.add_argument(
        "--late", type=float, default=0.08, help="share of resolutions after the time limit (default 0.08)"
    )
    ap.add_argument(
        "--reuse", action="store_true", help="keep the database of an earlier run with the same parameters"
    )
    args = ap.parse_args()

    params = {"tickets": args.tickets, "seed": args.seed, "unresolved": args.unresolved, "late": args.late}
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = OUT / f"report-{args.db}.params"
    gen_s: float | None = None
    if args.reuse and stamp.exists() and json.loads(stamp.read_text()) == params:
        url = f"sqlite:///{OUT / 'bench-report.db'}" if args.db == "sqlite" else (args.url or PG_URL)
        from app.migrate import upgrade

        upgrade(url)  # a database kept from an older schema gets the newer migrations
        engine = create_engine(url)
        with engine.connect() as conn:
            counts = {
                "tickets": conn.execute(select(func.count()).select_from(Ticket)).scalar_one(),
                "reused": 1,
            }
    else:
        stamp.unlink(missing_ok=True)
        url = c.kept_database(args.db, args.url, sqlite_file="bench-report.db", pg_url=PG_URL)
        engine = create_engine(url)
        t0 = time.perf_counter()
        counts = generate(engine, args.tickets, args.seed, args.unresolved, args.late)
        gen_s = time.perf_counter() - t0
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        stamp.write_text(json.dumps(params))
    now = datetime(2026, 1, 15, tzinfo=UTC)
    period = month_period(args.month, now, TZ)
    size: dict[str, Any] = {}

    # The report reads through the service's own database setup, as the API does.
    from app.config import Settings
    from app.db import make_database

    app_db = make_database(Settings(), url)

    def report() -> None:
        with app_db.read_session() as session:
            data = build(session, period)
        body = orjson.dumps(data)
        size.update(
            bytes=len(body),
            calls=data["totals"]["calls"],
            overdue=len(data["overdue_unresolved"]),
            unsatisfied=len(data["unsatisfied"]),
        )

    def baseline() -> None:
        with engine.connect() as conn:
            conn.execute(
                select(func.count())
                .select_from(Ticket)
                .where(Ticket.called_at >= period.start, Ticket.called_at < period.end)
            ).scalar_one()

    # What the liaison committee waits for: the JSON endpoint of a running server.
    port = c.free_port()
    server = c.hotline_server(url, port, "report")
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def over_http() -> None:
        client.request(
            "GET",
            f"/api/v1/reports/monthly?month={args.month}",
            headers={"Authorization": f"Bearer {c.ADMIN_KEY}"},
        )
        response = client.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"report: {response.status} {body[:300]!r}")
        size["http_bytes"] = len(body)

    try:
        served = c.timed(over_http, args.repeat)
    finally:
        client.close()
        c.stop(server)
    ours = c.timed(report, args.repeat)
    base = c.timed(baseline, args.repeat)
    engine.dispose()
    app_db.dispose()
    ours_ms, base_ms = statistics.median(ours), statistics.median(base)
    served_ms = statistics.median(served)
    ratio = served_ms / base_ms if base_ms else None
    print(f"{'':<34}{'median ms':>12}{'min ms':>12}{'max ms':>12}")
    print(f"{'GET /reports/monthly (HTTP)':<34}{served_ms:>12.1f}{min(served):>12.1f}{max(served):>12.1f}")
    print(f"{'  of which in-process build+JSON':<34}{ours_ms:>12.1f}{min(ours):>12.1f}{max(ours):>12.1f}")
    print(f"{'baseline count(*)':<34}{base_ms:>12.1f}{min(base):>12.1f}{max(base):>12.1f}")
    made = f"generated in {gen_s:.1f}s" if gen_s is not None else "reused"
    print(f"rows: {counts}; {made}; report: {size}")
    line = {
        "bench": "report",
        "db": args.db,
        "params": {**params, "month": args.month, "repeat": args.repeat},
        "metrics": {
            "http_ms_median": round(served_ms, 2),
            "http_ms_min": round(min(served), 2),
            "http_ms_max": round(max(served), 2),
            "report_ms_median": round(ours_ms, 2),
            "report_ms_min": round(min(ours), 2),
            "report_ms_max": round(max(ours), 2),
            "json_bytes": size.get("bytes"),
            "month_calls": size.get("calls"),
            "overdue_listed": size.get("overdue"),
            "unsatisfied_listed": size.get("unsatisfied"),
            "rows": counts,
            "generate_s": round(gen_s, 1) if gen_s is not None else None,
        },
        "baseline": {"count_ms_median": round(base_ms, 3), "count_ms_min": round(min(base), 3)},
        "ratio": round(ratio, 1) if ratio else None,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"report-{args.db}.json").write_text(json.dumps(line, ensure_ascii=False) + "\n")
    print(json.dumps(line, ensure_ascii=False))


if __name__ == "__main__":
    main()
