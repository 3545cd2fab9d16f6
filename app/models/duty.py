"""Duty records (SPEC Part II "Duty reports and points"): terms, duty reports (述职),
point rules and the activities the liaison committee records (履职积分)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, UTCDateTime, new_id


class Term(Base):
    """A term (届) of one level of congress: 第十八届, from its start date to its end date."""

    __tablename__ = "terms"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    level: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class DutyReport(Base):
    """A deputy's report on his or her duties (报告履职情况), counted for the term it was
    recorded in (the deputy's term at the time)."""

    __tablename__ = "duty_reports"
    __table_args__ = (
        Index("ix_duty_reports_term_code_held_on", "term_code", "held_on"),
        Index("ix_duty_reports_held_on_deputy_id", "held_on", "deputy_id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("deputies.id"), index=True)
    term_code: Mapped[str] = mapped_column(ForeignKey("terms.code"))
    held_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(16))  # oral | meeting | written
    audience: Mapped[str] = mapped_column(String(16))  # electoral_unit | voters
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PointRule(Base):
    """An activity type's points per item and yearly cap. Built-in types have defaults in
    `app.services.points`; a row for one of them re-weights it."""

    __tablename__ = "point_rules"

    type: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    points: Mapped[int] = mapped_column(Integer)
    yearly_cap: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Activity(Base):
    """An item the liaison committee records for a deputy (a session attended, a training,
    an inspection, a proposal...), of a type it added."""

    __tablename__ = "activities"
    __table_args__ = (
        Index("ix_activities_done_on_deputy_id", "done_on", "deputy_id"),
        Index("ix_activities_deputy_id_done_on", "deputy_id", "done_on"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    deputy_id: Mapped[str] = mapped_column(ForeignKey("deputies.id"))
    type: Mapped[str] = mapped_column(ForeignKey("point_rules.type"))
    done_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
