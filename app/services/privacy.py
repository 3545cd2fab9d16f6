"""Phone numbers shown in part: the one rule for masking, used by exports, pages and logs.

Personal information is processed no more than its purpose needs (PIPL art. 6): a report
that travels as a file names people's phones as 138****0001, enough to tell two callers
apart, not enough to call them.
"""

from __future__ import annotations

import re

# A mainland mobile number standing alone (not inside a longer run of digits), bare or
# with the country code (+86, 0086, 86) and spaces or dashes between its groups
# (138 0000 0004); or a landline with its area code (0737-4221234, (0737) 4221234,
# 07374221234). Not after a digit or a decimal point, so that figures such as
# 0.0123456789 are left alone.
_PHONE = re.compile(
    r"(?<![\d.])"
    r"(?P<head>(?:(?:\+|00)?86[ -]?)?1\d{2}[ -]?|\(?0\d{2,3}\)?[ -]?)"
    r"(?P<middle>\d{3,4})(?P<sep>[ -]?)(?P<tail>\d{4})(?!\d)"
)


def mask_phone(phone: str | None) -> str | None:
    """A phone field, the one rule for every page, export and API answer that shows a voter's
    or caller's phone in part: 138****0001 (a number of 11 digits or more keeps its first
    three and last four); a shorter one keeps its first digit and fewer than half of the rest
    (0737422 -> 0****22), so that no length is ever shown in full."""
    if not phone:
        return phone
    n = len(phone)
    if n >= 11:
        head, tail = 3, 4
    elif n <= 2:
        return "*" * n
    else:
        head, tail = 1, max(1, n // 2 - 1)
    return phone[:head] + "*" * (n - head - tail) + phone[-tail:]


def mask_phones(text: str) -> str:
    """Every phone number inside free text (a name typed as 张先生13800000001, a note, a
    log line): 138****0001, 86138****0001, 138 **** 0001, 0737-****1234. The middle digits
    go; the head and the last four stay, enough to tell numbers apart."""
    return _PHONE.sub(lambda m: f"{m['head']}****{m['sep']}{m['tail']}", text)
