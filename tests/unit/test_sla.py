"""Due times (SPEC.md worked examples, exact strings) and clock states."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from app.services.sla import (
    Basis,
    ClockKind,
    ClockState,
    Policy,
    clock_state,
    compute_due,
    end_of_day,
    local_midnight,
    rule_for,
)
from app.services.working_days import WorkingCalendar, YearArrangement, builtin_arrangements

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
POLICY = Policy()


@cache
def builtin() -> WorkingCalendar:
    return WorkingCalendar(builtin_arrangements(through=2026))  # 2027 not yet published


def local(s: str, tz: ZoneInfo = SHANGHAI) -> datetime:
    """A wall-clock time in `tz`, as the UTC instant the service stores."""
    return datetime.fromisoformat(s).replace(tzinfo=tz).astimezone(UTC)


def shown(dt: datetime | None, tz: ZoneInfo = SHANGHAI) -> str | None:
    return None if dt is None else dt.astimezone(tz).isoformat()


def due_for(kind: ClockKind, urgency: str, started: str, *, calendar=None, escalates=False):
    basis, amount = rule_for(kind, urgency, POLICY)
    return compute_due(
        calendar=calendar or builtin(),
        tz=SHANGHAI,
        basis=basis,
        amount=amount,
        started_at=local(started),
        policy=POLICY,
        escalates=escalates,
    )


# --- rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind, urgency, expected",
    [
        (ClockKind.CONTACT, "normal", (Basis.HOURS, 24)),
        (ClockKind.CONTACT, "urgent", (Basis.HOURS, 24)),
        (ClockKind.RESOLVE, "normal", (Basis.WORKDAYS, 7)),
        (ClockKind.RESOLVE, "urgent", (Basis.HOURS, 24)),
        (ClockKind.FEEDBACK, "normal", (Basis.DAYS, 2)),
        (ClockKind.OPINION, "normal", (Basis.WORKDAYS, 5)),
    ],
)
def test_rule_for_defaults(kind, urgency, expected):
    assert rule_for(kind, urgency, POLICY) == expected


def test_rule_for_follows_policy():
    policy = Policy(contact_hours=12, resolve_working_days=10, feedback_days=3)
    assert rule_for(ClockKind.CONTACT, "normal", policy) == (Basis.HOURS, 12)
    assert rule_for(ClockKind.RESOLVE, "normal", policy) == (Basis.WORKDAYS, 10)
    assert rule_for(ClockKind.FEEDBACK, "normal", policy) == (Basis.DAYS, 3)


# --- SPEC.md worked examples, compared as the strings shown (Asia/Shanghai) -----------------

EXAMPLES = [
    # kind, urgency, started (local), due_at, warn_at
    pytest.param(
        ClockKind.CONTACT,
        "normal",
        "2025-09-30T10:00",
        "2025-10-01T10:00:00+08:00",
        "2025-10-01T06:00:00+08:00",  # hour-counted: 4 hours before
        id="contact-24h-into-holiday",
    ),
    pytest.param(
        ClockKind.RESOLVE,
        "normal",
        "2025-09-30T10:00",
        "2025-10-17T00:00:00+08:00",  # end of Oct 16: Oct 9, 10, 11, 13, 14, 15, 16
        "2025-10-16T00:00:00+08:00",  # day-counted: start of the last day
        id="resolve-7-working-days-over-national-day",
    ),
    pytest.param(
        ClockKind.RESOLVE,
        "urgent",
        "2025-09-30T10:00",
        "2025-10-01T10:00:00+08:00",
        "2025-10-01T06:00:00+08:00",
        id="resolve-urgent-24h",
    ),
    pytest.param(
        ClockKind.FEEDBACK,
        "normal",
        "2025-09-26T15:00",
        "2025-09-29T00:00:00+08:00",  # end of Sun Sep 28, a make-up working day
        "2025-09-28T00:00:00+08:00",
        id="feedback-ends-on-make-up-sunday",
    ),
    pytest.param(
        ClockKind.FEEDBACK,
        "normal",
        "2025-09-30T15:00",
        "2025-10-10T00:00:00+08:00",  # day 2 is Oct 2, a holiday: rolls to Oct 9
        "2025-10-09T00:00:00+08:00",
        id="feedback-rolls-over-national-day",
    ),
    pytest.param(
        ClockKind.OPINION,
        "normal",
        "2025-09-30T10:00",
        "2025-10-15T00:00:00+08:00",  # 5th working day: Oct 14
        "2025-10-14T00:00:00+08:00",
        id="opinion-5-working-days",
    ),
    pytest.param(
        ClockKind.RESOLVE,
        "normal",
        "2026-02-13T09:30",
        "2026-03-03T00:00:00+08:00",  # 14, 24, 25, 26, 27, 28, Mar 2
        "2026-03-02T00:00:00+08:00",
        id="resolve-over-spring-festival-2026",
    ),
    pytest.param(
        ClockKind.FEEDBACK,
        "normal",
        "2026-02-12T08:00",
        "2026-02-15T00:00:00+08:00",  # day 2 is Sat Feb 14, a make-up working day
        "2026-02-14T00:00:00+08:00",
        id="feedback-ends-on-make-up-saturday-2026",
    ),
    pytest.param(
        ClockKind.FEEDBACK,
        "normal",
        "2026-02-13T08:00",
        "2026-02-25T00:00:00+08:00",  # day 2 is Feb 15, holiday: rolls to Feb 24
        "2026-02-24T00:00:00+08:00",
        id="feedback-rolls-over-spring-festival-2026",
    ),
    pytest.param(
        ClockKind.CONTACT,
        "normal",
        "2025-09-30T23:59:59",
        "2025-10-01T23:59:59+08:00",
        "2025-10-01T19:59:59+08:00",
        id="contact-exact-instant",
    ),
    pytest.param(
        ClockKind.RESOLVE,
        "normal",
        "2025-09-30T23:59:59",
        "2025-10-17T00:00:00+08:00",  # the starting day is not counted, whatever the hour
        "2025-10-16T00:00:00+08:00",
        id="resolve-late-on-dispatch-day",
    ),
    pytest.param(
        ClockKind.RESOLVE,
        "normal",
        "2025-10-01T00:00",
        "2025-10-17T00:00:00+08:00",  # dispatched on a holiday: Oct 9 is still day 1
        "2025-10-16T00:00:00+08:00",
        id="resolve-dispatched-on-holiday",
    ),
]


@pytest.mark.parametrize("kind, urgency, started, due_at, warn_at", EXAMPLES)
def test_worked_examples(kind, urgency, started, due_at, warn_at):
    due = due_for(kind, urgency, started)
    assert shown(due.due_at) == due_at
    assert shown(due.warn_at) == warn_at
    assert due.provisional is False
    assert due.escalate_at is None
    assert due.due_at.utcoffset() == timedelta(0)  # kept in UTC


def test_due_day_is_the_last_day_of_the_period():
    assert due_for(ClockKind.RESOLVE, "normal", "2025-09-30T10:00").due_day == date(2025, 10, 16)
    assert due_for(ClockKind.FEEDBACK, "normal", "2025-09-26T15:00").due_day == date(2025, 9, 28)
    assert due_for(ClockKind.CONTACT, "normal", "2025-09-30T10:00").due_day == date(2025, 10, 1)


@pytest.mark.parametrize(
    "urgency, started, escalate_at",
    [
        # end of the 5th working day after the due day Oct 16: 17, 20, 21, 22, 23
        ("normal", "2025-09-30T10:00", "2025-10-24T00:00:00+08:00"),
        # due day Oct 1 (holiday): 9, 10, 11, 13, 14
        ("urgent", "2025-09-30T10:00", "2025-10-15T00:00:00+08:00"),
    ],
)
def test_escalation(urgency, started, escalate_at):
    due = due_for(ClockKind.RESOLVE, urgency, started, escalates=True)
    assert shown(due.escalate_at) == escalate_at
    assert due.provisional is False


def test_warn_at_is_never_before_the_start():
    policy = Policy(contact_hours=2)
    started = local("2025-09-30T10:00")
    due = compute_due(
        calendar=builtin(),
        tz=SHANGHAI,
        basis=Basis.HOURS,
        amount=2,
        started_at=started,
        policy=policy,
    )
    assert shown(due.due_at) == "2025-09-30T12:00:00+08:00"
    assert due.warn_at == started


# --- years without data -------------------------------------------------------------------


def test_deadline_in_a_year_without_data_is_provisional_until_loaded():
    cal = builtin()
    due = due_for(ClockKind.RESOLVE, "normal", "2026-12-24T10:00", calendar=cal)
    # Dec 25, 28, 29, 30, 31, then Jan 1 is New Year's Day by law: Jan 4, Jan 5
    assert shown(due.due_at) == "2027-01-06T00:00:00+08:00"
    assert due.provisional is True

    arrangement = YearArrangement(2027, frozenset({date(2027, 1, 1), date(2027, 1, 4)}))
    loaded = cal.with_year(arrangement, 2027)
    due = due_for(ClockKind.RESOLVE, "normal", "2026-12-24T10:00", calendar=loaded)
    assert shown(due.due_at) == "2027-01-07T00:00:00+08:00"
    assert due.provisional is False


def test_feedback_rolling_into_a_year_without_data_is_provisional():
    due = due_for(ClockKind.FEEDBACK, "normal", "2026-12-30T10:00")
    # day 2 is Fri Jan 1, New Year's Day by law: rolled on to Mon Jan 4
    assert shown(due.due_at) == "2027-01-05T00:00:00+08:00"
    assert due.provisional is True


def test_a_long_overdue_threshold_in_a_year_without_data_leaves_the_clock_firm():
    # due end of Dec 28 (known data); threshold Dec 29, 30, 31, Jan 4, Jan 5 (Jan 1 by law)
    due = due_for(ClockKind.RESOLVE, "normal", "2026-12-17T10:00", escalates=True)
    assert shown(due.due_at) == "2026-12-29T00:00:00+08:00"
    assert shown(due.escalate_at) == "2027-01-06T00:00:00+08:00"
    assert due.provisional is False


def test_an_hour_counted_clock_is_never_provisional_whatever_its_threshold():
    due = due_for(ClockKind.RESOLVE, "urgent", "2026-12-31T10:00", escalates=True)
    assert shown(due.due_at) == "2027-01-01T10:00:00+08:00"
    assert shown(due.escalate_at) == "2027-01-09T00:00:00+08:00"  # Jan 4-8, by law
    assert due.provisional is False


# --- days and time zones ------------------------------------------------------------------


def test_end_of_day_and_local_midnight():
    assert shown(local_midnight(date(2025, 10, 16), SHANGHAI)) == "2025-10-16T00:00:00+08:00"
    assert end_of_day(date(2025, 10, 16), SHANGHAI).isoformat() == "2025-10-16T16:00:00+00:00"


@pytest.mark.parametrize(
    "basis, amount, started, due_at, warn_at",
    [
        # 24 real hours across the spring-forward night: 12:00 CET -> 13:00 CEST
        (
            Basis.HOURS,
            24,
            "2025-03-29T12:00",
            "2025-03-30T13:00:00+02:00",
            "2025-03-30T09:00:00+02:00",
        ),
        # and across the fall-back night: 12:00 CEST -> 11:00 CET
        (
            Basis.HOURS,
            24,
            "2025-10-25T12:00",
            "2025-10-26T11:00:00+01:00",
            "2025-10-26T07:00:00+01:00",
        ),
        # day-counted periods end at local midnight whatever the offset
        (
            Basis.DAYS,
            2,
            "2025-03-28T15:00",
            "2025-04-01T00:00:00+02:00",
            "2025-03-31T00:00:00+02:00",
        ),
        (
            Basis.WORKDAYS,
            1,
            "2025-10-24T15:00",
            "2025-10-28T00:00:00+01:00",
            "2025-10-27T00:00:00+01:00",
        ),
    ],
)
def test_dst_zone(basis, amount, started, due_at, warn_at):
    due = compute_due(
        calendar=WorkingCalendar({}),
        tz=BERLIN,
        basis=basis,
        amount=amount,
        started_at=local(started, BERLIN),
        policy=POLICY,
    )
    assert shown(due.due_at, BERLIN) == due_at
    assert shown(due.warn_at, BERLIN) == warn_at


def test_hours_from_a_local_aware_start_in_a_dst_zone():
    started = datetime(2025, 3, 29, 12, 0, tzinfo=BERLIN)
    due = compute_due(
        calendar=WorkingCalendar({}),
        tz=BERLIN,
        basis=Basis.HOURS,
        amount=24,
        started_at=started,
        policy=POLICY,
    )
    assert shown(due.due_at, BERLIN) == "2025-03-30T13:00:00+02:00"


# --- clock states -------------------------------------------------------------------------

DUE = datetime(2025, 10, 16, 16, 0, tzinfo=UTC)  # end of 2025-10-16, Asia/Shanghai
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    "met_at, cancelled_at, now, expected",
    [
        pytest.param(None, None, DUE - SECOND, ClockState.RUNNING, id="running"),
        pytest.param(None, None, DUE, ClockState.BREACHED, id="breached-at-due"),
        pytest.param(None, None, DUE + timedelta(days=3), ClockState.BREACHED, id="breached"),
        pytest.param(DUE - SECOND, None, DUE - SECOND, ClockState.MET, id="met"),
        pytest.param(DUE - SECOND, None, DUE + timedelta(days=9), ClockState.MET, id="met-back-recorded"),
        pytest.param(DUE, None, DUE, ClockState.MET_LATE, id="met-late-at-due"),
        pytest.param(DUE + SECOND, None, DUE + SECOND, ClockState.MET_LATE, id="met-late"),
        pytest.param(None, DUE - SECOND, DUE - SECOND, ClockState.CANCELLED, id="cancelled"),
        pytest.param(
            None,
            DUE + SECOND,
            DUE + timedelta(days=1),
            ClockState.CANCELLED,
            id="cancelled-after-due",
        ),
        pytest.param(DUE - SECOND, DUE, DUE + SECOND, ClockState.MET, id="met-then-cancelled"),
    ],
)
def test_clock_state(met_at, cancelled_at, now, expected):
    state = clock_state(due_at=DUE, met_at=met_at, cancelled_at=cancelled_at, now=now)
    assert state is expected


def test_clock_state_compares_instants_not_wall_times():
    met_local = datetime(2025, 10, 16, 23, 59, 59, tzinfo=SHANGHAI)  # just before due
    assert clock_state(due_at=DUE, met_at=met_local, cancelled_at=None, now=DUE) is ClockState.MET
    met_local = datetime(2025, 10, 17, 0, 0, tzinfo=SHANGHAI)  # the due instant
    state = clock_state(due_at=DUE, met_at=met_local, cancelled_at=None, now=DUE)
    assert state is ClockState.MET_LATE
