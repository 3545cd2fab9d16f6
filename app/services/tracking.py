"""What a voter sees of his or her message on the tracking page: its steps and dates, the
deputy's answer or the handling unit's result, and nothing about anyone else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Deputy, Message, Ticket, Unit
from app.services.message_flow import SETTLED
from app.services.privacy import mask_phone


@dataclass
class Step:
    at: datetime
    title: str
    text: str = ""


@dataclass
class TrackingView:
    message: Message
    deputy_name: str
    phone_masked: str
    steps: list[Step] = field(default_factory=list)
    can_rate: bool = False


def tracking_view(session: Session, message: Message) -> TrackingView:
    """The steps with their dates: received; answered / declined; or forwarded to the lead
    unit, resolved with its reply, fed back; rated or closed."""
    deputy = session.get(Deputy, message.deputy_id)
    view = TrackingView(
        message=message,
        deputy_name=deputy.name if deputy else "",
        phone_masked=mask_phone(message.voter_phone) or "（已按规定删除）",
        can_rate=message.status in SETTLED,
    )
    steps = view.steps
    steps.append(Step(message.received_at, "留言已收到", "代表将在两个工作日内答复、交办或说明。"))
    if message.status == "answered" or (message.reply and message.responded_at):
        assert message.responded_at is not None
        steps.append(Step(message.responded_at, "代表已答复", message.reply or ""))
    if message.decline_reason and message.responded_at:
        steps.append(Step(message.responded_at, "代表说明不予受理", message.decline_reason))
    if message.ticket_id:
        ticket = session.get(Ticket, message.ticket_id)
        if ticket is not None:
            unit = session.get(Unit, ticket.lead_unit) if ticket.lead_unit else None
            assert message.responded_at is not None
            steps.append(
                Step(message.responded_at, "代表已交办", f"交由{unit.name if unit else '承办单位'}办理")
            )
            if ticket.resolved_at is not None:
                steps.append(Step(ticket.resolved_at, "承办单位已办结", ticket.resolution_reply or ""))
            if ticket.fed_back_at is not None:
                steps.append(Step(ticket.fed_back_at, "办理结果已反馈"))
    if message.rated_at is not None:
        steps.append(Step(message.rated_at, "您已评价"))
    elif message.closed_at is not None:
        steps.append(Step(message.closed_at, "留言已办结", "评价期限已过，未作评价。"))
    return view
