"""What a use-case needs besides its arguments: storage, time, rules, and who acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.clock import Clock
from app.services.calendar import WorkingCalendar
from app.services.sla import Policy


@dataclass(frozen=True)
class Actor:
    """Who acts: a role, the unit a unit key is bound to, and the key's label."""

    role: str
    unit_code: str | None = None
    key_id: str | None = None
    label: str = ""

    @property
    def name(self) -> str:
        """The actor as written in the event log."""
        return f"unit:{self.unit_code}" if self.role == "unit" else self.role

    @property
    def privileged(self) -> bool:
        """Reads every ticket (hotline, liaison, admin)."""
        return self.role in {"hotline", "liaison", "admin"}


SYSTEM = Actor(role="system", label="sla-sweep")


@dataclass
class Ctx:
    session: Session
    clock: Clock
    tz: ZoneInfo
    policy: Policy
    calendars: Callable[..., WorkingCalendar]
    actor: Actor
    # Whether a unit has a webhook endpoint, remembered per use-case (the sweep emits
    # thousands of events; intake learns it with the check that its units exist).
    webhook_units: dict[str, bool] = field(default_factory=dict)

    _calendar: WorkingCalendar | None = field(default=None)

    def now(self) -> datetime:
        return self.clock.now()

    def iso(self, dt: datetime) -> str:
        """An instant as RFC 3339 in the service's time zone, as every output shows it."""
        return dt.astimezone(self.tz).isoformat()

    @property
    def calendar(self) -> WorkingCalendar:
        """The working calendar in force, looked up on first use only."""
        if self._calendar is None:
            self._calendar = self.calendars(self.session)
        return self._calendar
