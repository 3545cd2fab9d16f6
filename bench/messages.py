"""Voters' messages per second through the real public page (the page fetched for its
token, the form posted, the 303 to the tracking page) against a bare FastAPI form handler
that validates and inserts one row, measured in the same run on the same engine.

    .venv/bin/python bench/messages.py --db sqlite|postgres [--seconds 20] [--clients 8] [--rounds 4]

Each voter has its own phone and its own address, as voters scanning a code on their
phones do: the address comes as a proxy in front would give it (X-Forwarded-For, which
uvicorn believes from 127.0.0.1), and the service's limits are its defaults. So both
limits' counting queries run on every post and each counts what it would for a voter,
a few rows. (The bench once sent every post from 127.0.0.1 with the address limit raised
to a billion: each count then walked every post of the last minute, thousands of index
entries twice a post, which no voter's post costs, since a count stops at its limit.)
The voters are the lean keep-alive client of bench/_common.py (cookies kept, the token
read from the page), not httpx: on two cores the client shares the CPU with the server,
and httpx's millisecond of Python per request counted twice against the page (a GET and a
POST) and once against the bare handler. The server's own CPU per message (its process,
and on PostgreSQL every server process of the machine) is printed beside the throughput.
Both servers run side by side (the one not under load idles) and the load alternates
between them in `--rounds` slices of `--seconds / --rounds` each, page first: on a shared
machine whose speed drifts over a minute, each side meets the same drift. The ratio is of
the totals; each round's is printed too.
All voters scan one code, as at a reception: its page is served from the process's 5-second
page cache (app.services.codes.PageCache) after the first look-up, as it would be there;
every post still checks the code, both limits and the calendar in its own transaction.
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
import contextlib  # noqa: E402
import itertools  # noqa: E402
import re  # noqa: E402
import time  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

import httpx  # noqa: E402

from bench import _common as c  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
CONTENT = "小区门口的路灯坏了一个月，晚上出行很不方便，希望尽快修好。"


def prepare(url: str, port: int) -> str:
    """A deputy with a code, through the API of the running server; returns the code."""
    base = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {c.ADMIN_KEY}"}
    with httpx.Client(base_url=base, headers=admin, timeout=30) as api:
        r = api.post(
            "/api/v1/deputies",
            json={"name": "张三", "phone": "13800000001", "level": "city", "district": "heshan"},
        )
        r.raise_for_status()
        code = api.post(f"/api/v1/deputies/{r.json()['id']}/code/rotate").json()["public_code"]
    return str(code)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def _cookies(headers: list[tuple[str, str]], jar: dict[str, str]) -> None:
    for name, value in headers:
        if name == "set-cookie":
            pair = value.split(";", 1)[0]
            key, _, val = pair.partition("=")
            jar[key.strip()] = val.strip()


def _cookie_header(jar: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in jar.items())} if jar else {}


async def _run(clients: int, seconds: float, one: Any) -> dict[str, Any]:
    """`clients` copies of `one(k, record)` until the deadline; `record(ok, t0)` counts."""
    done, failed, latencies = 0, 0, []
    deadline = time.monotonic() + seconds

    def record(ok: bool, t0: float) -> None:
        nonlocal done, failed
        if ok:
            done += 1
            latencies.append((time.perf_counter() - t0) * 1000)
        else:
            failed += 1

    started = time.monotonic()
    await asyncio.gather(*(one(k, deadline, record) for k in range(clients)))
    took = time.monotonic() - started
    return {"done": done, "failed": failed, "took": took, "latencies": latencies}


# Every post of the run is a new voter: its own address and phone, across clients, the
# warm-up and the rounds (a sender's sixth post in ten minutes would be refused, 429).
_VOTERS = itertools.count(1)


async def voters(port: int, code: str, clients: int, seconds: float) -> dict[str, Any]:
    """Each client: fetch the page (token and cookie), post the form; repeat."""

    async def one(k: int, deadline: float, record: Any) -> None:
        conn = c.LeanConnection("127.0.0.1", port)
        jar: dict[str, str] = {}
        try:
            while time.monotonic() < deadline:
                i = next(_VOTERS)
                t0 = time.perf_counter()
                voter = {"X-Forwarded-For": f"10.{i // 62500 % 250}.{i // 250 % 250}.{i % 250 + 1}"}
                status, headers, page = await conn.request(
                    "GET", f"/d/{code}", {**voter, **_cookie_header(jar)}
                )
                _cookies(headers, jar)
                m = TOKEN.search(page.decode("utf-8", "replace"))
                body = urlencode(
                    {
                        "csrf_token": m.group(1) if m else "",
                        "content": CONTENT,
                        "name": "王五",
                        "phone": f"13{i:09d}",
                        "consent": "yes",
                    }
                ).encode("ascii")
                status, headers, _ = await conn.request(
                    "POST", f"/d/{code}", {**voter, **FORM, **_cookie_header(jar)}, body
                )
                _cookies(headers, jar)
                record(status == 303, t0)
        finally:
            await conn.close()

    return await _run(clients, seconds, one)


async def bare(port: int, clients: int, seconds: float) -> dict[str, Any]:
    async def one(k: int, deadline: float, record: Any) -> None:
        conn = c.LeanConnection("127.0.0.1", port)
        i = 0
        try:
            while time.monotonic() < deadline:
                i += 1
                t0 = time.perf_counter()
                body = urlencode({"content": CONTENT, "name": "王五", "phone": f"13{k:03d}{i:06d}"})
                status, _, _ = await conn.request("POST", "/form", FORM, body.encode("ascii"))
                record(status == 303, t0)
        finally:
            await conn.close()

    return await _run(clients, seconds, one)


def measured(server: Any, db: str, load: Any) -> dict[str, Any]:
    """One slice of load: its counts, latencies and the CPU the server (and PostgreSQL) spent."""
    cpu0 = c.tree_cpu_seconds(server.pid) + (c.postgres_cpu_seconds() if db == "postgres" else 0.0)
    result: dict[str, Any] = asyncio.run(load)
    cpu1 = c.tree_cpu_seconds(server.pid) + (c.postgres_cpu_seconds() if db == "postgres" else 0.0)
    result["cpu_s"] = cpu1 - cpu0
    return result


def totals(slices: list[dict[str, Any]]) -> dict[str, Any]:
    """A side's figures over all its slices."""
    done = sum(s["done"] for s in slices)
    took = sum(s["took"] for s in slices)
    latencies = [x for s in slices for x in s["latencies"]]
    return {
        "per_s": done / took if took else 0.0,
        "done": done,
        "failed": sum(s["failed"] for s in slices),
        "p50_ms": round(c.percentile(latencies, 50), 1),
        "p99_ms": round(c.percentile(latencies, 99), 1),
        "server_cpu_ms": round(sum(s["cpu_s"] for s in slices) * 1000 / done, 2) if done else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    ap.add_argument("--seconds", type=float, default=20.0, help="load time of each side")
    ap.add_argument("--clients", type=int, default=8, help="concurrent voters")
    ap.add_argument("--rounds", type=int, default=4, help="alternating slices of each side's load")
    args = ap.parse_args()

    rounds = max(1, args.rounds)
    slice_s = args.seconds / rounds
    # Whatever stops the run, both servers stop and the database is dropped.
    with contextlib.ExitStack() as cleanup:
        url, drop = c.fresh_database(args.db)
        cleanup.callback(drop)
        port = c.free_port()
        server = c.start_server(
            [str(c.VENV_BIN / "hotline"), "serve", "--port", str(port)],
            {
                "DATABASE_URL": url,
                "HOTLINE_ADMIN_KEY": c.ADMIN_KEY,
                "HOTLINE_SCHEDULER": "off",
                "HOTLINE_WEBHOOKS": "off",
                "HOTLINE_LOG_LEVEL": "WARNING",
            },
            port,
            ready_path="/healthz",
            log_name="messages",
        )
        cleanup.callback(c.stop, server)
        code = prepare(url, port)
        base_port = c.free_port()
        base = c.start_server(
            [
                str(c.VENV_BIN / "python"),
                "-m",
                "uvicorn",
                "bench._bare_form:app",
                "--port",
                str(base_port),
                "--log-level",
                "warning",
            ],
            {"DATABASE_URL": url},
            base_port,
            ready_path="/healthz",
            log_name="bare-form",
        )
        cleanup.callback(c.stop, base)
        asyncio.run(voters(port, code, args.clients, 2.0))  # warm-up
        asyncio.run(bare(base_port, args.clients, 2.0))
        pages: list[dict[str, Any]] = []
        bares: list[dict[str, Any]] = []
        for _ in range(rounds):
            pages.append(measured(server, args.db, voters(port, code, args.clients, slice_s)))
            bares.append(measured(base, args.db, bare(base_port, args.clients, slice_s)))

    real, baseline = totals(pages), totals(bares)
    per_round = [
        round((p["done"] / p["took"]) / (b["done"] / b["took"]), 2) if b["done"] else None
        for p, b in zip(pages, bares, strict=True)
    ]
    ratio = real["per_s"] / baseline["per_s"] if baseline["per_s"] else None
    print(
        f"\nmessages, {args.db}: {args.clients} concurrent voters, {args.seconds:.0f} s each side "
        f"in {rounds} alternating rounds"
    )
    print(
        c.table(
            ["what", "per s", "done", "refused", "p50 ms", "p99 ms", "server CPU ms/msg"],
            [
                [
                    "public page: GET token + POST form",
                    round(real["per_s"], 1),
                    real["done"],
                    real["failed"],
                    real["p50_ms"],
                    real["p99_ms"],
                    real["server_cpu_ms"],
                ],
                [
                    "bare FastAPI form handler (POST)",
                    round(baseline["per_s"], 1),
                    baseline["done"],
                    baseline["failed"],
                    baseline["p50_ms"],
                    baseline["p99_ms"],
                    baseline["server_cpu_ms"],
                ],
            ],
        )
    )
    print(f"public page / bare handler: {ratio:.2f}  (target >= 0.5)" if ratio else "no ratio")
    print("each round's ratio: " + ", ".join(str(r) for r in per_round))
    if real["server_cpu_ms"] and baseline["server_cpu_ms"]:
        print(
            "server CPU per message, bare handler / public page: "
            f"{baseline['server_cpu_ms'] / real['server_cpu_ms']:.2f}"
            + (" (PostgreSQL's processes included)" if args.db == "postgres" else "")
        )
    c.emit(
        "messages",
        args.db,
        {"seconds": args.seconds, "clients": args.clients, "rounds": rounds},
        {k: round(v, 2) if isinstance(v, float) else v for k, v in real.items()},
        {k: round(v, 2) if isinstance(v, float) else v for k, v in baseline.items()},
        ratio,
    )


if __name__ == "__main__":
    main()
