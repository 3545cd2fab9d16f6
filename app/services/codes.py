"""A deputy's public code (一人一码): random, rotatable, disable-able; the QR image of its page.

The code is not derived from anything about the deputy. Rotating retires the old code,
which then accepts nothing; disabling leaves the deputy with no code until it is rotated
again. A deputy who never had a code gets one when it is first asked for."""

from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass

import segno
from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Deputy, DeputyCode
from app.repositories import codes as repo
from app.repositories import registry
from app.services.context import Ctx

CODE_BYTES = 12  # 16 URL-safe characters (SPEC: at least 12)


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def page_url(base_url: str, code: str) -> str:
    """The address a QR code encodes: `<public base URL>/d/<code>`."""
    return f"{base_url.rstrip('/')}/d/{code}"


def _deputy_locked(ctx: Ctx, deputy_id: str) -> Deputy:
    # The deputy's row orders concurrent rotations and first issues of its code.
    deputy = registry.deputy_for_update(ctx.session, deputy_id)
    if deputy is None:
        raise NotFound(f"no deputy {deputy_id}")
    return deputy


def active_code(session: Session, deputy_id: str) -> DeputyCode | None:
    return repo.active_of(session, deputy_id)


def _issue(ctx: Ctx, deputy_id: str) -> DeputyCode:
    row = DeputyCode(
        code=new_code(), deputy_id=deputy_id, state="active", created_at=ctx.now(), active_for=deputy_id
    )
    ctx.session.add(row)
    ctx.session.flush()
    return row


def ensure_code(ctx: Ctx, deputy_id: str) -> DeputyCode:
    """The deputy's active code; one is issued if the deputy never had one. A disabled code
    stays disabled (409) until the liaison committee rotates it."""
    current = active_code(ctx.session, deputy_id)
    if current is not None:
        return current
    _deputy_locked(ctx, deputy_id)
    current = active_code(ctx.session, deputy_id)
    if current is not None:
        return current
    if repo.ever_issued(ctx.session, deputy_id):
        raise Conflict("the deputy's code is disabled; rotate it to issue a new one")
    try:
        with ctx.session.begin_nested():
            return _issue(ctx, deputy_id)
    except IntegrityError:  # issued at the same moment elsewhere (SQLite has no row lock)
        found = active_code(ctx.session, deputy_id)
        if found is None:
            raise
        return found


def _end(ctx: Ctx, row: DeputyCode, state: str) -> None:
    row.state, row.active_for = state, None
    row.ended_at, row.ended_by = ctx.now(), ctx.actor.name
    ctx.session.flush()


def rotate(ctx: Ctx, deputy_id: str) -> DeputyCode:
    """Retire the active code (if any) and issue a new one."""
    PAGES.forget()
    _deputy_locked(ctx, deputy_id)
    current = active_code(ctx.session, deputy_id)
    if current is not None:
        _end(ctx, current, "retired")
    return _issue(ctx, deputy_id)


def disable(ctx: Ctx, deputy_id: str) -> None:
    """The deputy's code stops accepting messages; nothing to do when none is active."""
    PAGES.forget()
    _deputy_locked(ctx, deputy_id)
    current = active_code(ctx.session, deputy_id)
    if current is not None:
        _end(ctx, current, "disabled")


@dataclass
class PublicPage:
    """What the deputy's public page shows: name, level, stations; the districts the form
    offers; and the deputy's id (a code's deputy never changes, only its state: the form's
    write needs the id and checks the state itself)."""

    deputy_name: str
    deputy_level: str
    deputy_id: str
    stations: list[str]
    districts: list[tuple[str, str]]


def public_page(conn: Connection, code: str) -> PublicPage | None:
    """The public page of an active code, or None (unknown, retired and disabled alike)."""
    if not code or len(code) > 64:
        return None
    rows = repo.public_page_rows(conn, code)
    if not rows or rows[0][0] != "a":
        return None
    return PublicPage(
        deputy_name=rows[0][1],
        deputy_level=rows[0][2],
        deputy_id=rows[0][3],
        stations=[r[1] for r in rows if r[0] == "b"],
        districts=[(r[1], r[2]) for r in rows if r[0] == "c"],
    )


def qr_image(url: str, fmt: str, *, scale: int = 8) -> bytes:
    """The QR code of `url` as PNG or SVG (error correction M: survives a worn print)."""
    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if fmt == "svg":
        qr.save(out, kind="svg", scale=scale, border=4, xmldecl=True, svgns=True, title="代表二维码")
    else:
        qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


class PageCache:
    """Public pages of active codes, remembered for a few seconds: a deputy's page is read
    by every voter who scans the code, and the same look-up would answer each of them.

    Only found pages are kept (unknown codes cannot fill it: each costs its query), at
    most `size` of them. Rotating or disabling a code forgets them all in this process;
    another replica shows the old page for at most `ttl` seconds, and a message posted
    from it is refused all the same (the write path checks the code in its transaction).
    A deputy's changed name or stations show within `ttl` seconds."""

    def __init__(self, ttl: float = 5.0, size: int = 4096) -> None:
        self.ttl, self.size = ttl, size
        self._pages: dict[str, tuple[float, PublicPage]] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> PublicPage | None:
        found = self._pages.get(code)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, code: str, page: PublicPage) -> None:
        with self._lock:
            if len(self._pages) >= self.size:
                self._pages.clear()
            self._pages[code] = (time.monotonic() + self.ttl, page)

    def forget(self) -> None:
        with self._lock:
            self._pages.clear()


PAGES = PageCache()
