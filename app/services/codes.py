"""A deputy's public code (一人一码): random, rotatable, disable-able; the QR image of its page.

The code is not derived from anything about the deputy. Rotating retires the old code,
which then accepts nothing; disabling leaves the deputy with no code until it is rotated
again. A deputy who never had a code gets one when it is first asked for."""

from __future__ import annotations

import io
import secrets
from dataclasses import dataclass

import segno
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Deputy, DeputyCode
from app.services.context import Ctx

CODE_BYTES = 12  # 16 URL-safe characters (SPEC: at least 12)


def new_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def page_url(base_url: str, code: str) -> str:
    """The address a QR code encodes: `<public base URL>/d/<code>`."""
    return f"{base_url.rstrip('/')}/d/{code}"


def _deputy_locked(ctx: Ctx, deputy_id: str) -> Deputy:
    # The deputy's row orders concurrent rotations and first issues of its code.
    deputy = ctx.session.scalar(select(Deputy).where(Deputy.id == deputy_id).with_for_update())
    if deputy is None:
        raise NotFound(f"no deputy {deputy_id}")
    return deputy


def active_code(session: Session, deputy_id: str) -> DeputyCode | None:
    return session.scalar(select(DeputyCode).where(DeputyCode.active_for == deputy_id))


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
    if (
        ctx.session.scalar(select(DeputyCode.code).where(DeputyCode.deputy_id == deputy_id).limit(1))
        is not None
    ):
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
    _deputy_locked(ctx, deputy_id)
    current = active_code(ctx.session, deputy_id)
    if current is not None:
        _end(ctx, current, "retired")
    return _issue(ctx, deputy_id)


def disable(ctx: Ctx, deputy_id: str) -> None:
    """The deputy's code stops accepting messages; nothing to do when none is active."""
    _deputy_locked(ctx, deputy_id)
    current = active_code(ctx.session, deputy_id)
    if current is not None:
        _end(ctx, current, "disabled")


@dataclass
class CodeLookup:
    deputy: Deputy
    code: DeputyCode


def find_active(session: Session, code: str) -> CodeLookup | None:
    """The deputy behind an active code, or None (unknown, retired and disabled alike)."""
    if not code or len(code) > 64:
        return None
    row = session.execute(
        select(DeputyCode, Deputy)
        .join(Deputy, Deputy.id == DeputyCode.deputy_id)
        .where(DeputyCode.code == code)
    ).first()
    if row is None or row[0].state != "active":
        return None
    return CodeLookup(deputy=row[1], code=row[0])


def qr_image(url: str, fmt: str, *, scale: int = 8) -> bytes:
    """The QR code of `url` as PNG or SVG (error correction M: survives a worn print)."""
    qr = segno.make(url, error="m", micro=False)
    out = io.BytesIO()
    if fmt == "svg":
        qr.save(out, kind="svg", scale=scale, border=4, xmldecl=True, svgns=True, title="代表二维码")
    else:
        qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
