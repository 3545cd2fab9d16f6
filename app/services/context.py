"""What a use-case needs besides its arguments: storage, time, rules, and who acts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.clock import Clock
from app.services.sla import Policy
from app.services.working_days import WorkingCalendar


@dataclass(frozen=True)
class Actor:
    """Who acts: a person (signed in) or a client system (an API key), with the role and
    what the role is bound to (a unit, a deputy or a station)."""

    role: str
    unit_code: str | None = None
    deputy_id: str | None = None
    station_code: str | None = None
    key_id: str | None = None
    username: str | None = None
    label: str = ""

    @property
    def name(self) -> str:
        """The actor as written in the event log: `user:<username>` for a person,
        `key:<key id>` for a key; the process itself by its label (`system`, `cli`)."""
        if self.username is not None:
            return f"user:{self.username}"
        if self.key_id is not None:
            return f"key:{self.key_id}"
        return self.label or self.role

    @property
    def privileged(self) -> bool:
        """Reads every ticket (hotline, liaison, admin)."""
        return self.role in {"hotline", "liaison", "admin"}

    def event_columns(self) -> dict[str, str | None]:
        """The columns of an event that say who acted."""
        return {
            "actor": self.name,
            "actor_role": self.role,
            "actor_unit": self.unit_code,
            "actor_deputy": self.deputy_id,
            "actor_station": self.station_code,
        }


# The SLA sweep, as its events have always named it; the bootstrap key (HOTLINE_ADMIN_KEY)
# has no row, so it is named after itself; commands run on the server (`hotline ...`).
SYSTEM = Actor(role="system", label="system")
BOOTSTRAP = Actor(role="admin", key_id="bootstrap", label="HOTLINE_ADMIN_KEY")
CLI = Actor(role="admin", label="cli")


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

    def use_calendar(self, calendar: WorkingCalendar | None) -> None:
        """Use this calendar from now on (one the caller looked up with a query of its own);
        None: look it up again on next use (the operator's years have just changed)."""
        self._calendar = calendar
