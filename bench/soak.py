"""Soak: a realistic mix of requests against the real server for --minutes.

    python bench/soak.py --minutes 10 --db postgres     # or --db sqlite

Starts `hotline serve` in a subprocess on a throwaway database (PostgreSQL: a database it
creates and drops on the server of --pg-url / HOTLINE_BENCH_DATABASE_URL; SQLite: a temp
file), sets up a city, then --workers threads ingest tickets, walk them through contact,
resolve, feedback and rating, poll unit queues (with If-None-Match), read tickets, events,
lists, supervisions and reports, and now and then run the SLA sweep.

Prints throughput, p50/p99 latency per route, the error count (must be 0: any 5xx, any
transport error or any status the contract does not give for that call), the growth of
the server's resident memory (VmRSS from /proc/PID/status), and as the baseline the
latency of GET /healthz measured in the same run. The last line is a JSON object
{"bench": "soak", ...}, also written to bench/out/soak-<db>.json.
"""

from __future__ import annotations

import os
import sys

# bench/calendar.py is named like the standard library's `calendar` (imported by httpx via
# email and http): keep this folder off sys.path when run as `python bench/soak.py`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if os.path.dirname(_HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(_HERE))  # the repository, for tests.support

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import httpx  # noqa: E402

ADMIN_KEY = "soak-admin-key-0123456789abcdef"
SHANGHAI = ZoneInfo("Asia/Shanghai")
UNITS = {
    "water-bureau": "department",
    "housing-bureau": "department",
    "heshan-gov": "district_government",
    "ziyang-gov": "district_government",
    "urban-env-committee": "special_committee",
    "heshan-congress": "district_congress",
}
CATEGORIES = {"water": "water-bureau", "housing": "housing-bureau"}
PHONES = [f"139{n:08d}" for n in range(1, 41)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def database(kind: str, pg_url: str) -> contextlib.AbstractContextManager[str]:
    from tests.support import throwaway_database

    return throwaway_database(pg_url if kind == "postgres" else None, "hotline_soak")


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: list[str] = []

    def record(self, route: str, seconds: float, problem: str | None) -> None:
        with self.lock:
            self.latency[route].append(seconds)
            if problem:
                self.errors.append(f"{route}: {problem}")


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))] if s else 0.0


class Worker:
    def __init__(
        self,
        base: str,
        keys: dict[str, str],
        stats: Stats,
        seed: int,
        numbers: Iterator[int],
        lock: threading.Lock,
    ) -> None:
        self.client = httpx.Client(base_url=base, timeout=30)
        self.keys, self.stats, self.rng = keys, stats, random.Random(seed)
        self.numbers, self.numbers_lock = numbers, lock
        self.tickets: list[dict[str, Any]] = []  # {id, no, lead, step}
        self.etags: dict[str, str] = {}

    def call(
        self, route: str, method: str, path: str, who: str, ok: tuple[int, ...], **kw: Any
    ) -> httpx.Response | None:
        headers = {"Authorization": f"Bearer {self.keys[who]}", **kw.pop("headers", {})}
        started = time.perf_counter()
        try:
            r = self.client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            self.stats.record(route, time.perf_counter() - started, f"{type(exc).__name__}")
            return None
        problem = None if r.status_code in ok else f"{r.status_code} {r.text[:200]}"
        self.stats.record(route, time.perf_counter() - started, problem)
        return r if problem is None else None

    def now(self, minus_minutes: int = 0) -> str:
        return (datetime.now(SHANGHAI) - timedelta(minutes=minus_minutes)).isoformat()

    def ingest(self) -> None:
        with self.numbers_lock:
            n = next(self.numbers)
        cat = self.rng.choice(list(CATEGORIES))
        lead = CATEGORIES[cat]
        co = self.rng.choice(["heshan-gov", "ziyang-gov"])
        body = {
            "hotline_no": f"SOAK-{n:07d}",
            "deputy_call": True,
            "called_at": self.now(90),
            "dispatched_at": self.now(60),
            "caller": {"name": "代表", "phone": self.rng.choice(PHONES)},
            "category": cat,
            "content": "反映问题 " * self.rng.randint(1, 40),
            "district": "heshan" if co == "heshan-gov" else "ziyang",
            "urgency": self.rng.choice(["normal"] * 9 + ["urgent"]),
            "units": [lead, co],
            "lead_unit": lead,
        }
        r = self.call("POST /api/v1/tickets", "POST", "/api/v1/tickets", "hotline", (201,), json=body)
        if r is not None:
            self.tickets.append(
                {"id": r.json()["id"], "no": body["hotline_no"], "lead": lead, "co": co, "step": 0}
            )
            if self.rng.random() < 0.2:  # the hotline system retries: idempotent replay
                self.call(
                    "POST /api/v1/tickets (replay)", "POST", "/api/v1/tickets", "hotline", (200,), json=body
                )

    def advance(self) -> None:
        live = [t for t in self.tickets if t["step"] < 5]
        if not live:
            return self.ingest()
        t = self.rng.choice(live)
        tid, lead, step = t["id"], t["lead"], t["step"]
        if step == 0:
            r = self.call(
                "POST /tickets/{id}/contact",
                "POST",
                f"/api/v1/tickets/{tid}/contact",
                lead,
                (200,),
                json={"method": "phone", "deputy_invited": False},
            )
        elif step == 1:
            r = self.call(
                "POST /tickets/{id}/opinions",
                "POST",
                f"/api/v1/tickets/{tid}/opinions",
                t["co"],
                (200,),
                json={"content": "同意"},
            )
        elif step == 2:
            r = self.call(
                "POST /tickets/{id}/resolve",
                "POST",
                f"/api/v1/tickets/{tid}/resolve",
                lead,
                (200,),
                json={"outcome": "solved", "reply": "已解决"},
            )
        elif step == 3:
            r = self.call(
                "POST /tickets/{id}/feedback",
                "POST",
                f"/api/v1/tickets/{tid}/feedback",
                lead,
                (200,),
                json={"method": "phone", "content": "已反馈"},
            )
        else:
            rating = "unsatisfied" if self.rng.random() < 0.15 else "satisfied"
            r = self.call(
                "POST /tickets/{id}/rating",
                "POST",
                f"/api/v1/tickets/{tid}/rating",
                "hotline",
                (200,),
                json={"rating": rating},
            )
        if r is not None:
            t["step"] += 1
        return None

    def read_ticket(self) -> None:
        if not self.tickets:
            return self.ingest()
        t = self.rng.choice(self.tickets)
        who = self.rng.choice([t["lead"], t["co"], "liaison"])
        self.call("GET /tickets/{id}", "GET", f"/api/v1/tickets/{t['id']}", who, (200,))
        return None

    def events(self) -> None:
        if self.tickets:
            t = self.rng.choice(self.tickets)
            self.call(
                "GET /tickets/{id}/events", "GET", f"/api/v1/tickets/{t['id']}/events", "liaison", (200,)
            )

    def queue(self) -> None:
        unit = self.rng.choice(["water-bureau", "housing-bureau", "heshan-gov", "ziyang-gov"])
        headers = {"If-None-Match": self.etags[unit]} if unit in self.etags else {}
        r = self.call(
            "GET /units/{code}/queue", "GET", f"/api/v1/units/{unit}/queue", unit, (200, 304), headers=headers
        )
        if r is not None and "etag" in r.headers:
            self.etags[unit] = r.headers["etag"]

    def lists(self) -> None:
        params = self.rng.choice(
            [
                {},
                {"status": "dispatched"},
                {"category": "water"},
                {"breached": "true"},
                {"district": "heshan", "limit": 100},
            ]
        )
        self.call("GET /tickets", "GET", "/api/v1/tickets", "liaison", (200,), params=params)

    def supervisions(self) -> None:
        self.call(
            "GET /supervisions",
            "GET",
            "/api/v1/supervisions",
            self.rng.choice(["liaison", "urban-env-committee"]),
            (200,),
        )

    def lookup(self) -> None:
        self.call(
            "GET /deputies?phone=",
            "GET",
            "/api/v1/deputies",
            "hotline",
            (200,),
            params={"phone": self.rng.choice(PHONES)},
        )
        if self.tickets:
            t = self.rng.choice(self.tickets)
            self.call(
                "GET /tickets/by-hotline-no/{no}",
                "GET",
                f"/api/v1/tickets/by-hotline-no/{t['no']}",
                "hotline",
                (200,),
            )

    def report(self) -> None:
        month = datetime.now(SHANGHAI).strftime("%Y-%m")
        self.call(
            "GET /reports/monthly",
            "GET",
            "/api/v1/reports/monthly",
            "liaison",
            (200,),
            params={"month": month},
        )

    def sweep(self) -> None:
        self.call("POST /admin/sla-sweep", "POST", "/api/v1/admin/sla-sweep", "admin", (200,))

    def healthz(self) -> None:
        started = time.perf_counter()
        try:
            r = self.client.get("/healthz")
            problem = None if r.status_code == 200 else str(r.status_code)
        except httpx.HTTPError as exc:
            problem = type(exc).__name__
        self.stats.record("GET /healthz", time.perf_counter() - started, problem)

    def run(self, until: float) -> None:
        mix = [
            (self.ingest, 18),
            (self.advance, 22),
            (self.read_ticket, 14),
            (self.queue, 18),
            (self.lists, 6),
            (self.events, 5),
            (self.supervisions, 3),
            (self.lookup, 4),
            (self.healthz, 8),
            (self.report, 1.5),
            (self.sweep, 0.5),
        ]
        actions, weights = zip(*mix, strict=True)
        while time.monotonic() < until:
            self.rng.choices(actions, weights)[0]()
        self.client.close()


def setup(base: str) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    keys = {"admin": ADMIN_KEY}
    with httpx.Client(base_url=base, timeout=30) as c:
        for code, kind in UNITS.items():
            district = "heshan" if "heshan" in code else "ziyang" if "ziyang" in code else None
            r = c.put(
                f"/api/v1/units/{code}",
                headers=admin,
                json={"name": code, "kind": kind, "district": district},
            )
            r.raise_for_status()
        for code, lead in CATEGORIES.items():
            c.put(
                f"/api/v1/categories/{code}",
                headers=admin,
                json={"name": code, "default_lead_unit": lead, "committee_unit": "urban-env-committee"},
            ).raise_for_status()
        for i, phone in enumerate(PHONES[:30]):  # a quarter of callers are not registered
            c.post(
                "/api/v1/deputies", headers=admin, json={"name": f"代表{i}", "phone": phone, "level": "city"}
            ).raise_for_status()
        for who in ("hotline", "liaison", *UNITS):
            role = who if who in ("hotline", "liaison") else "unit"
            body = {"role": role, "label": f"soak {who}", **({"unit_code": who} if role == "unit" else {})}
            r = c.post("/api/v1/keys", headers=admin, json=body)
            r.raise_for_status()
            keys[who] = r.json()["key"]
    return keys


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    ap.add_argument(
        "--pg-url",
        default=os.environ.get(
            "HOTLINE_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--seed", type=int, default=12345)
    args = ap.parse_args()

    out_dir = Path(__file__).resolve().parent / "out"
    out_dir.mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with database(args.db, args.pg_url) as url:
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "HOTLINE_ADMIN_KEY": ADMIN_KEY,
            "HOTLINE_SCHEDULER": "off",
            "HOTLINE_WEBHOOKS": "off",
            "HOTLINE_LOG_LEVEL": "WARNING",
        }
        hotline = Path(sys.executable).parent / "hotline"
        log_path = Path(tempfile.gettempdir()) / f"hotline-soak-{args.db}-{port}.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [str(hotline), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            return run(args, proc, base, log_path, out_dir)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


def run(
    args: argparse.Namespace, proc: subprocess.Popen[bytes], base: str, log_path: Path, out_dir: Path
) -> int:
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None or time.monotonic() > deadline:
            print(log_path.read_text()[-3000:], file=sys.stderr)
            return 2
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    keys = setup(base)
    stats = Stats()
    rss: list[tuple[float, int]] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            kb = rss_kb(proc.pid)
            if kb:
                rss.append((time.monotonic(), kb))
            stop.wait(2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    numbers = iter(range(1, 10_000_000))
    lock = threading.Lock()
    started = time.monotonic()
    until = started + args.minutes * 60
    workers = [Worker(base, keys, stats, args.seed + i, numbers, lock) for i in range(args.workers)]
    threads = [threading.Thread(target=w.run, args=(until,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    stop.set()
    sampler.join()

    total = sum(len(v) for v in stats.latency.values())
    routes = {
        r: {"n": len(v), "p50_ms": round(pct(v, 50) * 1000, 2), "p99_ms": round(pct(v, 99) * 1000, 2)}
        for r, v in sorted(stats.latency.items())
    }
    health = stats.latency.get("GET /healthz", [])
    base_p99 = pct(health, 99) * 1000
    # RSS growth: the mean of the last window's samples against the first window's (a minute,
    # or a quarter of a shorter run)
    window = min(60.0, args.minutes * 60 / 4)
    first = [kb for t, kb in rss if t - started <= window] or [kb for _, kb in rss[:1]]
    last = [kb for t, kb in rss if until - t <= window] or [kb for _, kb in rss[-1:]]
    rss_start = round(sum(first) / len(first) / 1024, 1) if first else None
    rss_end = round(sum(last) / len(last) / 1024, 1) if last else None
    rss_max = round(max(kb for _, kb in rss) / 1024, 1) if rss else None

    print(
        f"soak on {args.db}: {args.minutes} min, {args.workers} workers, {total} requests, "
        f"{total / elapsed:.1f} req/s, errors {len(stats.errors)}"
    )
    print(f"{'route':40} {'n':>7} {'p50 ms':>9} {'p99 ms':>9} {'p99/healthz':>12}")
    for r, v in routes.items():
        ratio = v["p99_ms"] / base_p99 if base_p99 else 0
        print(f"{r:40} {v['n']:>7} {v['p50_ms']:>9} {v['p99_ms']:>9} {ratio:>12.1f}")
    print(
        f"server RSS MiB: first {window:.0f}s {rss_start}, last {window:.0f}s {rss_end}, max {rss_max}, "
        f"growth {None if rss_start is None else round((rss_end or 0) - rss_start, 1)}"
    )
    for e in stats.errors[:20]:
        print("error:", e)
    result = {
        "bench": "soak",
        "db": args.db,
        "minutes": args.minutes,
        "workers": args.workers,
        "requests": total,
        "throughput_rps": round(total / elapsed, 1),
        "errors": len(stats.errors),
        "routes": routes,
        "baseline": {
            "route": "GET /healthz",
            "p50_ms": round(pct(health, 50) * 1000, 2),
            "p99_ms": round(base_p99, 2),
        },
        "rss_mib": {
            "window_s": window,
            "first": rss_start,
            "last": rss_end,
            "max": rss_max,
            "growth": None if rss_start is None else round((rss_end or 0) - rss_start, 1),
            "samples": len(rss),
        },
    }
    line = json.dumps(result, ensure_ascii=False)
    (out_dir / f"soak-{args.db}.json").write_text(line + "\n", encoding="utf-8")
    print(line)
    return 0 if not stats.errors else 1


if __name__ == "__main__":
    sys.exit(main())
