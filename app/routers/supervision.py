"""Supervision cases."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from app.deps import CursorParam, Limit, OneTripRoute, decode_cursor, encode_cursor, reader, writer
from app.errors import Invalid
from app.models import Supervision
from app.schemas.common import Page, problem_responses
from app.schemas.supervision import (
    CaseKind,
    CaseState,
    CloseIn,
    MeetingIn,
    NoteIn,
    SupervisionIn,
    SupervisionOut,
)
from app.services import supervision as svc
from app.services.context import Ctx
from app.services.invitations import invitation_numbers
from app.services.registry import unit_names as unit_names_of
from app.services.tickets import hotline_numbers
from app.services.views import local

router = APIRouter(
    route_class=OneTripRoute,
    prefix="/api/v1",
    tags=["supervision"],
    responses=problem_responses(401, 403, 404, 422),
)


def cases_out(ctx: Ctx, cases: list[Supervision]) -> list[dict[str, Any]]:
    notes = svc.notes_of(ctx, [c.id for c in cases])
    meetings = svc.meetings_of(ctx, [c.id for c in cases])
    named = {p for ms in meetings.values() for m in ms for p in m.participants}
    unit_names = unit_names_of(ctx.session, named)
    numbers = hotline_numbers(ctx, {c.ticket_id for c in cases if c.ticket_id})
    letters = invitation_numbers(ctx, {c.invitation_id for c in cases if c.invitation_id})
    return [
        {
            "id": c.id,
            "ticket_id": c.ticket_id,
            "hotline_no": numbers.get(c.ticket_id, "") if c.ticket_id else None,
            "invitation_id": c.invitation_id,
            "invitation_number": letters.get(c.invitation_id) if c.invitation_id else None,
            "kind": c.kind,
            "unit": c.unit_code,
            "state": c.state,
            "reason": c.reason,
            "round": c.round,
            "opened_at": local(c.opened_at, ctx.tz),
            "closed_at": local(c.closed_at, ctx.tz),
            "conclusion": c.conclusion,
            "notes": [
                {"id": n.id, "author": n.author, "content": n.content, "at": local(n.at, ctx.tz)}
                for n in notes[c.id]
            ],
            "meetings": [
                {
                    "id": m.id,
                    "held_at": local(m.held_at, ctx.tz),
                    "participants": m.participants,
                    "participant_names": [unit_names.get(p, p) for p in m.participants],
                    "conclusion": m.conclusion,
                    "recorded_by": m.recorded_by,
                    "recorded_at": local(m.recorded_at, ctx.tz),
                }
                for m in meetings[c.id]
            ],
        }
        for c in cases
    ]


@router.get("/supervisions", response_model=Page[SupervisionOut])
def list_cases(
    ctx: Ctx = reader("liaison", "admin", "unit"),
    kind: CaseKind | None = None,
    state: CaseState | None = None,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    ticket_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Limit = 50,
    cursor: CursorParam = None,
) -> Any:
    """Cases, newest first; a unit sees only its own."""
    after = decode_cursor(cursor)
    if after is not None and not isinstance(after, str):
        raise Invalid("cursor", "not a cursor this service issued")
    rows = svc.list_cases(
        ctx, kind=kind, state=state, unit=unit, ticket_id=ticket_id, after=after, limit=limit + 1
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": cases_out(ctx, rows), "next_cursor": encode_cursor(rows[-1].id) if more else None}


@router.post(
    "/supervisions", status_code=201, response_model=SupervisionOut, responses=problem_responses(409)
)
def open_case(body: SupervisionIn, ctx: Ctx = writer("liaison")) -> Any:
    """The liaison committee opens a joint case by hand on a ticket not closed (a hard case or
    poor handling); a second joint case in the same round, or a closed ticket → 409."""
    return cases_out(ctx, [svc.open_joint_by_hand(ctx, ticket_id=body.ticket_id, reason=body.reason)])[0]


@router.post("/supervisions/{case_id}/meetings", status_code=201, response_model=SupervisionOut)
def add_meeting(case_id: str, body: MeetingIn, ctx: Ctx = writer("liaison")) -> Any:
    """The liaison committee records a consultation meeting (会商) on a case: when, who took
    part (unit codes or names), what was agreed."""
    return cases_out(
        ctx,
        [
            svc.add_meeting(
                ctx,
                case_id=case_id,
                held_at=body.held_at,
                participants=body.participants,
                conclusion=body.conclusion,
            )
        ],
    )[0]


@router.get("/supervisions/{case_id}", response_model=SupervisionOut)
def get_case(case_id: str, ctx: Ctx = reader("liaison", "admin", "unit")) -> Any:
    return cases_out(ctx, [svc.get_case(ctx, case_id)])[0]


@router.post("/supervisions/{case_id}/notes", response_model=SupervisionOut, responses=problem_responses(409))
def add_note(case_id: str, body: NoteIn, ctx: Ctx = writer("unit", "liaison")) -> Any:
    """The supervising unit or the liaison committee adds a note."""
    return cases_out(ctx, [svc.add_note(ctx, case_id=case_id, content=body.content)])[0]


@router.post("/supervisions/{case_id}/close", response_model=SupervisionOut, responses=problem_responses(409))
def close_case(case_id: str, body: CloseIn, ctx: Ctx = writer("unit", "liaison")) -> Any:
    """The supervising unit or the liaison committee closes the case with a conclusion."""
    return cases_out(ctx, [svc.close_case(ctx, case_id=case_id, conclusion=body.conclusion)])[0]
