"""Burst: N concurrent mixed writes at once against the real server; worst latency, mix.

    python bench/burst.py --db sqlite --requests 200      # or --db postgres

Starts `hotline serve` on a throwaway database, sets up a city, a ticket that every kind
of action aims at, 40 other tickets and an intake whose `hotline_no` is then reused with
another body. Then fires --requests writes at once (actions on the one ticket, contacts
on the others, conflicting intakes, intakes naming an unknown unit, new deputies, deputies
whose phone is taken, unit upserts) while a probe asks /healthz every 50 ms.

Every answer must be a contract status or a 503 with Retry-After (anything else, a
transport error or no answer within 30 s counts as an error). Prints the status mix per
kind of request, the worst and p99 latency, the worst /healthz latency, and as the
baseline the latency of one POST /api/v1/deputies alone, measured in the same run (ratio:
the burst's worst latency over it). The last line is the JSON of bench/_common.emit.
"""

from __future__ import annotations

import os
import sys

# bench/calendar.py is named like the standard library's `calendar`: keep this folder off
# sys.path when run as `python bench/burst.py`.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _HERE]
if os.path.dirname(_HERE) not in sys.path:
    sys.path.insert(0, os.path.dirname(_HERE))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import datetime, timedelta  # noqa: E402
from typing import Any  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import httpx  # noqa: E402

from bench._common import (  # noqa: E402
    ADMIN_KEY,
    VENV_BIN,
    emit,
    free_port,
    fresh_database,
    percentile,
    start_server,
    stop,
    table,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
CONTRACT = {200, 201, 204, 403, 404, 409, 422}
UNITS = {
    "water-bureau": ("department", None),
    "housing-bureau": ("department", None),
    "heshan-gov": ("district_government", "heshan"),
    "urban-env-committee": ("special_committee", None),
}


def ticket_body(no: str, **over: Any) -> dict[str, Any]:
    now = datetime.now(SHANGHAI)
    body = {
        "hotline_no": no,
        "deputy_call": True,
        "called_at": (now - timedelta(minutes=30)).isoformat(),
        "caller": {"name": "张三", "phone": "13800000001"},
        "category": "water",
        "content": "小区停水三天",
        "district": "heshan",
        "units": ["water-bureau"],
    }
    return {**body, **over}


def setup(c: httpx.Client) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    for code, (kind, district) in UNITS.items():
        c.put(
            f"/api/v1/units/{code}", headers=admin, json={"name": code, "kind": kind, "district": district}
        ).raise_for_status()
    c.put(
        "/api/v1/categories/water",
        headers=admin,
        json={"name": "供水", "default_lead_unit": "water-bureau", "committee_unit": "urban-env-committee"},
    ).raise_for_status()
    keys = {"admin": ADMIN_KEY}
    for who in ("hotline", "liaison", "water-bureau", "heshan-gov"):
        role = who if who in ("hotline", "liaison") else "unit"
        r = c.post(
            "/api/v1/keys",
            headers=admin,
            json={"role": role, "label": f"burst {who}", **({"unit_code": who} if role == "unit" else {})},
        )
        r.raise_for_status()
        keys[who] = r.json()["key"]
    c.post(
        "/api/v1/deputies", headers=admin, json={"name": "张三", "phone": "13800000001", "level": "city"}
    ).raise_for_status()
    return keys


def plan(c: httpx.Client, keys: dict[str, str], n: int) -> list[tuple[str, str, str, str, Any]]:
    """(who, kind, method, path, body) for n requests, shuffled."""
    h = {"Authorization": f"Bearer {keys['hotline']}"}
    hot = c.post(
        "/api/v1/tickets",
        headers=h,
        json=ticket_body("BURST-HOT", units=["water-bureau", "heshan-gov"], lead_unit="water-bureau"),
    )
    hot.raise_for_status()
    base = f"/api/v1/tickets/{hot.json()['id']}"
    others = []
    for i in range(40):
        r = c.post("/api/v1/tickets", headers=h, json=ticket_body(f"BURST-{i:04d}"))
        r.raise_for_status()
        others.append(r.json()["id"])
    taken = ticket_body("BURST-TAKEN")
    c.post("/api/v1/tickets", headers=h, json=taken).raise_for_status()
    kinds: list[tuple[str, str, str, str, Any]] = [
        ("water-bureau", "contact", "POST", f"{base}/contact", {"method": "phone", "deputy_invited": False}),
        ("heshan-gov", "opinion", "POST", f"{base}/opinions", {"content": "同意"}),
        ("water-bureau", "resolve", "POST", f"{base}/resolve", {"outcome": "solved", "reply": "已解决"}),
        ("water-bureau", "feedback", "POST", f"{base}/feedback", {"method": "phone", "content": "已反馈"}),
        ("water-bureau", "return", "POST", f"{base}/return", {"reason": "不属于本单位"}),
        (
            "water-bureau",
            "extension",
            "POST",
            f"{base}/extensions",
            {"working_days": 2, "reason": "需要协调"},
        ),
        ("hotline", "rating", "POST", f"{base}/rating", {"rating": "satisfied"}),
        ("hotline", "dispatch", "POST", f"{base}/dispatch", {"units": ["housing-bureau"]}),
    ]
    calls: list[tuple[str, str, str, str, Any]] = []
    share = max(1, n // 5)
    calls += [kinds[i % len(kinds)] for i in range(share)]  # one ticket
    calls += [
        (
            "water-bureau",
            "other-contact",
            "POST",
            f"/api/v1/tickets/{others[i % 40]}/contact",
            {"method": "phone", "deputy_invited": False},
        )
        for i in range(share)
    ]  # many
    calls += [
        ("hotline", "conflicting-intake", "POST", "/api/v1/tickets", {**taken, "content": f"另一个内容 {i}"})
        for i in range(share // 2)
    ]
    calls += [
        (
            "hotline",
            "unknown-unit",
            "POST",
            "/api/v1/tickets",
            ticket_body(f"BURST-U{i:04d}", units=["no-such-unit"]),
        )
        for i in range(share // 2)
    ]
    calls += [
        (
            "liaison",
            "deputy",
            "POST",
            "/api/v1/deputies",
            {"name": f"代表{i}", "phone": f"1390000{i:04d}", "level": "city"},
        )
        for i in range(share)
    ]
    i = 0
    while len(calls) < n:
        calls.append(
            ("admin", "unit", "PUT", f"/api/v1/units/burst-{i}", {"name": f"单位{i}", "kind": "department"})
        )
        i += 1
    random.Random(13).shuffle(calls)
    return calls[:n]


def probe(base: str, done: Any, out: Any) -> None:
    """/healthz every 50 ms from a process of its own, so that the load generator's own
    work does not count as the server's latency."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=5) as client:
        while not done.is_set():
            t0 = time.monotonic()
            with contextlib.suppress(httpx.HTTPError):
                client.get("/healthz")
            latencies.append(time.monotonic() - t0)
            time.sleep(0.05)
    out.put(latencies)


async def fire(
    base: str, keys: dict[str, str], calls: list[tuple[str, str, str, str, Any]]
) -> list[tuple[str, int | str, float, bool]]:
    limits = httpx.Limits(max_connections=len(calls) + 4, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def one(
            who: str, kind: str, method: str, path: str, body: Any
        ) -> tuple[str, int | str, float, bool]:
            t0 = time.monotonic()
            try:
                r = await client.request(
                    method, path, json=body, headers={"Authorization": f"Bearer {keys[who]}"}
                )
            except httpx.HTTPError as exc:
                return kind, type(exc).__name__, time.monotonic() - t0, False
            ok = r.status_code in CONTRACT or (
                r.status_code == 503 and r.headers.get("retry-after", "").isdigit()
            )
            return kind, r.status_code, time.monotonic() - t0, ok

        return list(await asyncio.gather(*(one(*c) for c in calls)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--requests", type=int, default=200, help="concurrent writes")
    args = parser.parse_args()

    url, drop = fresh_database(args.db)
    port = free_port()
    env = {
        "DATABASE_URL": url,
        "HOTLINE_ADMIN_KEY": ADMIN_KEY,
        "HOTLINE_SCHEDULER": "false",
        "HOTLINE_WEBHOOKS": "false",
        "HOTLINE_LOG_LEVEL": "WARNING",
    }
    proc = start_server(
        [str(VENV_BIN / "hotline"), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env,
        port,
        ready_path="/healthz",
        log_name="burst",
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=30) as c:
            keys = setup(c)
            calls = plan(c, keys, args.requests)
            singles = []
            for i in range(5):  # the baseline: one registry write alone
                t0 = time.monotonic()
                c.post(
                    "/api/v1/deputies",
                    headers={"Authorization": f"Bearer {ADMIN_KEY}"},
                    json={"name": f"基线{i}", "phone": f"1370000{i:04d}", "level": "city"},
                ).raise_for_status()
                singles.append(time.monotonic() - t0)
        queue: multiprocessing.Queue[list[float]] = multiprocessing.Queue()
        done = multiprocessing.Event()
        prober = multiprocessing.Process(target=probe, args=(base, done, queue))
        prober.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        results = asyncio.run(fire(base, keys, calls))
        burst_s = time.monotonic() - t0
        done.set()
        health = queue.get(timeout=30)
        prober.join(10)
        with httpx.Client(base_url=base, timeout=10) as c:
            hot = c.get(
                "/api/v1/tickets/by-hotline-no/BURST-HOT",
                headers={"Authorization": f"Bearer {keys['liaison']}"},
            )
    finally:
        stop(proc)
        drop()

    latencies = [t for _, _, t, _ in results]
    mix: dict[str, Counter[str]] = {}
    for kind, status, _, _ in results:
        mix.setdefault(kind, Counter())[str(status)] += 1
    errors = sum(1 for *_, ok in results if not ok)
    overall = Counter(str(s) for _, s, _, _ in results)
    print(
        table(
            ["kind", "requests", "statuses"],
            [
                (k, sum(c.values()), ", ".join(f"{s}×{n}" for s, n in sorted(c.items())))
                for k, c in sorted(mix.items())
            ],
        )
    )
    worst = max(latencies)
    baseline = percentile(singles, 50)
    print()
    print(
        table(
            ["metric", "value"],
            [
                ("requests at once", len(results)),
                ("whole burst (s)", round(burst_s, 3)),
                ("errors (not contract, not 503+Retry-After)", errors),
                ("status mix", ", ".join(f"{s}×{n}" for s, n in sorted(overall.items()))),
                ("worst latency (s)", round(worst, 3)),
                ("p99 latency (s)", round(percentile(latencies, 99), 3)),
                ("p50 latency (s)", round(percentile(latencies, 50), 3)),
                ("/healthz worst (s)", round(max(health), 3)),
                ("/healthz probes", len(health)),
                ("hot ticket after", f"{hot.status_code} {hot.json().get('status', '')}"),
                ("baseline: one POST /deputies alone (s)", round(baseline, 4)),
            ],
        )
    )
    emit(
        "burst",
        args.db,
        {"requests": args.requests},
        {
            "worst_s": round(worst, 3),
            "p99_s": round(percentile(latencies, 99), 3),
            "p50_s": round(percentile(latencies, 50), 3),
            "burst_s": round(burst_s, 3),
            "errors": errors,
            "status": dict(sorted(overall.items())),
            "healthz_worst_s": round(max(health), 3),
            "hot_ticket_status": hot.status_code,
        },
        {"single_deputy_post_s": round(baseline, 4)},
        worst / baseline if baseline else None,
    )
    if errors or hot.status_code != 200:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
