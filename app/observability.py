"""Metrics (Prometheus) and structured JSON logs with a request id."""

from __future__ import annotations

import itertools
import logging
import os
import re
import sys
import time
import uuid
from typing import Any

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.services.privacy import mask_phones

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "hotline_http_requests_total", "HTTP requests", ["method", "route", "status"], registry=REGISTRY
)
LATENCY = Histogram(
    "hotline_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
TICKETS_INGESTED = Counter("hotline_tickets_ingested_total", "Tickets newly received", registry=REGISTRY)
CLOCKS_BREACHED = Counter(
    "hotline_clocks_breached_total", "Clock breaches recorded by sweeps", registry=REGISTRY
)
CLOCKS_WARNED = Counter("hotline_clocks_warned_total", "Clock warnings recorded by sweeps", registry=REGISTRY)
SUPERVISIONS_OPENED = Counter(
    "hotline_supervisions_opened_total", "Supervision cases opened by sweeps", registry=REGISTRY
)
SWEEP_SECONDS = Histogram(
    "hotline_sweep_duration_seconds",
    "SLA sweep duration",
    registry=REGISTRY,
    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60),
)
CALENDAR_NEXT_YEAR_MISSING = Gauge(
    "hotline_calendar_next_year_missing",
    "1 from November on while next year's working calendar is not loaded",
    registry=REGISTRY,
)
OUTBOX_BACKLOG = Gauge("hotline_webhook_outbox_backlog", "Webhook deliveries pending", registry=REGISTRY)
DELIVERY_FAILURES = Counter(
    "hotline_webhook_delivery_failures_total", "Failed webhook delivery attempts", registry=REGISTRY
)


def record_sweep(result: Any, seconds: float) -> None:
    SWEEP_SECONDS.observe(seconds)
    CLOCKS_BREACHED.inc(result.breached)
    CLOCKS_WARNED.inc(result.warned)
    SUPERVISIONS_OPENED.inc(result.supervisions_opened)


class JsonFormatter(logging.Formatter):
    _skip = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": mask_phones(record.getMessage()),
        }
        for k, v in record.__dict__.items():
            if k not in self._skip and not k.startswith("_"):
                out[k] = v
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        # Masked on the finished line, so nested fields are covered too.
        return mask_phones(orjson.dumps(out, default=str).decode())


def configure_logging(level: str) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn.access",):
        logging.getLogger(name).disabled = True  # replaced by our one line per request


access_log = logging.getLogger("hotline.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,100}")
# A random prefix, the process id (forked workers share the prefix) and a counter: unique
# across replicas, and cheaper than a uuid4 per request.
_ID_PREFIX = uuid.uuid4().hex[:12]
_ids = itertools.count(1)


def _new_request_id() -> str:
    return f"{_ID_PREFIX}{os.getpid():08x}{next(_ids):012x}"


class RequestObserver:
    """One JSON log line and the metrics for each request; echoes X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_id = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = raw_id if raw_id and _REQUEST_ID.fullmatch(raw_id) else _new_request_id()
        status = 500
        started = time.perf_counter()

        async def wrapped_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            REQUESTS.labels(method, path, str(status)).inc()
            LATENCY.labels(method, path).observe(elapsed)
            actor = (
                getattr(scope.get("state", {}).get("actor"), "name", None)
                if isinstance(scope.get("state"), dict)
                else None
            )
            access_log.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": method,
                    "route": path,
                    "status": status,
                    "ms": round(elapsed * 1000, 2),
                    "actor": actor,
                },
            )
