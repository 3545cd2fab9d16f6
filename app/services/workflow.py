"""The ticket status machine, as data (pure)."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    FED_BACK = "fed_back"
    SUPERVISING = "supervising"
    RETURNED = "returned"
    CLOSED = "closed"


class Action(StrEnum):
    CONTACT = "contact"
    RESOLVE = "resolve"
    FEEDBACK = "feedback"
    RATE_SATISFIED = "rate_satisfied"
    RATE_UNSATISFIED = "rate_unsatisfied"
    RETURN = "return"
    DISPATCH = "dispatch"
    OPINION = "opinion"
    EXTENSION = "extension"


S, A = Status, Action

ALLOWED: dict[tuple[Status, Action], Status] = {
    (S.DISPATCHED, A.CONTACT): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.CONTACT): S.IN_PROGRESS,
    (S.RESOLVED, A.CONTACT): S.RESOLVED,
    (S.FED_BACK, A.CONTACT): S.FED_BACK,
    (S.SUPERVISING, A.CONTACT): S.SUPERVISING,
    (S.DISPATCHED, A.RESOLVE): S.RESOLVED,
    (S.IN_PROGRESS, A.RESOLVE): S.RESOLVED,
    (S.SUPERVISING, A.RESOLVE): S.RESOLVED,
    (S.RESOLVED, A.FEEDBACK): S.FED_BACK,
    (S.FED_BACK, A.RATE_SATISFIED): S.CLOSED,
    (S.FED_BACK, A.RATE_UNSATISFIED): S.SUPERVISING,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.IN_PROGRESS, A.RETURN): S.RETURNED,
    (S.RETURNED, A.DISPATCH): S.DISPATCHED,
}

# Opinions and extension requests never move the status; they are refused only on a
# closed ticket (and, for opinions, when there is no current co-handling assignment).
STATUS_NEUTRAL = {A.OPINION, A.EXTENSION}

# Statuses in which the lead's resolve clock runs: an extension can be asked for.
UNRESOLVED = frozenset({S.DISPATCHED, S.IN_PROGRESS, S.SUPERVISING})
# Statuses in which no unit has work on the ticket: it leaves every handling queue.
OUT_OF_QUEUES = frozenset({S.CLOSED, S.RETURNED})


def is_closed(status: str) -> bool:
    """Nothing is done on a closed ticket, by anyone."""
    return status == S.CLOSED


def is_unresolved(status: str) -> bool:
    """The lead is still to resolve the ticket's current round."""
    return status in UNRESOLVED


def in_queues(status: str) -> bool:
    """Whether units may have work on a ticket in this status (its queue rows are active)."""
    return status not in OUT_OF_QUEUES


class TransitionRefused(Exception):
    def __init__(self, status: Status, action: Action) -> None:
        super().__init__(f"cannot {action.value.replace('_', ' ')} a ticket that is {status.value}")
        self.status = status
        self.action = action


def next_status(status: Status, action: Action) -> Status:
    """The status after `action`, or TransitionRefused."""
    if action in STATUS_NEUTRAL:
        if is_closed(status):
            raise TransitionRefused(status, action)
        return status
    try:
        return ALLOWED[(status, action)]
    except KeyError:
        raise TransitionRefused(status, action) from None
