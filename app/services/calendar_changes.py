"""The operator's working-calendar changes, with the recompute of every open deadline."""

from __future__ import annotations

from datetime import date

from app.services.calendar_in_force import check_year, drop_year, store_year, validated_arrangement
from app.services.clocks import recompute_open
from app.services.context import Ctx


def replace_year(ctx: Ctx, *, year: int, holidays: list[date], workdays: list[date]) -> int:
    """Load or replace a year (custom); returns the open clocks whose due time changed."""
    check_year(year)
    arrangement = validated_arrangement(year, holidays, workdays)
    store_year(ctx.session, arrangement, ctx.now())
    ctx.use_calendar(None)  # the next use reads the calendar with this year in force
    return recompute_open(ctx, {year})


def revert_year(ctx: Ctx, *, year: int) -> int:
    """Back to the built-in data for the year (or to none); returns the clocks recomputed."""
    check_year(year)
    if not drop_year(ctx.session, year):
        return 0
    ctx.use_calendar(None)
    return recompute_open(ctx, {year})
