"""ORM tables, one module per aggregate; importing this registers them all."""

from app.models.accounts import Account, AccountEvent, SignInThrottle, UserSession
from app.models.base import Base
from app.models.calendar import CalendarYear
from app.models.duty import Activity, DutyReport, PointRule, Term
from app.models.invitations import (
    Invitation,
    InvitationClock,
    InvitationEvaluation,
    InvitationEvent,
    InvitationExtension,
    InvitationReport,
    LetterCounter,
)
from app.models.messages import DeputyCode, Message, MessageEvent
from app.models.outbox import WebhookAttempt, WebhookDelivery
from app.models.registry import ApiKey, Category, Deputy, District, Unit
from app.models.stations import Reception, ReceptionDeputy, Station, StationDeputy
from app.models.supervision import Supervision, SupervisionMeeting, SupervisionNote
from app.models.ticket import (
    Assignment,
    Clock,
    Event,
    Extension,
    QueueItem,
    Rating,
    Resolution,
    Ticket,
)

__all__ = [
    "StationDeputy",
    "Station",
    "ReceptionDeputy",
    "Reception",
    "MessageEvent",
    "Message",
    "DeputyCode",
    "Account",
    "AccountEvent",
    "Activity",
    "ApiKey",
    "Assignment",
    "Base",
    "CalendarYear",
    "Category",
    "Clock",
    "Deputy",
    "District",
    "DutyReport",
    "Event",
    "Extension",
    "PointRule",
    "Invitation",
    "InvitationClock",
    "InvitationEvaluation",
    "InvitationEvent",
    "InvitationExtension",
    "InvitationReport",
    "LetterCounter",
    "QueueItem",
    "Rating",
    "Resolution",
    "SignInThrottle",
    "Supervision",
    "SupervisionMeeting",
    "SupervisionNote",
    "Term",
    "Ticket",
    "Unit",
    "UserSession",
    "WebhookAttempt",
    "WebhookDelivery",
]
