"""Due times and clock states (pure), after the Civil Code arts. 201-203.

A period in hours runs from the exact starting instant. A period in days does
not count the starting day and ends at 24:00 of its last day, kept as the next
day's 00:00 local time (exclusive). A last day that is not a working day runs
on to the next working day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from app.services.working_days import WorkingCalendar


class Basis(StrEnum):
    HOURS = "hours"
    WORKDAYS = "workdays"
    DAYS = "days"


class ClockKind(StrEnum):
    CONTACT = "contact"
    RESOLVE = "resolve"
    FEEDBACK = "feedback"
    OPINION = "opinion"
    # An invitation's (约请, SPEC Part II): the invited unit acknowledges, then completes.
    ACKNOWLEDGE = "acknowledge"
    COMPLETE = "complete"


class ClockState(StrEnum):
    RUNNING = "running"
    MET = "met"
    MET_LATE = "met_late"
    BREACHED = "breached"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class Policy:
    """The configurable limits; defaults are SPEC.md's."""

    contact_hours: int = 24
    resolve_working_days: int = 7
    urgent_resolve_hours: int = 24
    feedback_days: int = 2
    opinion_working_days: int = 5
    warn_hours_before: int = 4
    long_overdue_working_days: int = 5
    # Part II: a deputy answers a voter's message by the end of the Nth working day after
    # the day it was received; the voter has M days to rate the result.
    message_response_working_days: int = 2
    message_rating_days: int = 15
    invitation_acknowledge_working_days: int = 3
    invitation_complete_working_days: int = 15
    invitation_letter_prefix: str = "人大约"  # not a limit, but the same kind of local rule
    invitation_issuer: str = "人大常委会代表与选任工作委员会"  # who signs the letter


@dataclass(frozen=True)
class Due:
    """A period's instants; `provisional`: the due time itself relied on a year with no
    arrangement."""

    due_at: datetime
    warn_at: datetime
    escalate_at: datetime | None
    provisional: bool
    due_day: date


def rule_for(kind: ClockKind, urgency: str, policy: Policy) -> tuple[Basis, int]:
    """How a clock of this kind is counted."""
    match kind:
        case ClockKind.CONTACT:
            return Basis.HOURS, policy.contact_hours
        case ClockKind.RESOLVE if urgency == "urgent":
            return Basis.HOURS, policy.urgent_resolve_hours
        case ClockKind.RESOLVE:
            return Basis.WORKDAYS, policy.resolve_working_days
        case ClockKind.FEEDBACK:
            return Basis.DAYS, policy.feedback_days
        case ClockKind.OPINION:
            return Basis.WORKDAYS, policy.opinion_working_days
        case ClockKind.ACKNOWLEDGE:
            return Basis.WORKDAYS, policy.invitation_acknowledge_working_days
        case ClockKind.COMPLETE:
            return Basis.WORKDAYS, policy.invitation_complete_working_days
    raise ValueError(f"unknown clock kind {kind}")


def local_midnight(d: date, tz: ZoneInfo) -> datetime:
    """00:00 local time of `d`, as a UTC instant."""
    return datetime.combine(d, time(0), tzinfo=tz).astimezone(UTC)


def end_of_day(d: date, tz: ZoneInfo) -> datetime:
    """24:00 of `d` local time (the next day's 00:00), as a UTC instant."""
    return local_midnight(d + timedelta(days=1), tz)


def compute_due(
    *,
    calendar: WorkingCalendar,
    tz: ZoneInfo,
    basis: Basis,
    amount: int,
    started_at: datetime,
    policy: Policy,
    escalates: bool = False,
) -> Due:
    """Due, warning and (for resolve clocks) long-overdue instants of a period."""
    if started_at.tzinfo is None:
        raise ValueError("started_at must be timezone-aware")
    # Hours are elapsed time: add them in UTC, so a DST change cannot stretch a period.
    started_at = started_at.astimezone(UTC)
    provisional = False
    if basis is Basis.HOURS:
        due_at = started_at + timedelta(hours=amount)
        warn_at = max(started_at, due_at - timedelta(hours=policy.warn_hours_before))
        due_day = due_at.astimezone(tz).date()
        # An hour-counted due time does not depend on the calendar: it is never provisional.
    else:
        start_day = started_at.astimezone(tz).date()
        if basis is Basis.WORKDAYS:
            due_day, provisional = calendar.add_working_days(start_day, amount)
        else:
            due_day, provisional = calendar.next_working_day(start_day + timedelta(days=amount))
            provisional = provisional or calendar.provisional_between(start_day, due_day)
        due_at = end_of_day(due_day, tz)
        warn_at = max(started_at, local_midnight(due_day, tz))
    escalate_at = None
    if escalates:
        # The long-overdue threshold is the sweep's concern, not this clock's due time: a
        # threshold reckoned in a year with no arrangement does not make the clock
        # provisional (it is recomputed all the same when that year is loaded).
        overdue_day, _ = calendar.add_working_days(due_day, policy.long_overdue_working_days)
        escalate_at = end_of_day(overdue_day, tz)
    return Due(due_at, warn_at, escalate_at, provisional, due_day)


def clock_state(
    *, due_at: datetime, met_at: datetime | None, cancelled_at: datetime | None, now: datetime
) -> ClockState:
    """The state as SPEC.md defines it, derived from the recorded instants and now."""
    if met_at is not None:
        return ClockState.MET if met_at < due_at else ClockState.MET_LATE
    if cancelled_at is not None:
        return ClockState.CANCELLED
    return ClockState.BREACHED if now >= due_at else ClockState.RUNNING
