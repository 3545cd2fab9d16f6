"""`hotline keys`: API keys, issued on the server."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import open_state

cli = typer.Typer(help="API keys.", no_args_is_help=True)


@cli.command("create")
def keys_create(
    role: Annotated[str, typer.Option(help="admin, hotline, liaison, unit, deputy or station")],
    unit: Annotated[str | None, typer.Option(help="the unit code of a unit key")] = None,
    deputy: Annotated[str | None, typer.Option(help="the deputy id of a deputy key")] = None,
    station: Annotated[str | None, typer.Option(help="the station code of a station key")] = None,
    label: Annotated[str, typer.Option(help="who holds the key")] = "created by the CLI",
) -> None:
    """Issue a key and print it once."""
    from app.db import Transaction
    from app.errors import DomainError
    from app.services.registry import create_key

    with open_state() as state:
        try:
            with Transaction(state.db.write_session) as session:
                key, plain = create_key(
                    session,
                    role=role,
                    unit_code=unit,
                    deputy_id=deputy,
                    station_code=station,
                    label=label,
                    now=state.clock.now(),
                )
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        typer.echo(plain)
