"""The SLA sweep's answer."""

from __future__ import annotations

from pydantic import BaseModel


class SweepOut(BaseModel):
    breached: int
    warned: int
    supervisions_opened: int
