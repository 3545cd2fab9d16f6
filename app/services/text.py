"""What text the service accepts (pure): no control characters in anything stored.

Refused at the door, in every text of every request body and every imported CSV field:
C0 controls but tab, line feed and carriage return, DEL, the C1 controls, lone surrogates
and the two non-characters XML cannot carry. Stored, they break XLSX exports (openpyxl
refuses them) and whoever reads them on a terminal. (Text stored before this rule is made
safe on the way out: app.services.reports.cells.)
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def control_character(value: str) -> str | None:
    """What is wrong with a text that carries a control character, or None."""
    m = _CONTROL.search(value)
    if m is None:
        return None
    return f"must not contain control characters (U+{ord(m.group()):04X} at {m.start() + 1})"
