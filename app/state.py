"""Process-wide state: settings, database, clock, calendar cache, admin bootstrap key."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.admission import Gate
from app.auth import hash_key, same_hash
from app.clock import Clock, SystemClock
from app.config import Settings
from app.db import Database, make_database
from app.services.calendar_in_force import CalendarProvider
from app.services.context import BOOTSTRAP, Actor, Ctx
from app.services.registry import find_key
from app.services.reports.scoring import ScoreWeights
from app.services.sla import Policy


@dataclass
class AppState:
    settings: Settings
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    calendars: CalendarProvider = field(default_factory=CalendarProvider)

    def __post_init__(self) -> None:
        s = self.settings
        self.policy = Policy(
            contact_hours=s.contact_hours,
            resolve_working_days=s.resolve_working_days,
            urgent_resolve_hours=s.urgent_resolve_hours,
            feedback_days=s.feedback_days,
            opinion_working_days=s.opinion_working_days,
            warn_hours_before=s.warn_hours_before,
            long_overdue_working_days=s.long_overdue_working_days,
            message_response_working_days=s.message_response_working_days,
            message_rating_days=s.message_rating_days,
            invitation_acknowledge_working_days=s.invitation_acknowledge_working_days,
            invitation_complete_working_days=s.invitation_complete_working_days,
            invitation_letter_prefix=s.invitation_letter_prefix,
            invitation_issuer=s.invitation_issuer,
        )
        self.score_weights = ScoreWeights(
            contact_on_time_rate=s.score_weight_contact,
            resolve_on_time_rate=s.score_weight_resolve,
            feedback_on_time_rate=s.score_weight_feedback,
            satisfaction_rate=s.score_weight_satisfaction,
            solve_rate=s.score_weight_solve,
        )
        self.duty_schedule = s.duty_schedule
        # Places for requests waiting on the database (app.admission): past them, 503.
        self.write_gate = Gate("writes", s.max_writers)
        self.read_gate = Gate("reads", s.max_readers)
        self.public_gate = Gate("public pages", s.max_public)
        self.admin_hash = hash_key(s.admin_key) if s.admin_key else None
        # Valid keys are remembered briefly: polling units would otherwise pay a query per
        # request. A key revoked on another replica stops working within the TTL.
        self._keys: dict[str, tuple[Actor, float]] = {}
        # The local day the periodic job last said next year's calendar is not loaded
        # (app.jobs.scheduler: once a day per process).
        self.calendar_reminded_on: date | None = None

    def remembered(self, token: str | None) -> Actor | None:
        """The actor of a key known without a query (bootstrap key, or recently seen)."""
        if not token or len(token) > 200:
            return None
        digest = hash_key(token)
        if self.admin_hash is not None and same_hash(digest, self.admin_hash):
            return BOOTSTRAP
        cached = self._keys.get(digest)
        return cached[0] if cached is not None and cached[1] > time.monotonic() else None

    def authenticate(self, token: str | None) -> Actor | None:
        """The actor a bearer key stands for, or None."""
        known = self.remembered(token)
        if known is not None or not token or len(token) > 200:
            return known
        digest = hash_key(token)
        with self.db.read_session() as session:
            key = find_key(session, digest)
            if key is None or not same_hash(key.key_hash, digest):
                self._keys.pop(digest, None)
                return None
            actor = Actor(
                role=key.role,
                unit_code=key.unit_code,
                deputy_id=key.deputy_id,
                station_code=key.station_code,
                key_id=key.id,
                label=key.label,
            )
        if len(self._keys) > 10_000:
            self._keys.clear()
        self._keys[digest] = (actor, time.monotonic() + self.settings.key_cache_seconds)
        return actor

    def forget_keys(self) -> None:
        """Drop remembered keys (after a revocation on this process)."""
        self._keys.clear()

    def ctx(self, session: Session, actor: Actor) -> Ctx:
        return Ctx(
            session=session,
            clock=self.clock,
            tz=self.settings.tz,
            policy=self.policy,
            calendars=self.calendars.current,
            actor=actor,
        )


def build_state(
    settings: Settings,
    clock: Clock | None = None,
    url: str | None = None,
    calendars: CalendarProvider | None = None,
) -> AppState:
    return AppState(
        settings=settings,
        db=make_database(settings, url),
        clock=clock or SystemClock(),
        calendars=calendars or CalendarProvider(),
    )
