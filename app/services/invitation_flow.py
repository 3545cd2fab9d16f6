"""The invitation (约请) status machine, as data (pure): statuses, actions, who may act.

SPEC Part II "Invitations": the station submits, the liaison committee approves (the
letter is numbered and issued) or rejects, the invited unit acknowledges and reports on
the form, the station evaluates; an unsatisfied evaluation sends the invitation back to
`acknowledged` for a new handling round.
"""

from __future__ import annotations

from enum import StrEnum

from app.services.vocabulary import THREE_POINT, rating_of


class Status(StrEnum):
    SUBMITTED = "submitted"
    ISSUED = "issued"
    REJECTED = "rejected"
    ACKNOWLEDGED = "acknowledged"
    REPORTED = "reported"
    CLOSED = "closed"


class Action(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    REJECT = "reject"
    ACKNOWLEDGE = "acknowledge"
    REPORT = "report"
    EVALUATE_SATISFIED = "evaluate_satisfied"
    EVALUATE_UNSATISFIED = "evaluate_unsatisfied"
    EXTENSION = "extension"  # ask for more time; never moves the status


class Party(StrEnum):
    """Who acts, relative to one invitation."""

    STATION = "station"  # the submitting station
    LIAISON = "liaison"  # the liaison committee (代表与选任工委)
    UNIT = "unit"  # the invited unit
    OTHER = "other"  # may read the invitation but is none of the above (admin)


S, A, P = Status, Action, Party

ALLOWED: dict[tuple[Status | None, Action], Status] = {
    (None, A.SUBMIT): S.SUBMITTED,
    (S.SUBMITTED, A.APPROVE): S.ISSUED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.ISSUED, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, A.REPORT): S.REPORTED,
    (S.REPORTED, A.EVALUATE_SATISFIED): S.CLOSED,
    (S.REPORTED, A.EVALUATE_UNSATISFIED): S.ACKNOWLEDGED,
    (S.ACKNOWLEDGED, A.EXTENSION): S.ACKNOWLEDGED,
}

PARTIES: dict[Action, frozenset[Party]] = {
    A.SUBMIT: frozenset({P.STATION, P.LIAISON}),
    A.APPROVE: frozenset({P.LIAISON}),
    A.REJECT: frozenset({P.LIAISON}),
    A.ACKNOWLEDGE: frozenset({P.UNIT}),
    A.REPORT: frozenset({P.UNIT}),
    A.EVALUATE_SATISFIED: frozenset({P.STATION, P.LIAISON}),
    A.EVALUATE_UNSATISFIED: frozenset({P.STATION, P.LIAISON}),
    A.EXTENSION: frozenset({P.UNIT}),
}

# What the invited unit does next, as its queue shows it; other statuses are not its work.
NEXT_ACTION = {S.ISSUED: "acknowledge", S.ACKNOWLEDGED: "report"}


class WrongParty(Exception):
    """The action is not this party's (→ 403)."""


class OutOfOrder(Exception):
    """The action is not allowed in this status (→ 409)."""


def _words(action: Action) -> str:
    return action.value.replace("_", " ")


def next_status(party: Party, status: Status | None, action: Action) -> Status:
    """The status after `party` does `action`; WrongParty before OutOfOrder, so a party that
    may never do it learns that whatever the status."""
    if party not in PARTIES[action]:
        allowed = " or ".join(sorted(p.value for p in PARTIES[action]))
        raise WrongParty(f"only the {allowed} may {_words(action)} an invitation")
    try:
        return ALLOWED[(status, action)]
    except KeyError:
        where = "a new invitation" if status is None else f"an invitation that is {status.value}"
        raise OutOfOrder(f"cannot {_words(action)} {where}") from None


def next_round(round_: int, action: Action) -> int:
    """An unsatisfied evaluation starts a new handling round (重办)."""
    return round_ + 1 if action is A.EVALUATE_UNSATISFIED else round_


def rating_action(rating: str) -> Action:
    """The evaluation's action for a rating code or its Chinese label (KeyError if neither)."""
    given = rating_of(rating, THREE_POINT)
    if given is None:
        raise KeyError(rating)
    return A.EVALUATE_SATISFIED if given.satisfied else A.EVALUATE_UNSATISFIED


def party_of(
    *, role: str, unit_code: str | None, station_code: str | None, invited_unit: str, station: str
) -> Party | None:
    """The actor's party for this invitation, or None when it may not even read it (→ 404)."""
    if role == "liaison":
        return P.LIAISON
    if role == "admin":
        return P.OTHER
    if role == "unit" and unit_code == invited_unit:
        return P.UNIT
    if role == "station" and station_code == station:
        return P.STATION
    return None


def letter_number(prefix: str, year: int, n: int) -> str:
    """The letter's number as printed: `<prefix>〔<year>〕<n>号` (人大约〔2025〕7号)."""
    return f"{prefix}〔{year}〕{n}号"
