"""Shared helpers of the benchmarks: throwaway databases, servers in subprocesses, output.

Every benchmark prints a readable table and ends with ONE JSON line
``{"bench", "db", "params", "metrics", "baseline", "ratio"}``, also written to
``bench/out/<bench>-<db>.json``.
"""

from __future__ import annotations

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
        throwaway_database(PG_SERVER + "/postgres" if kind == "postgres" else None,
                           "hotline_bench"))
    return url, stack.close


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(cmd: Sequence[str], env: dict[str, str], port: int, *, ready_path: str = "/",
                 timeout: float = 60.0, log_name: str = "server") -> subprocess.Popen[bytes]:
    """Start a server process and wait until it answers on `ready_path` (any status < 500)."""
    import httpx

    log = open(Path(tempfile.gettempdir()) / f"hotline-bench-{log_name}-{port}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(list(cmd), env={**os.environ, **env}, cwd=ROOT, stdout=log,
                            stderr=subprocess.STDOUT)
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
    out += ["  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in
                      enumerate(zip(r, widths, strict=True))) for r in text_rows]
    return "\n".join(out)


def emit(bench: str, db: str, params: dict[str, Any], metrics: dict[str, Any],
         baseline: dict[str, Any], ratio: float | None) -> dict[str, Any]:
    """Print the one JSON line and write it to bench/out/<bench>-<db>.json."""
    result = {"bench": bench, "db": db, "params": params, "metrics": metrics,
              "baseline": baseline, "ratio": None if ratio is None else round(ratio, 4)}
    line = json.dumps(result, ensure_ascii=False)
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    (out_dir / f"{bench}-{db}.json").write_text(line + "\n", encoding="utf-8")
    print(line, flush=True)
    return result
