"""Registry bodies: keys, units, categories, deputies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, StrictBool, field_validator

from app.schemas.common import Code, Name, Strict
from app.services.registry import normalize_phone, valid_phone

Role = Literal["admin", "hotline", "liaison", "unit", "deputy", "station"]
UnitKind = Literal[
    "department", "district_government", "township", "special_committee", "district_congress", "coordinator"
]
Level = Literal["national", "provincial", "city", "county", "township"]


class KeyIn(Strict):
    role: Role
    unit_code: Code | None = Field(default=None, description="the unit of a `unit` key")
    deputy_id: Code | None = Field(default=None, description="the deputy of a `deputy` key")
    station_code: Code | None = Field(default=None, description="the station of a `station` key")
    label: Name


class KeyCreated(BaseModel):
    id: str
    key: str = Field(description="shown only in this response; store it now")
    role: Role
    unit_code: str | None
    deputy_id: str | None = None
    station_code: str | None = None
    label: str


class KeyOut(BaseModel):
    id: str
    prefix: str
    role: Role
    unit_code: str | None
    deputy_id: str | None = None
    station_code: str | None = None
    label: str
    created_at: datetime
    revoked_at: datetime | None


class UnitIn(Strict):
    name: Name
    kind: UnitKind
    district: Code | None = None
    webhook_url: str | None = Field(default=None, max_length=2000)
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=500)

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from urllib.parse import urlsplit

        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL with a host")
        return value


class UnitOut(BaseModel):
    code: str
    name: str
    kind: UnitKind
    district: str | None
    webhook_url: str | None
    webhook_secret_set: bool


class CategoryIn(Strict):
    name: Name
    default_lead_unit: Code | None = None
    committee_unit: Code | None = None
    coordinator_unit: Code | None = None


class CategoryOut(BaseModel):
    code: str
    name: str
    default_lead_unit: str | None
    committee_unit: str | None
    coordinator_unit: str | None


class DistrictIn(Strict):
    name: Name = Field(description="the Chinese name reports show, e.g. 赫山区")


class DistrictOut(BaseModel):
    code: str
    name: str


class DeputyIn(Strict):
    name: Name = Field(max_length=100)
    phone: str = Field(min_length=1, max_length=32)
    level: Level
    district: Code | None = None
    delegation: Name | None = None

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        phone = normalize_phone(value)
        if not valid_phone(phone):
            raise ValueError("must be 5 to 20 digits (spaces, dashes and +86 are ignored)")
        return phone


class DeputyPatch(Strict):
    """Any of the registry fields; a new phone links that phone's unverified calls."""

    name: Name | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, min_length=1, max_length=32)
    level: Level | None = None
    district: Code | None = None
    delegation: Name | None = None
    term: Code | None = Field(
        default=None,
        description="the code of the deputy's term (届), a term of the deputy's level; null: none",
    )
    reelected: StrictBool | None = Field(default=None, description="re-elected (连任)")
    official: StrictBool | None = Field(default=None, description="holds a leading post (职务代表)")

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else DeputyIn._phone(value)


class DeputyOut(BaseModel):
    id: str
    name: str
    phone: str
    level: Level
    district: str | None
    delegation: str | None
    term: str | None = None
    reelected: bool = False
    official: bool = False


class ImportError_(BaseModel):
    line: int
    detail: str


class ImportOut(BaseModel):
    created: int
    updated: int
    errors: list[ImportError_]
