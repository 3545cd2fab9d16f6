"""Phone numbers shown in part: the one rule for masking, used by exports, pages and logs.

Personal information is processed no more than its purpose needs (PIPL art. 6): a report
that travels as a file names people's phones as 138****0001, enough to tell two callers
apart, not enough to call them.
"""

from __future__ import annotations

import re

# A mainland mobile number standing alone (not inside a longer run of digits).
_MOBILE = re.compile(r"(?<!\d)(1\d{2})\d{4}(\d{4})(?!\d)")


def mask_phone(phone: str | None) -> str | None:
    """A phone field: 138****0001 (the first three and last four digits stay); a short
    number keeps only its first and last digit."""
    if not phone:
        return phone
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return phone[:1] + "*" * max(len(phone) - 2, 1) + phone[-1:]


def mask_phones(text: str) -> str:
    """Every mobile number inside free text (a name typed as 张先生13800000001, a note)."""
    return _MOBILE.sub(r"\1****\2", text)
