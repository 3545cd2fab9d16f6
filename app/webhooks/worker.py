"""Background delivery of webhooks from the outbox.

Every process with HOTLINE_WEBHOOKS on runs one loop thread: about once a second (or
as soon as a batch finishes) it claims due rows and hands each unit's batch to a small
thread pool. A unit has at most one batch in flight per process, so a slow or dead
endpoint only ever occupies one pool thread and delays only its own unit; a batch stops
at its first failure and gives the rest back. No database transaction is open during
an HTTP call, and the API's request threads never wait on any of this.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from functools import partial

import httpx

from app.observability import DELIVERY_FAILURES
from app.state import AppState
from app.webhooks import outbox, signing
from app.webhooks.targets import NotPublic, Refused, check_public

log = logging.getLogger("hotline.webhooks")

# Connect quickly or give up; a receiver gets 10 s to read the request and answer.
TIMEOUT = httpx.Timeout(10.0, connect=3.0, pool=5.0)
POOL_THREADS = 8
PER_UNIT_BATCH = 10
POLL_SECONDS = 1.0
MAX_RESPONSE_BYTES = 64 * 1024
MAX_BODY_SECONDS = 15.0


def make_client(**kwargs: object) -> httpx.Client:
    """One client per worker: keeps connections to each unit's server alive between posts."""
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        limits=httpx.Limits(max_connections=4 * POOL_THREADS, max_keepalive_connections=2 * POOL_THREADS),
        **kwargs,  # type: ignore[arg-type]
    )


def attempt(
    state: AppState,
    client: httpx.Client,
    batch: outbox.Batch,
    row: outbox.Claimed,
    *,
    now: datetime | None = None,
) -> outbox.Outcome:
    """POST one delivery; never raises for the receiver's faults."""
    status: int | None = None
    error: str | None = None
    final = False
    started = time.perf_counter()
    try:
        if not batch.url:
            raise Refused(f"unit {batch.unit_code} has no webhook_url")
        if state.settings.webhook_deny_private:
            check_public(batch.url)
        # The signature's timestamp is wall time, whatever clock the service runs on.
        headers = signing.headers(row.id, int(time.time()), row.body, batch.secret)
        with client.stream("POST", batch.url, content=row.body.encode(), headers=headers) as resp:
            status = resp.status_code
            read = 0
            for chunk in resp.iter_bytes():  # drained (bounded) so the connection is reused
                read += len(chunk)
                if read > MAX_RESPONSE_BYTES or time.perf_counter() - started > MAX_BODY_SECONDS:
                    break  # the status is all we need; don't let a trickling body hold a thread
        if not 200 <= status < 300:
            error = f"HTTP {status}"
    except Refused as exc:
        error = f"refused: {exc}"
        final = isinstance(exc, NotPublic)
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration_ms = round((time.perf_counter() - started) * 1000, 2)
    return outbox.Outcome(
        at=now or state.clock.now(), status=status, error=error, duration_ms=duration_ms, final=final
    )


def send_batch(
    state: AppState, client: httpx.Client, batch: outbox.Batch, *, now: datetime | None = None
) -> int:
    """Attempt a unit's rows in order, stopping at the first failure; returns attempts made."""
    for i, row in enumerate(batch.rows):
        result = attempt(state, client, batch, row, now=now)
        retry_at = outbox.record(state, row, result)
        if result.ok:
            continue
        DELIVERY_FAILURES.inc()
        log.warning(
            "webhook attempt failed",
            extra={
                "delivery_id": row.id,
                "unit": batch.unit_code,
                "attempt": row.attempts + 1,
                "status": result.status,
                "error": result.error,
                "ms": result.duration_ms,
            },
        )
        # The endpoint is failing: the rest of the batch waits with the failed row.
        outbox.release(state, batch.rows[i + 1 :], at=retry_at or result.at)
        return i + 1
    return len(batch.rows)


class Worker:
    """Dispatches claimed batches to a thread pool, one batch in flight per unit."""

    def __init__(self, state: AppState, client: httpx.Client, *, threads: int = POOL_THREADS) -> None:
        self.state = state
        self.client = client
        self.threads = threads
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="webhook-send")
        self.busy: set[str] = set()
        self.running: set[Future[int]] = set()
        self.lock = threading.Lock()
        self.wake = threading.Event()

    def dispatch(self, now: datetime | None = None) -> int:
        """Claim what fits in the free threads and submit it; returns rows handed off."""
        with self.lock:
            free = self.threads - len(self.busy)
            skip = frozenset(self.busy)
        batches = outbox.claim_due(
            self.state,
            now=now or self.state.clock.now(),
            max_units=free,
            per_unit=PER_UNIT_BATCH,
            skip_units=skip,
        )
        for batch in batches:
            with self.lock:
                self.busy.add(batch.unit_code)
            future = self.pool.submit(send_batch, self.state, self.client, batch)
            with self.lock:
                self.running.add(future)
            future.add_done_callback(partial(self._done, batch.unit_code))
        return sum(len(b.rows) for b in batches)

    def _done(self, unit: str, future: Future[int]) -> None:
        with self.lock:
            self.busy.discard(unit)
            self.running.discard(future)
        if not future.cancelled() and future.exception() is not None:
            log.error("webhook batch crashed", exc_info=future.exception(), extra={"unit": unit})
        self.wake.set()  # that unit may have more due right away

    def shutdown(self, grace_seconds: float = 5.0) -> None:
        """Drop queued batches and give running attempts a moment to finish and record."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        with self.lock:
            running = set(self.running)
        wait(running, timeout=grace_seconds)


def deliver_due(
    state: AppState, *, client: httpx.Client, now: datetime | None = None, worker: Worker | None = None
) -> int:
    """One pass over the outbox.

    Alone (tests, one-off runs) it claims every due row, attempts them (units in
    parallel) and waits, returning the attempts made. The background loop passes its
    Worker, which runs the attempts on its pool; the call then returns the rows handed off.
    """
    if worker is not None:
        return worker.dispatch(now)
    batches = outbox.claim_due(state, now=now or state.clock.now(), max_units=10_000, per_unit=10_000)
    if not batches:
        return 0
    with ThreadPoolExecutor(min(POOL_THREADS, len(batches))) as pool:
        futures = [pool.submit(send_batch, state, client, b, now=now) for b in batches]
        return sum(f.result() for f in futures)


def start_worker(state: AppState) -> Callable[[], None]:
    """Start the delivery loop thread; returns the function that stops it."""
    client = make_client()
    worker = Worker(state, client)
    stopping = threading.Event()

    def loop() -> None:
        while not stopping.is_set():
            worker.wake.clear()
            try:
                deliver_due(state, client=client, worker=worker)
            except Exception:  # the database may be away for a while: keep trying
                log.exception("webhook pass failed")
            worker.wake.wait(POLL_SECONDS)

    thread = threading.Thread(target=loop, name="webhook-loop", daemon=True)
    thread.start()

    def stop() -> None:
        stopping.set()
        worker.wake.set()
        thread.join(timeout=5)
        # Attempts still running after the grace period are cut off by closing the client;
        # rows not recorded stay leased and are retried after the lease (never lost).
        worker.shutdown()
        client.close()

    return stop
