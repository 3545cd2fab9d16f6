"""The `hotline` command: every command and group, registered in the order `--help` lists them."""

from __future__ import annotations

import typer

from app.cli import accounts, backup, calendar, demo, keys, purge, reports, server

cli = typer.Typer(
    help="deputy-hotline: deputy tickets on the 12345 hotline.", no_args_is_help=True, add_completion=False
)
cli.add_typer(keys.cli, name="keys")
cli.add_typer(accounts.cli, name="accounts")
cli.add_typer(calendar.cli, name="calendar")
cli.command()(server.migrate)
cli.command()(server.serve)
cli.command()(backup.backup)
cli.command()(backup.restore)
cli.command()(purge.purge)
cli.add_typer(reports.cli, name="report")
cli.command("seed-demo")(demo.seed_demo)


def main() -> None:
    cli()
