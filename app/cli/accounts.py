"""`hotline accounts`: people's accounts created, invited again or disabled by the operator on the server."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.common import open_state

if TYPE_CHECKING:
    from app.models import Account
    from app.services.context import Ctx
    from app.state import AppState

cli = typer.Typer(help="People's accounts (sign-in to the pages).", no_args_is_help=True)


def _invite_base(state: AppState) -> str:
    base = state.settings.public_base_url
    if base is None:
        base = "http://127.0.0.1:8000"
        typer.echo(
            "note: HOTLINE_PUBLIC_BASE_URL is not set; the link below assumes the "
            "service at http://127.0.0.1:8000 (set it to the address people use)",
            err=True,
        )
    return base


def _account_command(work: Callable[[Ctx, str], tuple[Account, str | None]]) -> None:
    """Run an account use-case as the operator on the server (`cli`), print its link."""
    from app.db import Transaction
    from app.errors import DomainError
    from app.services.context import CLI

    with open_state() as state:
        base = _invite_base(state)
        try:
            with Transaction(state.db.write_session) as session:
                account, link = work(state.ctx(session, CLI), base)
        except DomainError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            raise typer.Exit(2) from None
        if link is None:
            typer.echo(f"{account.username}: done")
            return
        assert account.invite_expires_at is not None
        until = account.invite_expires_at.astimezone(state.settings.tz).strftime("%Y-%m-%d %H:%M")
        typer.echo(
            f"{account.username} ({account.role}): give this one-time link to the "
            f"person, valid until {until}:"
        )
        typer.echo(link)


@cli.command("create")
def accounts_create(
    role: Annotated[str, typer.Option(help="admin, hotline, liaison, unit, deputy or station")],
    username: Annotated[str, typer.Option(help="what the person signs in with, e.g. li.ming")],
    name: Annotated[str, typer.Option(help="the person's name as shown, e.g. 李明")],
    unit: Annotated[str | None, typer.Option(help="the unit code of a unit account")] = None,
    deputy: Annotated[str | None, typer.Option(help="the deputy id of a deputy account")] = None,
    station: Annotated[str | None, typer.Option(help="the station code of a station account")] = None,
) -> None:
    """Create an account (e.g. a city's first admin) and print its invitation link."""
    from app.services import accounts

    data = accounts.AccountInput(
        username=username,
        display_name=name,
        role=role,
        unit_code=unit,
        deputy_id=deputy,
        station_code=station,
    )
    _account_command(lambda ctx, base: accounts.create_account(ctx, data, base_url=base))


@cli.command("invite")
def accounts_invite(username: str) -> None:
    """A new one-time link for an account (its old link, password and sessions end)."""
    from app.services import accounts

    _account_command(lambda ctx, base: accounts.reinvite(ctx, accounts.id_of(ctx, username), base_url=base))


@cli.command("disable")
def accounts_disable(username: str) -> None:
    """Disable an account: it can no longer sign in, and its sessions end at once."""
    from app.services import accounts

    _account_command(lambda ctx, _: (accounts.disable(ctx, accounts.id_of(ctx, username)), None))
