"""Part II: liaison stations (代表联络站), their deputies, and reception days (接待日)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, new_id


class Station(Base):
    """A liaison station: physical, online, or a trade (professional) station."""

    __tablename__ = "stations"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    district: Mapped[str] = mapped_column(String(64), index=True)
    township: Mapped[str | None] = mapped_column(String(200), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class StationDeputy(Base):
    """A deputy's membership of a station (a deputy may belong to several)."""

    __tablename__ = "station_deputies"

    station_code: Mapped[str] = mapped_column(ForeignKey("stations.code"), primary_key=True)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("deputies.id"), primary_key=True, index=True)


class Reception(Base):
    """One reception day held by a station, as its staff recorded it."""

    __tablename__ = "receptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    station_code: Mapped[str] = mapped_column(ForeignKey("stations.code"))
    held_on: Mapped[date] = mapped_column(Date)
    voters_received: Mapped[int] = mapped_column(Integer)  # 人次
    batches: Mapped[int] = mapped_column(Integer)  # 批次
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index("ix_receptions_station_code_held_on", "station_code", "held_on"),
        Index("ix_receptions_held_on", "held_on"),  # the monthly report, over every station
    )


class ReceptionDeputy(Base):
    """A deputy present at a reception."""

    __tablename__ = "reception_deputies"

    reception_id: Mapped[str] = mapped_column(ForeignKey("receptions.id"), primary_key=True)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("deputies.id"), primary_key=True, index=True)
