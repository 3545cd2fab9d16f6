"""Invitations' extension requests (延期, SPEC Part II): the invited unit asks for more
working days on the current round's `complete` clock, the submitting station adds its view,
the liaison committee decides; an approval moves the clock's due as for tickets."""

from __future__ import annotations

from app.errors import Conflict, Forbidden, NotFound
from app.models import Invitation, InvitationExtension
from app.repositories import invitations as repo
from app.services import invitation_log
from app.services.context import Ctx
from app.services.invitation_flow import Action, Party
from app.services.invitations import get_visible, open_clock, party, step
from app.services.sla import ClockKind
from app.services.vocabulary import ExtensionState


def request_extension(ctx: Ctx, *, invitation_id: str, working_days: int, reason: str) -> InvitationExtension:
    """The invited unit asks for more working days on the current round's `complete` clock,
    with its written reason (书面告知延期理由); one request pending at a time."""
    inv = get_visible(ctx, invitation_id, for_update=True)
    step(ctx, inv, Action.EXTENSION)
    clock = open_clock(ctx, inv, ClockKind.COMPLETE)
    if clock is None:
        raise Conflict("there is no running complete limit to extend")
    pending = repo.pending_extension_id(ctx.session, inv.id)
    if pending is not None:
        raise Conflict(f"extension {pending} is still pending")
    now = ctx.now()
    ext = InvitationExtension(
        invitation_id=inv.id,
        clock_id=clock.id,
        unit_code=inv.unit_code,
        round=inv.round,
        working_days=working_days,
        reason=reason,
        state=ExtensionState.PENDING.value,
        requested_at=now,
    )
    ctx.session.add(ext)
    ctx.session.flush()
    invitation_log.log(
        ctx,
        inv,
        "extension.requested",
        at=now,
        data={"extension_id": ext.id, "working_days": working_days, "reason": reason},
    )
    return ext


def find_extension(ctx: Ctx, extension_id: str, *, for_update: bool = False) -> InvitationExtension | None:
    """An invitation's extension request by id (None: not one; perhaps a ticket's)."""
    return repo.get_extension(ctx.session, extension_id, for_update=for_update)


def _extension(ctx: Ctx, extension_id: str) -> tuple[InvitationExtension, Invitation]:
    ext = find_extension(ctx, extension_id, for_update=True)
    if ext is None:
        raise NotFound(f"no extension {extension_id}")
    try:
        inv = get_visible(ctx, ext.invitation_id, for_update=True)
    except NotFound:
        raise NotFound(f"no extension {extension_id}") from None
    return ext, inv


def note_extension(ctx: Ctx, *, extension_id: str, content: str) -> InvitationExtension:
    """The submitting station adds its view on a pending request, for the committee."""
    ext, inv = _extension(ctx, extension_id)
    if party(ctx, inv) is not Party.STATION:
        raise Forbidden("only the submitting station adds its view on an extension request")
    if ext.state != ExtensionState.PENDING:
        raise Conflict(f"extension {extension_id} was already {ext.state}")
    now = ctx.now()
    ext.station_view, ext.station_view_at, ext.station_view_by = content, now, ctx.actor.name
    invitation_log.log(
        ctx, inv, "extension.station_view", at=now, data={"extension_id": ext.id, "content": content}
    )
    return ext


def decide_extension(ctx: Ctx, *, extension_id: str, approve: bool, note: str | None) -> InvitationExtension:
    """The liaison committee decides; approval moves the `complete` due date on by the
    working days asked, from the current due (as for tickets)."""
    ext, inv = _extension(ctx, extension_id)
    if ctx.actor.role != "liaison":
        raise Forbidden("the liaison committee decides an invitation's extension")
    if ext.state != ExtensionState.PENDING:
        raise Conflict(f"extension {extension_id} was already {ext.state}")
    from app.services.clocks import apply_due  # the engine's own rule for moving a due

    now = ctx.now()
    ext.state = (ExtensionState.APPROVED if approve else ExtensionState.REFUSED).value
    ext.decided_at, ext.decided_by, ext.note = now, ctx.actor.name, note
    data: dict[str, object] = {"extension_id": ext.id, "approve": approve, "note": note}
    if approve:
        clock = repo.get_clock(ctx.session, ext.clock_id)
        assert clock is not None
        change = apply_due(ctx, clock, amount=clock.amount + ext.working_days)
        if change:
            data.update(change)
    invitation_log.log(ctx, inv, "extension.decided", at=now, data=data)
    invitation_log.refresh_queue(ctx, inv)
    return ext


def pending_extensions(ctx: Ctx, *, limit: int) -> list[tuple[InvitationExtension, Invitation]]:
    """Extension requests waiting for the committee, oldest first, with their invitations."""
    return repo.pending_extensions(ctx.session, limit=limit)
