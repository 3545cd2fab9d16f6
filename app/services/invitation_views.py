"""Plain-dict views of invitations, as the API and the pages show them."""

from __future__ import annotations

from typing import Any

from app.models import (
    Invitation,
    InvitationClock,
    InvitationEvaluation,
    InvitationEvent,
    InvitationExtension,
    InvitationReport,
    Supervision,
)
from app.repositories import invitations as repo
from app.repositories import registry
from app.services.context import Ctx
from app.services.views import clock_view, local


def extension_view(ctx: Ctx, e: InvitationExtension) -> dict[str, Any]:
    tz = ctx.tz
    return {
        "id": e.id,
        "invitation_id": e.invitation_id,
        "state": e.state,
        "working_days": e.working_days,
        "reason": e.reason,
        "round": e.round,
        "requested_at": local(e.requested_at, tz),
        "station_view": e.station_view,
        "station_view_at": local(e.station_view_at, tz),
        "decided_at": local(e.decided_at, tz),
        "decided_by": e.decided_by,
        "note": e.note,
    }


def _report(ctx: Ctx, r: InvitationReport) -> dict[str, Any]:
    return {
        "round": r.round,
        "summary": r.summary,
        "measures": r.measures,
        "outcome": r.outcome,
        "responsible_person": r.responsible_person,
        "at": local(r.at, ctx.tz),
        "recorded_by": r.recorded_by,
    }


def _evaluation(ctx: Ctx, e: InvitationEvaluation) -> dict[str, Any]:
    return {
        "round": e.round,
        "rating": e.rating,
        "satisfied": e.satisfied,
        "comment": e.comment,
        "at": local(e.at, ctx.tz),
        "recorded_by": e.recorded_by,
    }


def _event(ctx: Ctx, e: InvitationEvent) -> dict[str, Any]:
    return {
        "seq": e.id,
        "at": local(e.at, ctx.tz),
        "recorded_at": local(e.recorded_at, ctx.tz),
        "actor": e.actor,
        "actor_role": e.actor_role,
        "type": e.type,
        "data": e.data,
    }


def _case(ctx: Ctx, c: Supervision) -> dict[str, Any]:
    return {
        "id": c.id,
        "kind": c.kind,
        "state": c.state,
        "round": c.round,
        "reason": c.reason,
        "opened_at": local(c.opened_at, ctx.tz),
        "closed_at": local(c.closed_at, ctx.tz),
        "conclusion": c.conclusion,
    }


def invitation_view(ctx: Ctx, inv: Invitation) -> dict[str, Any]:
    """The invitation with its clocks, acknowledgment, reports, evaluations, extensions,
    cases and history."""
    tz, now = ctx.tz, ctx.now()
    parts = repo.parts(ctx.session, inv.id)
    names = registry.deputy_names(ctx.session, inv.deputies)
    reports = [_report(ctx, r) for r in parts["reports"]]
    evaluations = [_evaluation(ctx, e) for e in parts["evaluations"]]
    clocks: list[InvitationClock] = parts["clocks"]
    ack = None
    if inv.acknowledged_at is not None:
        ack = {
            "at": local(inv.acknowledged_at, tz),
            "meeting_at": local(inv.meeting_at, tz),
            "responsible_person": inv.responsible_person,
            "contact_phone": inv.contact_phone,
            "note": inv.acknowledgment_note,
        }
    review = None
    if inv.reviewed_at is not None:
        review = {
            "approved": inv.status != "rejected",
            "at": local(inv.reviewed_at, tz),
            "by": inv.reviewed_by,
            "note": inv.review_note,
        }
    return {
        "id": inv.id,
        "number": inv.number,
        "station": inv.station_code,
        "station_name": registry.station_name(ctx.session, inv.station_code),
        "unit": inv.unit_code,
        "unit_name": registry.unit_name(ctx.session, inv.unit_code),
        "subject": inv.subject,
        "content": inv.content,
        "deputies": [{"id": d, "name": names.get(d)} for d in inv.deputies],
        "status": inv.status,
        "round": inv.round,
        "submitted_at": local(inv.submitted_at, tz),
        "review": review,
        "clocks": [clock_view(c, now, tz) for c in clocks],
        "acknowledgment": ack,
        "report": reports[-1] if reports else None,
        "reports": reports,
        "evaluation": evaluations[-1] if evaluations else None,
        "evaluations": evaluations,
        "extensions": [extension_view(ctx, e) for e in parts["extensions"]],
        "supervisions": [_case(ctx, c) for c in parts["cases"]],
        "history": [_event(ctx, e) for e in parts["history"]],
    }
