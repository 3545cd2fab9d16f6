"""The voter's message status machine, as data (pure)."""

from __future__ import annotations

from enum import StrEnum


class MsgStatus(StrEnum):
    RECEIVED = "received"
    ANSWERED = "answered"
    FORWARDED = "forwarded"
    DECLINED = "declined"
    RESULT_READY = "result_ready"
    CLOSED = "closed"


class MsgAction(StrEnum):
    REPLY = "reply"
    FORWARD = "forward"
    DECLINE = "decline"
    RESULT = "result"  # the forwarded ticket's feedback is recorded
    RATE = "rate"  # the voter, on the tracking page
    EXPIRE = "expire"  # not rated in time: the sweep closes it


S, A = MsgStatus, MsgAction

ALLOWED: dict[tuple[MsgStatus, MsgAction], MsgStatus] = {
    (S.RECEIVED, A.REPLY): S.ANSWERED,
    (S.RECEIVED, A.FORWARD): S.FORWARDED,
    (S.RECEIVED, A.DECLINE): S.DECLINED,
    (S.FORWARDED, A.RESULT): S.RESULT_READY,
    (S.ANSWERED, A.RATE): S.CLOSED,
    (S.RESULT_READY, A.RATE): S.CLOSED,
    (S.DECLINED, A.RATE): S.CLOSED,
    (S.ANSWERED, A.EXPIRE): S.CLOSED,
    (S.RESULT_READY, A.EXPIRE): S.CLOSED,
    (S.DECLINED, A.EXPIRE): S.CLOSED,
}

# Waiting for the voter's rating: the days to rate run from reaching one of these.
SETTLED = (S.ANSWERED, S.RESULT_READY, S.DECLINED)
CHANNELS = ("code", "station", "paper", "wechat", "other")
LEVELS = ("township", "county", "city")


def next_status(status: str, action: MsgAction) -> MsgStatus | None:
    """The status after `action`, or None when the machine does not allow it."""
    return ALLOWED.get((MsgStatus(status), action))
