"""Request dependencies: who is calling, and a use-case context whose transaction the
dependency commits (before the response is sent) or rolls back."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

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


def _finish(session: Session, ok: bool) -> None:
    """Commit (or roll back) and release the connection, in one trip to the thread pool."""
    try:
        if ok:
            session.commit()
        else:
            session.rollback()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _context(
    roles: tuple[str, ...], write: bool, who: Callable[..., Any] = current_actor,
) -> Callable[..., AsyncIterator[Ctx]]:
    # An async generator: opening a session does no I/O, so only the endpoint and the
    # commit run in the thread pool (each trip there costs more than a simple query).
    # The actor's dependency as a default value: annotations are resolved from this
    # module's globals, where `who` is not.
    async def dependency(request: Request, actor: Actor = Depends(who)) -> AsyncIterator[Ctx]:
        if roles and actor.role not in roles:
            raise Forbidden(f"the {actor.role} role may not do this; needs {' or '.join(roles)}")
        state = app_state(request)
        if not write:
            # Reads hold no transaction on either engine (see app.db): releasing the
            # connection does no I/O, so it needs no trip to the thread pool.
            session = state.db.read_session()
            try:
                yield state.ctx(session, actor)
            finally:
                session.close()
            return
        session = state.db.write_session()
        try:
            yield state.ctx(session, actor)
        except BaseException:
            await run_in_threadpool(_finish, session, False)
            raise
        if session.in_transaction():
            await run_in_threadpool(_finish, session, True)
        else:
            session.close()  # the endpoint committed (see `commit_now`): no I/O left

    return dependency


def commit_now(ctx: Ctx) -> None:
    """Commit from inside a sync endpoint, in the thread-pool trip it already runs in, so
    the dependency needs no second trip (each costs more than a simple query)."""
    ctx.session.commit()


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
