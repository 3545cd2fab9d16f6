"""The domain's shared words (pure): supervision case kinds and states, extension states,
webhook delivery states and ratings, each with its Chinese label.

The API's schemas (their `Literal`s), the reports and the pages take the values and the
labels from here: a word added to an enum and not given a label fails at import.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar


class CaseKind(StrEnum):
    """Kinds of supervision case (督办), SPEC Part I "Supervision" and Part II."""

    COMMITTEE = "committee"  # 对口督办: the category's special committee
    LOCAL = "local"  # 属地督办: the district congress
    JOINT = "joint"  # 联合督办: the liaison committee
    COORDINATION = "coordination"  # 呈签协调: a complex ticket's coordinator
    INVITATION = "invitation"  # 约请督办: an invitation evaluated unsatisfied


# The kinds of case opened on a ticket (an `invitation` case is an invitation's).
TICKET_CASE_KINDS = (CaseKind.COMMITTEE, CaseKind.LOCAL, CaseKind.JOINT, CaseKind.COORDINATION)


class CaseState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # its trigger was disproved (a clock met in time, recorded late)


class ExtensionState(StrEnum):
    """An extension request (延期) on a ticket's or an invitation's clock."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    LAPSED = "lapsed"  # its clock was met or cancelled before a decision


class DeliveryState(StrEnum):
    """A webhook delivery in the outbox."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


class Rating(StrEnum):
    """A deputy's rating of a ticket's handling (回访); invitations and voters use three."""

    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    UNSATISFIED = "unsatisfied"
    VERY_UNSATISFIED = "very_unsatisfied"

    @property
    def satisfied(self) -> bool:
        """Closes the ticket (or the invitation, or the voter's message); else re-handling."""
        return self in _SATISFIED


_SATISFIED = frozenset({Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED})

# The three-point scale of an invitation's evaluation (评议) and of a voter's rating.
THREE_POINT = (Rating.SATISFIED, Rating.BASICALLY_SATISFIED, Rating.UNSATISFIED)

E = TypeVar("E", bound=StrEnum)


def labelled(enum: type[E], labels: dict[E, str]) -> dict[str, str]:
    """Every word of `enum` with its label, in the enum's order (plain-string keys)."""
    missing = [m.value for m in enum if m not in labels]
    if missing:
        raise ValueError(f"{enum.__name__}: no label for {', '.join(missing)}")
    return {m.value: labels[m] for m in enum}


CASE_KIND_LABELS = labelled(
    CaseKind,
    {
        CaseKind.COMMITTEE: "对口督办",
        CaseKind.LOCAL: "属地督办",
        CaseKind.JOINT: "联合督办",
        CaseKind.COORDINATION: "呈签协调",
        CaseKind.INVITATION: "约请督办",
    },
)
CASE_STATE_LABELS = labelled(
    CaseState, {CaseState.OPEN: "督办中", CaseState.CLOSED: "已办结", CaseState.WITHDRAWN: "已撤销"}
)
EXTENSION_STATE_LABELS = labelled(
    ExtensionState,
    {
        ExtensionState.PENDING: "待审批",
        ExtensionState.APPROVED: "已批准",
        ExtensionState.REFUSED: "未批准",
        ExtensionState.LAPSED: "已失效",
    },
)
RATING_LABELS = labelled(
    Rating,
    {
        Rating.VERY_SATISFIED: "非常满意",
        Rating.SATISFIED: "满意",
        Rating.BASICALLY_SATISFIED: "基本满意",
        Rating.UNSATISFIED: "不满意",
        Rating.VERY_UNSATISFIED: "非常不满意",
    },
)
THREE_POINT_LABELS = {r.value: RATING_LABELS[r] for r in THREE_POINT}


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The enum's words, in order: what a schema's `Literal` lists."""
    return tuple(m.value for m in enum)


def rating_of(given: str, scale: tuple[Rating, ...] = tuple(Rating)) -> Rating | None:
    """A rating on `scale` given by its code or its Chinese label (满意 ...); None if not one."""
    for r in scale:
        if given == r.value or given == RATING_LABELS[r]:
            return r
    return None
