"""People's accounts: bodies and representations."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from app.schemas.common import Code, Strict

AccountRole = Literal["admin", "hotline", "liaison", "unit", "deputy", "station"]
AccountState = Literal["invited", "active", "disabled", "expired"]


class AccountIn(Strict):
    username: str = Field(
        min_length=3, max_length=64, description="letters, digits and . _ @ -; matched without regard to case"
    )
    display_name: str = Field(min_length=1, max_length=100)
    role: AccountRole
    unit_code: Code | None = Field(default=None, description="the unit of a `unit` account")
    deputy_id: Code | None = Field(default=None, description="the deputy of a `deputy` account")
    station_code: Code | None = Field(default=None, description="the station of a `station` account")


class Invited(BaseModel):
    id: str
    username: str
    role: AccountRole
    invite_url: str = Field(
        description="one-time link, valid 7 days, where the person sets a password; shown only here"
    )
    invite_expires_at: datetime


class AccountOut(BaseModel):
    id: str
    username: str
    display_name: str
    role: AccountRole
    unit_code: str | None
    deputy_id: str | None
    station_code: str | None
    state: AccountState = Field(
        description="`invited`: a link is out and no password is set; "
        "`expired`: the link ran out unused (send a new one)"
    )
    invite_expires_at: datetime | None
    password_set_at: datetime | None
    last_sign_in_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime
    created_by: str
