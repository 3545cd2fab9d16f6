"""`hotline calendar`: a year of the working calendar shown, or loaded from a JSON file."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from app.cli.common import open_state

cli = typer.Typer(help="The working calendar.", no_args_is_help=True)


@cli.command("show")
def calendar_show(year: int) -> None:
    """Print a year's holidays and make-up working days as JSON (for a year not yet loaded:
    the statutory holidays its deadlines are reckoned on meanwhile, provisional)."""
    with open_state() as state:
        with state.db.read_session() as session:
            cal = state.calendars.current(session)
            source = state.calendars.source(session, year)
        arr = cal.years.get(year)
        typer.echo(
            json.dumps(
                {
                    "year": year,
                    "source": source,
                    "holidays": sorted(d.isoformat() for d in cal.holidays_of(year)),
                    "workdays": sorted(d.isoformat() for d in arr.workdays) if arr else [],
                    "provisional": arr is None,
                },
                indent=2,
            )
        )


@cli.command("load")
def calendar_load(year: int, file: Path) -> None:
    """Load a year from a JSON file {"holidays": [...], "workdays": [...]}; recomputes deadlines."""
    from app.db import Transaction
    from app.errors import DomainError
    from app.services.calendar_changes import replace_year
    from app.services.context import CLI

    data = json.loads(file.read_text(encoding="utf-8"))
    with open_state() as state:
        try:
            with Transaction(state.db.write_session) as session:
                ctx = state.ctx(session, CLI)
                n = replace_year(
                    ctx,
                    year=year,
                    holidays=[date.fromisoformat(d) for d in data.get("holidays", [])],
                    workdays=[date.fromisoformat(d) for d in data.get("workdays", [])],
                )
        except (DomainError, ValueError) as exc:
            typer.echo(f"error: {getattr(exc, 'detail', exc)}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"loaded {year}; recomputed {n} open clocks")
