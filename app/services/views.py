"""Plain-dict views of tickets, as the API shows them (times in the service's zone)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.models import Assignment, Clock, Deputy, Event, InvitationClock, Ticket
from app.repositories import tickets as tickets_repo
from app.services.sla import clock_state


def local(dt: datetime | None, tz: ZoneInfo) -> datetime | None:
    return None if dt is None else dt.astimezone(tz)


def clock_view(c: Clock | InvitationClock, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "unit": c.unit_code,
        "round": c.round,
        "started_at": local(c.started_at, tz),
        "due_at": local(c.due_at, tz),
        "state": clock_state(due_at=c.due_at, met_at=c.met_at, cancelled_at=c.cancelled_at, now=now).value,
        "met_at": local(c.met_at, tz),
        "provisional": c.provisional,
    }


def ticket_views(
    session: Session, tickets: Sequence[Ticket], now: datetime, tz: ZoneInfo
) -> list[dict[str, Any]]:
    """Full views of several tickets in three batched queries."""
    if not tickets:
        return []
    ids = [t.id for t in tickets]
    deputy_ids = {t.deputy_id for t in tickets if t.deputy_id}
    found_assignments, found_clocks, found_deputies = tickets_repo.parts(session, ids, deputy_ids)
    assignments: dict[str, list[Assignment]] = {i: [] for i in ids}
    for a in found_assignments:
        assignments[a.ticket_id].append(a)
    clocks: dict[str, list[Clock]] = {i: [] for i in ids}
    for c in found_clocks:
        clocks[c.ticket_id].append(c)
    deputies = {d.id: d for d in found_deputies}
    return [
        ticket_view(t, assignments[t.id], clocks[t.id], deputies.get(t.deputy_id or ""), now, tz)
        for t in tickets
    ]


def ticket_view(
    t: Ticket,
    assignments: Sequence[Assignment],
    clocks: Sequence[Clock],
    deputy: Deputy | None,
    now: datetime,
    tz: ZoneInfo,
) -> dict[str, Any]:
    return {
        "id": t.id,
        "hotline_no": t.hotline_no,
        "status": t.status,
        "kind": t.kind,
        "category": t.category,
        "district": t.district,
        "urgency": t.urgency,
        "complex": t.complex,
        "content": t.content,
        "called_at": local(t.called_at, tz),
        "dispatched_at": local(t.dispatched_at, tz),
        "caller": {"name": t.caller_name, "phone": t.caller_phone},
        "deputy": None if deputy is None else {"id": deputy.id, "name": deputy.name, "level": deputy.level},
        "deputy_verified": t.deputy_verified,
        "lead_unit": t.lead_unit,
        "assignments": [
            {
                "unit": a.unit_code,
                "role": a.role,
                "active": a.active,
                "assigned_at": local(a.assigned_at, tz),
                "ended_at": local(a.ended_at, tz),
                "opinion": a.opinion,
                "opinion_at": local(a.opinion_at, tz),
            }
            for a in assignments
        ],
        "clocks": [clock_view(c, now, tz) for c in clocks],
        "resolution": None
        if t.resolved_at is None
        else {
            "outcome": t.resolution_outcome,
            "reply": t.resolution_reply,
            "at": local(t.resolved_at, tz),
        },
        "feedback": None
        if t.fed_back_at is None
        else {
            "method": t.feedback_method,
            "content": t.feedback_content,
            "at": local(t.fed_back_at, tz),
        },
        "rating": None
        if t.rated_at is None
        else {
            "rating": t.rating,
            "comment": t.rating_comment,
            "at": local(t.rated_at, tz),
        },
        "round": t.round,
        "closed_at": local(t.closed_at, tz),
        "created_at": local(t.created_at, tz),
        "updated_at": local(t.updated_at, tz),
    }


_OLD_ROLES = {"hotline", "liaison", "admin", "system"}


def actor_detail(e: Event) -> dict[str, str | None]:
    """Who acted, in full: the role and what it is bound to. Events recorded before people
    signed in carry only their name (`hotline`, `unit:<code>`, `system`), read here."""
    if e.actor_role is not None:
        return {
            "role": e.actor_role,
            "unit": e.actor_unit,
            "deputy_id": e.actor_deputy,
            "station": e.actor_station,
        }
    role, unit = e.actor, None
    if e.actor.startswith("unit:"):
        role, unit = "unit", e.actor[len("unit:") :]
    return {
        "role": role if role in _OLD_ROLES or unit else None,
        "unit": unit,
        "deputy_id": None,
        "station": None,
    }
