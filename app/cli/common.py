"""What every command shares: a setup problem told in one line with an exit code, migrating, the app state."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import typer

from app.config import Settings, get_settings

if TYPE_CHECKING:
    from app.migrate import Outcome
    from app.state import AppState


@contextmanager
def guard() -> Iterator[None]:
    """A problem in the environment ends the command with one line on stderr, exit code 2."""
    from sqlalchemy.exc import SQLAlchemyError

    from app.migrate import MigrationLockTimeout
    from app.preflight import SetupError, unreachable

    try:
        yield
    except SetupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except MigrationLockTimeout as exc:  # another migrator: try again later (exit 1)
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except SQLAlchemyError as exc:
        url = os.environ.get("DATABASE_URL", "")
        with suppress(ValueError):
            url = get_settings().database_url
        typer.echo(f"error: {unreachable(url, exc)}", err=True)
        raise typer.Exit(2) from None


def prepare(*, create: bool) -> tuple[Settings, Outcome]:
    """Settings checked, and the database brought to the latest migration (under the
    migration lock). Only `create` (migrate, serve) may make a new database; the other
    commands need the service's schema."""
    from app.migrate import upgrade
    from app.preflight import describe, require_schema, settings

    s = settings()
    if create:
        s.ensure_data_dir()
        typer.echo(f"database: {describe(s.database_url)}", err=True)
    else:
        require_schema(s.database_url)
    return s, upgrade(s.database_url)


@contextmanager
def open_state() -> Iterator[AppState]:
    """The app state over the service's existing database, brought to the latest migration
    (as `serve` does), its connections closed when the command is done."""
    from app.state import build_state

    with guard():
        settings = prepare(create=False)[0]
    state = build_state(settings)
    try:
        with guard():
            yield state
    finally:
        state.db.dispose()
