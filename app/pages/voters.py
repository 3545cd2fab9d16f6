"""What every voter's page shares (一人一码: the deputy's page app.pages.public, the
tracking page app.pages.tracking): the voter as an actor, the size bound, the "not here"
page, the admission of their database work, and routes that name themselves.

They face the whole internet, so they are counted apart from the staff's and the hotline
systems' requests: places of their own (HOTLINE_MAX_PUBLIC) and threads of their own
(HOTLINE_PUBLIC_THREADS)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from anyio.lowlevel import RunVar
from fastapi import Request
from fastapi.responses import Response
from starlette.routing import Match, Route
from starlette.types import Scope

from app.admission import admitted, started_in_time
from app.pages.web import render
from app.services.context import Actor
from app.state import AppState

VOTER = Actor(role="voter", label="voter")
PUBLIC_MAX_BYTES = 32 * 1024  # 2,000 characters of Chinese, form-encoded, are ~18 KB

T = TypeVar("T")
# The voters' pages' threads, per event loop (as anyio keeps its default limiter).
_THREADS: RunVar[CapacityLimiter] = RunVar("hotline_public_threads")


async def public_work(state: AppState, work: Callable[..., T], *args: object) -> T:
    """A voter's request's database work: a place among the public pages' (past them 503 at
    once, app.admission), then, within HOTLINE_QUEUE_TIMEOUT, one of their own threads.
    Counted apart, a flood from the internet takes neither a place nor a thread the
    hotline's systems and the staff's pages wait for; and on two cores two threads do the
    public form's work with less CPU per message than eight contending for the interpreter
    (bench/messages.py)."""
    try:
        threads = _THREADS.get()
    except LookupError:
        threads = CapacityLimiter(state.settings.public_threads)
        _THREADS.set(threads)
    with admitted(state.public_gate, state.settings.queue_timeout) as start_by:

        def in_time() -> T:
            started_in_time(start_by)
            return work(*args)

        return await anyio.to_thread.run_sync(in_time, limiter=threads)


def gone(request: Request, what: tuple[str, str]) -> Response:
    """A voter's "not here" page (404): what[0] its title, what[1] what to do."""
    return render(request, "public/gone.html", status=404, title=what[0], message=what[1])


class PublicRoute(Route):
    """A plain Starlette route that names itself in the request's scope, as FastAPI's routes
    do (its router does not): the metrics and the access log label each request by it."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is not Match.NONE:
            child["route"] = self
        return match, child
