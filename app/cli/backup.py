"""`hotline backup` and `hotline restore`: a consistent copy of the database, and bringing one back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from app.cli.common import guard

if TYPE_CHECKING:
    from app.backup import Summary


def backup(path: Path) -> None:
    """Write a consistent copy of the database to PATH while the service keeps working."""
    from app.backup import BackupError
    from app.backup import backup as take_backup
    from app.preflight import require_schema, settings

    with guard():
        url = settings().database_url
        require_schema(url)  # never a backup of an empty database made on the spot
    try:
        summary = take_backup(url, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(_described(summary, "wrote"))


def restore(path: Path) -> None:
    """Restore the backup PATH into the (new, empty) database DATABASE_URL names."""
    from app.backup import BackupError
    from app.backup import restore as bring_back
    from app.preflight import settings

    with guard():
        target = settings()
    target.ensure_data_dir()
    try:
        summary = bring_back(target.database_url, path)
    except BackupError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(_described(summary, "restored") + "; `hotline serve` applies any newer migrations")


def _described(summary: Summary, verb: str) -> str:
    parts = [f"{verb} {summary.path} ({summary.size} bytes"]
    if summary.revision:
        parts.append(f"migration {summary.revision}")
    if summary.tickets >= 0:
        parts.append(f"{summary.tickets} tickets")
    return ", ".join(parts) + ")"
