"""Unit queues, for polling."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from app.deps import CursorParam, Limit, decode_cursor, encode_cursor, reader
from app.errors import Forbidden, Invalid, NotFound
from app.schemas.common import Page, QueryInstant, problem_responses
from app.schemas.tickets import QueueItemOut
from app.services import queue as svc
from app.services.context import Ctx

router = APIRouter(prefix="/api/v1", tags=["queue"],
                   responses=problem_responses(401, 403, 404, 422))


def _after(cursor: str | None) -> tuple[datetime, str, str] | None:
    raw = decode_cursor(cursor)
    if raw is None:
        return None
    try:
        sort_key, ticket_id, role = raw
        return datetime.fromisoformat(sort_key), str(ticket_id), str(role)
    except (TypeError, ValueError):
        raise Invalid("cursor", "not a cursor this service issued") from None


@router.get("/units/{code}/queue", response_model=Page[QueueItemOut],
            responses={304: {"description": "unchanged since the ETag given in If-None-Match"}})
def queue(
    code: str,
    request: Request,
    ctx: Ctx = reader("unit", "liaison", "admin"),
    limit: Limit = 50,
    cursor: CursorParam = None,
    updated_since: QueryInstant | None = None,
) -> Any:
    """The unit's open work, nearest due first; send If-None-Match to poll cheaply."""
    if ctx.actor.role == "unit" and ctx.actor.unit_code != code:
        raise Forbidden("a unit key reads only its own unit's queue")
    after = _after(cursor)
    params = f"{limit}|{cursor}|{updated_since and updated_since.timestamp()}"
    tag = svc.etag(ctx, code, params)
    if tag is None:
        raise NotFound(f"no unit {code!r}")
    if tag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(status_code=304, headers={"ETag": tag})
    rows = svc.read_queue(ctx, unit=code, limit=limit + 1, after=after,
                          updated_since=updated_since)
    more = len(rows) > limit
    rows = rows[:limit]
    now = ctx.now()
    next_cursor = None
    if more:
        last = rows[-1][0]
        next_cursor = encode_cursor([last.sort_key.isoformat(), last.ticket_id, last.role])
    # Serialized directly: the page is built from trusted rows, and validating 500 items
    # against the response model would cost more than the query.
    body = {"items": [svc.item_view(i, t, now, ctx.tz) for i, t in rows],
            "next_cursor": next_cursor}
    return Response(orjson.dumps(body), media_type="application/json", headers={"ETag": tag})
