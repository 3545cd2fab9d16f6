"""Unit queues, for polling."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.types import ASGIApp, Receive, Scope, Send

from app.deps import CursorParam, Limit, OneTripRoute, decode_cursor, encode_cursor, reader
from app.errors import Forbidden, Invalid, NotFound
from app.schemas.common import Page, QueryInstant, json_bytes, problem_responses
from app.schemas.tickets import QueueItemOut
from app.services import queue as svc
from app.services.context import Actor, Ctx
from app.state import AppState

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["queue"],
    responses=problem_responses(401, 403, 404, 422),
)


_INSTANT: TypeAdapter[datetime] = TypeAdapter(QueryInstant)


def after_cursor(cursor: str | None) -> tuple[datetime, str, str] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        sort_key, ticket_id, role = raw
        # Read as the query's own instants are: an offset, and storable once in UTC.
        return _INSTANT.validate_python(sort_key), str(ticket_id), str(role)
    except (TypeError, ValueError):  # pydantic's ValidationError is a ValueError
        raise Invalid("cursor", "not a cursor this service issued") from None


# Who reads a unit's queue: these roles, and a unit key only its own unit's.
READERS = ("unit", "liaison", "admin")


def may_read(actor: Actor, code: str) -> bool:
    """Whether this actor reads unit `code`'s queue (the route and the lane below ask)."""
    return actor.role in READERS and (actor.role != "unit" or actor.unit_code == code)


class QueueQuery(BaseModel):
    """A poll's query parameters, read by the route and by the unchanged-poll lane alike."""

    limit: Limit = 50
    cursor: CursorParam = None
    updated_since: QueryInstant | None = None

    def after(self) -> tuple[datetime, str, str] | None:
        """The keyset position the cursor names (422 for a cursor not issued here)."""
        return after_cursor(self.cursor)

    def tag_params(self) -> str:
        """What of the request the ETag depends on, besides the unit."""
        since = self.updated_since
        return f"{self.limit}|{self.cursor}|{since and since.timestamp()}"


def _matches(tag: str, if_none_match: str) -> bool:
    return tag in {t.strip() for t in if_none_match.split(",")}


@router.get(
    "/units/{code}/queue",
    response_model=Page[QueueItemOut],
    responses={304: {"description": "unchanged since the ETag given in If-None-Match"}},
)
def queue(
    code: str,
    request: Request,
    query: Annotated[QueueQuery, Query()],
    ctx: Ctx = reader(*READERS),
) -> Any:
    """The unit's open work, nearest due first; send If-None-Match to poll cheaply."""
    if not may_read(ctx.actor, code):
        raise Forbidden("a unit key reads only its own unit's queue")
    limit = query.limit
    after = query.after()
    params = query.tag_params()
    # A poll the lane below passed on may bring the tag it already looked up.
    looked_up = getattr(request.state, "queue_etag", None)
    tag = (
        looked_up[2]
        if looked_up is not None and looked_up[:2] == (code, params)
        else svc.etag(ctx, code, params)
    )
    if tag is None:
        raise NotFound(f"no unit {code!r}")
    if _matches(tag, request.headers.get("if-none-match", "")):
        return Response(status_code=304, headers={"ETag": tag})
    rows = svc.read_queue(ctx, unit=code, limit=limit + 1, after=after, updated_since=query.updated_since)
    more = len(rows) > limit
    rows = rows[:limit]
    now = ctx.now()
    next_cursor = None
    if more:
        last = rows[-1]
        next_cursor = encode_cursor([last.sort_key.isoformat(), last.id, last.role])
    # Serialized directly: the page is built from trusted rows, and validating 500 items
    # against the response model would cost more than the query.
    body = {"items": [svc.item_view(row, now, ctx.tz) for row in rows], "next_cursor": next_cursor}
    return Response(json_bytes(body), media_type="application/json", headers={"ETag": tag})


# --- unchanged polls, answered before routing --------------------------------------------

_QUEUE_PATH = re.compile(r"/api/v1/units/([^/]+)/queue")
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Route:
    path: str = "/api/v1/units/{code}/queue"  # how the access log and metrics name it


class UnchangedPolls:
    """Answers a conditional poll of an unchanged queue with 304 before routing.

    Most traffic is units polling queues that have not changed, and for such a request the
    framework's routing, dependencies and validation cost several times the one query that
    decides it. This lane takes only the polls it can decide exactly as the route above
    would (a remembered key allowed to read the queue, parameters the route accepts
    unchanged, the same ETag); everything else, and any error, goes to the route."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            match = _QUEUE_PATH.fullmatch(scope["path"])
            if match is not None:
                try:
                    found = await self._unchanged(scope, match[1])
                except Exception:  # the route will meet it again and answer properly
                    log.debug("unchanged-poll lane passed a request on", exc_info=True)
                    found = None
                if found is not None:
                    tag, actor = found
                    scope["route"] = _Route()
                    scope.setdefault("state", {})["actor"] = actor
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 304,
                            "headers": [(b"etag", tag.encode("latin-1"))],
                        }
                    )
                    await send({"type": "http.response.body", "body": b""})
                    return
        await self.app(scope, receive, send)

    async def _unchanged(self, scope: Scope, code: str) -> tuple[str, Actor] | None:
        """(ETag, actor) when the route would answer this poll 304."""
        wanted = [
            (name, value) for name, value in scope["headers"] if name in (b"if-none-match", b"authorization")
        ]
        found = dict(wanted)
        if len(found) != len(wanted):
            return None  # a header over several lines: the route reads it its own way
        if_none_match, authorization = found.get(b"if-none-match"), found.get(b"authorization")
        if not if_none_match or not authorization:
            return None
        scheme, token = get_authorization_scheme_param(authorization.decode("latin-1"))
        state: AppState = scope["app"].state.hotline
        actor = state.remembered(token) if scheme.lower() == "bearer" else None
        if actor is None or not may_read(actor, code):
            return None
        params = self._params(scope["query_string"])
        if params is None:
            return None
        tag = await run_in_threadpool(self.etag, state, actor, code, params)
        if tag is None:
            return None
        if not _matches(tag, if_none_match.decode("latin-1")):
            scope.setdefault("state", {})["queue_etag"] = (code, params, tag)  # for the route
            return None
        return tag, actor

    @staticmethod
    def _params(query_string: bytes) -> str | None:
        """The ETag parameters, when the route would accept these values (read as it reads
        them, by QueueQuery); None for anything it would refuse."""
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        values = dict(pairs)
        if len(values) != len(pairs):
            return None  # a repeated parameter: leave its reading to the framework
        try:
            query = QueueQuery.model_validate(values)
            query.after()
        except (ValidationError, Invalid):
            return None
        return query.tag_params()

    @staticmethod
    def etag(state: AppState, actor: Actor, code: str, params: str) -> str | None:
        """The queue's current ETag, looked up as the route does (what the lane decides on)."""
        with state.db.read_session() as session:
            return svc.etag(state.ctx(session, actor), code, params)
