"""Domain errors, and the one table that maps them (and the framework's errors) to HTTP.

    DomainError            (raised by services; carries no HTTP)
    ├── Unauthorized       401  no key, or an unknown or revoked key
    ├── Forbidden          403  the key's role may not do this
    ├── NotFound           404  no such thing, or not visible to this key
    ├── Conflict           409  the state forbids it (status machine, duplicates)
    ├── TooLarge           413  the request body is over the limit
    ├── UnsupportedMedia   415  a body in a media type the operation does not read
    ├── Invalid            422  the request is well-formed but wrong (names fields)
    └── Unavailable        503  saturated or a bounded wait ran out; with Retry-After

`STATUS` is that table; `status_of` reads it and `problem_body` writes the problem+json
(RFC 9457) that every refusal is answered with: by the handlers that `install_handlers`
registers, and by the ASGI guard (app.middleware), which refuses before any handler runs.

Database waits that run out (a pool checkout, a lock, a statement, SQLite's busy
timeout) become Unavailable (`database_busy`): the request changed nothing and may be
retried. Any other database error, like any other exception, is a logged 500; no
exception outside this tree is mapped to a 4xx wholesale. The framework's own refusals
(no such route, wrong method, malformed JSON, schema validation) keep their status
codes, with the titles below. Pages (/ui, /d/, /t/) show the same refusals as pages.

A body that cannot be parsed at all (not JSON, not UTF-8) is 400, a well-formed one that
breaks the schema 422. FastAPI reads the body before the dependencies run, so both come
before the role's 403; a caller without a valid key gets 401 instead of either (it learns
nothing about the request's shape).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("hotline.errors")

PROBLEM = "application/problem+json"


@dataclass
class FieldError:
    field: str
    detail: str


class DomainError(Exception):
    """A refusal a service raises; `STATUS` gives its HTTP status."""

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Unauthorized(DomainError):
    """No key or session, or one that is unknown, revoked or expired."""


class Forbidden(DomainError):
    """The caller's role may not do this."""


class NotFound(DomainError):
    """No such thing, or not visible to this caller."""


class Conflict(DomainError):
    """The current state forbids it (the status machine, a duplicate)."""


class TooLarge(DomainError):
    """The request body is over the configured limit."""


class UnsupportedMedia(DomainError):
    """A body in a media type the operation does not read."""


class Invalid(DomainError):
    """Well-formed but wrong: names the field (`summary` replaces the default detail)."""

    def __init__(self, field: str, detail: str, *, summary: str | None = None) -> None:
        super().__init__(summary or f"{field}: {detail}", errors=[FieldError(field, detail)])


class Unavailable(DomainError):
    """Saturated, or a bounded wait ran out: nothing changed; retry after `retry_after` s."""

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


# The one mapping from errors to HTTP statuses; a subclass takes its nearest ancestor's.
STATUS: dict[type[DomainError], int] = {
    Unauthorized: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    TooLarge: 413,
    UnsupportedMedia: 415,
    Invalid: 422,
    Unavailable: 503,
}

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def status_of(exc: DomainError) -> int:
    """The HTTP status `STATUS` gives this error (400 for one it does not name)."""
    for kind in type(exc).__mro__:
        status = STATUS.get(kind)
        if status is not None:
            return status
    return 400


def problem_body(
    status: int, detail: str, *, title: str | None = None, errors: list[FieldError] | None = None
) -> dict[str, Any]:
    """An RFC 9457 problem document."""
    body: dict[str, Any] = {
        "type": f"https://deputy-hotline.example/problems/{status}",
        "title": title or TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if status == 422 or errors:
        body["errors"] = [{"field": e.field, "detail": e.detail} for e in errors or []]
    return body


def refusal_body(exc: DomainError) -> dict[str, Any]:
    """The problem document a domain error is answered with."""
    return problem_body(status_of(exc), exc.detail, errors=exc.errors)


def problem(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build an RFC 9457 problem response."""
    body = problem_body(status, detail, title=title, errors=errors)
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def method_not_allowed(allowed: list[str]) -> JSONResponse:
    """405 with the `Allow` header RFC 9110 requires: every method the path takes."""
    listed = ", ".join(allowed)
    return problem(405, f"this path takes {listed}", headers={"Allow": listed})


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:] if len(parts) > 1 else parts
    # Pydantic names union members and tagged variants in the location; readers want the field.
    parts = [p for p in parts if not p.startswith(("function-", "constrained-"))]
    return ".".join(parts) or "body"


def validation_errors(raw: list[Any]) -> list[FieldError]:
    """Pydantic's error list as field/detail pairs."""
    out: list[FieldError] = []
    for err in raw:
        loc = err.get("loc", ())
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "json_invalid":
            out.append(FieldError("body", "malformed JSON: " + msg))
            continue
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        out.append(FieldError(_field_name(loc), msg))
    return out


# PostgreSQL conditions that end a bounded wait or a transaction someone else's work got in
# the way of: lock_not_available (lock_timeout), query_canceled (statement_timeout),
# idle_in_transaction_session_timeout, serialization_failure, deadlock_detected,
# too_many_connections, and the connection exceptions (class 08) and operator
# intervention (class 57: shutdown, terminated backend).
_BUSY_SQLSTATES = {"55P03", "57014", "25P03", "40001", "40P01", "53300"}
_BUSY_CLASSES = ("08", "57")
# Waits that end on the client's side carry no SQLSTATE: SQLite's busy timeout, and a new
# PostgreSQL connection not made within connect_timeout (a server too busy to accept it).
_BUSY_MESSAGES = ("database is locked", "database table is locked", "busy", "connection timeout expired")


def database_busy(exc: BaseException) -> Unavailable | None:
    """The 503 a database error stands for when it is a bounded wait that ran out (or a
    connection the server dropped), else None: a real fault stays a 500."""
    if isinstance(exc, PoolTimeout):
        return Unavailable("every database connection is busy; the request changed nothing")
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return Unavailable("the database connection was lost; the request changed nothing")
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if isinstance(sqlstate, str) and (sqlstate in _BUSY_SQLSTATES or sqlstate.startswith(_BUSY_CLASSES)):
        return Unavailable(f"the database is busy ({sqlstate}); the request changed nothing")
    message = str(orig).lower()
    if isinstance(exc, OperationalError) and any(sign in message for sign in _BUSY_MESSAGES):
        return Unavailable("the database is busy; the request changed nothing")
    return None


async def _has_valid_key(request: Request) -> bool:
    """Whether the request carries a valid key: a remembered one costs nothing, a lookup
    runs in the thread pool (never a blocking query on the event loop)."""
    from app.auth import bearer_token

    state = getattr(request.app.state, "hotline", None)
    if state is None:
        return False
    token = bearer_token(request.headers.get("authorization"))
    if not token:
        return False
    if state.remembered(token) is not None:
        return True
    return await run_in_threadpool(state.authenticate, token) is not None


def install_handlers(app: FastAPI) -> None:
    """Register the one mapping from errors to problem+json (or, on pages, to a page)."""
    from app.allow import API_PREFIX, method_table
    from app.pages.web import domain_error_page, error_page, is_page_path

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if is_page_path(request.url.path):
            response = domain_error_page(request, exc)
        else:
            response = problem(status_of(exc), exc.detail, errors=exc.errors)
        if isinstance(exc, Unavailable):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(SQLAlchemyError)
    async def _database(request: Request, exc: SQLAlchemyError) -> Response:
        busy = database_busy(exc)
        if busy is None:
            return await _unexpected(request, exc)
        log.warning("%s %s: %s", request.method, request.url.path, busy.detail)
        return await _domain(request, busy)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if is_page_path(request.url.path):
            return error_page(request, 400)
        # FastAPI validates the body before the auth dependency runs: a caller without a
        # valid key learns nothing about the request's shape, only that it needs a key.
        if request.url.path.startswith("/api/") and not await _has_valid_key(request):
            return problem(401, "a valid API key is required: Authorization: Bearer <key>")
        raw = list(exc.errors())
        errors = validation_errors(raw)
        if any(err.get("type") == "json_invalid" for err in raw):
            return problem(400, "the body is not well-formed JSON", errors=errors)
        detail = "; ".join(f"{e.field}: {e.detail}" for e in errors) or "invalid request"
        return problem(422, detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if is_page_path(request.url.path):
            return error_page(request, exc.status_code)
        if exc.status_code == 405 and request.url.path.startswith(API_PREFIX):
            allowed = method_table(request.app).allowed(request.url.path)
            if allowed:
                return method_not_allowed(allowed)
        if exc.status_code == 400 and request.url.path.startswith(API_PREFIX):
            # A body FastAPI could not read (not UTF-8): as for a malformed one, a caller
            # without a valid key learns only that it needs one.
            if not await _has_valid_key(request):
                return problem(401, "a valid API key is required: Authorization: Bearer <key>")
            errors = [FieldError("body", "the body could not be read (it must be UTF-8 JSON)")]
            return problem(400, "the body could not be read as JSON", errors=errors)
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem(exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        if is_page_path(request.url.path):
            return error_page(request, 500)
        return problem(500, "an unexpected error occurred; it has been logged")
