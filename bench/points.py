"""Benchmark: the points report (履职积分) for a year, against a bare count of its items.

Bulk-generates a year (2025) of 5,000 deputies' activity straight into a fresh, migrated
database (SQLAlchemy core inserts): deputy-line tickets (most of them problems), voter
messages answered or forwarded (most within their clock), stations and their monthly
receptions with the deputies present, duty reports, and items of the committee's own
types. Then times:

- ours: ``GET /api/v1/reports/points?year=2025`` (every deputy, points by type with the
  caps applied, silent deputies marked) from ``hotline serve`` on that database, one
  request at a time over a kept-alive connection; and in-process, the same report built
  with ``app.services.reports.points.build`` and serialized to JSON;
- baseline: one ``SELECT`` of the bare ``count(*)`` of the year's items in each of the
  five tables they live in, in the same run; ratio = HTTP median / baseline median.

Run: ``.venv/bin/python bench/points.py --db postgres`` (default 5,000 deputies;
``--deputies 500`` for a quick look; ``--db sqlite`` works too).
Prints a table and a final JSON line, also written to ``bench/out/points-<db>.json``.
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
import hashlib  # noqa: E402
import http.client  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, date, datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import orjson  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from app.models import (  # noqa: E402
    Activity,
    Category,
    Deputy,
    DutyReport,
    Message,
    PointRule,
    Reception,
    ReceptionDeputy,
    Station,
    Term,
    Ticket,
)
from app.services.reports.period import year_period  # noqa: E402
from app.services.reports.points import build  # noqa: E402
from bench import _common as c  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/hotline_points_bench"
YEAR = 2025
START = datetime(YEAR, 1, 1, tzinfo=TZ).astimezone(UTC)
SECONDS = 365 * 86400
BATCH = 5000
TYPES = [
    ("session", "参加人代会", 3, 6),
    ("training", "参加培训", 2, 10),
    ("inspection", "视察调研", 2, 10),
    ("proposal", "提出建议", 2, 20),
    ("contact", "联系选民", 1, None),
]
ORDER = [
    Category,
    Deputy,
    Term,
    Station,
    PointRule,
    Ticket,
    Message,
    Reception,
    ReceptionDeputy,
    DutyReport,
    Activity,
]


def generate(engine: Engine, deputies: int, seed: int) -> dict[str, int]:
    rnd = random.Random(seed)
    w = c.BulkWriter(engine, ORDER, BATCH)
    now = datetime(2026, 1, 15, tzinfo=UTC)
    w.add(Category, {"code": "water", "name": "供水", "created_at": now, "updated_at": now})
    w.add(
        Term,
        {
            "code": "t18",
            "level": "county",
            "name": "第十八届",
            "starts_on": date(2021, 10, 1),
            "ends_on": date(2026, 9, 30),
            "created_at": now,
            "updated_at": now,
        },
    )
    for code, name, pts, cap in TYPES:
        w.add(
            PointRule,
            {
                "type": code,
                "name": name,
                "points": pts,
                "yearly_cap": cap,
                "created_at": now,
                "updated_at": now,
            },
        )
    ids = [str(uuid.UUID(int=rnd.getrandbits(128))) for _ in range(deputies)]
    for i, did in enumerate(ids):
        w.add(
            Deputy,
            {
                "id": did,
                "name": f"代表{i:05d}",
                "phone": f"138{i:08d}",
                "level": "county",
                "district": "heshan",
                "term_code": "t18",
                "reelected": i % 3 == 0,
                "official": i % 7 == 0,
                "created_at": now,
                "updated_at": now,
            },
        )
    w.flush()

    def instant() -> datetime:
        return START + timedelta(seconds=rnd.randrange(SECONDS))

    def day() -> date:
        return date(YEAR, 1, 1) + timedelta(days=rnd.randrange(365))

    n = 0
    for did in ids:
        if rnd.random() < 0.1:
            continue  # a silent deputy: no call in the year
        for _ in range(rnd.randint(1, 14)):
            n += 1
            at = instant()
            kind = "problem" if rnd.random() < 0.8 else "consultation"
            w.add(
                Ticket,
                {
                    "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "hotline_no": f"YY{n:09d}",
                    "request_hash": "x" * 64,
                    "status": "closed" if kind == "consultation" else "dispatched",
                    "kind": kind,
                    "category": "water",
                    "district": "heshan",
                    "urgency": "normal",
                    "complex": False,
                    "content": "内容",
                    "called_at": at,
                    "dispatched_at": at,
                    "caller_name": "代表",
                    "caller_phone": "13800000000",
                    "deputy_id": did,
                    "deputy_verified": True,
                    "round": 1,
                    "created_at": at,
                    "updated_at": at,
                },
            )
    m = 0
    for did in ids:
        for _ in range(rnd.randint(0, 12)):
            m += 1
            at = instant()
            due = at + timedelta(days=3)
            responded = at + timedelta(hours=rnd.randint(1, 100))
            code = f"T{m:011d}"
            answered = rnd.random() < 0.7
            w.add(
                Message,
                {
                    "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "tracking_code": code,
                    "tracking_hash": hashlib.sha256(code.encode()).hexdigest(),
                    "deputy_id": did,
                    "channel": "code",
                    "content": "留言",
                    "status": "answered" if answered else "declined",
                    "received_at": at,
                    "due_at": due,
                    "warn_at": due,
                    "responded_at": responded,
                    "reply": "答复" if answered else None,
                    "decline_reason": None if answered else "属于诉讼事项",
                    "recorded_by": "public",
                    "created_at": at,
                    "updated_at": at,
                },
            )
    stations = max(1, deputies // 10)
    for s in range(stations):
        w.add(
            Station,
            {
                "code": f"st{s:04d}",
                "name": f"联络站{s:04d}",
                "district": "heshan",
                "kind": "physical",
                "created_at": now,
                "updated_at": now,
            },
        )
    w.flush()
    for s in range(stations):
        members = ids[s * 10 : (s + 1) * 10]
        for month in range(1, 13):
            rid = str(uuid.UUID(int=rnd.getrandbits(128)))
            w.add(
                Reception,
                {
                    "id": rid,
                    "station_code": f"st{s:04d}",
                    "held_on": date(YEAR, month, rnd.randint(1, 28)),
                    "voters_received": 20,
                    "batches": 4,
                    "recorded_by": "station",
                    "created_at": now,
                },
            )
            for did in rnd.sample(members, k=min(len(members), rnd.randint(3, 6))):
                w.add(ReceptionDeputy, {"reception_id": rid, "deputy_id": did})
    for did in ids:
        if rnd.random() < 0.25:
            w.add(
                DutyReport,
                {
                    "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "deputy_id": did,
                    "term_code": "t18",
                    "held_on": day(),
                    "method": rnd.choice(["oral", "meeting", "written"]),
                    "audience": "voters",
                    "recorded_by": "liaison",
                    "recorded_at": now,
                },
            )
        for _ in range(rnd.randint(2, 16)):
            w.add(
                Activity,
                {
                    "id": str(uuid.UUID(int=rnd.getrandbits(128))),
                    "deputy_id": did,
                    "type": rnd.choice(TYPES)[0],
                    "done_on": day(),
                    "note": "记录",
                    "recorded_by": "liaison",
                    "recorded_at": now,
                },
            )
    w.flush()
    return w.counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--url", help="PostgreSQL URL of a database this benchmark may drop")
    ap.add_argument("--deputies", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    url = c.kept_database(args.db, args.url, sqlite_file="bench-points.db", pg_url=PG_URL)
    engine = create_engine(url)
    t0 = time.perf_counter()
    counts = generate(engine, args.deputies, args.seed)
    gen_s = time.perf_counter() - t0
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))
    now = datetime(2026, 1, 15, tzinfo=UTC)
    period = year_period(YEAR, now, TZ)
    first, last = date(YEAR, 1, 1), date(YEAR, 12, 31)
    size: dict[str, Any] = {}

    from app.config import Settings
    from app.db import make_database

    app_db = make_database(Settings(), url)

    def report() -> None:
        with app_db.read_session() as session:
            data = build(session, period)
        size["bytes"] = len(orjson.dumps(data))
        size["deputies"] = len(data["items"])

    def baseline() -> None:
        # The year's items, table by table: what the report has to read at the least.
        within = (Ticket.called_at >= period.start) & (Ticket.called_at < period.end)
        answered = (Message.responded_at >= period.start) & (Message.responded_at < period.end)
        with engine.connect() as conn:
            size["items"] = int(
                conn.execute(
                    select(
                        select(func.count()).select_from(Ticket).where(within).scalar_subquery()
                        + select(func.count()).select_from(Message).where(answered).scalar_subquery()
                        + select(func.count())
                        .select_from(ReceptionDeputy)
                        .join(Reception, Reception.id == ReceptionDeputy.reception_id)
                        .where(Reception.held_on.between(first, last))
                        .scalar_subquery()
                        + select(func.count())
                        .select_from(DutyReport)
                        .where(DutyReport.held_on.between(first, last))
                        .scalar_subquery()
                        + select(func.count())
                        .select_from(Activity)
                        .where(Activity.done_on.between(first, last))
                        .scalar_subquery()
                    )
                ).scalar_one()
            )

    port = c.free_port()
    server = c.hotline_server(url, port, "points")
    client = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def over_http() -> None:
        client.request(
            "GET", f"/api/v1/reports/points?year={YEAR}", headers={"Authorization": f"Bearer {c.ADMIN_KEY}"}
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
    served_ms, ours_ms, base_ms = (statistics.median(x) for x in (served, ours, base))
    ratio = served_ms / base_ms if base_ms else None
    print(
        c.table(
            ["measure", "median ms", "min ms", "max ms"],
            [
                ["GET /reports/points (HTTP)", served_ms, min(served), max(served)],
                ["  in-process build + JSON", ours_ms, min(ours), max(ours)],
                ["baseline count(*) of the items", base_ms, min(base), max(base)],
            ],
        )
    )
    print(
        f"rows: {counts}; generated in {gen_s:.1f}s; year's items: {size.get('items')}; "
        f"report: {size.get('deputies')} deputies, {size.get('http_bytes')} bytes; "
        f"target: HTTP median <= 2000 ms: {'met' if served_ms <= 2000 else 'NOT met'}"
    )
    c.emit(
        "points",
        args.db,
        {"deputies": args.deputies, "year": YEAR, "repeat": args.repeat, "seed": args.seed},
        {
            "http_ms_median": round(served_ms, 2),
            "http_ms_max": round(max(served), 2),
            "report_ms_median": round(ours_ms, 2),
            "items": size.get("items"),
            "json_bytes": size.get("http_bytes"),
            "rows": counts,
            "generate_s": round(gen_s, 1),
            "target_ms": 2000,
        },
        {"count_ms_median": round(base_ms, 3)},
        ratio,
    )


if __name__ == "__main__":
    main()
