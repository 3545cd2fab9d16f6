"""Request dependencies: who is calling, and a use-case context whose transaction is
committed (before the response is sent) or rolled back.

No request holds a connection, or on PostgreSQL a row lock, while it waits for anything
but the database. So a sync endpoint's transaction ends in the worker thread that did its
work (`OneTripRoute`): a commit that needed a second thread from the same limiter would
wait, connection in hand, behind requests waiting for that connection (the stall of
issue 13: eleven writers on a pool of ten, one writer on SQLite). Before any of that, a
request takes a place at its gate (app.admission) or is answered 503 at once.
"""

from __future__ import annotations

import base64
import functools
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.admission import admitted, started_in_time
from app.db import Raced, Transaction, end
from app.errors import Forbidden, Invalid, Unauthorized
from app.services.context import Actor, Ctx
from app.state import AppState

bearer = HTTPBearer(auto_error=False, description="an API key issued by POST /api/v1/keys")


def app_state(request: Request) -> AppState:
    state: AppState = request.app.state.hotline
    return state


async def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Actor:
    # Async, so that a remembered key costs no trip to the thread pool; a lookup takes one.
    state = app_state(request)
    token = credentials.credentials if credentials else None
    actor = state.remembered(token)
    if actor is None:
        actor = await run_in_threadpool(state.authenticate, token)
    if actor is None:
        raise Unauthorized("a valid API key is required: Authorization: Bearer <key>")
    request.state.actor = actor
    return actor


log = logging.getLogger("hotline.deps")

# Marks a writing request's session (Session.info): the one OneTripRoute ends.
WRITES = "hotline_writes"
# When a request admitted by its gate must have started its work (Session.info): past it
# the request has waited its share in the queue for a worker thread, and is answered 503
# before it takes a connection. With the pool's checkout timeout, this bounds how long
# any request waits, however slow the database has become.
START_BY = "hotline_start_by"


def ends_in_one_trip(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """The endpoint, then its writing session's commit (or, on error, rollback), in the
    worker thread the endpoint runs in."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        contexts = [v for v in kwargs.values() if isinstance(v, Ctx)]
        starts = [c.session.info[START_BY] for c in contexts if START_BY in c.session.info]
        if starts:
            started_in_time(min(starts))
        sessions = [c.session for c in contexts if c.session.info.get(WRITES)]
        try:
            try:
                result = endpoint(*args, **kwargs)
            except Raced:
                if not sessions:
                    raise
                for session in sessions:
                    end(session, ok=False)
                result = endpoint(*args, **kwargs)  # once: it now sees the winner
        except BaseException:
            for session in sessions:
                end(session, ok=False)
            raise
        for session in sessions:
            if session.in_transaction():
                end(session, ok=True)
        return result

    return run


async def write_in_one_trip(ctx: Ctx, work: Callable[[], Any]) -> Any:
    """For async endpoints: `work`, then the commit (or rollback), in one worker thread."""

    def run() -> Any:
        try:
            result = work()
        except BaseException:
            end(ctx.session, ok=False)
            raise
        end(ctx.session, ok=True)
        return result

    return await run_in_threadpool(run)


class OneTripRoute(APIRoute):
    """Every router's route class: sync endpoints end their transaction in their thread."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.isfunction(endpoint) and not inspect.iscoroutinefunction(endpoint):
            endpoint = ends_in_one_trip(endpoint)
        super().__init__(path, endpoint, **kwargs)


def _context(
    roles: tuple[str, ...],
    write: bool,
    who: Callable[..., Any] = current_actor,
) -> Callable[..., AsyncIterator[Ctx]]:
    # An async generator: opening a session does no I/O, so only the endpoint runs in the
    # thread pool, and it ends its own transaction there (OneTripRoute).
    # The actor's dependency as a default value: annotations are resolved from this
    # module's globals, where `who` is not.
    async def dependency(request: Request, actor: Actor = Depends(who)) -> AsyncIterator[Ctx]:
        if roles and actor.role not in roles:
            raise Forbidden(f"the {actor.role} role may not do this; needs {' or '.join(roles)}")
        state = app_state(request)
        gate = state.write_gate if write else state.read_gate
        # A place, or 503 at once, before anything is taken.
        with admitted(gate, state.settings.queue_timeout) as start_by:
            if not write:
                # Reads hold no transaction on either engine (see app.db): releasing the
                # connection does no I/O, so it needs no trip to the thread pool.
                session = state.db.read_session()
                session.info[START_BY] = start_by
                try:
                    yield state.ctx(session, actor)
                finally:
                    session.close()
                return
            async with Transaction(state.db.write_session) as session:
                session.info[WRITES] = True
                session.info[START_BY] = start_by
                yield state.ctx(session, actor)

    # Read by app.openapi: an operation whose roles are restricted documents its 403.
    dependency.__dict__["hotline_roles"] = roles
    return dependency


def reader(*roles: str) -> Any:
    """A read-only context for these roles (all roles when none are named)."""
    return Depends(_context(roles, write=False), scope="function")


def writer(*roles: str) -> Any:
    """A writing context for these roles; committed before the response goes out."""
    return Depends(_context(roles, write=True), scope="function")


def context_of(who: Callable[..., Any], roles: tuple[str, ...], *, write: bool) -> Any:
    """`reader`/`writer` for an actor found another way (the pages' signed-in person)."""
    return Depends(_context(roles, write=write, who=who), scope="function")


Limit = Annotated[int, Query(ge=1, le=500, description="page size (default 50, max 500)")]
CursorParam = Annotated[str | None, Query(max_length=500, description="opaque, from next_cursor")]


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Any:
    if cursor is None:
        return None
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise Invalid("cursor", "not a cursor this service issued") from None
