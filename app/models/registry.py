"""Registry: API keys, units, categories, districts, deputies."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, new_id


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    unit_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    deputy_id: Mapped[str | None] = mapped_column(ForeignKey("deputies.id"), nullable=True)
    station_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    label: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Unit(Base):
    __tablename__ = "units"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)
    district: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    webhook_url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(500), nullable=True)
    # Raised with every change to the unit's queue rows: what a poll's ETag rests on.
    queue_version: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    default_lead_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    committee_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    coordinator_unit: Mapped[str | None] = mapped_column(ForeignKey("units.code"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class District(Base):
    """A district code and the Chinese name reports show for it."""

    __tablename__ = "districts"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Deputy(Base):
    __tablename__ = "deputies"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), unique=True)
    level: Mapped[str] = mapped_column(String(16))
    district: Mapped[str | None] = mapped_column(String(64), nullable=True)
    delegation: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # The term (届) the deputy serves in (a code of `terms`, checked by the service), and the
    # marks the duty-report schedule rests on: re-elected (连任), holding a leading post (职务代表).
    term_code: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    reelected: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    official: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
