"""Shared helpers of the benchmarks: throwaway databases, servers in subprocesses, output.

Every benchmark prints a readable table and ends with ONE JSON line
``{"bench", "db", "params", "metrics", "baseline", "ratio"}``, also written to
``bench/out/<bench>-<db>.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PG_SERVER = os.environ.get("HOTLINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432")
ADMIN_KEY = "bench-admin-key-0123456789abcdef"
VENV_BIN = ROOT / ".venv" / "bin"


def fresh_database(kind: str) -> tuple[str, Callable[[], None]]:
    """A new empty database of this kind and a function that drops it."""
    if kind not in ("sqlite", "postgres"):
        raise SystemExit(f"--db must be sqlite or postgres, not {kind}")
    from tests.support import throwaway_database

    stack = contextlib.ExitStack()
    url = stack.enter_context(
        throwaway_database(PG_SERVER + "/postgres" if kind == "postgres" else None, "hotline_bench")
    )
    return url, stack.close


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    cmd: Sequence[str],
    env: dict[str, str],
    port: int,
    *,
    ready_path: str = "/",
    timeout: float = 60.0,
    log_name: str = "server",
) -> subprocess.Popen[bytes]:
    """Start a server process and wait until it answers on `ready_path` (any status < 500)."""
    import httpx

    log = open(Path(tempfile.gettempdir()) / f"hotline-bench-{log_name}-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        list(cmd), env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{cmd[0]} exited with {proc.returncode}; see {log.name}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{ready_path}", timeout=1.0).status_code < 500:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop(proc)
    raise RuntimeError(f"{cmd[0]} did not answer within {timeout} s; see {log.name}")


def hotline_server(url: str, port: int, log_name: str, *args: str) -> subprocess.Popen[bytes]:
    """`hotline serve` on this database (scheduler and webhooks off, the bench admin key),
    answering on /healthz; `args` go to `hotline serve` (e.g. --workers 2)."""
    return start_server(
        [str(VENV_BIN / "hotline"), "serve", "--port", str(port), *args],
        {
            "DATABASE_URL": url,
            "HOTLINE_ADMIN_KEY": ADMIN_KEY,
            "HOTLINE_SCHEDULER": "off",
            "HOTLINE_WEBHOOKS": "off",
            "HOTLINE_LOG_LEVEL": "WARNING",
        },
        port,
        ready_path="/healthz",
        log_name=log_name,
    )


def kept_database(db: str, url: str | None, *, sqlite_file: str, pg_url: str) -> str:
    """A fresh migrated database left for inspection after the run: `bench/out/<sqlite_file>`,
    or the PostgreSQL database at `url` (default `pg_url`), dropped and created anew."""
    from sqlalchemy import create_engine, text

    from app.migrate import upgrade

    if db == "sqlite":
        out = HERE / "out"
        out.mkdir(parents=True, exist_ok=True)
        path = out / sqlite_file
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        url = url or pg_url
        base, name = url.rsplit("/", 1)
        admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    upgrade(url)
    return url


class BulkWriter:
    """Buffers rows per table and inserts them in executemany batches of `batch`, the tables
    in `order` (parents before children: foreign keys); `counts` says how many per table."""

    def __init__(self, engine: Any, order: Sequence[Any], batch: int = 5000) -> None:
        self.engine = engine
        self.tables = [m.__table__ for m in order]
        self.batch = batch
        self.buf: dict[Any, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}

    def add(self, model: Any, row: dict[str, Any]) -> None:
        """One row of a model (or of its table)."""
        rows = self.buf.setdefault(getattr(model, "__table__", model), [])
        rows.append(row)
        if len(rows) >= self.batch:
            self.flush()

    def flush(self) -> None:
        """Everything buffered, in one transaction."""
        from sqlalchemy import insert

        with self.engine.begin() as conn:
            for table in self.tables:
                rows = self.buf.get(table)
                if rows:
                    conn.execute(insert(table), rows)
                    self.counts[table.name] = self.counts.get(table.name, 0) + len(rows)
                    self.buf[table] = []


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` calls, after one warm-up call (caches, statistics)."""
    fn()
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0..100), nearest-rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:,.2f}"
        if isinstance(v, int):
            return f"{v:,}"
        return str(v)

    text_rows = [[cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in text_rows)) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)), line]
    out += [
        "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
        for r in text_rows
    ]
    return "\n".join(out)


def emit(
    bench: str,
    db: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    baseline: dict[str, Any],
    ratio: float | None,
) -> dict[str, Any]:
    """Print the one JSON line and write it to bench/out/<bench>-<db>.json."""
    result = {
        "bench": bench,
        "db": db,
        "params": params,
        "metrics": metrics,
        "baseline": baseline,
        "ratio": None if ratio is None else round(ratio, 4),
    }
    line = json.dumps(result, ensure_ascii=False)
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"{bench}-{db}.json").write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
    return result


# --- lean load generation and CPU accounting ---------------------------------------------
#
# On a two-core machine the load generator shares the CPU with the server under test, and
# httpx spends about a millisecond of Python per request: enough to dominate a cheap
# endpoint's latency. The client below writes pre-built HTTP/1.1 requests on keep-alive
# connections and reads only the status line and Content-Length.


class LeanConnection:
    """One keep-alive HTTP/1.1 connection sending requests with fixed headers."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def get(self, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
        status, _, body = await self.request("GET", path, headers)
        return status, body

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """Status, the response's headers (names in lower case) and its body."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\n"
            + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
            + (f"Content-Length: {len(body)}\r\n" if body or method != "GET" else "")
            + "\r\n"
        )
        self.writer.write(head.encode("latin-1") + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        answered: list[tuple[str, str]] = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            answered.append((name, value))
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                raise RuntimeError("chunked responses are not supported by the lean client")
        content = await self.reader.readexactly(length) if length else b""
        if ("connection", "close") in answered:
            await self.close()
            self.reader = self.writer = None
        return status, answered, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(Exception):
                await self.writer.wait_closed()


async def lean_load(
    host: str,
    port: int,
    targets: Sequence[tuple[str, dict[str, str]]],
    *,
    clients: int,
    seconds: float,
    interval: float | None = None,
    expect: tuple[int, ...] = (200, 304),
) -> dict[str, Any]:
    """`clients` connections cycling through `targets` for `seconds`.

    interval=None: closed loop, each client sends its next request when the last answers
    (saturation). interval=T: each client sends one request every T seconds on a fixed
    schedule, and latency counts from the scheduled time, so a stall is not hidden by the
    client waiting it out (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    statuses: dict[int, int] = {}
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds

    async def client(k: int) -> None:
        nonlocal errors
        conn = LeanConnection(host, port)
        i = k
        # Spread the clients' schedules over one interval.
        scheduled = started + (interval * k / clients if interval else 0.0)
        try:
            while True:
                if interval:
                    delay = scheduled - loop.time()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    t0 = scheduled
                    scheduled += interval
                else:
                    t0 = loop.time()
                if t0 >= deadline:
                    return
                path, headers = targets[i % len(targets)]
                i += clients
                try:
                    status, _ = await conn.get(path, headers)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    errors += 1
                    await conn.close()
                    conn = LeanConnection(host, port)
                    continue
                latencies.append(loop.time() - t0)
                statuses[status] = statuses.get(status, 0) + 1
                if status not in expect:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = loop.time() - started
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "rps": round(n / elapsed, 1),
        "p50_ms": round(percentile(latencies, 50) * 1000, 2) if n else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 2) if n else None,
        "errors": errors,
        "status": {str(k): v for k, v in sorted(statuses.items())},
    }


def _ticks(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
    except OSError:
        return 0
    # utime, stime, cutime, cstime (fields 14-17; index 11-14 after the command name)
    return sum(int(x) for x in fields[11:15])


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo += [int(c) for c in task.read_text().split()]
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU time used so far by a process and its descendants (live ones)."""
    return sum(_ticks(p) for p in _tree(pid)) / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process (the benchmark is the only client)."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            raw = stat.read_bytes()
            if b"(postgres)" in raw[:60]:
                total += _ticks(int(stat.parent.name))
    return total / os.sysconf("SC_CLK_TCK")
