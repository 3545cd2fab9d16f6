"""Benchmark: ticket intake (POST /api/v1/tickets) against the real server.

Ours: ``hotline serve`` (uvicorn, one process) on a fresh database, set up through the API
(units, categories, a deputy registry of --deputies), then C concurrent connections post
realistic, distinct ticket bodies for --seconds (after a short warm-up).

Baseline, in the same run and on the same kind of database (a fresh one): a bare FastAPI
app (``baseline_app`` below, served by uvicorn in a subprocess) that validates the same
body with a Pydantic model and inserts one row with SQLAlchemy.

ratio = ours tickets/s / baseline tickets/s (target >= 0.6).

Run: ``.venv/bin/python bench/ingest.py --db sqlite|postgres [--seconds 15] [--concurrency 16]``
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
import asyncio  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import UTC, datetime, timedelta, timezone  # noqa: E402
from typing import Any, Literal  # noqa: E402

from fastapi import FastAPI, Response  # noqa: E402
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field  # noqa: E402

from bench import _common as c  # noqa: E402

CST = timezone(timedelta(hours=8))
DEPARTMENTS = [
    "water-bureau",
    "housing-bureau",
    "transport-bureau",
    "education-bureau",
    "health-commission",
    "ecology-bureau",
    "market-regulation",
    "civil-affairs",
]
DISTRICTS = ["heshan", "ziyang", "datonghu", "yuanjiang", "taojiang", "anhua", "nanxian"]
CATEGORIES = {
    "water": "water-bureau",
    "housing": "housing-bureau",
    "traffic": "transport-bureau",
    "schools": "education-bureau",
    "health": "health-commission",
    "environment": "ecology-bureau",
    "prices": "market-regulation",
    "welfare": None,
}
CONTENT = (
    "代表反映：{d}区某小区自{n}日起反复停水，居民生活受到严重影响，物业称系供水管网老化，"
    "请求相关部门尽快排查维修，并建立停水提前告知机制。来电人希望在一周内得到答复。"
)


# --- the baseline app -------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BaselineCaller(_Strict):
    name: str = Field(min_length=1, max_length=100)
    phone: str = Field(min_length=5, max_length=32)


class BaselineTicket(_Strict):
    hotline_no: str = Field(min_length=1, max_length=64)
    deputy_call: bool
    called_at: AwareDatetime
    dispatched_at: AwareDatetime | None = None
    caller: BaselineCaller
    kind: Literal["problem", "consultation", "suggestion"] | None = None
    category: str = Field(min_length=1, max_length=64)
    content: str = Field(min_length=1, max_length=20000)
    district: str | None = Field(default=None, max_length=64)
    urgency: Literal["urgent", "normal"] | None = None
    units: list[str] | None = Field(default=None, max_length=20)
    lead_unit: str | None = None
    complex: bool | None = None


def baseline_app() -> FastAPI:
    """Validate the body, insert one row, return 201 with it: no routing, clocks or log."""
    from sqlalchemy import (
        JSON,
        Boolean,
        Column,
        DateTime,
        Integer,
        MetaData,
        String,
        Table,
        Text,
        create_engine,
        event,
    )

    url = os.environ["BENCH_BASELINE_URL"]
    sqlite = url.startswith("sqlite")
    engine = create_engine(url, pool_size=10, max_overflow=10, connect_args={"timeout": 30} if sqlite else {})
    if sqlite:

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    meta = MetaData()
    rows = Table(
        "baseline_tickets",
        meta,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("hotline_no", String(64), unique=True, nullable=False),
        Column("called_at", DateTime(timezone=True), nullable=False),
        Column("dispatched_at", DateTime(timezone=True), nullable=False),
        Column("caller_name", String(100), nullable=False),
        Column("caller_phone", String(32), nullable=False),
        Column("kind", String(16), nullable=False),
        Column("category", String(64), nullable=False),
        Column("district", String(64)),
        Column("urgency", String(16), nullable=False),
        Column("complex", Boolean, nullable=False),
        Column("units", JSON, nullable=False),
        Column("lead_unit", String(64)),
        Column("content", Text, nullable=False),
    )
    meta.create_all(engine)
    app = FastAPI()

    @app.get("/")
    def ready() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/tickets", status_code=201)
    def post(body: BaselineTicket, response: Response) -> dict[str, Any]:
        values = {
            "hotline_no": body.hotline_no,
            "called_at": body.called_at,
            "dispatched_at": body.dispatched_at or datetime.now(UTC),
            "caller_name": body.caller.name,
            "caller_phone": body.caller.phone,
            "kind": body.kind or "problem",
            "category": body.category,
            "district": body.district,
            "urgency": body.urgency or "normal",
            "complex": bool(body.complex),
            "units": body.units or [],
            "lead_unit": body.lead_unit or (body.units or [None])[0],
            "content": body.content,
        }
        with engine.begin() as conn:
            new_id = conn.execute(rows.insert().returning(rows.c.id), values).scalar_one()
        return {"id": new_id, **body.model_dump(mode="json")}

    return app


# --- the load ---------------------------------------------------------------------------------


class Bodies:
    """Distinct, realistic ticket bodies (the mix of the source ledger)."""

    def __init__(self, seed: int, phones: list[str]) -> None:
        self.rng = random.Random(seed)
        self.phones = phones
        self.n = 0
        self.prefix = f"YY{seed:04d}{int(time.time()) % 100000:05d}"

    def __call__(self) -> dict[str, Any]:
        rng = self.rng
        self.n += 1
        now = datetime.now(CST)
        called = now - timedelta(minutes=rng.randint(5, 120))
        category = rng.choice(list(CATEGORIES))
        district = rng.choice(DISTRICTS)
        units = [CATEGORIES[category] or rng.choice(DEPARTMENTS)]
        if rng.random() < 0.35:
            units.append(f"{district}-gov")
        if rng.random() < 0.1:
            units.append(rng.choice([d for d in DEPARTMENTS if d not in units]))
        registered = rng.random() < 0.9
        body: dict[str, Any] = {
            "hotline_no": f"{self.prefix}-{self.n:07d}",
            "deputy_call": True,
            "called_at": called.isoformat(timespec="seconds"),
            "dispatched_at": (called + timedelta(minutes=rng.randint(1, 4))).isoformat(timespec="seconds"),
            "caller": {
                "name": "代表" + str(rng.randint(1, 999)),
                "phone": rng.choice(self.phones) if registered else f"137{rng.randint(0, 99999999):08d}",
            },
            "kind": rng.choices(["problem", "suggestion", "consultation"], [85, 10, 5])[0],
            "category": category,
            "content": CONTENT.format(d=district, n=rng.randint(1, 28)),
            "district": district,
            "urgency": "urgent" if rng.random() < 0.1 else "normal",
            "units": units,
            "complex": rng.random() < 0.02,
        }
        if len(units) > 1 and rng.random() < 0.5:
            body["lead_unit"] = units[-1]
        return body


async def load(
    base: str,
    path: str,
    headers: dict[str, str],
    bodies: Bodies,
    *,
    seconds: float,
    concurrency: int,
    warmup: float,
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    codes: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60.0) as client:

        async def worker(stop_at: float, record: bool) -> None:
            while time.perf_counter() < stop_at:
                body = bodies()
                t0 = time.perf_counter()
                r = await client.post(path, json=body)
                dt = time.perf_counter() - t0
                if record:
                    latencies.append(dt)
                    codes[r.status_code] += 1
                elif r.status_code >= 400:
                    raise RuntimeError(f"warm-up got {r.status_code}: {r.text[:300]}")

        stop_at = time.perf_counter() + warmup
        await asyncio.gather(*(worker(stop_at, False) for _ in range(concurrency)))
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(*(worker(stop_at, True) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ok = codes[201]
    return {
        "requests": sum(codes.values()),
        "created": ok,
        "errors": sum(codes.values()) - ok,
        "status": {str(k): v for k, v in sorted(codes.items())},
        "seconds": round(elapsed, 3),
        "tickets_per_s": round(ok / elapsed, 1),
        "p50_ms": round(c.percentile(latencies, 50) * 1000, 2),
        "p99_ms": round(c.percentile(latencies, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else None,
    }


def setup_city(base: str, deputies: int) -> tuple[str, list[str]]:
    """Units, categories and deputies through the API; returns a hotline key and phones."""
    import httpx

    admin = {"Authorization": f"Bearer {c.ADMIN_KEY}"}
    with httpx.Client(base_url=base, headers=admin, timeout=60.0) as client:

        def put(path: str, body: dict[str, Any]) -> None:
            r = client.put(path, json=body)
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT {path}: {r.status_code} {r.text}")

        for code in DEPARTMENTS:
            put(f"/api/v1/units/{code}", {"name": code, "kind": "department"})
        for d in DISTRICTS:
            put(
                f"/api/v1/units/{d}-gov",
                {"name": f"{d} government", "kind": "district_government", "district": d},
            )
            put(
                f"/api/v1/units/{d}-congress",
                {"name": f"{d} congress", "kind": "district_congress", "district": d},
            )
        put("/api/v1/units/urban-env-committee", {"name": "城环委", "kind": "special_committee"})
        put("/api/v1/units/coordinator", {"name": "分管副秘书长", "kind": "coordinator"})
        for code, lead in CATEGORIES.items():
            put(
                f"/api/v1/categories/{code}",
                {"name": code, "default_lead_unit": lead, "committee_unit": "urban-env-committee"},
            )
        phones = [f"138{i:08d}" for i in range(deputies)]
        csv = "name,phone,level,district,delegation\n" + "".join(
            f"代表{i},{p},{random.choice(['city', 'county', 'provincial'])},"
            f"{DISTRICTS[i % len(DISTRICTS)]},\n"
            for i, p in enumerate(phones)
        )
        r = client.post("/api/v1/deputies/import", content=csv.encode(), headers={"Content-Type": "text/csv"})
        if r.status_code != 200 or r.json()["errors"]:
            raise RuntimeError(f"import: {r.status_code} {r.text[:300]}")
        r = client.post("/api/v1/keys", json={"role": "hotline", "label": "bench"})
        r.raise_for_status()
        return r.json()["key"], phones


def run_ours(db: str, args: argparse.Namespace) -> dict[str, Any]:
    url, drop = c.fresh_database(db)
    port = c.free_port()
    env = {
        "DATABASE_URL": url,
        "HOTLINE_ADMIN_KEY": c.ADMIN_KEY,
        "HOTLINE_SCHEDULER": "off",
        "HOTLINE_WEBHOOKS": "off",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    proc = None
    try:
        from app.migrate import upgrade

        upgrade(url)
        proc = c.start_server(
            [str(c.VENV_BIN / "hotline"), "serve", "--port", str(port)],
            env,
            port,
            ready_path="/healthz",
            log_name="ours",
        )
        base = f"http://127.0.0.1:{port}"
        key, phones = setup_city(base, args.deputies)
        return asyncio.run(
            load(
                base,
                "/api/v1/tickets",
                {"Authorization": f"Bearer {key}"},
                Bodies(args.seed, phones),
                seconds=args.seconds,
                concurrency=args.concurrency,
                warmup=args.warmup,
            )
        )
    finally:
        if proc is not None:
            c.stop(proc)
        drop()


def run_baseline(db: str, args: argparse.Namespace) -> dict[str, Any]:
    url, drop = c.fresh_database(db)
    port = c.free_port()
    proc = None
    try:
        proc = c.start_server(
            [
                str(c.VENV_BIN / "python"),
                "-m",
                "uvicorn",
                "--app-dir",
                str(c.ROOT),
                "--factory",
                "bench.ingest:baseline_app",
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            {"BENCH_BASELINE_URL": url},
            port,
            log_name="baseline",
        )
        base = f"http://127.0.0.1:{port}"
        phones = [f"138{i:08d}" for i in range(args.deputies)]
        return asyncio.run(
            load(
                base,
                "/tickets",
                {},
                Bodies(args.seed, phones),
                seconds=args.seconds,
                concurrency=args.concurrency,
                warmup=args.warmup,
            )
        )
    finally:
        if proc is not None:
            c.stop(proc)
        drop()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--seconds", type=float, default=15.0, help="measured load per side")
    p.add_argument("--concurrency", type=int, default=16, help="concurrent connections")
    p.add_argument("--deputies", type=int, default=2000, help="size of the deputy registry")
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()

    print(
        f"ingest benchmark on {args.db}: {args.concurrency} connections, {args.seconds:g} s per side",
        flush=True,
    )
    ours = run_ours(args.db, args)
    base = run_baseline(args.db, args)
    rows = [
        [name, r["tickets_per_s"], r["p50_ms"], r["p99_ms"], r["requests"], r["errors"]]
        for name, r in (("hotline (ours)", ours), ("bare FastAPI+SQLAlchemy", base))
    ]
    print(c.table(["server", "tickets/s", "p50 ms", "p99 ms", "requests", "non-201"], rows))
    ratio = ours["tickets_per_s"] / base["tickets_per_s"] if base["tickets_per_s"] else None
    print(f"ratio ours/baseline = {ratio:.2f} (target >= 0.6)" if ratio else "ratio: n/a")
    c.emit(
        "ingest",
        args.db,
        {
            "seconds": args.seconds,
            "concurrency": args.concurrency,
            "deputies": args.deputies,
            "warmup": args.warmup,
            "seed": args.seed,
        },
        ours,
        base,
        ratio,
    )
    if ours["errors"]:
        sys.exit(f"ours answered {ours['errors']} requests with a non-201 status")


if __name__ == "__main__":
    main()
