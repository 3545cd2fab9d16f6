"""`hotline migrate` and `hotline serve`: the database brought to the latest migration, the service run."""

from __future__ import annotations

from typing import Annotated

import typer

from app.cli.common import guard, prepare


def migrate() -> None:
    """Apply pending database migrations (creating the database if need be)."""
    with guard():
        outcome = prepare(create=True)[1]
    if outcome.migrated:
        typer.echo(f"migrated the database from {outcome.before or 'empty'} to {outcome.after}")
    else:
        typer.echo(f"database is at migration {outcome.after}; nothing to do")


def serve(
    host: Annotated[str, typer.Option(help="interface to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes")] = 1,
) -> None:
    """Apply pending migrations, then serve the API with uvicorn."""
    import uvicorn

    from app.observability import configure_logging

    with guard():
        settings = prepare(create=True)[0]
    if not settings.admin_key:
        typer.echo(
            "warning: HOTLINE_ADMIN_KEY is not set, so no admin key works yet: set it "
            "(python3 -c 'import secrets; print(secrets.token_urlsafe(32))') or create "
            "one with `hotline keys create --role admin`",
            err=True,
        )
    typer.echo(f"serving on http://{host}:{port} (API docs at /docs)", err=True)
    configure_logging(settings.log_level)
    uvicorn.run(
        "app.main:app_factory",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,
        access_log=False,
    )
