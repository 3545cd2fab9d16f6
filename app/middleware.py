"""ASGI middleware: request body size limit, and no NUL characters in text.

PostgreSQL cannot store NUL in text columns; rather than a database error deep inside a
use-case, a request carrying one (raw, as a JSON escape, or %00 in the URL) is refused
up front with a 422 that changes nothing.
"""

from __future__ import annotations

import re

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import DomainError, Invalid, TooLarge, refusal_body, status_of

_NUL_IN_BODY = re.compile(rb"\x00|\\u0000", re.IGNORECASE)
_NUL_IN_URL = re.compile(rb"%00|\x00")


class _Refused(Exception):
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body


def _refusal(error: DomainError) -> _Refused:
    """The error's problem document, mapped by the one table in app.errors."""
    return _Refused(status_of(error), orjson.dumps(refusal_body(error)))


class RequestGuard:
    """Refuses bodies over `limit` bytes (413) and NUL characters in the URL or body (422)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    def _too_large(self) -> _Refused:
        return _refusal(TooLarge(f"the request body is over the limit of {self.limit} bytes"))

    @staticmethod
    def _nul(field: str) -> _Refused:
        detail = "NUL characters are not allowed in text"
        return _refusal(Invalid(field, detail, summary=detail))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _NUL_IN_URL.search(scope.get("query_string", b"")):
            await self._send(send, self._nul("query"))
            return
        if _NUL_IN_URL.search(scope.get("raw_path") or b"") or "\x00" in scope.get("path", ""):
            await self._send(send, self._nul("path"))
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is None and b"transfer-encoding" not in headers:
            # No body (a poll, a read): nothing to watch on the way in or out.
            await self.app(scope, receive, send)
            return
        if declared is not None:
            try:
                too_big = int(declared) > self.limit
            except ValueError:
                too_big = False
            if too_big:
                await self._send(send, self._too_large())
                return
        received = 0
        tail = b""
        started = False
        refused: _Refused | None = None

        async def guarded_receive() -> Message:
            nonlocal received, tail, refused
            if refused is not None:
                raise refused
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.limit:
                    refused = self._too_large()
                elif _NUL_IN_BODY.search(tail + chunk):
                    refused = self._nul("body")
                if refused is not None:
                    raise refused
                tail = chunk[-5:]  # an escape split across chunks
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused is not None:
                # Frameworks catch errors raised while reading the body (FastAPI answers
                # 400 "error parsing the body"): whatever the app says, the client gets ours.
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._send(send, refused)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, guarded_receive, guarded_send)
        except _Refused as exc:
            if not started:
                await self._send(send, exc)

    @staticmethod
    async def _send(send: Send, refused: _Refused) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": refused.status,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(refused.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": refused.body})
