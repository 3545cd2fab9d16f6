"""`hotline purge`: voters' names and phones erased once their messages are closed long enough."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import open_state


def purge(
    days: Annotated[
        int | None, typer.Option(min=1, help="erase after this many days instead of HOTLINE_VOTER_DATA_DAYS")
    ] = None,
) -> None:
    """Erase voters' names and phones on messages closed longer ago than
    HOTLINE_VOTER_DATA_DAYS (default 365); the scheduler does it hourly too."""
    from app.jobs.scheduler import run_purge_job
    from app.services.context import CLI
    from app.services.retention import cutoff

    with open_state() as state:
        keep = days or state.settings.voter_data_days
        before = cutoff(state.clock.now(), keep).astimezone(state.settings.tz)
        n = run_purge_job(state, CLI, keep)
        typer.echo(
            f"erased voters' names and phones on {n} messages closed before "
            f"{before:%Y-%m-%d %H:%M} ({keep} days)"
        )
