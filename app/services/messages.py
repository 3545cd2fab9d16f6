"""Use-cases of voters' messages (一人一码): intake, the deputy's three actions, the voter's
rating, and reads. The sweep's part is app.services.message_sweep."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement

from app.errors import Conflict, Invalid, NotFound
from app.models import Deputy, Message, MessageEvent, Reception
from app.models.base import new_id
from app.repositories import messages as repo
from app.repositories.messages import MessageFilter as MessageFilter
from app.services.context import Ctx
from app.services.message_flow import SETTLED, MsgAction, MsgStatus, next_status
from app.services.registry import normalize_phone, valid_phone
from app.services.sla import Basis, ClockState, clock_state, compute_due

# Tracking codes are read aloud and copied from paper: no 0/O, 1/I/L.
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 12  # ~59 random bits (SPEC: at least 10 characters)


# Random bytes below this map evenly onto the alphabet (b % 31); the rest are drawn again.
_EVEN_BELOW = 256 - 256 % len(TRACKING_ALPHABET)


def new_tracking_code() -> str:
    """Each character uniform over the alphabet, from one read of the system's randomness
    (secrets.choice per character read it twelve times: 5% of the public form's CPU)."""
    chars: list[str] = []
    while len(chars) < TRACKING_LENGTH:
        chars += [
            TRACKING_ALPHABET[b % len(TRACKING_ALPHABET)] for b in secrets.token_bytes(24) if b < _EVEN_BELOW
        ]
    return "".join(chars[:TRACKING_LENGTH])


def tracking_hash(code: str) -> str:
    """What the index holds: look-ups compare digests, never a prefix of a real code."""
    return hashlib.sha256(code.strip().upper().encode("utf-8")).hexdigest()


@dataclass
class NewMessage:
    deputy_id: str
    channel: str
    content: str
    voter_phone: str
    voter_name: str | None = None
    district: str | None = None
    received_at: datetime | None = None
    reception_id: str | None = None
    client_address: str | None = None


def log(ctx: Ctx, message: Message, type_: str, *, at: datetime, data: dict[str, Any] | None = None) -> None:
    """Append to the message's history (written with the session's next flush)."""
    now = ctx.now()
    message.updated_at = now
    ctx.session.add(
        MessageEvent(
            message_id=message.id,
            at=at,
            recorded_at=now,
            actor=ctx.actor.name,
            actor_role=ctx.actor.role,
            type=type_,
            data=data or {},
        )
    )


def _rows(ctx: Ctx, data: NewMessage, station_code: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A new message's row and its first event's (`message.received`)."""
    now = ctx.now()
    received_at = data.received_at or now
    due = compute_due(
        calendar=ctx.calendar,
        tz=ctx.tz,
        basis=Basis.WORKDAYS,
        amount=ctx.policy.message_response_working_days,
        started_at=received_at,
        policy=ctx.policy,
    )
    code = new_tracking_code()
    message = {
        "id": new_id(),
        "tracking_code": code,
        "tracking_hash": tracking_hash(code),
        "deputy_id": data.deputy_id,
        "channel": data.channel,
        "content": data.content,
        "voter_name": data.voter_name,
        "voter_phone": data.voter_phone,
        "client_address": data.client_address,
        "district": data.district,
        "station_code": station_code,
        "reception_id": data.reception_id,
        "status": MsgStatus.RECEIVED.value,
        "received_at": received_at,
        "due_at": due.due_at,
        "warn_at": due.warn_at,
        "provisional": due.provisional,
        "recorded_by": ctx.actor.name,
        "created_at": now,
        "updated_at": now,
    }
    event = {
        "message_id": message["id"],
        "at": received_at,
        "recorded_at": now,
        "actor": ctx.actor.name,
        "actor_role": ctx.actor.role,
        "type": "message.received",
        "data": {
            "channel": data.channel,
            "deputy_id": data.deputy_id,
            "station": station_code,
            "reception_id": data.reception_id,
            "due_at": ctx.iso(due.due_at),
        },
    }
    return message, event


def _insert(ctx: Ctx, data: NewMessage, *, station_code: str | None) -> Message:
    row, event = _rows(ctx, data, station_code)
    message = Message(**row)
    ctx.session.add(message)
    # One flush writes both rows (the message first: the event refers to it).
    ctx.session.add(MessageEvent(**event))
    ctx.session.flush()
    return message


def voter_phone(raw: str, field: str = "voter.phone") -> str:
    phone = normalize_phone(raw)
    if not valid_phone(phone):
        raise Invalid(field, "a phone number: digits only, 5 to 20 of them")
    return phone


def record(ctx: Ctx, data: NewMessage) -> Message:
    """A message taken by a station (at a reception, on paper, in a WeChat group) or by the
    liaison committee, for a named deputy."""
    session, actor = ctx.session, ctx.actor
    if session.get(Deputy, data.deputy_id) is None:
        raise Invalid("deputy_id", f"unknown deputy {data.deputy_id!r}")
    station_code = actor.station_code if actor.role == "station" else None
    if station_code is not None and not _belongs(ctx, data.deputy_id, station_code):
        raise Invalid("deputy_id", f"the deputy does not belong to station {station_code!r}")
    if data.received_at is not None and data.received_at > ctx.now():
        raise Invalid("received_at", "lies in the future")
    if data.reception_id is not None:
        reception = session.get(Reception, data.reception_id)
        if reception is None or (station_code is not None and reception.station_code != station_code):
            raise Invalid("reception_id", f"unknown reception {data.reception_id!r}")
        if not _belongs(ctx, data.deputy_id, reception.station_code):
            raise Invalid("deputy_id", "the deputy does not belong to the reception's station")
        station_code = reception.station_code
    data.voter_phone = voter_phone(data.voter_phone)
    return _insert(ctx, data, station_code=station_code)


def submit_public(ctx: Ctx, data: NewMessage) -> str:
    """A message from the deputy's public page (channel `code`); the page checked the code,
    the limits and the fields. The same rows as a recorded message's, written as two plain
    INSERTs (no unit of work: nothing else of the session changes); its tracking code."""
    row, event = public_rows(ctx, data)
    repo.insert_rows(ctx.session.connection(), row, event)
    return str(row["tracking_code"])


def public_rows(ctx: Ctx, data: NewMessage) -> tuple[dict[str, Any], dict[str, Any]]:
    """A public message's row and its first event's, as `submit_public` writes them (the
    context's calendar set by the caller)."""
    data.channel = "code"
    return _rows(ctx, data, station_code=None)


def _belongs(ctx: Ctx, deputy_id: str, station_code: str) -> bool:
    return repo.deputy_at_station(ctx.session, deputy_id, station_code)


# --- limits of the public form ------------------------------------------------------------------


@dataclass
class PublicIntake:
    """What the public form's write path needs to know before it stores a message."""

    deputy_id: str | None  # the deputy of the active code; None: unknown, retired or disabled
    by_address: int
    oldest_by_address: datetime | None
    by_phone: int
    oldest_by_phone: datetime | None


def public_intake(
    ctx: Ctx,
    code: str,
    address: str,
    since_address: datetime,
    phone: str,
    since_phone: datetime,
    caps: tuple[int, int],
) -> PublicIntake:
    """The code's deputy, both limits' counts (each counted up to its cap in `caps`, the
    address's then the phone's) and oldest instants, and the working calendar's signature,
    in one statement; the calendar in force is set on the context."""
    row = repo.public_lookup(
        ctx.session.connection(), code, (address, since_address), (phone, since_phone), caps
    )
    deputy_id, by_address, oldest_address, by_phone, oldest_phone, cal_count, cal_latest = tuple(row)
    ctx.use_calendar(ctx.calendars(ctx.session, (int(cal_count), cal_latest)))
    return PublicIntake(deputy_id, int(by_address), oldest_address, int(by_phone), oldest_phone)


# --- reads ----------------------------------------------------------------------------------


def _scope(ctx: Ctx) -> ColumnElement[bool] | None:
    """What the actor may read: liaison and admin everything (None); a deputy its own; a
    station its deputies'."""
    actor = ctx.actor
    if actor.role in ("liaison", "admin"):
        return None
    if actor.role == "deputy":
        return repo.to_deputy(actor.deputy_id)
    if actor.role == "station":
        return repo.to_station(actor.station_code)
    return repo.no_message()  # the routes refuse other roles first


def get_visible(ctx: Ctx, message_id: str, *, for_update: bool = False) -> Message:
    message = repo.get(ctx.session, message_id, scope=_scope(ctx), for_update=for_update)
    if message is None:
        raise NotFound(f"no message {message_id}")
    return message


def list_messages(
    ctx: Ctx, f: MessageFilter, *, after: tuple[datetime, str] | None, limit: int
) -> list[Message]:
    """Newest first; one more than `limit` when there is a next page."""
    return repo.listed(ctx.session, f, scope=_scope(ctx), after=after, limit=limit + 1)


def history(ctx: Ctx, message_id: str) -> list[MessageEvent]:
    return repo.events(ctx.session, message_id)


def response_state(message: Message, now: datetime) -> ClockState:
    return clock_state(due_at=message.due_at, met_at=message.responded_at, cancelled_at=None, now=now)


def find_by_tracking_code(ctx: Ctx, code: str) -> Message | None:
    """The message a tracking code stands for. The code is hashed whatever it is, and the
    unique index is probed with the digest: known and unknown codes cost the same."""
    digest = tracking_hash(code[:64])
    return repo.by_tracking_hash(ctx.session, digest)


# --- the deputy's actions -------------------------------------------------------------------


def action_at(ctx: Ctx, message: Message, at: datetime | None) -> datetime:
    """A step's instant: default now; never in the future; never before the message came."""
    now = ctx.now()
    if at is None:
        return max(now, message.received_at)
    if at > now:
        raise Invalid("at", "lies in the future")
    if at < message.received_at:
        raise Invalid("at", f"is before the message was received ({ctx.iso(message.received_at)})")
    return at


def transition(message: Message, action: MsgAction) -> MsgStatus:
    status = next_status(message.status, action)
    if status is None:
        raise Conflict(f"cannot {action.value} a message that is {message.status}")
    return status


def _respond(ctx: Ctx, message: Message, action: MsgAction, at: datetime) -> None:
    message.status = transition(message, action).value
    message.responded_at = at
    if message.status in SETTLED:
        message.settled_at = at


def reply(ctx: Ctx, *, message_id: str, content: str, at: datetime | None) -> Message:
    """The deputy answers or settles the matter directly (立马办)."""
    message = get_visible(ctx, message_id, for_update=True)
    transition(message, MsgAction.REPLY)
    when = action_at(ctx, message, at)
    _respond(ctx, message, MsgAction.REPLY, when)
    message.reply = content
    log(ctx, message, "message.answered", at=when, data={"reply": content})
    ctx.session.flush()
    return message


def decline(ctx: Ctx, *, message_id: str, reason: str, at: datetime | None) -> Message:
    """The deputy declines: a matter for the courts, petitions (信访) or another channel."""
    message = get_visible(ctx, message_id, for_update=True)
    transition(message, MsgAction.DECLINE)
    when = action_at(ctx, message, at)
    _respond(ctx, message, MsgAction.DECLINE, when)
    message.decline_reason = reason
    log(ctx, message, "message.declined", at=when, data={"reason": reason})
    ctx.session.flush()
    return message


def rate(ctx: Ctx, *, message: Message, rating: str, comment: str | None) -> Message:
    """The voter rates the result on the tracking page; the message closes. The ticket's own
    rating is the hotline's, from its call to the deputy: it is not touched."""
    locked = repo.get(ctx.session, message.id, for_update=True)
    assert locked is not None
    message = locked
    message.status = transition(message, MsgAction.RATE).value
    now = ctx.now()
    message.rating, message.rating_comment, message.rated_at = rating, comment, now
    message.closed_at = now
    log(ctx, message, "message.rated", at=now, data={"rating": rating, "comment": comment})
    ctx.session.flush()
    return message
