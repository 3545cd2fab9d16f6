"""Deputy use-cases that reach into tickets: a deputy registered late, or whose phone
changes, is linked to the calls he or she already made.

A caller the registry does not know is kept unverified (SPEC "Ticket"). When that
phone is registered later, the unverified tickets of this and the previous calendar
year (in the service's time zone) are linked to the deputy, each logged as
`ticket.deputy_linked`, so a deputy registered late is not listed as silent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, Invalid
from app.models import Deputy
from app.repositories import registry as names
from app.repositories import tickets
from app.services import registry, terms
from app.services.context import Ctx
from app.services.events import log
from app.services.sla import local_midnight

_CHUNK = 500


def link_since(ctx: Ctx) -> datetime:
    """The first instant whose calls are linked: 1 January of the previous year, local time."""
    year = ctx.now().astimezone(ctx.tz).year
    return local_midnight(date(year - 1, 1, 1), ctx.tz)


def link_calls(ctx: Ctx, deputies: Iterable[Deputy]) -> int:
    """Link each deputy's unverified calls of this and last year; returns how many tickets."""
    by_phone = {d.phone: d for d in deputies}
    phones = sorted(by_phone)
    since, now = link_since(ctx), ctx.now()
    linked = 0
    for i in range(0, len(phones), _CHUNK):
        chunk = phones[i : i + _CHUNK]
        for ticket in tickets.unlinked_calls(ctx.session, chunk, since):
            deputy = by_phone[ticket.caller_phone]
            ticket.deputy_id, ticket.deputy_verified = deputy.id, True
            log(
                ctx,
                ticket,
                "ticket.deputy_linked",
                at=now,
                data={
                    "deputy_id": deputy.id,
                    "name": deputy.name,
                    "phone": deputy.phone,
                    "reason": "the caller's phone was registered as this deputy's after the call",
                },
            )
            linked += 1
    ctx.session.flush()
    return linked


def register(ctx: Ctx, data: registry.DeputyInput) -> Deputy:
    """Register a deputy (a phone already registered is a conflict) and link earlier calls."""
    deputy = registry.create_deputy(ctx.session, data=data, now=ctx.now())
    link_calls(ctx, [deputy])
    return deputy


@dataclass
class DeputyChanges:
    """The fields a PATCH names; absent ones are left as they are."""

    name: str | None = None
    phone: str | None = None
    level: str | None = None
    district: str | None = None
    delegation: str | None = None
    term: str | None = None
    reelected: bool | None = None
    official: bool | None = None


REQUIRED = ("name", "phone", "level", "reelected", "official")
# Request names that are stored under another column name.
COLUMNS = {"term": "term_code"}


def change(ctx: Ctx, deputy_id: str, changes: DeputyChanges, given: set[str]) -> Deputy:
    """Change the fields in `given`; a new phone links that phone's unverified calls."""
    deputy = names.deputy_for_update(ctx.session, deputy_id)
    if deputy is None:
        deputy = registry.get_deputy(ctx.session, deputy_id)  # raises NotFound
    values: dict[str, Any] = {f.name: getattr(changes, f.name) for f in fields(changes) if f.name in given}
    for name in REQUIRED:
        if name in values and values[name] is None:
            raise Invalid(name, "may not be null")
    new_phone = values.get("phone")
    if new_phone is not None:
        new_phone = values["phone"] = registry.normalize_phone(new_phone)
    if "term" in values or "level" in values:
        terms.check_membership(
            ctx.session,
            term_code=values.get("term", deputy.term_code),
            level=values.get("level", deputy.level),
        )
    phone_changed = new_phone is not None and new_phone != deputy.phone
    if (
        new_phone is not None
        and phone_changed
        and names.deputy_id_by_phone(ctx.session, new_phone) is not None
    ):
        raise Conflict(f"a deputy with phone {new_phone} is already registered")
    try:
        with ctx.session.begin_nested():
            for name, value in values.items():
                setattr(deputy, COLUMNS.get(name, name), value)
            deputy.updated_at = ctx.now()
            ctx.session.flush()
    except IntegrityError:
        raise Conflict(f"a deputy with phone {new_phone} is already registered") from None
    if phone_changed:
        link_calls(ctx, [deputy])
    return deputy


def link_imported(ctx: Ctx, phones: Iterable[str]) -> int:
    """After an import: link the calls of every phone it registered or confirmed."""
    wanted = sorted(set(phones))
    deputies: list[Deputy] = []
    for i in range(0, len(wanted), _CHUNK):
        deputies += names.deputies_with_phones(ctx.session, wanted[i : i + _CHUNK])
    return link_calls(ctx, deputies)
