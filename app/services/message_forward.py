"""Forwarding a voter's message by level (分级交办): it becomes a deputy-line ticket that
follows every rule of Part I, and the message follows the ticket to its result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update

from app.errors import Invalid
from app.models import Deputy, Message, Ticket
from app.repositories import messages as repo
from app.services import messages
from app.services.context import Ctx
from app.services.events import emit, log
from app.services.message_flow import MsgAction, MsgStatus
from app.services.tickets import TicketInput, ingest


@dataclass
class ForwardInput:
    level: str
    category: str
    units: list[str] | None = None
    lead_unit: str | None = None
    urgency: str | None = None
    note: str | None = None
    at: datetime | None = None


def _township_units(ctx: Ctx, message: Message, named: list[str] | None) -> list[str]:
    """A township matter goes to township governments of the message's district."""
    if not message.district:
        raise Invalid("level", "a township matter needs the message's district, and it has none")
    if named:
        found = repo.units_named(ctx.session, named)
        for i, code in enumerate(named):
            unit = found.get(code)
            if unit is None:
                raise Invalid(f"units[{i}]", f"unknown unit {code!r}")
            if unit.kind != "township" or unit.district != message.district:
                raise Invalid(
                    f"units[{i}]", f"{code!r} is not a township government of district {message.district!r}"
                )
        return named
    candidates = repo.townships_of(ctx.session, message.district)
    if len(candidates) != 1:
        raise Invalid(
            "units",
            "name the township government(s) of the message's district"
            if candidates
            else f"district {message.district!r} has no township government registered",
        )
    return candidates


def hotline_no_for(ctx: Ctx, message: Message, at: datetime) -> str:
    """The ticket's number: DM (代表 message), the local date, the random tail of the message's
    id. Never the tracking code, which opens the voter's page."""
    return f"DM{at.astimezone(ctx.tz):%Y%m%d}-{message.id.replace('-', '')[-12:].upper()}"


def forward(ctx: Ctx, *, message_id: str, data: ForwardInput) -> tuple[Message, Ticket]:
    """The deputy (or the liaison committee for the deputy) forwards the message."""
    message = messages.get_visible(ctx, message_id, for_update=True)
    messages.transition(message, MsgAction.FORWARD)
    at = messages.action_at(ctx, message, data.at)
    units = data.units
    if data.level == "township":
        units = _township_units(ctx, message, list(dict.fromkeys(data.units or [])))
    deputy = ctx.session.get(Deputy, message.deputy_id)
    assert deputy is not None
    content = message.content if not data.note else f"{message.content}\n\n代表意见：{data.note}"
    ingested = ingest(
        ctx,
        TicketInput(
            hotline_no=hotline_no_for(ctx, message, at),
            called_at=at,
            dispatched_at=at,
            caller_name=deputy.name,
            caller_phone=deputy.phone,
            category=data.category,
            content=content,
            kind="problem",
            district=message.district,
            urgency=data.urgency or "normal",
            units=units or None,
            lead_unit=data.lead_unit,
        ),
    )
    ticket_id = ingested.ticket.id
    ctx.session.execute(
        update(Ticket)
        .where(Ticket.id == ticket_id)
        .values(channel=message.channel, message_id=message.id)
        .execution_options(synchronize_session=False)
    )
    ticket = ctx.session.get(Ticket, ticket_id, populate_existing=True)
    assert ticket is not None
    log(
        ctx,
        ticket,
        "ticket.from_message",
        at=at,
        data={
            "message_id": message.id,
            "level": data.level,
            "channel": message.channel,
            "deputy_id": deputy.id,
        },
    )
    message.status = MsgStatus.FORWARDED.value
    message.responded_at = at
    message.forward_level, message.forward_note, message.ticket_id = data.level, data.note, ticket.id
    messages.log(
        ctx,
        message,
        "message.forwarded",
        at=at,
        data={
            "level": data.level,
            "ticket_id": ticket.id,
            "hotline_no": ticket.hotline_no,
            "lead_unit": ticket.lead_unit,
            "note": data.note,
        },
    )
    units_now = [ticket.lead_unit, *(units or [])]
    emit(
        ctx,
        "message.forwarded",
        ticket=ticket,
        units=units_now,
        data={
            "message_id": message.id,
            "level": data.level,
            "deputy_id": deputy.id,
            "channel": message.channel,
            "lead_unit": ticket.lead_unit,
        },
    )
    ctx.session.flush()
    return message, ticket


def ticket_fed_back(ctx: Ctx, ticket: Ticket, at: datetime) -> None:
    """A forwarded message's ticket is fed back: the voter can see the result and rate it."""
    if ticket.message_id is None:
        return
    message = repo.get(ctx.session, ticket.message_id, for_update=True)
    if message is None or message.status != MsgStatus.FORWARDED.value:
        return  # a later round's feedback: the voter has the result already
    message.status = MsgStatus.RESULT_READY.value
    message.settled_at = at
    messages.log(
        ctx,
        message,
        "message.result_ready",
        at=at,
        data={"ticket_id": ticket.id, "outcome": ticket.resolution_outcome},
    )
