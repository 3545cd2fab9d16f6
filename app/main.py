"""create_app(): lifespan, middleware, routers, error handlers."""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import generate_latest
from sqlalchemy import text

from app import openapi, pages
from app.allow import ShadowedMethods
from app.auth import bearer_token
from app.clock import Clock
from app.config import Settings, get_settings
from app.errors import Forbidden, Unauthorized, install_handlers
from app.middleware import RequestGuard
from app.observability import (
    CALENDAR_NEXT_YEAR_MISSING,
    REGISTRY,
    RequestObserver,
    configure_logging,
)
from app.routers import (
    accounts,
    actions,
    calendar,
    duty,
    invitations,
    messages,
    queue,
    registry,
    reports,
    stations,
    supervision,
    tickets,
    webhooks,
)
from app.state import AppState, build_state

log = logging.getLogger("hotline")

DESCRIPTION = """Tracks the tickets people's-congress deputies raise on the city's 12345
government hotline: routing to a lead unit and co-handlers, time limits on the Chinese
working calendar, supervision when a deputy is unsatisfied, unit queues and reports.

Authenticate with `Authorization: Bearer <key>`. Errors are `application/problem+json`:
an unparsable body is 400 (before a 403, as the body is read first; 401 without a valid
key), an invalid one 422 naming each field (a deputies import that is not CSV: 415); a
method a path does not list is 405 with `Allow` naming those it does; a saturated service
answers 503 with `Retry-After`."""


def create_app(
    settings: Settings | None = None,
    *,
    clock: Clock | None = None,
    state: AppState | None = None,
    background: bool = True,
) -> FastAPI:
    """The ASGI app; `background=False` keeps the scheduler and webhook worker off (tests)."""
    settings = settings or get_settings()
    state = state or build_state(settings, clock)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Request threads never outnumber the pooled connections: past the pool, every
        # request would open and close a database connection of its own (on PostgreSQL a
        # new backend, ~2.5 ms of its CPU per poll at 50 clients); they queue instead.
        # Waiting for a thread is safe because no request holds a connection while it
        # waits: each ends its transaction in the thread that did its work (app.deps), and
        # the queue is bounded by the admission gates (app.admission).
        anyio.to_thread.current_default_thread_limiter().total_tokens = settings.db_pool_size
        stoppers: list[Any] = []
        if background:
            if not settings.admin_key:
                log.warning(
                    "HOTLINE_ADMIN_KEY is not set: no admin key works until one is "
                    "set or created with `hotline keys create --role admin`"
                )
            # The working calendar's first build (about a second) at start-up, not in the
            # first request that needs it.
            await anyio.to_thread.run_sync(_warm_calendar, state)
        if background and settings.scheduler:
            from app.jobs.scheduler import start_scheduler

            scheduler = start_scheduler(state)
            stoppers.append(lambda: scheduler.shutdown(wait=False))
        if background and settings.webhooks:
            from app.webhooks.worker import start_worker

            stoppers.append(start_worker(state))
        try:
            yield
        finally:
            for stop in reversed(stoppers):
                stop()
            state.db.dispose()

    app = FastAPI(
        title="deputy-hotline",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        # The service reports through /metrics (Prometheus) and its JSON log lines; left on,
        # FastAPI's OpenTelemetry hook would look up the global providers on every request
        # to find that none is configured.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.hotline = state
    install_handlers(app)
    # Routes are matched in order: the polled and posted ones first. The voters' public
    # pages (three patterns) go before all: matching walks every route ahead of a request's.
    from app.pages import public, tracking

    app.router.routes.extend(public.routes)
    app.include_router(tracking.router)
    for r in (
        queue,
        tickets,
        actions,
        registry,
        accounts,
        supervision,
        calendar,
        stations,
        messages,
        duty,
        invitations,
        reports,
        webhooks,
    ):
        app.include_router(r.router)
    if settings.docs:
        from app.routers import docs

        app.include_router(docs.router)
    _operations(app, state)
    pages.install(app)
    openapi.install(app)
    app.add_middleware(ShadowedMethods)
    app.add_middleware(queue.UnchangedPolls)
    app.add_middleware(RequestGuard, limit=settings.max_body_bytes)
    app.add_middleware(RequestObserver)
    return app


def _readiness(state: AppState) -> tuple[bool, dict[str, Any]]:
    """Readiness on the database's health engine, a connection of its own (app.db)."""
    from sqlalchemy.orm import Session

    from app.migrate import current_revision, head_revision, schema_is_usable
    from app.services.calendar_in_force import missing_next_year

    details: dict[str, Any] = {}
    try:
        with state.db.health.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = current_revision(conn)
        head = head_revision()
        details["database"] = "ok"
        details["migrations"] = {"current": current, "head": head}
        ready = schema_is_usable(current)
        with Session(state.db.health) as session:
            cal = state.calendars.current(session)
        today = state.clock.now().astimezone(state.settings.tz).date()
        missing = missing_next_year(cal, today)
        CALENDAR_NEXT_YEAR_MISSING.set(1 if missing else 0)
        if missing:
            details["warnings"] = [
                f"the working calendar for {missing} is not loaded: load it when the State "
                "Council publishes it (PUT /api/v1/calendar/{year})"
            ]
    except Exception as exc:  # readiness reports any failure rather than raising it
        details["database"] = f"error: {type(exc).__name__}"
        ready = False
    return ready, details


def _warm_calendar(state: AppState) -> None:
    try:
        with state.db.read_session() as session:
            state.calendars.current(session)
    except Exception:  # a database not reachable yet: the first request builds it then
        log.warning("could not build the working calendar at start-up", exc_info=True)


def _operations(app: FastAPI, state: AppState) -> None:
    # Readiness checks run in threads of their own: never one a request waits for.
    checks = anyio.CapacityLimiter(2)

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> dict[str, str]:
        """The process is up (answered on the event loop: no thread, no database)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"], responses={503: {"description": "not ready"}})
    async def readyz() -> JSONResponse:
        """The database answers and its schema is at the latest migration."""
        if checks.borrowed_tokens >= checks.total_tokens:
            return JSONResponse(
                {"status": "not ready", "database": "checks still running"},
                status_code=503,
                headers={"Retry-After": "1"},
            )
        ready, details = await anyio.to_thread.run_sync(_readiness, state, limiter=checks)
        return JSONResponse(
            {"status": "ready" if ready else "not ready", **details}, status_code=200 if ready else 503
        )

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        responses={
            401: {"description": "HOTLINE_METRICS_TOKEN is set: its bearer only"},
            403: {"description": "no token set: local requests only"},
        },
    )
    def metrics(request: Request) -> PlainTextResponse:
        """Prometheus text format, for the bearer of HOTLINE_METRICS_TOKEN (or, while that is
        unset, for requests from this machine that no proxy relayed)."""
        from app.webhooks.outbox import refresh_backlog_gauge

        _guard_metrics(request, state.settings.metrics_token)
        refresh_backlog_gauge(state)
        return PlainTextResponse(
            generate_latest(REGISTRY).decode(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )


_RELAYED = ("forwarded", "x-forwarded-for", "x-real-ip")


def _guard_metrics(request: Request, token: str | None) -> None:
    """Metrics name routes, volumes and backlogs: not for the internet at large."""
    if token is not None:
        given = bearer_token(request.headers.get("authorization")) or ""
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise Unauthorized("/metrics needs Authorization: Bearer <HOTLINE_METRICS_TOKEN>")
        return
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local or any(h in request.headers for h in _RELAYED):
        raise Forbidden(
            "/metrics answers only on this machine; set HOTLINE_METRICS_TOKEN to scrape it from elsewhere"
        )


def app_factory() -> FastAPI:
    """For `uvicorn --factory app.main:app_factory`."""
    settings = get_settings()
    configure_logging(settings.log_level)
    return create_app(settings)
